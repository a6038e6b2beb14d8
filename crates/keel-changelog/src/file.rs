//! Keep a Changelog files: entries from conventional commits, sections rendered by a template,
//! and updates that keep whatever was written by hand.
//!
//! [`update`] takes a file's text and what git knows (the unreleased commits, every released
//! version with its date and compare link) and returns the new text: the `Unreleased` section is
//! written afresh, a version with no section gets one in its place, the sections named in
//! [`Update::rewrite`] (a version being prepared, not yet tagged) are written afresh, and every
//! other section, the text above the first section and any link definition keel does not own
//! are kept as they are. Running it twice changes nothing.

use serde::Serialize;

use crate::{Commit, parse};

/// The groups of a section, in the order they are shown: breaking changes first, then the
/// kinds of Keep a Changelog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryGroup {
    /// `!` or a `BREAKING CHANGE:` footer, whatever the type.
    Breaking,
    /// `feat`.
    Added,
    /// `refactor`, `change`, `revert`, and commits not in the conventional form.
    Changed,
    /// `deprecate`.
    Deprecated,
    /// `remove`.
    Removed,
    /// `fix`.
    Fixed,
    /// `security`, or `fix(security)`.
    Security,
    /// `perf`.
    Performance,
}

impl EntryGroup {
    /// The group's heading.
    pub fn title(self) -> &'static str {
        match self {
            EntryGroup::Breaking => "Breaking changes",
            EntryGroup::Added => "Added",
            EntryGroup::Changed => "Changed",
            EntryGroup::Deprecated => "Deprecated",
            EntryGroup::Removed => "Removed",
            EntryGroup::Fixed => "Fixed",
            EntryGroup::Security => "Security",
            EntryGroup::Performance => "Performance",
        }
    }
}

/// One line of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Its group.
    pub group: EntryGroup,
    /// The description (the subject, for a commit not in the conventional form).
    pub text: String,
    /// The conventional commit's scope.
    pub scope: Option<String>,
    /// The packages it belongs to, in a changelog shared by several packages.
    pub packages: Vec<String>,
    /// The commit's full hash.
    pub hash: String,
}

/// The entry a commit makes, or `None` for commits a changelog leaves out: `docs`, `chore`,
/// `ci`, `test`, `style` and `build` (and other types with no group), and merge commits.
/// A commit not in the conventional form is kept, under `Changed`.
pub fn classify(commit: &Commit) -> Option<Entry> {
    let entry = |group, text: &str, scope: Option<String>| Entry {
        group,
        text: text.to_owned(),
        scope,
        packages: Vec::new(),
        hash: commit.hash.clone(),
    };
    let Some(c) = parse(&commit.subject, &commit.body) else {
        if commit.subject.starts_with("Merge ") {
            return None;
        }
        return Some(entry(EntryGroup::Changed, commit.subject.trim(), None));
    };
    let group = if c.breaking {
        EntryGroup::Breaking
    } else {
        match c.kind.as_str() {
            "feat" => EntryGroup::Added,
            "fix" if c.scope.as_deref() == Some("security") => EntryGroup::Security,
            "fix" => EntryGroup::Fixed,
            "security" => EntryGroup::Security,
            "perf" => EntryGroup::Performance,
            "refactor" | "change" | "revert" => EntryGroup::Changed,
            "deprecate" => EntryGroup::Deprecated,
            "remove" => EntryGroup::Removed,
            _ => return None,
        }
    };
    Some(entry(group, &c.description, c.scope))
}

/// A section to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// What the heading's brackets hold: `Unreleased`, `1.2.0`, or `ledger 1.2.0` in a
    /// changelog shared by packages with versions of their own.
    pub label: String,
    /// The version, `None` for `Unreleased`.
    pub version: Option<semver::Version>,
    /// The release's date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Its entries, oldest first.
    pub entries: Vec<Entry>,
    /// Where its changes can be compared (the link definition of its label).
    pub link: Option<String>,
}

