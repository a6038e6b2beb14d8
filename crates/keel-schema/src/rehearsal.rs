//! Release rehearsals: the settings that say how to rehearse an app's update
//! (`[package.metadata.keel.rehearse]`) and the report `keel rehearse` writes beside the
//! manifest (`keel-rehearsal.json`), signed like it, which `keel verify` checks and
//! `keel publish` requires for apps with databases.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::TargetTriple;
use crate::receipt::UpdateHooks;

/// The report's file name, beside the manifest.
pub const REHEARSAL_FILE_NAME: &str = "keel-rehearsal.json";

/// The version of the report's format.
pub const REHEARSAL_SCHEMA_VERSION: u32 = 1;

/// The environment variable a rehearsal sets for the candidate's hooks when it rehearses a
/// failed migration: `migrate`. An app that honours it fails its migration part way.
pub const KEEL_REHEARSE_FAIL: &str = "KEEL_REHEARSE_FAIL";

/// `[package.metadata.keel.rehearse]`: how to rehearse an update of the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RehearseSettings {
    /// How many databases the app keeps (`{db}`, `{db:1}`, ...); default: as many as the
    /// update hooks and these commands name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub databases: Option<u32>,
    /// Commands the previous version runs to create realistic data, in order
    /// (`[["--db", "{db}", "migrate"], ["--db", "{db}", "add", "cash", "12"]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seed: Vec<Vec<String>>,
    /// Commands the new version runs after the update, each of which must succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify: Vec<Vec<String>>,
}

/// The highest database index `args` name (`{db}` is 0, `{db:N}` is N), plus one.
fn databases_named<'a>(args: impl IntoIterator<Item = &'a String>) -> u32 {
    let mut count = 0;
    for arg in args {
        let mut rest = arg.as_str();
        while let Some(at) = rest.find("{db") {
            rest = &rest[at + 3..];
            let index = if rest.starts_with('}') {
                Some(0)
            } else {
                rest.strip_prefix(':')
                    .and_then(|r| r.split_once('}'))
                    .and_then(|(n, _)| n.parse::<u32>().ok())
            };
            if let Some(index) = index {
                count = count.max(index + 1);
            }
        }
    }
    count
}

/// How many databases an app with these hooks and rehearsal settings keeps.
pub fn database_count(hooks: Option<&UpdateHooks>, settings: Option<&RehearseSettings>) -> u32 {
    if let Some(count) = settings.and_then(|s| s.databases) {
        return count;
    }
    let hook_args = hooks
        .into_iter()
        .flat_map(|h| h.migrate.iter().chain(h.check.iter()))
        .flatten();
    let setting_args = settings
        .into_iter()
        .flat_map(|s| s.seed.iter().chain(s.verify.iter()))
        .flatten();
    databases_named(hook_args.chain(setting_args))
}

/// What a rehearsal found: one run per app and target, bound to one manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Rehearsal {
    /// The version of this format.
    pub schema_version: u32,
    /// The sha256 of the manifest rehearsed: the report belongs to that release only.
    pub manifest_sha256: String,
    /// Every run, ordered by app and target.
    pub runs: Vec<RehearsalRun>,
}

impl Rehearsal {
    /// Whether every run passed.
    pub fn passed(&self) -> bool {
        !self.runs.is_empty() && self.runs.iter().all(|r| r.passed)
    }

    /// Adds `run`, replacing an earlier run of the same app and target; keeps the order.
    pub fn put(&mut self, run: RehearsalRun) {
        self.runs
            .retain(|r| (r.app.as_str(), &r.target) != (run.app.as_str(), &run.target));
        self.runs.push(run);
        self.runs
            .sort_by(|a, b| (a.app.as_str(), &a.target).cmp(&(b.app.as_str(), &b.target)));
    }

    /// Each failed run in a phrase: the app, version and target, and the step that failed.
    pub fn failures(&self) -> Vec<String> {
        let failed = self.runs.iter().filter(|r| !r.passed);
        failed
            .map(|run| {
                let step = run.steps.iter().find(|s| !s.passed);
                let step = step.map(|s| format!("{}: {}", s.step, s.detail));
                let (app, version, target) = (&run.app, &run.version, &run.target);
                format!(
                    "{app} {version} on {target} at {}",
                    step.unwrap_or_default()
                )
            })
            .collect()
    }
}

