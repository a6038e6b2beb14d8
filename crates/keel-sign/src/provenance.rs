//! SLSA provenance: an in-toto Statement v1 whose subjects are a release's artifacts and whose
//! predicate (SLSA Provenance v1) says what was built, from which commit, with which command,
//! compiler and builder.

use keel_schema::Manifest;
use serde_json::{Value, json};

use crate::sbom::redact_url;

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The SLSA provenance predicate type.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The build type: keel's release build, as its README describes.
pub const BUILD_TYPE: &str = "https://github.com/keel-rs/keel/blob/main/README.md#provenance";

/// The GitHub Actions run that made a release, when one did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GithubRun {
    /// `GITHUB_SERVER_URL`.
    pub server_url: String,
    /// `GITHUB_REPOSITORY` (`owner/name`).
    pub repository: String,
    /// `GITHUB_RUN_ID`.
    pub run_id: String,
    /// `GITHUB_RUN_ATTEMPT`.
    pub run_attempt: String,
}

/// What the statement is made from.
pub struct ProvenanceInput<'a> {
    /// The release so far: every artifact listed becomes a subject.
    pub manifest: &'a Manifest,
    /// keel's version.
    pub tool_version: &'a str,
    /// The GitHub Actions run, when there is one.
    pub github: Option<&'a GithubRun>,
}

/// The command that builds `manifest`'s release, as keel would be asked for it: derived from
/// the release itself, so that it holds no host path and a merged release records what a
/// single run would have.
pub fn release_command(manifest: &Manifest) -> Vec<String> {
    let mut command = vec!["keel".to_owned(), "release".to_owned()];
    if let Some(tag) = &manifest.tag {
        command.extend(["--tag".to_owned(), tag.clone()]);
    }
    for target in manifest.targets.keys() {
        command.extend(["--target".to_owned(), target.clone()]);
    }
    command
}

/// The statement as one line of JSON.
pub fn statement(input: &ProvenanceInput<'_>) -> String {
    let manifest = input.manifest;
    let subject: Vec<Value> = manifest
        .artifacts
        .iter()
        .map(|(name, artifact)| json!({ "name": name, "digest": { "sha256": artifact.sha256 } }))
        .collect();
    let repository = manifest
        .apps
        .values()
        .find_map(|app| app.repository.as_deref())
        .map(redact_url)
        .or_else(|| {
            input
                .github
                .map(|run| format!("{}/{}", run.server_url, run.repository))
        });
    let mut source = json!({});
    if let Some(repository) = &repository {
        source["uri"] = json!(format!("git+{repository}"));
    }
    if let Some(commit) = &manifest.source.commit {
        source["digest"] = json!({ "gitCommit": commit });
    }
    let mut resolved = Vec::new();
    if source.as_object().is_some_and(|o| !o.is_empty()) {
        resolved.push(source);
    }
    let mut toolchains: Vec<&str> = manifest
        .targets
        .values()
        .map(|t| t.rustc.as_str())
        .collect();
    toolchains.sort_unstable();
    toolchains.dedup();
    for rustc in toolchains {
        resolved.push(json!({ "name": "rustc", "annotations": { "version": rustc } }));
    }
    let builds: Value = manifest
        .targets
        .iter()
        .map(|(target, build)| {
            (
                target.clone(),
                json!({ "host": build.host, "builder": build.builder, "profile": build.profile }),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let (builder_id, invocation) = match input.github {
        Some(run) => (
            "https://github.com/actions/runner".to_owned(),
            Some(format!(
                "{}/{}/actions/runs/{}/attempts/{}",
                run.server_url, run.repository, run.run_id, run.run_attempt
            )),
        ),
        None => ("https://github.com/keel-rs/keel#local".to_owned(), None),
    };
    let mut run_details = json!({
        "builder": { "id": builder_id, "version": { "keel": input.tool_version } },
    });
    if let Some(invocation) = invocation {
        run_details["metadata"] = json!({ "invocationId": invocation });
    }
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "command": release_command(manifest),
                    "tag": manifest.tag,
                    "apps": manifest.apps.keys().collect::<Vec<_>>(),
                    "targets": manifest.targets.keys().collect::<Vec<_>>(),
                },
                "internalParameters": {
                    "builds": builds,
                    "sourceDateEpoch": manifest.source.source_date_epoch,
                    "dirty": manifest.source.dirty,
                },
                "resolvedDependencies": resolved,
            },
            "runDetails": run_details,
        },
    });
    statement.to_string()
}
