//! `keel ci init`, `keel ci check` and `keel ci matrix`.

use anyhow::{Context, bail};
use keel_release::Project;

use crate::cli::{CiArgs, CiCommand, CiFileArgs, Format, GlobalArgs};
use crate::hinted;

fn project(global: &GlobalArgs) -> anyhow::Result<Project> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    Ok(Project::load(global.manifest_path.as_deref(), &cwd)?)
}

/// The pipeline this keel writes for the workspace, where it goes, and the secrets it uses.
fn generate(
    project: &Project,
    args: &CiFileArgs,
) -> anyhow::Result<(std::path::PathBuf, String, Vec<String>)> {
    let config = &project.workspace.config;
    let targets = keel_ci::ci_targets(&config.ci, &config.targets)?;
    let plan = project.plan(&[], None, false, None)?;
    let apps: Vec<String> = plan.apps.iter().map(|a| a.name.clone()).collect();
    let images: Vec<keel_ci::ImagePush> = keel_release::image_destinations(
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
        apps: &apps,
        targets: &targets,
        config: &config.ci,
        builders: &config.builders,
        images: &images,
        rehearse: plan.apps.iter().any(|app| {
            keel_schema::rehearsal::database_count(app.update.as_ref(), app.rehearse.as_ref()) > 0
        }),
    };
    let secrets = keel_ci::secrets(&inputs, args.gitlab);
    Ok(if args.gitlab {
        (
            project.workspace.root.join(keel_ci::GITLAB_PIPELINE_PATH),
            keel_ci::gitlab_pipeline(&inputs)?,
            secrets,
        )
    } else {
        (
            project.workspace.root.join(keel_ci::GITHUB_WORKFLOW_PATH),
            keel_ci::github_workflow(&inputs)?,
            secrets,
        )
    })
}

pub fn run_ci(global: &GlobalArgs, args: &CiArgs) -> anyhow::Result<()> {
    let project = project(global)?;
    match &args.command {
        CiCommand::Init(file) => {
            let (path, text, secrets) = generate(&project, file)?;
            let unchanged = fs_err::read_to_string(&path).is_ok_and(|old| old == text);
            if !unchanged {
                keel_fs::create_dir(keel_fs::parent(&path))?;
                keel_fs::write_atomic(&path, text.as_bytes(), None)?;
            }
            let shown = project.workspace.display_path(&path);
            crate::report(
                global,
                serde_json::json!({ "path": shown, "changed": !unchanged, "secrets": secrets }),
                || {
                    if unchanged {
                        format!("{shown} is up to date")
                    } else {
                        format!(
                            "Wrote {shown}; commit it. {} it uses: {}",
                            if file.gitlab {
                                "CI/CD variables"
                            } else {
                                "Secrets"
                            },
                            secrets.join(", ")
                        )
                    }
                },
            );
            Ok(())
        }
        CiCommand::Check(file) => {
            let (path, text, _) = generate(&project, file)?;
            let shown = project.workspace.display_path(&path);
            let init = if file.gitlab {
                "keel ci init --gitlab"
            } else {
                "keel ci init"
            };
            let Ok(old) = fs_err::read_to_string(&path) else {
                bail!(hinted(
                    format!("{shown} does not exist"),
                    format!("`{init}` writes it"),
                ));
            };
            if old == text {
                crate::report(
                    global,
                    serde_json::json!({ "path": shown, "up_to_date": true }),
                    || format!("{shown} is what `{init}` writes"),
                );
                return Ok(());
            }
            let diff = keel_ci::diff(&old, &text, &shown, &format!("what `{init}` writes"));
            match global.format {
                Format::Json => crate::print_json(&serde_json::json!({
                    "path": shown, "up_to_date": false, "diff": diff,
                })),
                Format::Text => crate::out(diff.trim_end()),
            }
            bail!(hinted(
                format!("{shown} differs from what `{init}` writes (the diff is above)"),
                format!("run `{init}` and commit the result, or change the settings back"),
            ));
        }
        CiCommand::Matrix => {
            let config = &project.workspace.config;
            let targets = keel_ci::ci_targets(&config.ci, &config.targets)?;
            let entries = keel_ci::matrix(&targets, &config.ci, &config.builders);
            match global.format {
                Format::Json => crate::out(&keel_ci::matrix_json(&entries)),
                Format::Text => {
                    for entry in &entries {
                        crate::out(&format!(
                            "{:<32} {:<18} {}",
                            entry.target, entry.runner, entry.builder
                        ));
                    }
                }
            }
            Ok(())
        }
    }
}
