//! Building a plan's binaries, each target with its builder, after checking every target;
//! then reading what each Linux gnu binary needs from glibc.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keel_build::elf::{GlibcNeed, GlibcVersion};
use keel_build::{BuildReporter, Builder, CargoBuilder, FakeBuilder, Rustflags, Tool};
use keel_plan::{BuilderName, Plan};
use keel_schema::TargetTriple;

use crate::{Error, Project, Reporter};

/// Which builder compiles the binaries, for every target (the command line's `--builder`).
pub type BuilderKind = BuilderName;

/// Passes a build's output lines to the release's reporter.
struct Lines<'a>(&'a dyn Reporter);

impl BuildReporter for Lines<'_> {
    fn output_line(&self, target: &str, line: &str) {
        self.0.build_output(target, line);
    }
}

/// The flags that keep the build machine's paths out of the binaries: the workspace, the
/// target folder and cargo's home become `/build`, `/target` and `/cargo`.
fn remap_flags(project: &Project) -> Vec<String> {
    let mut prefixes: Vec<(PathBuf, &str)> = vec![(project.workspace.root.clone(), "/build")];
    if !project
        .workspace
        .target_dir
        .starts_with(&project.workspace.root)
    {
        prefixes.push((project.workspace.target_dir.clone(), "/target"));
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        prefixes.push((std::path::absolute(&home).unwrap_or(home), "/cargo"));
    }
    // rustc uses the last prefix that matches: the more specific ones come later.
    prefixes
        .into_iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
        .collect()
}

/// What build scripts are told about the build (`keel-buildinfo` reads them).
fn build_env(project: &Project) -> Vec<(String, String)> {
    let mut env = vec![(
        "KEEL_BUILD_RUSTC".to_owned(),
        project.toolchain.version.clone(),
    )];
    if let Some(git) = &project.git {
        env.push(("KEEL_BUILD_COMMIT".to_owned(), git.commit.clone()));
        env.push(("KEEL_BUILD_DIRTY".to_owned(), git.dirty.to_string()));
    }
    env
}

fn builder(project: &Project, name: BuilderName, epoch: u64) -> Box<dyn Builder> {
    let tool = match name {
        BuilderName::Fake => return Box::new(FakeBuilder),
        BuilderName::Cargo => Tool::Cargo,
        BuilderName::Zigbuild => Tool::Zigbuild,
        BuilderName::Cross => Tool::Cross,
    };
    Box::new(CargoBuilder {
        cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        tool,
        manifest_path: project.workspace.manifest_path.clone(),
        root: project.workspace.root.clone(),
        has_dist_profile: project.workspace.has_dist_profile,
        source_date_epoch: epoch,
        toolchain: project.toolchain.clone(),
        rustflags: Rustflags {
            flags: remap_flags(project),
            target_tables_in_config: project.workspace.config_target_rustflags,
        },
        env: build_env(project),
    })
}

/// What a build produced beyond its binaries.
#[derive(Debug, Clone, Default)]
pub struct Built {
    /// The builder of each target, as the manifest records it.
    pub builders: BTreeMap<TargetTriple, &'static str>,
    /// For each Linux gnu binary (by its path), the newest glibc it needs.
    pub glibc: BTreeMap<PathBuf, GlibcNeed>,
}

/// Builds every binary of `plan` with `SOURCE_DATE_EPOCH` set to `epoch`, each target with its
/// builder, after checking every target (and the lock file, for cargo); then reads the newest
/// glibc each Linux gnu binary needs and refuses one above the `glibc-floor` setting.
pub fn build(
    project: &Project,
    plan: &Plan,
    epoch: u64,
    reporter: &dyn Reporter,
) -> Result<Built, Error> {
    let builders: Vec<Box<dyn Builder>> = plan
        .builds
        .iter()
        .map(|step| builder(project, step.builder, epoch))
        .collect();
    if builders.iter().any(|b| b.name() != "fake") && !project.workspace.has_lockfile {
        return Err(Error::NoLockfile {
            root: project.workspace.root.clone(),
        });
    }
    for (step, builder) in plan.builds.iter().zip(&builders) {
        builder.check_target(&step.target)?;
    }
    let mut built = Built::default();
    for (step, builder) in plan.builds.iter().zip(&builders) {
        reporter.building(&step.target);
        builder.build(step, &Lines(reporter))?;
        built.builders.insert(step.target.clone(), builder.name());
        let gnu = step.target.os() == keel_schema::Os::Linux
            && step.target.env().is_some_and(|e| e.starts_with("gnu"));
        if !gnu {
            continue;
        }
        for output in &step.outputs {
            if let Some(need) = keel_build::elf::glibc_need(&output.absolute_path)? {
                check_floor(project, &output.absolute_path, &need)?;
                built.glibc.insert(output.absolute_path.clone(), need);
            }
        }
    }
    reporter.finished();
    Ok(built)
}

fn check_floor(project: &Project, binary: &Path, need: &GlibcNeed) -> Result<(), Error> {
    let Some(floor) = project.workspace.config.glibc_floor.as_deref() else {
        return Ok(());
    };
    let Some(parsed) = GlibcVersion::parse(floor) else {
        return Ok(()); // The plan refused a malformed floor already.
    };
    if need.version > parsed {
        return Err(Error::GlibcTooNew {
            binary: binary.to_owned(),
            symbol: need.symbol.clone(),
            needs: need.version.to_string(),
            floor: floor.to_owned(),
        });
    }
    Ok(())
}