/// What [`update`] writes.
#[derive(Debug, Clone)]
pub struct Update<'a> {
    /// The text a new file starts with (`# Changelog` and a line on its format).
    pub header: &'a str,
    /// The `Unreleased` section.
    pub unreleased: Section,
    /// Every version git knows of (tagged, or being prepared), in any order.
    pub versions: Vec<Section>,
    /// The labels whose existing sections are written afresh (versions not yet tagged).
    pub rewrite: Vec<String>,
    /// The URL a commit's hash is appended to, for links to commits.
    pub commit_url: Option<String>,
    /// A minijinja template for a section, instead of the built-in one.
    pub template: Option<&'a str>,
}

/// Why a changelog could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChangelogError {
    /// The template does not render.
    #[error("the changelog template does not render: {0}")]
    Template(String),
}

/// The built-in section template.
pub const DEFAULT_TEMPLATE: &str = "\
## [{{ label }}]{% if date %} - {{ date }}{% endif %}
{% if not groups and not unreleased %}
No notable changes.
{% endif %}{% for group in groups %}
### {{ group.title }}

{% for e in group.entries -%}
- {% if e.packages %}{{ e.packages | join(', ') }}: {% endif %}{% if e.scope %}**{{ e.scope }}:** {% endif %}{{ e.text }} ({% if e.url %}[{{ e.commit }}]({{ e.url }}){% else %}{{ e.commit }}{% endif %})
{% endfor %}{% endfor %}";

#[derive(Serialize)]
struct EntryView<'a> {
    text: &'a str,
    scope: Option<&'a str>,
    packages: &'a [String],
    commit: String,
    hash: &'a str,
    url: Option<String>,
}

#[derive(Serialize)]
struct GroupView<'a> {
    title: &'static str,
    group: EntryGroup,
    entries: Vec<EntryView<'a>>,
}

/// Renders one section with the template.
fn render(
    section: &Section,
    commit_url: Option<&str>,
    template: Option<&str>,
) -> Result<String, ChangelogError> {
    let mut groups: Vec<GroupView<'_>> = Vec::new();
    let mut sorted: Vec<&Entry> = section.entries.iter().collect();
    sorted.sort_by_key(|e| e.group);
    for entry in sorted {
        let view = EntryView {
            text: &entry.text,
            scope: entry.scope.as_deref(),
            packages: &entry.packages,
            commit: entry.hash.chars().take(7).collect(),
            hash: &entry.hash,
            url: commit_url.map(|base| format!("{base}{}", entry.hash)),
        };
        match groups.last_mut() {
            Some(group) if group.group == entry.group => group.entries.push(view),
            _ => groups.push(GroupView {
                title: entry.group.title(),
                group: entry.group,
                entries: vec![view],
            }),
        }
    }
    let env = minijinja::Environment::new();
    let source = template.unwrap_or(DEFAULT_TEMPLATE);
    #[derive(Serialize)]
    struct SectionView<'a> {
        label: &'a str,
        version: Option<String>,
        date: Option<&'a str>,
        unreleased: bool,
        groups: Vec<GroupView<'a>>,
    }
    let view = SectionView {
        label: &section.label,
        version: section.version.as_ref().map(ToString::to_string),
        date: section.date.as_deref(),
        unreleased: section.version.is_none(),
        groups,
    };
    let text = env
        .render_str(source, minijinja::value::Serde(&view))
        .map_err(|err| ChangelogError::Template(err.to_string()))?;
    Ok(tidy(&text))
}

/// Trailing spaces removed, runs of blank lines made one, no blank lines at either end.
fn tidy(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// A link definition at the end of the file: `[1.2.0]: https://...`.
fn link_definition(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('[')?;
    let (label, url) = rest.split_once("]:")?;
    let url = url.trim();
    (!label.is_empty() && !url.is_empty() && !url.contains(char::is_whitespace))
        .then(|| (label.to_owned(), url.to_owned()))
}

/// Whether a line is a link definition (`[1.2.0]: https://...`).
pub(crate) fn is_link_definition(line: &str) -> bool {
    link_definition(line).is_some()
}

/// The label of a section heading (`## [1.2.0] - 2026-01-02` → `1.2.0`), for matching.
fn heading_label(line: &str) -> String {
    let rest = line.trim_start_matches('#').trim();
    // `[1.2.0] - date`, `1.2.0 - date`, `1.2.0 (date)`, or the label alone.
    let label = match rest.strip_prefix('[') {
        Some(inner) => inner.split(']').next().unwrap_or_default(),
        None => rest
            .split(" - ")
            .next()
            .and_then(|l| l.split(" (").next())
            .unwrap_or_default(),
    };
    normalize(label)
}

/// Labels compare without case and without a `v` before a version.
fn normalize(label: &str) -> String {
    let label = label.trim().to_lowercase();
    let words: Vec<String> = label
        .split_whitespace()
        .map(|w| match w.strip_prefix('v') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_owned(),
            _ => w.to_owned(),
        })
        .collect();
    words.join(" ")
}

