//! keel-release as a library: a release made, verified, tampered with and merged, without the
//! `keel` binary. The workspaces are real (cargo metadata, git); the builder is the fake one.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::path::Path;

use keel_release::{
    BuilderKind, Error, Project, ReleaseEnv, ReleaseOptions, Released, Silent, Status, Verification,
};
use keel_schema::{ArtifactKind, TargetTriple};
use keel_sign::SigningKey;
use keel_test::TestWorkspace;

/// A one-binary workspace; the binary path is never run.
fn workspace() -> TestWorkspace {
    TestWorkspace::single_binary("keel-not-run", "lib-demo", "1.2.0")
}

fn env() -> ReleaseEnv {
    ReleaseEnv::default()
}

fn release(ws: &TestWorkspace, out: &str, targets: &[&str], key: Option<&SigningKey>) -> Released {
    let project = Project::load(None, ws.root()).unwrap();
    let targets: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
    let plan = project
        .plan(&targets, None, key.is_some(), Some(BuilderKind::Fake))
        .unwrap();
    let env = env();
    let options = ReleaseOptions { key, env: &env };
    keel_release::release(&project, &plan, &ws.path(out), &options, &Silent).unwrap()
}

fn failed(report: &Verification) -> Vec<(String, &'static str)> {
    report
        .checks
        .iter()
        .filter(|c| c.status == Status::Failed)
        .map(|c| (c.file.clone(), c.check))
        .collect()
}

#[test]
fn a_signed_release_verifies_and_each_kind_of_tampering_is_named() {
    let ws = workspace();
    let key = SigningKey::generate().unwrap();
    let host = TargetTriple::host();
    let released = release(&ws, "dist", &[host.as_str()], Some(&key));
    let dir = &released.dir;
    let public = key.public_key();

    let report = keel_release::verify(dir, Some(&public)).unwrap();
    assert!(report.passed(), "{:?}", failed(&report));
    assert_eq!(report.skipped(), 0);
    // Every artifact, the manifest's signature, each checksum file, SBOM and the provenance.
    assert!(report.checks.len() >= released.manifest.artifacts.len() + 6);

    // Without a key, signatures are skipped, never passed.
    let unkeyed = keel_release::verify(dir, None).unwrap();
    assert!(unkeyed.passed() && unkeyed.skipped() >= 3 && !unkeyed.key_given);

    // An SBOM that describes another target.
    let sbom = format!("lib-demo-1.2.0-{host}.cdx.json");
    let text = fs_err::read_to_string(dir.join(&sbom)).unwrap();
    fs_err::write(
        dir.join(&sbom),
        text.replace(host.as_str(), "sparc64-unknown-linux-gnu"),
    )
    .unwrap();
    let report = keel_release::verify(dir, Some(&public)).unwrap();
    let failures = failed(&report);
    assert!(failures.contains(&(sbom.clone(), "sbom")), "{failures:?}");
    assert!(
        failures.contains(&(sbom.clone(), "size and sha256")),
        "{failures:?}"
    );
    fs_err::write(dir.join(&sbom), text).unwrap();

    // A file nobody listed.
    fs_err::write(dir.join("extra.txt"), "x").unwrap();
    let report = keel_release::verify(dir, Some(&public)).unwrap();
    assert_eq!(failed(&report), [("extra.txt".to_owned(), "listed")]);
    fs_err::remove_file(dir.join("extra.txt")).unwrap();

    // Another key.
    let other = SigningKey::generate().unwrap().public_key();
    let report = keel_release::verify(dir, Some(&other)).unwrap();
    let failures = failed(&report);
    for expected in [
        ("keel-manifest.json.minisig".to_owned(), "signature"),
        ("SHA256SUMS.minisig".to_owned(), "signature"),
        (
            "keel-provenance.intoto.jsonl".to_owned(),
            "provenance signature",
        ),
    ] {
        assert!(failures.contains(&expected), "{expected:?} in {failures:?}");
    }
}

#[test]
fn a_folder_without_a_manifest_is_not_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let err = keel_release::verify(dir.path(), None).unwrap_err();
    assert!(matches!(err, Error::NotARelease { .. }), "{err}");
}

#[test]
fn merged_partials_equal_one_release_of_every_target() {
    let ws = workspace();
    let targets = ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin"];
    let whole = release(&ws, "whole", &targets, None);
    release(&ws, "linux", &targets[..1], None);
    release(&ws, "mac", &targets[1..], None);
    let merged = keel_release::merge(
        &[ws.path("mac"), ws.path("linux")],
        &ws.path("merged"),
        None,
        &env(),
    )
    .unwrap();
    assert_eq!(merged.manifest, whole.manifest);
    assert!(
        keel_test::snapshot_dir(&ws.path("merged")) == keel_test::snapshot_dir(&ws.path("whole"))
    );

    // One partial twice is refused, and the output folder is not created.
    let err = keel_release::merge(
        &[ws.path("linux"), ws.path("linux")],
        &ws.path("twice"),
        None,
        &env(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Merge { .. }), "{err}");
    assert!(!ws.path("twice").exists());
}

