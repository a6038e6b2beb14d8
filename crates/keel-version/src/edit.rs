//! The edits a bump makes: versions in `Cargo.toml` files (a package's own, or the workspace's
//! that members inherit), the requirements of internal path dependencies, and `Cargo.lock`.
//! `toml_edit` keeps comments and layout; nothing touches the network.

use std::collections::BTreeMap;

use semver::Version;
use toml_edit::{DocumentMut, Item, Value};

/// Whether a manifest's package inherits its version (`version.workspace = true`).
pub fn inherits_version(doc: &DocumentMut) -> bool {
    doc.get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.get("workspace"))
        .and_then(Item::as_bool)
        == Some(true)
}

/// Replaces a string value, keeping the decoration (spaces, comments) around it.
fn set_string(item: &mut Item, text: &str) -> bool {
    let Some(value) = item.as_value_mut() else {
        return false;
    };
    if value.as_str() == Some(text) {
        return false;
    }
    let decor = value.decor().clone();
    *value = Value::from(text);
    *value.decor_mut() = decor;
    true
}

/// Sets `[package] version`; false when it was already that.
pub fn set_package_version(doc: &mut DocumentMut, version: &Version) -> bool {
    match doc.get_mut("package").and_then(|p| p.get_mut("version")) {
        Some(item) => set_string(item, &version.to_string()),
        None => false,
    }
}

/// Sets `[workspace.package] version`; false when it was already that or is absent.
pub fn set_workspace_version(doc: &mut DocumentMut, version: &Version) -> bool {
    match doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("package"))
        .and_then(|p| p.get_mut("version"))
    {
        Some(item) => set_string(item, &version.to_string()),
        None => false,
    }
}

/// A requirement moved to `version`, keeping its operator (`=1.2.0` → `=1.3.0`).
fn requirement(old: &str, version: &Version) -> String {
    let trimmed = old.trim();
    let operator: String = trimmed
        .chars()
        .take_while(|c| matches!(c, '=' | '^' | '~' | '>' | '<'))
        .collect();
    format!("{operator}{version}")
}

fn update_table(table: &mut dyn toml_edit::TableLike, changed: &BTreeMap<String, Version>) -> bool {
    let mut any = false;
    for (key, item) in table.iter_mut() {
        let Some(dep) = item.as_table_like_mut() else {
            continue;
        };
        if dep.get("path").is_none() {
            continue;
        }
        let name = dep
            .get("package")
            .and_then(Item::as_str)
            .unwrap_or(key.get())
            .to_owned();
        let Some(version) = changed.get(&name) else {
            continue;
        };
        if let Some(req) = dep.get_mut("version") {
            let new = requirement(req.as_str().unwrap_or_default(), version);
            any |= set_string(req, &new);
        }
    }
    any
}

/// Moves the requirement of every path dependency on a package of `changed` to its new
/// version: `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, their
/// `[target.'cfg'.*]` forms, and `[workspace.dependencies]`. True when anything changed.
pub fn update_requirements(doc: &mut DocumentMut, changed: &BTreeMap<String, Version>) -> bool {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut any = false;
    for kind in KINDS {
        if let Some(table) = doc.get_mut(kind).and_then(Item::as_table_like_mut) {
            any |= update_table(table, changed);
        }
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            for kind in KINDS {
                if let Some(table) = target.get_mut(kind).and_then(Item::as_table_like_mut) {
                    any |= update_table(table, changed);
                }
            }
        }
    }
    if let Some(table) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(Item::as_table_like_mut)
    {
        any |= update_table(table, changed);
    }
    any
}