/// The version at the end of a label (`ledger 1.2.0` → 1.2.0).
fn label_version(label: &str) -> Option<semver::Version> {
    semver::Version::parse(label.split_whitespace().last()?).ok()
}

struct Parsed {
    header: String,
    /// (normalized label, text)
    sections: Vec<(String, String)>,
    links: Vec<(String, String)>,
}

fn split(text: &str) -> Parsed {
    let mut lines: Vec<&str> = text.lines().collect();
    // The link definitions at the end belong to no section.
    let mut links = Vec::new();
    while let Some(last) = lines.last() {
        if last.trim().is_empty() {
            lines.pop();
            continue;
        }
        match link_definition(last) {
            Some(link) => {
                links.push(link);
                lines.pop();
            }
            None => break,
        }
    }
    links.reverse();
    let mut header = Vec::new();
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    for line in lines {
        if line.starts_with("## ") {
            sections.push((heading_label(line), vec![line]));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push(line);
        } else {
            header.push(line);
        }
    }
    Parsed {
        header: header.join("\n").trim_end().to_owned(),
        sections: sections
            .into_iter()
            .map(|(label, body)| (label, body.join("\n").trim_end().to_owned()))
            .collect(),
        links,
    }
}

/// The date in the heading of the section labelled `label` (`## [1.2.0] - 2026-01-02`).
pub fn section_date(changelog: &str, label: &str) -> Option<String> {
    let label = normalize(label);
    changelog
        .lines()
        .filter(|line| line.starts_with("## ") && heading_label(line) == label)
        .find_map(|line| {
            line.rsplit_once(" - ")
                .map(|(_, date)| date.trim().to_owned())
        })
        .filter(|date| !date.is_empty())
}

