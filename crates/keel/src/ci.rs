//! `keel ci init`, `keel ci check` and `keel ci matrix`.

use anyhow::bail;

use crate::cli::{CiArgs, CiCommand, Format, GlobalArgs};
use crate::hinted;

/// The commit of keel's repository this keel was built from, when it was built from one.
fn keel_rev() -> Option<&'static str> {
    const BUILD: keel_buildinfo::BuildInfo = keel_buildinfo::build_info!();
    (BUILD.commit != "unknown").then_some(BUILD.commit)
}

pub fn run_ci(global: &GlobalArgs, args: &CiArgs) -> anyhow::Result<()> {
    let project = crate::project(global)?;
    match &args.command {
        CiCommand::Init(file) => {
            let written =
                keel_release::pipeline::write_pipeline(&project, file.gitlab, keel_rev())?;
            crate::report(global, &written, || {
                if written.changed {
                    format!(
                        "Wrote {}; commit it. {} it uses: {}",
                        written.path,
                        if file.gitlab {
                            "CI/CD variables"
                        } else {
                            "Secrets"
                        },
                        written.secrets.join(", ")
                    )
                } else {
                    format!("{} is up to date", written.path)
                }
            });
            Ok(())
        }
        CiCommand::Check(file) => {
            let init = if file.gitlab {
                "keel ci init --gitlab"
            } else {
                "keel ci init"
            };
            let checked =
                keel_release::pipeline::check_pipeline(&project, file.gitlab, keel_rev(), init)
                    .map_err(|err| match err {
                        keel_release::Error::PipelineMissing { .. } => {
                            hinted(err.to_string(), format!("`{init}` writes it"))
                        }
                        other => other.into(),
                    })?;
            let shown = &checked.path;
            let Some(diff) = &checked.diff else {
                crate::report(global, &checked, || {
                    format!("{shown} is what `{init}` writes")
                });
                return Ok(());
            };
            match global.format {
                Format::Json => crate::print_json(&checked),
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
                Format::Text => entries.iter().for_each(|e| crate::out(&e.to_string())),
            }
            Ok(())
        }
    }
}