#[test]
fn a_partial_whose_file_changed_is_refused_before_anything_is_written() {
    let ws = workspace();
    let host = TargetTriple::host();
    let released = release(&ws, "dist", &[host.as_str()], None);
    let archive = released
        .manifest
        .artifacts
        .iter()
        .find(|(_, a)| a.kind == ArtifactKind::Archive)
        .map(|(name, _)| name.clone())
        .unwrap();
    fs_err::write(released.dir.join(&archive), "not the archive").unwrap();
    let err = keel_release::read_partial(&released.dir).unwrap_err();
    assert!(matches!(err, Error::PartialMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("does not match its manifest"),
        "{err}"
    );
}

#[test]
fn a_bad_source_date_epoch_and_a_foreign_output_folder_are_refused() {
    let ws = workspace();
    let project = Project::load(None, ws.root()).unwrap();
    let env = ReleaseEnv {
        source_date_epoch: Some("yesterday".into()),
        ..Default::default()
    };
    assert!(matches!(
        project.source_date_epoch(&env),
        Err(Error::BadSourceDateEpoch { .. })
    ));
    ws.write("precious/notes.txt", "mine\n");
    let plan = project
        .plan(&[], None, false, Some(BuilderKind::Fake))
        .unwrap();
    let options = ReleaseOptions {
        key: None,
        env: &ReleaseEnv::default(),
    };
    let err = keel_release::release(&project, &plan, &ws.path("precious"), &options, &Silent)
        .unwrap_err();
    assert!(matches!(err, Error::OutputNotARelease { .. }), "{err}");
    assert_eq!(ws.read("precious/notes.txt"), "mine\n");
    assert!(!Path::new(&ws.path("precious/keel-manifest.json")).exists());
}

#[test]
fn publishing_goes_through_the_rehearsal_gate_and_a_waiver_needs_a_reason() {
    use keel_release::publish::{Destination, Publish, Published};
    let ws = workspace();
    // The app keeps a database: its update must be rehearsed before it is published.
    ws.write(
        "Cargo.toml",
        &(ws.read("Cargo.toml")
            + "\n[package.metadata.keel.update]\nmigrate = [\"--db\", \"{db}\", \"migrate\"]\n"),
    );
    ws.commit("hooks");
    let key = SigningKey::generate().unwrap();
    let host = TargetTriple::host();
    let released = release(&ws, "dist", &[host.as_str()], Some(&key));
    let store = ws.path("store");
    let publish = |no_rehearsal| {
        let request = Publish {
            dir: &released.dir,
            destination: Destination::Store {
                path: &store,
                key: &key,
                root_key: None,
                options: keel_store::PublishOptions {
                    channel: "stable",
                    expiry: keel_store::Expiry::default(),
                    patch_versions: 0,
                },
                now: jiff::Timestamp::now(),
            },
            no_rehearsal,
            no_images: true,
            insecure: false,
        };
        keel_release::publish::publish(&request, &keel_schema::progress::Silent)
    };
    match publish(None) {
        Err(Error::NotRehearsed { problems, .. }) => {
            assert!(
                problems.iter().any(|p| p.contains("lib-demo")),
                "{problems:?}"
            );
        }
        other => panic!("expected NotRehearsed, got {other:?}"),
    }
    assert!(!store.exists(), "a refused publish wrote the store");
    assert!(matches!(publish(Some("  ")), Err(Error::EmptyWaiver)));
    assert!(!store.exists(), "a refused publish wrote the store");

    let Published::Store(done) = publish(Some(" first release ")).unwrap() else {
        panic!("published somewhere else than the store");
    };
    assert_eq!(done.no_rehearsal.as_deref(), Some("first release"));
    assert!(done.published.created_root);
    assert_eq!(
        done.published.targets,
        [format!("lib-demo-1.2.0-{host}.tar.gz")]
    );
    assert!(store.join("metadata/timestamp.json").is_file());
    // The outcome is `keel publish --format json`'s output: the store's fields flattened.
    let json = serde_json::to_value(Published::Store(done)).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "created_root",
            "images",
            "no_rehearsal",
            "patches",
            "store",
            "targets",
            "version"
        ]
    );
}

#[test]
fn a_release_folder_is_read_once_and_checked_on_request() {
    let ws = workspace();
    let host = TargetTriple::host();
    let released = release(&ws, "dist", &[host.as_str()], None);
    let folder = keel_release::ReleaseFolder::open(&released.dir).unwrap();
    assert_eq!(folder.manifest(), &released.manifest);
    assert_eq!(folder.dir(), released.dir.as_path());
    let archive = format!("lib-demo-1.2.0-{host}.tar.gz");
    assert!(folder.path(&archive).is_file());
    keel_release::ReleaseFolder::open_checked(&released.dir).unwrap();
    // A file changed after the release: opening still reads the manifest; checking names it.
    let mut bytes = fs_err::read(folder.path(&archive)).unwrap();
    bytes[0] ^= 1;
    fs_err::write(folder.path(&archive), bytes).unwrap();
    keel_release::ReleaseFolder::open(&released.dir).unwrap();
    match keel_release::ReleaseFolder::open_checked(&released.dir) {
        Err(Error::PartialMismatch { path, .. }) => assert!(path.ends_with(&archive), "{path:?}"),
        other => panic!("expected PartialMismatch, got {other:?}"),
    }
    // A folder without a manifest is no release.
    assert!(matches!(
        keel_release::ReleaseFolder::open(&ws.path("nowhere")),
        Err(Error::NotARelease { .. })
    ));
}
