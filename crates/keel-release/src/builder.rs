//! Building a plan's binaries, each target with its builder, after checking every target;
//! then reading what each Linux gnu binary needs from glibc.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keel_build::elf::{GlibcNeed, GlibcVersion};
use keel_build::{Builder, CargoBuilder, FakeBuilder, PathRemap, Tool};
use keel_plan::{BuilderName, Plan};
use keel_schema::TargetTriple;

use crate::{Error, Event, Progress, Project};

/// Which builder compiles the binaries, for every target (the command line's `--builder`).
pub type BuilderKind = BuilderName;

/// The build machine's paths to keep out of the binaries: the workspace, the target folder,
/// cargo's home and path dependencies outside the workspace become `/build`, `/target`,
/// `/cargo` and `/deps/<name>`. The compilers use the last prefix that matches: the more
/// specific ones come later.
fn remap_prefixes(project: &Project, outside: &[(String, PathBuf)]) -> Vec<(PathBuf, String)> {
    let mut prefixes: Vec<(PathBuf, String)> =
        vec![(project.workspace.root.clone(), "/build".to_owned())];
    for (name, dir) in outside {
        prefixes.push((dir.clone(), format!("/deps/{name}")));
    }
    if !project
        .workspace
        .target_dir
        .starts_with(&project.workspace.root)
    {
        prefixes.push((project.workspace.target_dir.clone(), "/target".to_owned()));
    }
    if let Some(home) = keel_schema::env::cargo_home() {
        prefixes.push((
            std::path::absolute(&home).unwrap_or(home),
            "/cargo".to_owned(),
        ));
    }
    prefixes
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

fn builder(
    project: &Project,
    name: BuilderName,
    epoch: u64,
    outside: &[(String, PathBuf)],
) -> Box<dyn Builder> {
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
        remap: PathRemap {
            prefixes: remap_prefixes(project, outside),
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
    reporter: &dyn Progress,
) -> Result<Built, Error> {
    let compiles = plan.builds.iter().any(|b| b.builder != BuilderName::Fake);
    let outside = if compiles && project.workspace.has_lockfile {
        keel_workspace::path_packages_outside(
            &project.workspace.manifest_path,
            &project.workspace.root,
        )?
    } else {
        Vec::new()
    };
    let builders: Vec<Box<dyn Builder>> = plan
        .builds
        .iter()
        .map(|step| builder(project, step.builder, epoch, &outside))
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
        reporter.event(&Event::Building(&step.target));
        builder.build(step, reporter)?;
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
    reporter.event(&Event::Finished);
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
