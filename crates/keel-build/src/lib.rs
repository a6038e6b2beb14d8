//! Builders: they turn one [`BuildPlan`] (a target and its binaries) into files on disk.
//!
//! [`CargoBuilder`] runs `cargo build --profile dist --locked --target <triple>` in the
//! workspace, streaming cargo's output to a [`Progress`] and keeping its tail for the error
//! when the build fails. Before building it checks, with [`Toolchain::check_target`], that the
//! target's standard library is installed, so a missing target fails with a clear message
//! instead of a page of compiler errors. [`FakeBuilder`] writes placeholder binaries: it lets
//! the whole pipeline run in tests for targets this machine cannot compile for.
//!
//! [`elf::glibc_need`] reads the newest glibc a Linux binary needs from its ELF symbol
//! versions, for the glibc floor.
//!
//! This crate never prints; the binary decides what to show.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod elf;

use keel_plan::BuildPlan;
use keel_schema::TargetTriple;

/// How many of cargo's last output lines a failed build keeps for its error.
const KEPT_LINES: usize = 60;

/// A build reports each line of the builder's output as [`Event::BuildOutput`] to keel's one
/// progress trait.
pub use keel_schema::progress::{Event, Progress, Silent};

/// Builds the binaries of one target.
pub trait Builder {
    /// The builder's name, recorded in the manifest.
    fn name(&self) -> &'static str;
    /// Checks, before anything is built, that this builder can build for `target`.
    fn check_target(&self, target: &TargetTriple) -> Result<(), Error>;
    /// Builds every output of `build`.
    fn build(&self, build: &BuildPlan, reporter: &dyn Progress) -> Result<(), Error>;
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tool could not be started.
    #[error("could not run `{tool}`")]
    Spawn {
        /// The tool.
        tool: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `rustc` does not know the target triple.
    #[error("unknown target `{target}`: rustc has no such target")]
    UnknownTarget {
        /// The triple.
        target: TargetTriple,
    },
    /// The target's standard library is not installed.
    #[error("the standard library for target `{target}` is not installed")]
    TargetNotInstalled {
        /// The triple.
        target: TargetTriple,
    },
    /// A tool failed in a way keel did not expect.
    #[error("`{command}` failed: {stderr}")]
    ToolFailed {
        /// The command line.
        command: String,
        /// What it printed.
        stderr: String,
    },
    /// The build failed.
    #[error("{} failed for target `{target}` ({status})\n{output}", match *tool { "cargo" => "cargo build", "zigbuild" => "cargo zigbuild", _ => "cross build" })]
    CargoFailed {
        /// The builder (`cargo`, `zigbuild`, `cross`).
        tool: &'static str,
        /// The triple.
        target: TargetTriple,
        /// How cargo exited.
        status: String,
        /// The last lines cargo printed.
        output: String,
    },
    /// The build succeeded but an expected binary is missing.
    #[error("the build for `{target}` did not produce {}", path.display())]
    MissingOutput {
        /// The triple.
        target: TargetTriple,
        /// The binary expected.
        path: PathBuf,
    },
    /// A builder's program is not installed.
    #[error("the {builder} builder needs {missing}, which is not installed")]
    BuilderMissing {
        /// The builder.
        builder: &'static str,
        /// What is missing.
        missing: String,
    },
    /// The fake builder could not write a binary.
    #[error("could not write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::UnknownTarget { .. } => {
                "`rustc --print target-list` lists the targets rustc knows"
            }
            _ => return None,
        })
    }
}

/// The Rust toolchain that builds a workspace (the one its `rust-toolchain.toml` selects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// `rustc`, or `$RUSTC`.
    pub rustc: OsString,
    /// The directory rustc runs in, so that rustup picks the workspace's toolchain.
    pub dir: PathBuf,
    /// The host triple: the platform rustc builds for by default.
    pub host: TargetTriple,
    /// The version, as `rustc -V` prints it.
    pub version: String,
}

