//! `keel ci init` and `keel ci check`: the CI pipeline keel writes for a workspace (keel-ci
//! renders it from the settings and the plan), written into place or compared with the file
//! there.

use std::path::PathBuf;

use serde::Serialize;

use crate::{Error, Project};

/// The pipeline file keel writes for a project.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Where it goes.
    pub path: PathBuf,
    /// That path as shown (relative to the workspace).
    pub shown: String,
    /// Its text.
    pub text: String,
    /// The secrets (GitHub) or CI/CD variables (GitLab) it uses.
    pub secrets: Vec<String>,
}

/// The pipeline for `project`: GitLab CI's when `gitlab`, else a GitHub Actions workflow.
/// `keel_rev` is the commit of keel's repository the running keel was built from, the one
/// the pipeline builds keel from unless the settings say otherwise.
pub fn pipeline(
    project: &Project,
    gitlab: bool,
    keel_rev: Option<&str>,
) -> Result<Pipeline, Error> {
    let config = &project.workspace.config;
    let targets = keel_ci::ci_targets(&config.ci, &config.targets)?;
    let plan = project.plan(&[], None, false, None)?;
    let apps: Vec<String> = plan.apps.iter().map(|a| a.name.clone()).collect();
    let images: Vec<keel_ci::ImagePush> = crate::image_destinations(
        plan.apps
            .iter()
            .map(|app| (app.name.as_str(), app.image.as_ref())),
    )?
    .into_iter()
    .map(|d| keel_ci::ImagePush {
        destination: d.destination,
        host: d.registry,
        apps: d.apps,
    })
    .collect();
    let inputs = keel_ci::Inputs {
        keel_version: env!("CARGO_PKG_VERSION"),
        keel_rev,
        apps: &apps,
        targets: &targets,
        config: &config.ci,
        builders: &config.builders,
        images: &images,
        rehearse: plan.apps.iter().any(|app| {
            keel_schema::rehearsal::database_count(app.update.as_ref(), app.rehearse.as_ref()) > 0
        }),
    };
    let secrets = keel_ci::secrets(&inputs, gitlab);
    let (path, text) = if gitlab {
        (
            project.workspace.root.join(keel_ci::GITLAB_PIPELINE_PATH),
            keel_ci::gitlab_pipeline(&inputs)?,
        )
    } else {
        (
            project.workspace.root.join(keel_ci::GITHUB_WORKFLOW_PATH),
            keel_ci::github_workflow(&inputs)?,
        )
    };
    Ok(Pipeline {
        shown: project.workspace.display_path(&path),
        path,
        text,
        secrets,
    })
}

/// `keel ci init`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PipelineWritten {
    /// The file, relative to the workspace.
    pub path: String,
    /// Whether it was written (else it was what keel writes already).
    pub changed: bool,
    /// The secrets or CI/CD variables it uses.
    pub secrets: Vec<String>,
}

/// Writes the pipeline into place (atomically), unless the file holds it already.
pub fn write_pipeline(
    project: &Project,
    gitlab: bool,
    keel_rev: Option<&str>,
) -> Result<PipelineWritten, Error> {
    let pipeline = pipeline(project, gitlab, keel_rev)?;
    let unchanged = fs_err::read_to_string(&pipeline.path).is_ok_and(|old| old == pipeline.text);
    if !unchanged {
        keel_fs::create_dir(keel_fs::parent(&pipeline.path))?;
        keel_fs::write_atomic(&pipeline.path, pipeline.text.as_bytes(), None)?;
    }
    Ok(PipelineWritten {
        path: pipeline.shown,
        changed: !unchanged,
        secrets: pipeline.secrets,
    })
}

/// `keel ci check`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct PipelineChecked {
    /// The file, relative to the workspace.
    pub path: String,
    /// Whether it is what keel writes.
    pub up_to_date: bool,
    /// How it differs (a unified diff from the file to what keel writes), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// Compares the pipeline file with what keel writes; [`Error::PipelineMissing`] when there
/// is no file. `writer` names what writes it, for the diff's header.
pub fn check_pipeline(
    project: &Project,
    gitlab: bool,
    keel_rev: Option<&str>,
    writer: &str,
) -> Result<PipelineChecked, Error> {
    let pipeline = pipeline(project, gitlab, keel_rev)?;
    let Ok(old) = fs_err::read_to_string(&pipeline.path) else {
        return Err(Error::PipelineMissing {
            path: pipeline.shown,
        });
    };
    let up_to_date = old == pipeline.text;
    Ok(PipelineChecked {
        diff: (!up_to_date).then(|| {
            keel_ci::diff(
                &old,
                &pipeline.text,
                &pipeline.shown,
                &format!("what `{writer}` writes"),
            )
        }),
        path: pipeline.shown,
        up_to_date,
    })
}
