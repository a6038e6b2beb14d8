//! The install receipt: what keel knows about one installed app.

use std::collections::BTreeMap;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::target::TargetTriple;

/// The version of the receipt format.
pub const RECEIPT_SCHEMA_VERSION: u32 = 1;

/// One installed app: written at install, replaced atomically by each committed update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Receipt {
    /// The version of this format.
    pub schema_version: u32,
    /// The app's name.
    pub app: String,
    /// The installed version.
    pub version: String,
    /// The target triple installed.
    pub target: TargetTriple,
    /// Where updates come from (credentials removed), when installed from a store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_url: Option<String>,
    /// The release channel followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The folder holding the binaries.
    pub bin_dir: String,
    /// Each installed binary's file name and sha256.
    pub binaries: BTreeMap<String, String>,
    /// The app's databases, in the order `{db}`, `{db:1}`, ... name them in hooks.
    #[serde(default)]
    pub databases: Vec<String>,
    /// The installed release's update hooks.
    #[serde(default)]
    pub hooks: UpdateHooks,
    /// The version before the last update, when its binaries and database snapshot are kept
    /// for `rollback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

/// The commands a release runs, with its own new binary, when it is installed by an update:
/// argument lists in which `{db}` is the first database, `{db:1}` the second, and so on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateHooks {
    /// Brings the databases to the new version's schema (`["--db", "{db}", "migrate"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate: Option<Vec<String>>,
    /// Checks the new version works with the migrated data (`["--db", "{db}", "doctor"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Vec<String>>,
}

/// A hook an update runs with the new binary, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hook {
    /// Brings the databases to the new version's schema.
    Migrate,
    /// Checks the new version works with the migrated data.
    Check,
}

impl Hook {
    /// Every hook, in the order an update runs them.
    pub const ALL: [Hook; 2] = [Hook::Migrate, Hook::Check];

    /// The hook's name, as settings and messages spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Migrate => "migrate",
            Hook::Check => "check",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a hook's arguments cannot be filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the hook argument `{argument}` names database {index}, but {count} database(s) are recorded"
)]
pub struct MissingDatabase {
    /// The argument as written.
    pub argument: String,
    /// The database index it names.
    pub index: usize,
    /// How many databases the receipt records.
    pub count: usize,
}

impl UpdateHooks {
    /// The arguments of `hook`, when the release declares it.
    pub fn command(&self, hook: Hook) -> Option<&[String]> {
        match hook {
            Hook::Migrate => self.migrate.as_deref(),
            Hook::Check => self.check.as_deref(),
        }
    }

    /// Fills `{db}`, `{db:N}` in `args` with the recorded databases; other text, and braces
    /// that name no database, stay as they are.
    pub fn expand(args: &[String], databases: &[String]) -> Result<Vec<String>, MissingDatabase> {
        args.iter()
            .map(|argument| {
                let mut out = String::new();
                let mut rest = argument.as_str();
                while let Some(start) = rest.find("{db") {
                    out.push_str(&rest[..start]);
                    let tail = &rest[start..];
                    let end = tail.find('}');
                    let index = end.and_then(|end| match &tail[3..end] {
                        "" => Some(0),
                        spec => spec.strip_prefix(':')?.parse().ok(),
                    });
                    match (end, index) {
                        (Some(end), Some(index)) => {
                            let db = databases.get(index).ok_or_else(|| MissingDatabase {
                                argument: argument.clone(),
                                index,
                                count: databases.len(),
                            })?;
                            out.push_str(db);
                            rest = &tail[end + 1..];
                        }
                        _ => {
                            out.push_str("{db");
                            rest = &tail[3..];
                        }
                    }
                }
                out.push_str(rest);
                Ok(out)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn databases_are_filled_in() {
        let dbs = s(&["/data/a.db", "/data/b.db"]);
        assert_eq!(
            UpdateHooks::expand(&s(&["--db", "{db}", "--other={db:1}", "migrate"]), &dbs).unwrap(),
            s(&["--db", "/data/a.db", "--other=/data/b.db", "migrate"])
        );
        assert_eq!(
            UpdateHooks::expand(&s(&["{db:0}{db}"]), &dbs).unwrap(),
            s(&["/data/a.db/data/a.db"])
        );
        assert_eq!(
            UpdateHooks::expand(&s(&["{dbx}", "{db:x}"]), &dbs).unwrap(),
            s(&["{dbx}", "{db:x}"])
        );
        let err = UpdateHooks::expand(&s(&["{db:2}"]), &dbs).unwrap_err();
        assert_eq!(err.index, 2);
    }
}