/// The changelog `existing` (or a new one) brought up to date with `update`.
pub fn update(existing: Option<&str>, update: &Update<'_>) -> Result<String, ChangelogError> {
    let parsed = split(existing.unwrap_or_default());
    let header = if parsed.header.is_empty() {
        update.header.trim_end().to_owned()
    } else {
        parsed.header
    };
    let commit_url = update.commit_url.as_deref();
    let rewrite: Vec<String> = update.rewrite.iter().map(|l| normalize(l)).collect();

    // (normalized label, version, text)
    let mut sections: Vec<(String, Option<semver::Version>, String)> = vec![(
        "unreleased".to_owned(),
        None,
        render(&update.unreleased, commit_url, update.template)?,
    )];
    for (label, text) in parsed.sections {
        if label == "unreleased" {
            continue;
        }
        let text = match update
            .versions
            .iter()
            .find(|v| normalize(&v.label) == label && rewrite.contains(&label))
        {
            Some(section) => render(section, commit_url, update.template)?,
            None => text,
        };
        let version = label_version(&label);
        sections.push((label, version, text));
    }
    let mut known: Vec<&Section> = update.versions.iter().collect();
    known.sort_by(|a, b| b.version.cmp(&a.version).then(a.label.cmp(&b.label)));
    for section in known {
        let label = normalize(&section.label);
        if sections.iter().any(|(l, _, _)| *l == label) {
            continue;
        }
        let text = render(section, commit_url, update.template)?;
        // Before the first section of an older version; else at the end.
        let at = sections
            .iter()
            .skip(1)
            .position(|(_, version, _)| {
                version
                    .as_ref()
                    .zip(section.version.as_ref())
                    .is_some_and(|(old, new)| old < new)
            })
            .map_or(sections.len(), |i| i + 1);
        sections.insert(at, (label, section.version.clone(), text));
    }

    // Link definitions: keel's for its sections, in section order, then everyone else's.
    let mut ours: Vec<(String, String)> = Vec::new();
    let own_link = |label: &str| -> Option<(String, String)> {
        if label == "unreleased" {
            return update
                .unreleased
                .link
                .clone()
                .map(|url| ("unreleased".to_owned(), url));
        }
        update
            .versions
            .iter()
            .find(|v| normalize(&v.label) == label)
            .and_then(|v| v.link.clone().map(|url| (v.label.clone(), url)))
    };
    let mut others = parsed.links;
    for (label, _, _) in &sections {
        if let Some(link) = own_link(label) {
            others.retain(|(l, _)| normalize(l) != *label);
            ours.push(link);
        } else if let Some(at) = others.iter().position(|(l, _)| normalize(l) == *label) {
            ours.push(others.remove(at));
        }
    }
    ours.extend(others);

    let mut text = header;
    for (_, _, section) in &sections {
        text.push_str("\n\n");
        text.push_str(section);
    }
    if !ours.is_empty() {
        text.push_str("\n\n");
        for (label, url) in &ours {
            text.push_str(&format!("[{label}]: {url}\n"));
        }
    } else {
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(hash: char, subject: &str) -> Commit {
        Commit {
            hash: hash.to_string().repeat(40),
            subject: subject.into(),
            body: String::new(),
        }
    }

    fn section(label: &str, date: &str, subjects: &[(char, &str)]) -> Section {
        Section {
            label: label.into(),
            version: label_version(label),
            date: (!date.is_empty()).then(|| date.to_owned()),
            entries: subjects
                .iter()
                .filter_map(|(h, s)| classify(&commit(*h, s)))
                .collect(),
            link: (label != "Unreleased")
                .then(|| format!("https://github.com/o/r/compare/x...v{label}")),
        }
    }

    fn changes(
        existing: Option<&str>,
        versions: Vec<Section>,
        unreleased: &[(char, &str)],
    ) -> String {
        update(
            existing,
            &Update {
                header: "# Changelog\n",
                unreleased: section("Unreleased", "", unreleased),
                versions,
                rewrite: Vec::new(),
                commit_url: Some("https://github.com/o/r/commit/".into()),
                template: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn commits_fall_into_keep_a_changelog_groups() {
        let group = |s: &str| classify(&commit('a', s)).map(|e| e.group);
        assert_eq!(group("feat: x"), Some(EntryGroup::Added));
        assert_eq!(group("fix: x"), Some(EntryGroup::Fixed));
        assert_eq!(group("fix(security): x"), Some(EntryGroup::Security));
        assert_eq!(group("perf: x"), Some(EntryGroup::Performance));
        assert_eq!(group("refactor!: x"), Some(EntryGroup::Breaking));
        assert_eq!(group("remove: x"), Some(EntryGroup::Removed));
        assert_eq!(group("Tidy the code"), Some(EntryGroup::Changed));
        assert_eq!(group("chore(release): v1.0.0"), None);
        assert_eq!(group("docs: x"), None);
        assert_eq!(group("Merge branch 'x'"), None);
    }

    #[test]
    fn a_new_file_has_every_version_and_links() {
        let text = changes(
            None,
            vec![
                section("1.0.0", "2026-01-01", &[('a', "feat: first")]),
                section(
                    "1.1.0",
                    "2026-02-01",
                    &[('b', "fix: second"), ('c', "feat!: third")],
                ),
            ],
            &[('d', "perf: quicker")],
        );
        assert_eq!(
            text,
            "# Changelog\n\n## [Unreleased]\n\n### Performance\n\n- quicker ([ddddddd](https://github.com/o/r/commit/dddddddddddddddddddddddddddddddddddddddd))\n\n\
             ## [1.1.0] - 2026-02-01\n\n### Breaking changes\n\n- third ([ccccccc](https://github.com/o/r/commit/cccccccccccccccccccccccccccccccccccccccc))\n\n### Fixed\n\n- second ([bbbbbbb](https://github.com/o/r/commit/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb))\n\n\
             ## [1.0.0] - 2026-01-01\n\n### Added\n\n- first ([aaaaaaa](https://github.com/o/r/commit/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa))\n\n\
             [1.1.0]: https://github.com/o/r/compare/x...v1.1.0\n[1.0.0]: https://github.com/o/r/compare/x...v1.0.0\n"
        );
        // Twice is once.
        let again = changes(
            Some(&text),
            vec![
                section("1.0.0", "2026-01-01", &[('a', "feat: first")]),
                section(
                    "1.1.0",
                    "2026-02-01",
                    &[('b', "fix: second"), ('c', "feat!: third")],
                ),
            ],
            &[('d', "perf: quicker")],
        );
        assert_eq!(again, text);
    }

    #[test]
    fn hand_edits_and_foreign_links_are_kept() {
        let existing = "# Changelog\n\nNotes by hand.\n\n## [Unreleased]\n\n- stale\n\n## [1.0.0] - 2025-12-31\n\nWritten by hand.\n\n## 0.9.0\n\n- old\n\n[1.0.0]: https://example.com/mine\n[0.9.0]: https://example.com/old\n";
        let text = changes(
            Some(existing),
            vec![
                section("1.0.0", "2026-01-01", &[('a', "feat: first")]),
                section("1.1.0", "2026-02-01", &[('b', "fix: second")]),
            ],
            &[],
        );
        assert!(text.starts_with("# Changelog\n\nNotes by hand.\n\n## [Unreleased]\n\n## [1.1.0] - 2026-02-01\n\n### Fixed"), "{text}");
        assert!(
            text.contains("## [1.0.0] - 2025-12-31\n\nWritten by hand.\n\n## 0.9.0\n\n- old\n\n"),
            "{text}"
        );
        assert!(!text.contains("stale"));
        // keel's link for its own section replaces the old one; the others stay.
        assert!(text.ends_with("[1.1.0]: https://github.com/o/r/compare/x...v1.1.0\n[1.0.0]: https://github.com/o/r/compare/x...v1.0.0\n[0.9.0]: https://example.com/old\n"), "{text}");
    }

    #[test]
    fn a_sections_date_is_read() {
        let text = "## [Unreleased]\n\n## [1.3.0] - 2026-11-02\n\n## v1.2.0 - 2026-10-01\n";
        assert_eq!(section_date(text, "1.3.0").as_deref(), Some("2026-11-02"));
        assert_eq!(section_date(text, "1.2.0").as_deref(), Some("2026-10-01"));
        assert_eq!(section_date(text, "Unreleased"), None);
        assert_eq!(section_date(text, "1.1.0"), None);
        assert_eq!(heading_label("## 2.0.0 (2026-01-01)"), "2.0.0");
        assert_eq!(
            heading_label("## [ledger v2.0.0] - 2026-01-01"),
            "ledger 2.0.0"
        );
    }

    #[test]
    fn a_template_renders_sections() {
        let text = update(
            None,
            &Update {
                header: "# Changes",
                unreleased: section("Unreleased", "", &[]),
                versions: vec![section("2.0.0", "2026-03-01", &[('e', "feat(db): export")])],
                rewrite: Vec::new(),
                commit_url: None,
                template: Some("## {{ version or 'next' }}\n{% for g in groups %}{% for e in g.entries %}* {{ e.scope }} {{ e.text }} {{ e.commit }}\n{% endfor %}{% endfor %}"),
            },
        )
        .unwrap();
        assert_eq!(
            text,
            "# Changes\n\n## next\n\n## 2.0.0\n* db export eeeeeee\n\n[2.0.0]: https://github.com/o/r/compare/x...v2.0.0\n"
        );
        let bad = update(
            None,
            &Update {
                header: "",
                unreleased: section("Unreleased", "", &[]),
                versions: Vec::new(),
                rewrite: Vec::new(),
                commit_url: None,
                template: Some("{% for %}"),
            },
        );
        assert!(matches!(bad, Err(ChangelogError::Template(_))));
    }
}
