//! SLSA provenance: an in-toto Statement v1 whose subjects are a release's artifacts and whose
//! predicate (SLSA Provenance v1) says what was built, from which commit, with which command,
//! compiler and builder.
//!
//! [`Statement`] is both what [`statement`] writes and what a verifier reads back with
//! [`Statement::from_json`]: the format is defined once.

use std::collections::BTreeMap;

use keel_schema::Manifest;
use serde::{Deserialize, Serialize};

use crate::sbom::redact_url;

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The SLSA provenance predicate type.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The build type: keel's release build, as docs/release-format.md describes it.
pub const BUILD_TYPE: &str = "https://github.com/keel-rs/keel/blob/main/docs/release-format.md#signatures-sboms-and-provenance";

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

/// Why a statement could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    /// The payload is not an in-toto statement in JSON.
    #[error("not an in-toto statement in JSON")]
    Parse(#[source] serde_json::Error),
    /// The statement is not SLSA provenance.
    #[error("not an in-toto statement with SLSA provenance")]
    NotSlsa,
}

/// An in-toto Statement v1 with an SLSA Provenance v1 predicate. Fields keel does not use are
/// ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What was built: every artifact with its digest.
    pub subject: Vec<Subject>,
    /// [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// How it was built.
    pub predicate: Provenance,
}

/// An artifact the statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Its file name.
    pub name: String,
    /// Its digests, by algorithm (`sha256`).
    pub digest: BTreeMap<String, String>,
}

/// The SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// What the build was asked to do.
    #[serde(rename = "buildDefinition")]
    pub build_definition: BuildDefinition,
    /// Who ran it.
    #[serde(rename = "runDetails")]
    pub run_details: RunDetails,
}

/// SLSA's `buildDefinition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildDefinition {
    /// [`BUILD_TYPE`].
    #[serde(rename = "buildType")]
    pub build_type: String,
    /// The parameters a user chose.
    #[serde(rename = "externalParameters")]
    pub external_parameters: ExternalParameters,
    /// The parameters keel chose.
    #[serde(rename = "internalParameters", default)]
    pub internal_parameters: Option<InternalParameters>,
    /// The source commit and the compilers.
    #[serde(rename = "resolvedDependencies", default)]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// The command and what it named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalParameters {
    /// The `keel release` command line that makes the release.
    pub command: Vec<String>,
    /// The tag released.
    pub tag: Option<String>,
    /// The apps released.
    pub apps: Vec<String>,
    /// The targets built.
    pub targets: Vec<String>,
}

/// How each target was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalParameters {
    /// Each target's host, builder and profile.
    pub builds: BTreeMap<String, BuildRecord>,
    /// The time stamped on every archive entry.
    #[serde(rename = "sourceDateEpoch")]
    pub source_date_epoch: u64,
    /// Whether the work tree had uncommitted changes.
    pub dirty: bool,
}

/// How one target was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// The triple of the machine that built it.
    pub host: String,
    /// The builder (`cargo`, `fake`).
    pub builder: String,
    /// The Cargo profile.
    pub profile: String,
}

/// A source or tool the build used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// Its name (`rustc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it is (`git+https://...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its digests (`gitCommit`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Facts about it (`version`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// SLSA's `runDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetails {
    /// The builder.
    pub builder: Builder,
    /// The run, on CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<RunMetadata>,
}

/// The builder that ran the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Builder {
    /// Its id.
    pub id: String,
    /// Versions of its parts (`keel`).
    #[serde(default)]
    pub version: BTreeMap<String, String>,
}

/// The CI run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMetadata {
    /// The run's URL.
    #[serde(rename = "invocationId")]
    pub invocation_id: String,
}

impl Statement {
    /// Reads a statement, refusing anything but SLSA provenance.
    pub fn from_json(bytes: &[u8]) -> Result<Statement, ProvenanceError> {
        let statement: Statement = serde_json::from_slice(bytes).map_err(ProvenanceError::Parse)?;
        if statement.statement_type != STATEMENT_TYPE || statement.predicate_type != PREDICATE_TYPE
        {
            return Err(ProvenanceError::NotSlsa);
        }
        Ok(statement)
    }