impl Toolchain {
    /// Asks `rustc -vV` for the host triple and version, running it in `dir`.
    pub fn detect(dir: &Path) -> Result<Toolchain, Error> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let text = run_capture(
            Command::new(&rustc).arg("-vV").current_dir(dir),
            "rustc -vV",
        )?;
        let version = text.lines().next().unwrap_or_default().trim().to_owned();
        let host = text
            .lines()
            .find_map(|line| line.strip_prefix("host: "))
            .and_then(|host| TargetTriple::parse(host.trim()).ok())
            .ok_or_else(|| Error::ToolFailed {
                command: "rustc -vV".into(),
                stderr: format!("no `host:` line with a target triple in its output:\n{text}"),
            })?;
        Ok(Toolchain {
            rustc,
            dir: dir.to_owned(),
            host,
            version,
        })
    }

    /// Checks that `target` is known to rustc and its standard library is installed.
    pub fn check_target(&self, target: &TargetTriple) -> Result<(), Error> {
        let output = Command::new(&self.rustc)
            .args(["--print", "target-libdir", "--target", target.as_str()])
            .current_dir(&self.dir)
            .output()
            .map_err(|source| Error::Spawn {
                tool: "rustc".into(),
                source,
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("target specification") || stderr.contains("unknown target") {
                return Err(Error::UnknownTarget {
                    target: target.clone(),
                });
            }
            return Err(Error::ToolFailed {
                command: format!("rustc --print target-libdir --target {target}"),
                stderr: stderr.trim().to_owned(),
            });
        }
        let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        let has_core = fs_err::read_dir(&libdir).is_ok_and(|entries| {
            entries.filter_map(Result::ok).any(|entry| {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libcore-") && name.ends_with(".rlib")
            })
        });
        if has_core {
            Ok(())
        } else {
            Err(Error::TargetNotInstalled {
                target: target.clone(),
            })
        }
    }
}

