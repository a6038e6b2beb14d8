//! What git says about releases: the tags reachable from `HEAD` and the commits between two
//! points that touch given paths.

use std::path::Path;

use crate::{Commit, Error, git};

/// A tag reachable from `HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tag's name (`v1.2.0`, `ledger-v1.2.0`).
    pub name: String,
    /// The full hash of the commit it points to.
    pub commit: String,
    /// That commit's committer date, `YYYY-MM-DD` in UTC.
    pub date: String,
}

/// Every tag whose commit is reachable from `HEAD`, sorted by name.
pub fn tags(dir: &Path) -> Result<Vec<Tag>, Error> {
    let text = git(
        dir,
        &[
            "for-each-ref",
            "--merged=HEAD",
            "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)%09%(committerdate:unix)%09%(*committerdate:unix)",
            "refs/tags",
        ],
    )?;
    let mut tags = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, object, peeled, time, peeled_time] = fields[..] else {
            continue;
        };
        // An annotated tag names its commit through the peeled fields.
        let (commit, time) = if peeled.is_empty() {
            (object, time)
        } else {
            (peeled, peeled_time)
        };
        tags.push(Tag {
            name: name.to_owned(),
            commit: commit.to_owned(),
            date: utc_date(time.parse().unwrap_or(0)),
        });
    }
    tags.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tags)
}

/// The release tags (`v<version>`, `<package>-v<version>`) that point at `HEAD`, sorted.
pub fn release_tags_at_head(dir: &Path) -> Result<Vec<String>, Error> {
    let text = git(dir, &["tag", "--points-at", "HEAD"])?;
    let mut tags: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|t| keel_schema::tag::is_release_tag(t))
        .map(str::to_owned)
        .collect();
    tags.sort();
    Ok(tags)
}

/// `YYYY-MM-DD` of a Unix time, in UTC.
pub fn utc_date(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%d")
        .to_string()
}

/// The commits reachable from `to` and not from `from` (every commit up to `to` without
/// `from`), oldest first, leaving out merge commits. With `paths`, only the commits that
/// change something under them (git pathspecs, relative to `dir`; `:(exclude)` works).
pub fn commits_between(
    dir: &Path,
    from: Option<&str>,
    to: &str,
    paths: &[String],
) -> Result<Vec<Commit>, Error> {
    let range = match from {
        Some(from) => format!("{from}..{to}"),
        None => to.to_owned(),
    };
    let mut args = vec![
        "log",
        "--no-merges",
        "--reverse",
        "--format=%H%x1f%s%x1f%b%x1e",
        range.as_str(),
        "--",
    ];
    args.extend(paths.iter().map(String::as_str));
    let log = git(dir, &args)?;
    Ok(crate::parse_log(&log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_714_564_800), "2024-05-01");
        assert_eq!(utc_date(1_714_607_999), "2024-05-01");
        assert_eq!(utc_date(1_714_608_000), "2024-05-02");
    }
}
