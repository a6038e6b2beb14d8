//! The CI pipeline at the command line: `keel ci init/check/matrix`, the generated workflow's
//! own commands run here for five targets, and what the builds need to be fit for CI: the
//! glibc floor, zigbuild, cross, and binaries that do not depend on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use keel_test::{TestWorkspace, require_tool, run_command, run_ok, snapshot_dir};

use crate::{keel_bin, ledger_workspace, release_ledger, single};

/// The host: what keel builds for by default.
const HOST: &str = keel_schema::HOST_TARGET;

/// Four other platforms, with the host making five.
fn five_targets() -> Vec<String> {
    let mut targets: Vec<String> = keel_ci::DEFAULT_TARGETS
        .iter()
        .map(|t| t.to_string())
        .filter(|t| t != HOST)
        .take(4)
        .collect();
    targets.push(HOST.to_owned());
    targets.sort();
    targets
}

/// A workspace whose CI builds five targets: the host with cargo, the others with the fake
/// builder (this machine has only the host's standard library).
fn ci_workspace() -> TestWorkspace {
    let ws = single("shipit", "1.3.0");
    let targets = five_targets();
    let builders: Vec<String> = targets
        .iter()
        .filter(|t| *t != HOST)
        .map(|t| format!("\"{t}\" = \"fake\""))
        .collect();
    ws.write(
        "Cargo.toml",
        &format!(
            "{}\n[workspace.metadata.keel]\nbuilders = {{ {} }}\n\n[workspace.metadata.keel.ci]\ntargets = [{}]\nsmoke = [\"cargo run --locked -- --help\"]\n",
            ws.read("Cargo.toml"),
            builders.join(", "),
            targets
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    ws.commit("ci settings");
    ws
}

/// The `run:` of the step named `name` in a workflow (one line, or a `|` block).
fn step_run(workflow: &str, name: &str) -> String {
    let at = workflow
        .find(&format!("- name: {name}\n"))
        .unwrap_or_else(|| panic!("no step `{name}`"));
    let rest = &workflow[at..];
    let run = rest.find("run: ").unwrap() + "run: ".len();
    let line = rest[run..].lines().next().unwrap();
    if line != "|" {
        return line.to_owned();
    }
    rest[run..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("          "))
        .map(|l| l.trim_start())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A folder with `keel` in it, to put first on `PATH` as the workflow's install step does.
fn keel_on_path(dir: &Path) -> String {
    let bin = dir.join("keel-bin");
    fs_err::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(keel_bin(), bin.join("keel")).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a workflow step's script with bash in `dir`, as a runner would.
fn run_step(script: &str, dir: &Path, path: &str, env: &[(&str, &str)]) {
    let mut command = Command::new(require_tool("bash"));
    command
        .args(["-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path);
    for key in [
        "SOURCE_DATE_EPOCH",
        "KEEL_BUILDER",
        "CARGO_TARGET_DIR",
        "GITHUB_REF_NAME",
    ] {
        command.env_remove(key);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let result = run_command(&mut command);
    assert_eq!(
        result.code, 0,
        "{script}\n{}\n{}",
        result.stdout, result.stderr
    );
}

#[test]
fn the_workflows_own_commands_give_one_release_identical_to_a_single_machines() {
    let ws = ci_workspace();
    ws.run(&["ci", "init"]).success();
    let workflow = ws.read(".github/workflows/release.yml");
    let build = step_run(&workflow, "Build and package");
    let merge = step_run(&workflow, "Merge and sign");
    let verify = step_run(&workflow, "Verify");
    assert_eq!(
        build,
        "keel release --target \"$TARGET\" --out \"partial-$TARGET\""
    );

    let runners = tempfile::tempdir().unwrap();
    let path = keel_on_path(runners.path());
    let partials = runners.path().join("release/partials");
    fs_err::create_dir_all(&partials).unwrap();
    let matrix = ws.run(&["ci", "matrix", "--format", "json"]).success();
    let matrix: serde_json::Value = serde_json::from_str(&matrix.stdout).unwrap();
    let entries = matrix["include"].as_array().unwrap();
    assert_eq!(entries.len(), 5, "{matrix}");
    for entry in entries {
        let target = entry["target"].as_str().unwrap();
        // Each build job has a checkout of its own.
        let checkout = runners.path().join(format!("runner-{target}"));
        run_ok(
            Command::new(require_tool("git"))
                .args(["clone", "-q"])
                .arg(ws.root())
                .arg(&checkout),
        );
        run_step(&build, &checkout, &path, &[("TARGET", target)]);
        // What upload-artifact and download-artifact carry from the build to the release job.
        fs_err::rename(
            checkout.join(format!("partial-{target}")),
            partials.join(format!("partial-{target}")),
        )
        .unwrap();
    }
    run_step(&merge, &runners.path().join("release"), &path, &[]);
    run_step(&verify, &runners.path().join("release"), &path, &[]);

    let mut single_machine = vec!["release", "--quiet", "--out", "single"];
    let targets = five_targets();
    for target in &targets {
        single_machine.extend(["--target", target.as_str()]);
    }
    ws.run(&single_machine).success();
    let merged = snapshot_dir(&runners.path().join("release/dist"));
    assert!(!merged.is_empty());
    assert!(
        merged == snapshot_dir(&ws.path("single")),
        "the release merged from five runners differs from one machine's"
    );
}

#[test]
fn ci_check_shows_the_drift_and_init_fixes_it() {
    let ws = ci_workspace();
    let missing = ws.run(&["ci", "check"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
    ws.run(&["ci", "init"]).success();
    ws.run(&["ci", "check"]).success();
    // A new smoke command: the file is out of date.
    ws.write(
        "Cargo.toml",
        &ws.read("Cargo.toml")
            .replace("smoke = [", "smoke = [\"shipit --version\", "),
    );
    let drift = ws.run(&["ci", "check"]);
    assert_eq!(drift.code, 1);
    assert!(
        drift.stdout.contains("+          shipit --version"),
        "{}",
        drift.stdout
    );
    // A unified diff: which file, and where in it.
    assert!(
        drift
            .stdout
            .starts_with("--- .github/workflows/release.yml\n+++ what `keel ci init` writes\n@@ -"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stderr.contains("hint: run `keel ci init`"),
        "{}",
        drift.stderr
    );
    let again = ws.run(&["ci", "init"]).success();
    assert!(
        again
            .stdout
            .starts_with("Wrote .github/workflows/release.yml")
    );
    ws.run(&["ci", "check"]).success();
    // The GitLab pipeline is checked the same way.
    ws.run(&["ci", "init", "--gitlab"]).success();
    ws.run(&["ci", "check", "--gitlab"]).success();
    assert!(ws.path(".gitlab-ci.yml").is_file());
}

#[test]
fn a_binary_above_the_glibc_floor_fails_the_release_naming_it() {
    let ws = single("floored", "1.0.0");
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml") + "\n[workspace.metadata.keel]\nglibc-floor = \"2.2\"\n"),
    );
    ws.commit("floor");
    let result = ws.run(&["release", "--out", "dist"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains("floored needs glibc 2."),
        "{}",
        result.stderr
    );
    assert!(result.stderr.contains("@GLIBC_2."), "{}", result.stderr);
    assert!(
        result.stderr.contains("newer than the glibc-floor 2.2"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("hint: build that target with `--builder zigbuild`"),
        "{}",
        result.stderr
    );
    assert!(!ws.path("dist").exists());
    let bad = single("badfloor", "1.0.0");
    bad.write(
        "Cargo.toml",
        &(bad.read("Cargo.toml") + "\n[workspace.metadata.keel]\nglibc-floor = \"old\"\n"),
    );
    let result = bad.run(&["plan"]);
    assert_eq!(result.code, 1);
    assert!(
        result.stderr.contains("not a glibc version"),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("hint: write `glibc-floor` as"),
        "{}",
        result.stderr
    );
}

#[test]
fn cross_without_its_tools_says_what_is_missing() {
    let ws = single("crossed", "1.0.0");
    // `cross` is not installed on the machines the tests run on (a container engine neither).
    let result = ws.run(&["release", "--builder", "cross", "--out", "dist"]);
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result
            .stderr
            .starts_with("error: the cross builder needs cross, which is not installed"),
        "{}",
        result.stderr
    );
    assert!(
        result
            .stderr
            .contains("hint: install it with `cargo install cross"),
        "{}",
        result.stderr
    );
    assert!(!ws.path("dist").exists());
}

/// A program that prints the flags its build saw: the cfgs set and, through its build script,
/// the rustflags cargo resolved and the `CFLAGS` a C compiler would get.
fn flag_printer(config: Option<&str>) -> TestWorkspace {
    let ws = single("flagged", "1.0.0");
    ws.write(
        "build.rs",
        "fn main() {\n    let seen = |k: &str| std::env::var(k).unwrap_or_default().replace('\\u{1f}', \" \");\n    println!(\"cargo:rustc-env=SEEN_RUSTFLAGS={}\", seen(\"CARGO_ENCODED_RUSTFLAGS\"));\n    println!(\"cargo:rustc-env=SEEN_CFLAGS={}\", seen(\"CFLAGS\"));\n}\n",
    );
    ws.write(
        "src/main.rs",
        "fn main() {\n    #[cfg(from_config)]\n    println!(\"cfg from_config\");\n    #[cfg(from_env)]\n    println!(\"cfg from_env\");\n    println!(\"rustflags: {}\", env!(\"SEEN_RUSTFLAGS\"));\n    println!(\"cflags: {}\", env!(\"SEEN_CFLAGS\"));\n}\n",
    );
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml")
            + "\n[lints.rust]\nunexpected_cfgs = { level = \"warn\", check-cfg = ['cfg(from_config)', 'cfg(from_env)'] }\n"),
    );
    if let Some(config) = config {
        ws.write(".cargo/config.toml", config);
    }
    ws.commit("flags");
    ws
}

/// Releases `ws` with extra environment variables and runs the binary built.
fn release_and_run(ws: &TestWorkspace, env: &[(&str, &str)]) -> String {
    let mut command = ws.keel(["release", "--quiet", "--out", "dist"]);
    for key in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CFLAGS",
        "CXXFLAGS",
        "HOST_CFLAGS",
        "TARGET_CFLAGS",
    ] {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    let result = run_command(&mut command);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let out = run_ok(&mut Command::new(
        ws.path(&format!("target/{HOST}/dist/flagged")),
    ));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_users_own_rustflags_and_cflags_are_kept_beside_the_remap() {
    let remap = |ws: &TestWorkspace| {
        let root = fs_err::canonicalize(ws.root()).unwrap();
        format!("--remap-path-prefix={}=/build", root.display())
    };
    let file_map = |ws: &TestWorkspace| {
        let root = fs_err::canonicalize(ws.root()).unwrap();
        format!("-ffile-prefix-map={}=/build", root.display())
    };
    // build.rustflags in the user's cargo config.
    let ws = flag_printer(Some("[build]\nrustflags = [\"--cfg\", \"from_config\"]\n"));
    let printed = release_and_run(&ws, &[]);
    assert!(printed.contains("cfg from_config\n"), "{printed}");
    assert!(printed.contains(&remap(&ws)), "{printed}");
    assert!(
        printed.contains(&format!("cflags: {}", file_map(&ws))),
        "{printed}"
    );
    // target.<triple>.rustflags, which cargo prefers to build.rustflags.
    let ws = flag_printer(Some(&format!(
        "[target.{HOST}]\nrustflags = [\"--cfg\", \"from_config\"]\n"
    )));
    let printed = release_and_run(&ws, &[]);
    assert!(printed.contains("cfg from_config\n"), "{printed}");
    assert!(printed.contains(&remap(&ws)), "{printed}");
    // RUSTFLAGS and CFLAGS in the environment; cargo then ignores the config's rustflags.
    let ws = flag_printer(Some("[build]\nrustflags = [\"--cfg\", \"from_config\"]\n"));
    let printed = release_and_run(
        &ws,
        &[("RUSTFLAGS", "--cfg from_env"), ("CFLAGS", "-DFROM_USER")],
    );
    assert!(printed.contains("cfg from_env\n"), "{printed}");
    assert!(!printed.contains("cfg from_config"), "{printed}");
    assert!(
        printed.contains(&format!("rustflags: --cfg from_env {}", remap(&ws))),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("cflags: -DFROM_USER {}", file_map(&ws))),
        "{printed}"
    );
}

/// The newest `GLIBC_x.y` in `objdump -T`'s listing: an independent reading of a binary's needs.
fn objdump_glibc(binary: &Path) -> String {
    let out = run_ok(Command::new(require_tool("objdump")).arg("-T").arg(binary));
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut versions: Vec<Vec<u32>> = listing
        .split_whitespace()
        .filter_map(|word| {
            word.trim_start_matches('(')
                .trim_end_matches(')')
                .strip_prefix("GLIBC_")
        })
        .filter_map(|v| v.split('.').map(|p| p.parse().ok()).collect())
        .collect();
    versions.sort();
    let newest = versions.last().expect("a gnu binary needs glibc");
    newest
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn zigbuild_builds_the_example_for_glibc_2_17_and_records_what_it_needs() {
    require_tool("cargo-zigbuild");
    let ws = ledger_workspace();
    ws.write(
        "Cargo.toml",
        &ws.read("Cargo.toml").replace(
            "[workspace.metadata.keel]\n",
            &format!(
                "[workspace.metadata.keel]\nglibc-floor = \"2.17\"\nbuilders = {{ \"{HOST}\" = \"zigbuild\" }}\n"
            ),
        ),
    );
    ws.commit("zigbuild");
    release_ledger(&ws, &["--quiet", "--out", "dist"]).success();
    let manifest: serde_json::Value =
        serde_json::from_str(&ws.read("dist/keel-manifest.json")).unwrap();
    assert_eq!(manifest["targets"][HOST]["builder"], "zigbuild");
    let archive = &manifest["artifacts"][format!("ledger-1.0.0-{HOST}.tar.gz")];
    let recorded = archive["glibc"].as_str().unwrap().to_owned();
    let need: Vec<u32> = recorded.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(need <= vec![2, 17], "the build needs glibc {recorded}");
    // The binary keel packaged needs exactly what the manifest says, read independently.
    let unpacked = tempfile::tempdir().unwrap();
    run_ok(
        Command::new(require_tool("tar"))
            .arg("-xzf")
            .arg(ws.path(&format!("dist/ledger-1.0.0-{HOST}.tar.gz")))
            .arg("-C")
            .arg(unpacked.path()),
    );
    let binary = unpacked.path().join(format!("ledger-1.0.0-{HOST}/ledger"));
    assert_eq!(objdump_glibc(&binary), recorded);
    run_ok(Command::new(&binary).arg("--version"));
    // The installer picks the archive by that floor.
    let installer = ws.read("dist/ledger-installer.sh");
    assert!(
        installer.contains(&format!(
            "ledger-1.0.0-{HOST}.tar.gz {} ",
            archive["sha256"].as_str().unwrap()
        )),
        "{installer}"
    );
    assert!(
        installer.contains(&format!(" tar.gz {recorded} ")),
        "the floor is not in the installer"
    );
}

/// Every file below `dir` whose contents mention `needle`.
fn files_mentioning(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (path, contents) in snapshot_dir(dir) {
        if contents
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
        {
            found.push(dir.join(path));
        }
    }
    found
}

#[test]
fn two_machines_with_different_paths_build_identical_archives() {
    // The same commit in two places, built with different HOMEs and CARGO_HOMEs.
    let first = ledger_workspace();
    let second_dir = tempfile::Builder::new()
        .prefix("keel-elsewhere-")
        .tempdir()
        .unwrap();
    let second = second_dir.path().join("a/deeper/checkout");
    run_ok(
        Command::new(require_tool("git"))
            .args(["clone", "-q"])
            .arg(first.root())
            .arg(&second),
    );
    let real_home = PathBuf::from(std::env::var_os("HOME").unwrap());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".rustup"));
    let other_home = second_dir.path().join("home");
    let other_cargo_home = second_dir.path().join("cargo-home");
    fs_err::create_dir_all(&other_home).unwrap();
    fs_err::create_dir_all(&other_cargo_home).unwrap();
    // The same downloaded crates, seen through another CARGO_HOME path.
    std::os::unix::fs::symlink(
        cargo_home.join("registry"),
        other_cargo_home.join("registry"),
    )
    .unwrap();

    let release = |root: &Path, home: &Path, cargo_home: &Path| {
        let mut command = Command::new(keel_bin());
        command
            .args(["release", "--quiet", "--out", "dist"])
            .current_dir(root)
            .env("HOME", home)
            .env("CARGO_HOME", cargo_home)
            .env("RUSTUP_HOME", &rustup_home)
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        let result = run_command(&mut command);
        assert_eq!(result.code, 0, "{}", result.stderr);
    };
    // Every crate the lockfile names, for every platform, is fetched first: the two builds then
    // run offline, from the same downloaded sources seen through two CARGO_HOME paths.
    run_ok(Command::new("cargo").arg("fetch").current_dir(first.root()));
    release(first.root(), &real_home, &cargo_home);
    release(&second, &other_home, &other_cargo_home);

    let archive = format!("ledger-1.0.0-{HOST}.tar.gz");
    let digest = |dist: PathBuf| {
        let manifest: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(dist.join("keel-manifest.json")).unwrap())
                .unwrap();
        manifest["artifacts"][&archive]["sha256"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        digest(first.path("dist")),
        digest(second.join("dist")),
        "the archives differ"
    );
    assert!(
        fs_err::read(first.path(&format!("dist/{archive}"))).unwrap()
            == fs_err::read(second.join(format!("dist/{archive}"))).unwrap(),
        "the archives differ from what their manifests say"
    );
    // No build path in the binaries.
    for (root, cargo_home) in [
        (first.root().to_owned(), cargo_home.clone()),
        (second.clone(), other_cargo_home.clone()),
    ] {
        let binary = root.join(format!("target/{HOST}/dist/ledger"));
        let strings = run_ok(Command::new(require_tool("strings")).arg(&binary));
        let text = String::from_utf8_lossy(&strings.stdout);
        // The example's path dependencies live in this checkout, outside its workspace.
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let checkout = fs_err::canonicalize(checkout).unwrap();
        for path in [&root, &cargo_home, &checkout] {
            let path = path.display().to_string();
            assert!(
                !text.contains(&path),
                "{} holds the build path {path}",
                binary.display()
            );
        }
        assert!(
            files_mentioning(&root.join("dist"), &root.display().to_string()).is_empty(),
            "a release file holds the build path"
        );
    }
}