/// One line per run: `Passed app 1.2.0 on x86_64-unknown-linux-gnu: update from 1.1.0, ...`.
impl std::fmt::Display for Rehearsal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, run) in self.runs.iter().enumerate() {
            let what = match run.kind {
                RehearsalKind::Update => format!(
                    "update from {}, rollback and a failed migration",
                    run.previous.as_deref().unwrap_or("?")
                ),
                RehearsalKind::FirstRelease => {
                    "first release: fresh install, migrate and check".to_owned()
                }
            };
            let verdict = if run.passed { "Passed" } else { "Failed" };
            let (app, version, target) = (&run.app, &run.version, &run.target);
            let newline = if i == 0 { "" } else { "\n" };
            write!(f, "{newline}{verdict} {app} {version} on {target}: {what}")?;
        }
        Ok(())
    }
}

/// What was rehearsed for one app on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RehearsalKind {
    /// An update from the previous release, its rollback, and a failed migration.
    Update,
    /// No earlier release: a fresh install, migrate and check only.
    FirstRelease,
}

/// One app's rehearsal on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RehearsalRun {
    /// The app.
    pub app: String,
    /// The target it ran on.
    pub target: TargetTriple,
    /// What was rehearsed.
    pub kind: RehearsalKind,
    /// The candidate's version.
    pub version: String,
    /// The candidate's archive and its sha256, as the manifest lists them.
    pub archive: String,
    /// The archive's sha256.
    pub archive_sha256: String,
    /// The version updated from (none for a first release).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The previous version's archive sha256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<String>,
    /// Whether every step passed.
    pub passed: bool,
    /// Each step, in order; the run stops at the first that fails.
    pub steps: Vec<RehearsalStep>,
    /// Each database's digests at each stage (`db-0`, `db-1`, ...).
    pub databases: BTreeMap<String, DatabaseDigests>,
}

/// One step of a rehearsal run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RehearsalStep {
    /// The step: `install-previous`, `seed`, `update`, `verify`, `rollback`,
    /// `failed-migration`, or for a first release `install`, `migrate`, `check`.
    pub step: String,
    /// Whether it passed.
    pub passed: bool,
    /// How long it took, in milliseconds.
    pub millis: u64,
    /// What happened, in a sentence.
    pub detail: String,
}

/// `ok      update (120 ms): what happened`.
impl std::fmt::Display for RehearsalStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.passed { "ok" } else { "FAILED" };
        let (step, millis, detail) = (&self.step, self.millis, &self.detail);
        write!(f, "  {verdict:<7} {step} ({millis} ms): {detail}")
    }
}

/// A database's file sha256 and logical-content digest at each stage of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DatabaseDigests {
    /// Before the update: the data the previous version made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Digests>,
    /// After the update: migrated by the candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<Digests>,
    /// After `keel rollback`: must hold what `before` held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<Digests>,
    /// After the failed migration was rolled back: must hold what `before` held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_migration: Option<Digests>,
}

/// Two digests of one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Digests {
    /// The sha256 of the file (absent when there is no file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// The sha256 of its logical content: schema version, schema and rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn the_database_count_comes_from_the_commands_unless_set() {
        let hooks = UpdateHooks {
            migrate: Some(s(&["--db", "{db}", "migrate"])),
            check: None,
        };
        assert_eq!(database_count(Some(&hooks), None), 1);
        let settings = RehearseSettings {
            seed: vec![s(&["--a={db:2}", "x"])],
            ..RehearseSettings::default()
        };
        assert_eq!(database_count(Some(&hooks), Some(&settings)), 3);
        assert_eq!(database_count(None, None), 0);
        let none = RehearseSettings {
            databases: Some(0),
            ..settings
        };
        assert_eq!(database_count(Some(&hooks), Some(&none)), 0);
        assert_eq!(databases_named(&s(&["{db:x}", "{dbname}"])), 0);
    }
}