/// Moves the workspace's own packages in `Cargo.lock` (entries without a `source`) from their
/// old version to the new one, and the references to them. True when anything changed.
pub fn update_lock(doc: &mut DocumentMut, changed: &BTreeMap<String, (Version, Version)>) -> bool {
    let mut any = false;
    let Some(packages) = doc
        .get_mut("package")
        .and_then(Item::as_array_of_tables_mut)
    else {
        return false;
    };
    for package in packages.iter_mut() {
        let name = package
            .get("name")
            .and_then(Item::as_str)
            .unwrap_or_default()
            .to_owned();
        if package.get("source").is_none()
            && let Some((old, new)) = changed.get(&name)
            && package.get("version").and_then(Item::as_str) == Some(&old.to_string())
            && let Some(item) = package.get_mut("version")
        {
            any |= set_string(item, &new.to_string());
        }
        if let Some(deps) = package.get_mut("dependencies").and_then(Item::as_array_mut) {
            for dep in deps.iter_mut() {
                let Some(text) = dep.as_str() else { continue };
                let Some((name, version)) = text.split_once(' ') else {
                    continue;
                };
                let version = version.split(' ').next().unwrap_or_default();
                if let Some((old, new)) = changed.get(name)
                    && version == old.to_string()
                    && !text.contains('(')
                {
                    let decor = dep.decor().clone();
                    *dep = Value::from(format!("{name} {new}"));
                    *dep.decor_mut() = decor;
                    any = true;
                }
            }
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_change_and_nothing_else() {
        let text = "# the app\n[package]\nname = \"app\"\nversion = \"1.2.0\"   # bumped by keel\nedition = \"2021\"\n\n[dependencies]\ncore = { path = \"../core\", version = \"=0.4.0\" }  # pinned\nserde = \"1\"\nother = { version = \"0.4.0\" }\n\n[target.'cfg(unix)'.dependencies]\nunix = { path = \"../unix\", version = \"0.1\" }\n";
        let mut doc: DocumentMut = text.parse().unwrap();
        assert!(!inherits_version(&doc));
        assert!(set_package_version(&mut doc, &Version::new(1, 3, 0)));
        let changed = BTreeMap::from([
            ("core".to_owned(), Version::new(0, 5, 0)),
            ("other".to_owned(), Version::new(9, 9, 9)),
            ("unix".to_owned(), Version::new(0, 2, 0)),
        ]);
        assert!(update_requirements(&mut doc, &changed));
        assert_eq!(
            doc.to_string(),
            "# the app\n[package]\nname = \"app\"\nversion = \"1.3.0\"   # bumped by keel\nedition = \"2021\"\n\n[dependencies]\ncore = { path = \"../core\", version = \"=0.5.0\" }  # pinned\nserde = \"1\"\nother = { version = \"0.4.0\" }\n\n[target.'cfg(unix)'.dependencies]\nunix = { path = \"../unix\", version = \"0.2.0\" }\n"
        );
    }

    #[test]
    fn the_lock_moves_only_workspace_packages() {
        let text = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"1.2.0\"\ndependencies = [\n \"core\",\n \"rand 0.8.5\",\n]\n\n[[package]]\nname = \"core\"\nversion = \"1.2.0\"\n\n[[package]]\nname = \"core\"\nversion = \"1.2.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let mut doc: DocumentMut = text.parse().unwrap();
        let changed = BTreeMap::from([
            (
                "app".to_owned(),
                (Version::new(1, 2, 0), Version::new(1, 3, 0)),
            ),
            (
                "core".to_owned(),
                (Version::new(1, 2, 0), Version::new(1, 3, 0)),
            ),
        ]);
        assert!(update_lock(&mut doc, &changed));
        let out = doc.to_string();
        assert!(out.contains("name = \"app\"\nversion = \"1.3.0\""));
        assert!(out.contains("name = \"core\"\nversion = \"1.3.0\"\n\n"));
        assert!(out.contains("name = \"core\"\nversion = \"1.2.0\"\nsource"));
    }

    #[test]
    fn inheritance_is_seen() {
        let doc: DocumentMut = "[package]\nname = \"a\"\nversion.workspace = true\n"
            .parse()
            .unwrap();
        assert!(inherits_version(&doc));
        let mut root: DocumentMut = "[workspace.package]\nversion = \"0.1.0\" # shared\n"
            .parse()
            .unwrap();
        assert!(set_workspace_version(&mut root, &Version::new(0, 2, 0)));
        assert_eq!(
            root.to_string(),
            "[workspace.package]\nversion = \"0.2.0\" # shared\n"
        );
    }
}