fn run_capture(command: &mut Command, what: &str) -> Result<String, Error> {
    let output = command.output().map_err(|source| Error::Spawn {
        tool: what.split(' ').next().unwrap_or(what).to_owned(),
        source,
    })?;
    if !output.status.success() {
        return Err(Error::ToolFailed {
            command: what.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The program a [`CargoBuilder`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `cargo build`.
    Cargo,
    /// `cargo zigbuild` (cargo-zigbuild, with zig as the linker): Linux targets from any host,
    /// for a chosen glibc.
    Zigbuild,
    /// `cross build`, in a container with the target's toolchain.
    Cross,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Cargo => "cargo",
            Tool::Zigbuild => "zigbuild",
            Tool::Cross => "cross",
        }
    }
}

/// Build-machine paths to rewrite in what the compilers write: rustc gets
/// `--remap-path-prefix=FROM=TO` and C and C++ compilers run by build scripts (through the `cc`
/// crate, which reads `CFLAGS` and `CXXFLAGS`) get `-ffile-prefix-map=FROM=TO`, each added to
/// the user's own flags, never replacing them.
///
/// cargo takes rustflags from one source only (`CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS`, the
/// config's `target.<triple>.rustflags`, else its `build.rustflags`), and joins the arrays of
/// one key across config files and `--config`; `cc` takes the first of `CFLAGS_<target>`,
/// `CFLAGS_<target_with_underscores>`, `TARGET_CFLAGS` or `HOST_CFLAGS`, and `CFLAGS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathRemap {
    /// Each prefix and what it becomes (`/home/me/app` → `/build`); the more specific later.
    pub prefixes: Vec<(PathBuf, String)>,
    /// Whether the user's cargo config sets `target.<...>.rustflags` (then keel's flags go to
    /// `target.<triple>.rustflags`, else to `build.rustflags`).
    pub target_tables_in_config: bool,
}

impl PathRemap {
    /// rustc's flags.
    pub fn rustc_flags(&self) -> Vec<String> {
        self.prefixes
            .iter()
            .map(|(from, to)| format!("--remap-path-prefix={}={to}", from.display()))
            .collect()
    }

    /// The C and C++ compilers' flags (GCC 8 and clang 10 or later; MSVC has no equivalent).
    pub fn c_flags(&self) -> Vec<String> {
        self.prefixes
            .iter()
            .map(|(from, to)| format!("-ffile-prefix-map={}={to}", from.display()))
            .collect()
    }

    /// The variables and `--config` arguments that add these flags to the user's, for a build
    /// of `target`, given the user's environment.
    pub fn apply(&self, target: &TargetTriple, user: &dyn Fn(&str) -> Option<String>) -> Applied {
        let mut applied = Applied::default();
        if self.prefixes.is_empty() {
            return applied;
        }
        let set = |key: &str| user(key).filter(|v| !v.is_empty());
        // rustc.
        let from_env = set("CARGO_ENCODED_RUSTFLAGS")
            .map(|encoded| {
                encoded
                    .split('\u{1f}')
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .or_else(|| {
                set("RUSTFLAGS").map(|flags| flags.split_whitespace().map(str::to_owned).collect())
            });
        match from_env {
            Some(mut flags) => {
                flags.extend(self.rustc_flags());
                applied
                    .env
                    .push(("CARGO_ENCODED_RUSTFLAGS".into(), flags.join("\u{1f}")));
                applied.env_remove.push("RUSTFLAGS".into());
            }
            None => {
                let key = if self.target_tables_in_config {
                    format!("target.{target}.rustflags")
                } else {
                    "build.rustflags".to_owned()
                };
                let values: Vec<String> =
                    self.rustc_flags().iter().map(|f| toml_string(f)).collect();
                applied
                    .config
                    .push(format!("{key}=[{}]", values.join(", ")));
            }
        }
        // C and C++: MSVC's cl.exe does not know the flag.
        if target.env() == Some("msvc") {
            return applied;
        }
        let ours = self.c_flags().join(" ");
        let triple = target.to_string();
        for base in ["CFLAGS", "CXXFLAGS"] {
            let candidates = [
                format!("{base}_{triple}"),
                format!("{base}_{}", triple.replace(['-', '.'], "_")),
                format!("TARGET_{base}"),
                format!("HOST_{base}"),
                base.to_owned(),
            ];
            let mut any = false;
            for key in candidates {
                if let Some(value) = set(&key) {
                    applied.env.push((key, format!("{value} {ours}")));
                    any = true;
                }
            }
            if !any {
                applied.env.push((base.to_owned(), ours.clone()));
            }
        }
        applied
    }
}

/// What [`PathRemap::apply`] adds to a build command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Variables to set.
    pub env: Vec<(String, String)>,
    /// Variables to unset.
    pub env_remove: Vec<String>,
    /// `--config` arguments.
    pub config: Vec<String>,
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds with `cargo build`, `cargo zigbuild` or `cross build`.
#[derive(Debug, Clone)]
pub struct CargoBuilder {
    /// `cargo`, or `$CARGO`.
    pub cargo: OsString,
    /// Which program builds.
    pub tool: Tool,
    /// The workspace's root `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The workspace root; cargo runs there.
    pub root: PathBuf,
    /// Whether the workspace defines `[profile.dist]`; if not,
    /// [`keel_schema::DIST_PROFILE_SETTINGS`] are passed with `--config`.
    pub has_dist_profile: bool,
    /// `SOURCE_DATE_EPOCH` for build scripts that stamp times.
    pub source_date_epoch: u64,
    /// The toolchain, to check targets.
    pub toolchain: Toolchain,
    /// The paths to rewrite in the binaries, added to the user's flags.
    pub remap: PathRemap,
    /// Variables for build scripts (`KEEL_BUILD_COMMIT`, ...).
    pub env: Vec<(String, String)>,
}

impl CargoBuilder {
    /// The build command for one build.
    pub fn command(&self, build: &BuildPlan) -> Command {
        let mut command = match self.tool {
            Tool::Cargo => {
                let mut command = Command::new(&self.cargo);
                command.arg("build");
                command
            }
            Tool::Zigbuild => {
                let mut command = Command::new(&self.cargo);
                command.arg("zigbuild");
                command
            }
            Tool::Cross => {
                let mut command = Command::new("cross");
                command.arg("build");
                command
            }
        };
        command
            .current_dir(&self.root)
            .args(["--profile", keel_schema::DIST_PROFILE, "--locked"])
            .args(["--color", "never", "--target", &build.builder_target])
            .arg("--manifest-path")
            .arg(&self.manifest_path)
            .env("SOURCE_DATE_EPOCH", self.source_date_epoch.to_string())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        if !self.has_dist_profile {
            for (key, value) in keel_schema::DIST_PROFILE_SETTINGS {
                command.arg("--config").arg(format!(
                    "profile.{}.{key}={value}",
                    keel_schema::DIST_PROFILE
                ));
            }
        }
        self.add_remap(&mut command, &build.target);
        for package in &build.packages {
            command.args(["--package", package]);
        }
        for binary in &build.binaries {
            command.args(["--bin", binary]);
        }
        command
    }

    /// Adds keel's path remapping to the user's flags, from this process's environment.
    fn add_remap(&self, command: &mut Command, target: &TargetTriple) {
        let applied = self.remap.apply(target, &|key| std::env::var(key).ok());
        for (key, value) in applied.env {
            command.env(key, value);
        }
        for key in applied.env_remove {
            command.env_remove(key);
        }
        for config in applied.config {
            command.arg("--config").arg(config);
        }
    }

    /// Checks that the builder's program is there, and for cross a container engine.
    fn check_tool(&self) -> Result<(), Error> {
        let works = |program: &std::ffi::OsStr, args: &[&str]| {
            Command::new(program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        match self.tool {
            Tool::Cargo => Ok(()),
            Tool::Zigbuild => {
                if works(&self.cargo, &["zigbuild", "--help"]) {
                    Ok(())
                } else {
                    Err(Error::BuilderMissing {
                        builder: "zigbuild",
                        missing: "cargo-zigbuild and zig".into(),
                    })
                }
            }
            Tool::Cross => {
                if !works("cross".as_ref(), &["--version"]) {
                    return Err(Error::BuilderMissing {
                        builder: "cross",
                        missing: "cross".into(),
                    });
                }
                if works("docker".as_ref(), &["info"]) || works("podman".as_ref(), &["info"]) {
                    Ok(())
                } else {
                    Err(Error::BuilderMissing {
                        builder: "cross",
                        missing: "a running container engine (docker or podman)".into(),
                    })
                }
            }
        }
    }
}

impl Builder for CargoBuilder {
    fn name(&self) -> &'static str {
        self.tool.name()
    }

    fn check_target(&self, target: &TargetTriple) -> Result<(), Error> {
        self.check_tool()?;
        match self.tool {
            // cross brings the target's standard library in its container.
            Tool::Cross => Ok(()),
            Tool::Cargo | Tool::Zigbuild => self.toolchain.check_target(target),
        }
    }

    fn build(&self, build: &BuildPlan, reporter: &dyn Progress) -> Result<(), Error> {
        let tool = self.tool.name();
        let mut child = self
            .command(build)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| Error::Spawn {
                tool: tool.into(),
                source,
            })?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut tail = VecDeque::with_capacity(KEPT_LINES);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            reporter.event(&Event::BuildOutput {
                target: build.target.as_str(),
                line: &line,
            });
            if tail.len() == KEPT_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
        let status = child.wait().map_err(|source| Error::Spawn {
            tool: tool.into(),
            source,
        })?;
        if !status.success() {
            return Err(Error::CargoFailed {
                tool,
                target: build.target.clone(),
                status: status.to_string(),
                output: Vec::from(tail).join("\n"),
            });
        }
        for output in &build.outputs {
            if !output.absolute_path.is_file() {
                return Err(Error::MissingOutput {
                    target: build.target.clone(),
                    path: output.absolute_path.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Writes a small placeholder file for every binary, for any target, without compiling.
///
/// Each placeholder is a shell script that prints `<binary> <target> (fake build)`, so tests
/// can tell which build an archive holds.
#[derive(Debug, Clone, Default)]
pub struct FakeBuilder;

impl Builder for FakeBuilder {
    fn name(&self) -> &'static str {
        "fake"
    }

    fn check_target(&self, _target: &TargetTriple) -> Result<(), Error> {
        Ok(())
    }

    fn build(&self, build: &BuildPlan, reporter: &dyn Progress) -> Result<(), Error> {
        for output in &build.outputs {
            let path = &output.absolute_path;
            let write_err = |source| Error::Write {
                path: path.clone(),
                source,
            };
            let dir = path
                .parent()
                .expect("a build output has a parent directory");
            fs_err::create_dir_all(dir).map_err(write_err)?;
            let contents = format!(
                "#!/bin/sh\necho '{} {} (fake build)'\n",
                output.binary, build.target
            );
            keel_fs::write_atomic(path, contents.as_bytes(), Some(0o755)).map_err(|err| {
                Error::Write {
                    path: path.clone(),
                    source: err.source,
                }
            })?;
            reporter.event(&Event::BuildOutput {
                target: build.target.as_str(),
                line: &format!("wrote placeholder {}", output.path),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeMap;

    fn remap() -> PathRemap {
        PathRemap {
            prefixes: vec![
                (PathBuf::from("/home/me/app"), "/build".into()),
                (PathBuf::from("/home/me/.cargo"), "/cargo".into()),
            ],
            target_tables_in_config: false,
        }
    }

    fn linux() -> TargetTriple {
        "x86_64-unknown-linux-gnu".parse().unwrap()
    }

    fn apply(remap: &PathRemap, target: &TargetTriple, user: &[(&str, &str)]) -> Applied {
        let user: BTreeMap<String, String> = user
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        remap.apply(target, &|key| user.get(key).cloned())
    }

    fn env_of<'a>(applied: &'a Applied, key: &str) -> Option<&'a str> {
        applied
            .env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn without_user_flags_the_remap_goes_to_build_rustflags_and_cflags() {
        let applied = apply(&remap(), &linux(), &[]);
        assert_eq!(
            applied.config,
            [
                r#"build.rustflags=["--remap-path-prefix=/home/me/app=/build", "--remap-path-prefix=/home/me/.cargo=/cargo"]"#
            ]
        );
        let c = "-ffile-prefix-map=/home/me/app=/build -ffile-prefix-map=/home/me/.cargo=/cargo";
        assert_eq!(env_of(&applied, "CFLAGS"), Some(c));
        assert_eq!(env_of(&applied, "CXXFLAGS"), Some(c));
        assert!(env_of(&applied, "CARGO_ENCODED_RUSTFLAGS").is_none());
    }

    #[test]
    fn config_target_tables_get_the_remap_for_the_built_target() {
        let remap = PathRemap {
            target_tables_in_config: true,
            ..remap()
        };
        let applied = apply(&remap, &linux(), &[]);
        assert!(
            applied.config[0].starts_with("target.x86_64-unknown-linux-gnu.rustflags=["),
            "{:?}",
            applied.config
        );
    }

    #[test]
    fn rustflags_from_the_environment_are_kept_and_extended() {
        let applied = apply(
            &remap(),
            &linux(),
            &[("RUSTFLAGS", "-C target-cpu=native  --cfg mine")],
        );
        assert_eq!(
            env_of(&applied, "CARGO_ENCODED_RUSTFLAGS"),
            Some(
                "-C\u{1f}target-cpu=native\u{1f}--cfg\u{1f}mine\u{1f}--remap-path-prefix=/home/me/app=/build\u{1f}--remap-path-prefix=/home/me/.cargo=/cargo"
            )
        );
        assert_eq!(applied.env_remove, ["RUSTFLAGS"]);
        assert!(applied.config.is_empty());
        // CARGO_ENCODED_RUSTFLAGS wins over RUSTFLAGS, as in cargo, and keeps its spaces.
        let applied = apply(
            &remap(),
            &linux(),
            &[
                ("CARGO_ENCODED_RUSTFLAGS", "--cfg\u{1f}a b"),
                ("RUSTFLAGS", "--cfg ignored"),
            ],
        );
        let encoded = env_of(&applied, "CARGO_ENCODED_RUSTFLAGS").unwrap();
        assert!(
            encoded.starts_with("--cfg\u{1f}a b\u{1f}--remap-path-prefix="),
            "{encoded}"
        );
        assert!(!encoded.contains("ignored"));
    }

    #[test]
    fn every_cflags_variable_the_user_set_keeps_its_value_and_gains_the_remap() {
        let applied = apply(
            &remap(),
            &linux(),
            &[
                ("CFLAGS_x86_64_unknown_linux_gnu", "-O1"),
                ("CFLAGS", "-g"),
                ("CXXFLAGS", "-std=c++17"),
            ],
        );
        let c = "-ffile-prefix-map=/home/me/app=/build -ffile-prefix-map=/home/me/.cargo=/cargo";
        assert_eq!(
            env_of(&applied, "CFLAGS_x86_64_unknown_linux_gnu"),
            Some(format!("-O1 {c}").as_str())
        );
        assert_eq!(env_of(&applied, "CFLAGS"), Some(format!("-g {c}").as_str()));
        assert_eq!(
            env_of(&applied, "CXXFLAGS"),
            Some(format!("-std=c++17 {c}").as_str())
        );
    }

    #[test]
    fn msvc_compilers_get_no_prefix_map() {
        let windows: TargetTriple = "x86_64-pc-windows-msvc".parse().unwrap();
        let applied = apply(&remap(), &windows, &[]);
        assert!(env_of(&applied, "CFLAGS").is_none());
        assert_eq!(applied.config.len(), 1);
    }

    #[test]
    fn nothing_to_remap_adds_nothing() {
        let applied = apply(
            &PathRemap::default(),
            &linux(),
            &[("RUSTFLAGS", "-Copt-level=1")],
        );
        assert_eq!(applied, Applied::default());
    }

    #[test]
    fn host_toolchain_is_detected_and_its_target_installed() {
        let dir = tempfile::tempdir().unwrap();
        let toolchain = Toolchain::detect(dir.path()).unwrap();
        assert!(
            toolchain.version.starts_with("rustc "),
            "{}",
            toolchain.version
        );
        toolchain.check_target(&toolchain.host).unwrap();
    }

    #[test]
    fn unknown_and_missing_targets_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let toolchain = Toolchain::detect(dir.path()).unwrap();
        assert!(matches!(
            toolchain.check_target(&"not-a-real-target".parse().unwrap()),
            Err(Error::UnknownTarget { .. })
        ));
        // This machine has only the host's standard library (and CI the same).
        let other = if toolchain.host.arch() == "x86_64" {
            "aarch64-unknown-linux-gnu"
        } else {
            "x86_64-unknown-linux-gnu"
        };
        assert!(matches!(
            toolchain.check_target(&other.parse().unwrap()),
            Err(Error::TargetNotInstalled { .. })
        ));
    }
}