    /// The statement as one line of JSON with sorted keys.
    pub fn to_json(&self) -> String {
        serde_json::to_value(self)
            .expect("a statement is plain JSON data")
            .to_string()
    }

    /// Each subject's sha256, by name.
    pub fn sha256_by_subject(&self) -> BTreeMap<String, String> {
        self.subject
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.digest.get("sha256")?.clone())))
            .collect()
    }

    /// The git commit the build recorded as its source.
    pub fn git_commit(&self) -> Option<&str> {
        self.predicate
            .build_definition
            .resolved_dependencies
            .iter()
            .find_map(|d| d.digest.get("gitCommit").map(String::as_str))
    }
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
        command.extend(["--target".to_owned(), target.to_string()]);
    }
    command
}

/// The statement about `input.manifest`'s release.
pub fn build_statement(input: &ProvenanceInput<'_>) -> Statement {
    let manifest = input.manifest;
    let subject = manifest
        .artifacts
        .iter()
        .map(|(name, artifact)| Subject {
            name: name.clone(),
            digest: BTreeMap::from([("sha256".to_owned(), artifact.sha256.clone())]),
        })
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
    let source = ResourceDescriptor {
        name: None,
        uri: repository.map(|repository| format!("git+{repository}")),
        digest: manifest
            .source
            .commit
            .iter()
            .map(|commit| ("gitCommit".to_owned(), commit.clone()))
            .collect(),
        annotations: BTreeMap::new(),
    };
    let mut resolved = Vec::new();
    if source.uri.is_some() || !source.digest.is_empty() {
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
        resolved.push(ResourceDescriptor {
            name: Some("rustc".to_owned()),
            uri: None,
            digest: BTreeMap::new(),
            annotations: BTreeMap::from([("version".to_owned(), rustc.to_owned())]),
        });
    }
    let builds = manifest
        .targets
        .iter()
        .map(|(target, build)| {
            (
                target.to_string(),
                BuildRecord {
                    host: build.host.to_string(),
                    builder: build.builder.clone(),
                    profile: build.profile.clone(),
                },
            )
        })
        .collect();
    let (builder_id, metadata) = match input.github {
        Some(run) => (
            "https://github.com/actions/runner".to_owned(),
            Some(RunMetadata {
                invocation_id: format!(
                    "{}/{}/actions/runs/{}/attempts/{}",
                    run.server_url, run.repository, run.run_id, run.run_attempt
                ),
            }),
        ),
        None => ("https://github.com/keel-rs/keel#local".to_owned(), None),
    };
    Statement {
        statement_type: STATEMENT_TYPE.to_owned(),
        subject,
        predicate_type: PREDICATE_TYPE.to_owned(),
        predicate: Provenance {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE.to_owned(),
                external_parameters: ExternalParameters {
                    command: release_command(manifest),
                    tag: manifest.tag.clone(),
                    apps: manifest.apps.keys().cloned().collect(),
                    targets: manifest.targets.keys().map(ToString::to_string).collect(),
                },
                internal_parameters: Some(InternalParameters {
                    builds,
                    source_date_epoch: manifest.source.source_date_epoch,
                    dirty: manifest.source.dirty,
                }),
                resolved_dependencies: resolved,
            },
            run_details: RunDetails {
                builder: Builder {
                    id: builder_id,
                    version: BTreeMap::from([("keel".to_owned(), input.tool_version.to_owned())]),
                },
                metadata,
            },
        },
    }
}

/// The statement as one line of JSON.
pub fn statement(input: &ProvenanceInput<'_>) -> String {
    build_statement(input).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_refuses_other_statements() {
        let other = r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],
            "predicateType":"https://example.com/other","predicate":{"buildDefinition":
            {"buildType":"x","externalParameters":{"command":[],"tag":null,"apps":[],
            "targets":[]}},"runDetails":{"builder":{"id":"x"}}}}"#;
        assert!(matches!(
            Statement::from_json(other.as_bytes()),
            Err(ProvenanceError::NotSlsa)
        ));
        assert!(matches!(
            Statement::from_json(b"{}"),
            Err(ProvenanceError::Parse(_))
        ));
    }
}
