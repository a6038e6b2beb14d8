//! The release-tag grammar, once: `v<version>` for a workspace that releases one thing, or
//! `<package>-v<version>` (a package's name may itself contain `-v`).

use semver::Version;

/// The tag prefix of `package`'s releases: `<package>-v`, or `v` with no package.
pub fn prefix(package: Option<&str>) -> String {
    match package {
        Some(name) => format!("{name}-v"),
        None => "v".to_owned(),
    }
}

/// The tag of `version` (of `package`, when the workspace tags per package).
pub fn release_tag(package: Option<&str>, version: &Version) -> String {
    format!("{}{version}", prefix(package))
}

/// Every reading of `tag` as a release tag, in order: `v<version>` first, then each
/// `<package>-v<version>` split, leftmost first.
pub fn readings(tag: &str) -> Vec<(Option<&str>, Version)> {
    let mut out = Vec::new();
    if let Some(version) = tag.strip_prefix('v')
        && let Ok(version) = Version::parse(version)
    {
        out.push((None, version));
    }
    for (index, _) in tag.match_indices("-v") {
        if let Ok(version) = Version::parse(&tag[index + 2..]) {
            out.push((Some(&tag[..index]), version));
        }
    }
    out
}

/// `tag` read as a release tag: `v<version>`, else the `<package>-v<version>` split whose
/// package `is_package` knows, else the first split. `None` when it is no release tag.
pub fn parse(tag: &str, is_package: impl Fn(&str) -> bool) -> Option<(Option<&str>, Version)> {
    let readings = readings(tag);
    if let Some(plain) = readings.iter().find(|(package, _)| package.is_none()) {
        return Some(plain.clone());
    }
    readings
        .iter()
        .find(|(package, _)| package.is_some_and(&is_package))
        .or_else(|| readings.first())
        .cloned()
}

/// Whether `tag` is a release tag of some package or of the workspace.
pub fn is_release_tag(tag: &str) -> bool {
    !readings(tag).is_empty()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tags_read_as_the_grammar_says() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(parse("v1.2.3", |_| false), Some((None, v("1.2.3"))));
        assert_eq!(
            parse("app-v2.0.0-rc.1", |_| false),
            Some((Some("app"), v("2.0.0-rc.1")))
        );
        // A name holding `-v`: the known package wins, else the first split.
        assert_eq!(
            parse("my-vault-v1.0.0", |p| p == "my-vault"),
            Some((Some("my-vault"), v("1.0.0")))
        );
        assert_eq!(parse("nightly", |_| true), None);
        assert_eq!(parse("v1.2", |_| true), None);
        assert!(is_release_tag("x-v0.1.0") && !is_release_tag("x-1.0.0"));
        assert_eq!(release_tag(Some("app"), &v("1.0.0")), "app-v1.0.0");
        assert_eq!(release_tag(None, &v("1.0.0")), "v1.0.0");
    }
}
