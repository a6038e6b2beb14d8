//! Building a plan's binaries with the chosen builder, after checking every target.

use keel_build::{BuildReporter, Builder, CargoBuilder, FakeBuilder};
use keel_plan::Plan;

use crate::{Error, Project, Reporter};

/// Which builder compiles the binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderKind {
    /// `cargo build --profile dist --locked --target T`.
    Cargo,
    /// Placeholder binaries, written without compiling: for targets this machine cannot build.
    Fake,
}

/// Passes a build's output lines to the release's reporter.
struct Lines<'a>(&'a dyn Reporter);

impl BuildReporter for Lines<'_> {
    fn output_line(&self, target: &str, line: &str) {
        self.0.build_output(target, line);
    }
}

fn builder(project: &Project, kind: BuilderKind, epoch: u64) -> Box<dyn Builder> {
    match kind {
        BuilderKind::Fake => Box::new(FakeBuilder),
        BuilderKind::Cargo => Box::new(CargoBuilder {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            manifest_path: project.workspace.manifest_path.clone(),
            root: project.workspace.root.clone(),
            has_dist_profile: project.workspace.has_dist_profile,
            source_date_epoch: epoch,
            toolchain: project.toolchain.clone(),
        }),
    }
}

/// Checks every target and the lock file before anything is built.
fn preflight(project: &Project, plan: &Plan, builder: &dyn Builder) -> Result<(), Error> {
    if builder.name() == "cargo" && !project.workspace.has_lockfile {
        return Err(Error::NoLockfile {
            root: project.workspace.root.clone(),
        });
    }
    for target in &plan.targets {
        builder.check_target(target)?;
    }
    Ok(())
}

/// Builds every binary of `plan` with `SOURCE_DATE_EPOCH` set to `epoch`; returns the
/// builder's name, as the manifest records it.
pub fn build(
    project: &Project,
    plan: &Plan,
    kind: BuilderKind,
    epoch: u64,
    reporter: &dyn Reporter,
) -> Result<&'static str, Error> {
    let builder = builder(project, kind, epoch);
    preflight(project, plan, builder.as_ref())?;
    for step in &plan.builds {
        reporter.building(&step.target);
        builder.build(step, &Lines(reporter))?;
    }
    reporter.finished();
    Ok(builder.name())
}
