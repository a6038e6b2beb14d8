//! keel stores read by python's reference TUF client (`tuf.ngclient`), over nginx.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

mod concurrent;
#[cfg(feature = "crash-points")]
mod crash;
mod updater;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use keel_schema::receipt::UpdateHooks;
use keel_schema::{App, Artifact, ArtifactKind, Manifest, Source};
use keel_sign::SigningKey;
use keel_store::{Expiry, publish, refresh};
use keel_test::{Nginx, RunResult, require_tool, run_command};

pub(crate) const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// A release folder holding one archive of `app` at `version`.
pub(crate) fn release(parent: &Path, app: &str, version: &str) -> PathBuf {
    let dir = parent.join(format!("release-{version}"));
    fs_err::create_dir_all(&dir).unwrap();
    let name = format!("{app}-{version}-{TRIPLE}.tar.gz");
    let binary = format!("{app}-{version}-{TRIPLE}/{app}");
    let program = format!("binary of {app} {version}\n").repeat(100);
    // The same release may be made twice; the archive is made again, identical.
    let _ = fs_err::remove_file(dir.join(&name));
    keel_archive::write_archive(
        keel_schema::ArchiveFormat::TarGz,
        &[keel_archive::Entry::bytes(
            &binary,
            program.into_bytes(),
            true,
        )],
        0,
        &dir.join(&name),
    )
    .unwrap();
    let contents = fs_err::read(dir.join(&name)).unwrap();
    let manifest = Manifest {
        schema_version: keel_schema::MANIFEST_SCHEMA_VERSION,
        tag: Some(format!("v{version}")),
        version: Some(version.into()),
        prerelease: false,
        source: Source {
            commit: Some("abc123".into()),
            dirty: false,
            source_date_epoch: 0,
        },
        apps: BTreeMap::from([(
            app.to_owned(),
            App {
                package: app.into(),
                version: version.into(),
                binaries: vec![app.into()],
                description: None,
                license: None,
                repository: None,
                homepage: None,
                update: Some(UpdateHooks {
                    migrate: Some(vec!["--db".into(), "{db}".into(), "migrate".into()]),
                    check: None,
                }),
                image: None,
                rehearse: None,
            },
        )]),
        targets: BTreeMap::new(),
        artifacts: BTreeMap::from([(
            name,
            Artifact {
                kind: ArtifactKind::Archive,
                app: Some(app.into()),
                target: Some(TRIPLE.parse().unwrap()),
                size: contents.len() as u64,
                sha256: keel_verify::sha256_bytes(&contents).to_hex(),
                format: Some(keel_schema::ArchiveFormat::TarGz),
                executables: vec![binary],
                glibc: None,
                checksum_of: None,
                signature_of: None,
                image_digest: None,
                platforms: Vec::new(),
            },
        )]),
        distribution: keel_schema::Distribution::default(),
    };
    fs_err::write(dir.join("keel-manifest.json"), manifest.to_json()).unwrap();
    dir
}

/// Publishes `version` of `app` (a release folder made in `parent`) to `store` on `stable`,
/// with the default expiry.
pub(crate) fn publish_app(
    store: &Path,
    parent: &Path,
    app: &str,
    version: &str,
    key: &SigningKey,
    now: jiff::Timestamp,
) -> keel_store::Published {
    publish(
        store,
        &release(parent, app, version),
        key,
        None,
        "stable",
        &Expiry::default(),
        now,
    )
    .unwrap()
}

const CLIENT: &str = r#"
import json, os, sys
try:
    from tuf.ngclient import Updater
except ImportError:
    sys.exit("the python package tuf is not installed; run scripts/test.sh")
metadata_dir, base, root, target_dir, name = sys.argv[1:6]
os.makedirs(metadata_dir, exist_ok=True)
os.makedirs(target_dir, exist_ok=True)
# The first run trusts the given root; later runs keep what the client already trusts.
first = not os.path.exists(os.path.join(metadata_dir, "root.json"))
bootstrap = open(root, "rb").read() if first else None
updater = Updater(metadata_dir=metadata_dir, metadata_base_url=base + "/metadata/",
                  target_dir=target_dir, target_base_url=base + "/targets/", bootstrap=bootstrap)
updater.refresh()
info = updater.get_targetinfo(name)
if info is None:
    sys.exit(f"no target {name}")
path = updater.download_target(info)
timestamp = json.load(open(os.path.join(metadata_dir, "timestamp.json")))["signed"]["version"]
print(json.dumps({"path": path, "custom": info.custom, "timestamp": timestamp}))
"#;

fn reference_client(state: &Path, nginx: &Nginx, root: &Path, name: &str) -> RunResult {
    run_command(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(CLIENT)
            .arg(state.join("metadata"))
            .arg(nginx.url("").trim_end_matches('/'))
            .arg(root)
            .arg(state.join("downloads"))
            .arg(name),
    )
}

#[test]
fn the_reference_client_reads_a_keel_store_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    let published = publish_app(&store, dir.path(), "ledger", "1.0.0", &key, now);
    assert!(published.created_root);
    assert_eq!(published.version, 1);

    let nginx = Nginx::serve(&store);
    let root = store.join("metadata/1.root.json");
    let state = dir.path().join("client");
    let v1 = format!("ledger-1.0.0-{TRIPLE}.tar.gz");
    let out = reference_client(&state, &nginx, &root, &v1).success();
    let result: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let downloaded = fs_err::read(result["path"].as_str().unwrap()).unwrap();
    assert_eq!(
        downloaded,
        fs_err::read(dir.path().join(format!("release-1.0.0/{v1}"))).unwrap()
    );
    let custom = &result["custom"]["keel"];
    assert_eq!(custom["app"], "ledger");
    assert_eq!(custom["version"], "1.0.0");
    assert_eq!(custom["target"], TRIPLE);
    assert_eq!(custom["channel"], "stable");
    assert_eq!(
        custom["hooks"]["migrate"],
        serde_json::json!(["--db", "{db}", "migrate"])
    );

    // A second release: the client's next refresh sees newer metadata and both releases.
    let published = publish_app(&store, dir.path(), "ledger", "1.1.0", &key, now);
    assert!(!published.created_root);
    assert_eq!(published.version, 2);
    let v2 = format!("ledger-1.1.0-{TRIPLE}.tar.gz");
    let out = reference_client(&state, &nginx, &root, &v2).success();
    let result: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["timestamp"], 2);
    reference_client(&state, &nginx, &root, &v1).success();

    // A refresh re-signs the timestamp with a new version; releases stay.
    let refreshed = refresh(&store, &key, &Expiry::default(), now).unwrap();
    assert_eq!(refreshed.timestamp.version, 3);
    let out = reference_client(&state, &nginx, &root, &v2).success();
    let result: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["timestamp"], 3);
}

#[test]
fn expired_metadata_is_refused_by_the_reference_client_until_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let long_ago = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, long_ago);
    let nginx = Nginx::serve(&store);
    let name = format!("app-1.0.0-{TRIPLE}.tar.gz");
    let state = dir.path().join("client");
    let root = store.join("metadata/1.root.json");
    let expired = reference_client(&state, &nginx, &root, &name);
    assert_ne!(expired.code, 0, "expired timestamp accepted");
    assert!(expired.stderr.contains("xpired"), "{}", expired.stderr);
    refresh(&store, &key, &Expiry::default(), jiff::Timestamp::now()).unwrap();
    reference_client(&state, &nginx, &root, &name).success();
}

#[test]
fn another_key_or_a_tampered_release_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, now);
    let before = keel_test::snapshot_dir(&store);

    let other = SigningKey::generate().unwrap();
    let err = publish(
        &store,
        &release(dir.path(), "app", "1.1.0"),
        &other,
        None,
        "stable",
        &Expiry::default(),
        now,
    )
    .unwrap_err();
    assert!(matches!(err, keel_store::Error::WrongKey { .. }), "{err}");

    let tampered = release(dir.path(), "app", "1.2.0");
    fs_err::write(tampered.join(format!("app-1.2.0-{TRIPLE}.tar.gz")), "evil").unwrap();
    let err = publish(
        &store,
        &tampered,
        &key,
        None,
        "stable",
        &Expiry::default(),
        now,
    )
    .unwrap_err();
    assert!(matches!(err, keel_store::Error::Mismatch { .. }), "{err}");
    assert!(
        keel_test::snapshot_dir(&store) == before,
        "the store changed"
    );
    // Nor does a tampered first release create a store.
    let new_store = dir.path().join("new-store");
    let err = publish(
        &new_store,
        &tampered,
        &key,
        None,
        "stable",
        &Expiry::default(),
        now,
    )
    .unwrap_err();
    assert!(matches!(err, keel_store::Error::Mismatch { .. }), "{err}");
    assert!(!new_store.exists(), "a store was created");
}

/// A store whose metadata was changed on disk (a signed role edited, a role replaced by an
/// older or foreign one, a snapshot that no longer matches its targets) is not extended:
/// publish and refresh refuse it and write nothing.
#[test]
fn a_store_whose_metadata_was_tampered_with_is_not_extended() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, now);
    publish_app(&store, dir.path(), "app", "1.1.0", &key, now);
    let metadata = store.join("metadata");
    let honest = keel_test::snapshot_dir(&store);
    type Edit = fn(&str) -> String;
    let edits: [(&str, Edit); 3] = [
        // A target's length changed inside the signed targets role.
        ("2.targets.json", |t| {
            t.replacen("\"length\":", "\"length\":1", 1)
        }),
        // The timestamp says the snapshot has other bytes than it has.
        ("2.snapshot.json", |t| {
            t.replacen("\"version\":", "\"version\": ", 1)
        }),
        // The timestamp's signature made by no trusted key.
        ("timestamp.json", |t| {
            let at = t.find("\"sig\":\"").unwrap() + 7;
            let flipped = if &t[at..=at] == "0" { "1" } else { "0" };
            format!("{}{flipped}{}", &t[..at], &t[at + 1..])
        }),
    ];
    for (file, edit) in edits {
        let path = metadata.join(file);
        let text = fs_err::read_to_string(&path).unwrap();
        let changed = edit(&text);
        assert_ne!(changed, text, "{file}: the edit changed nothing");
        fs_err::write(&path, changed).unwrap();
        let before = keel_test::snapshot_dir(&store);
        let err = publish(
            &store,
            &release(dir.path(), "app", "1.2.0"),
            &key,
            None,
            "stable",
            &Expiry::default(),
            now,
        )
        .unwrap_err();
        assert!(
            matches!(err, keel_store::Error::Tuf { .. }),
            "{file}: {err}"
        );
        let err = refresh(&store, &key, &Expiry::default(), now).unwrap_err();
        assert!(
            matches!(err, keel_store::Error::Tuf { .. }),
            "{file}: {err}"
        );
        assert!(
            keel_test::snapshot_dir(&store) == before,
            "{file}: the store changed"
        );
        fs_err::write(&path, text).unwrap();
    }
    assert!(keel_test::snapshot_dir(&store) == honest);
    // Put back as it was, the store is extended again.
    publish_app(&store, dir.path(), "app", "1.2.0", &key, now);
}

fn metadata_files(store: &Path) -> BTreeMap<String, Vec<u8>> {
    keel_test::snapshot_dir(&store.join("metadata"))
        .into_iter()
        .collect()
}

#[test]
fn a_refresh_keeps_each_role_byte_for_byte_until_half_its_lifetime_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    let expiry = Expiry::default();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, now);
    let published = metadata_files(&store);
    let nginx = Nginx::serve(&store);
    let root = store.join("metadata/1.root.json");
    let state = dir.path().join("client");
    let name = format!("app-1.0.0-{TRIPLE}.tar.gz");
    reference_client(&state, &nginx, &root, &name).success();
    let days = |n: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(24 * n))
            .unwrap()
    };

    // Nothing changed and nothing is due: only the timestamp is signed anew.
    let refreshed = refresh(&store, &key, &expiry, now).unwrap();
    assert_eq!(refreshed.timestamp.version, 2);
    assert!(refreshed.timestamp.renewed);
    assert_eq!(
        (refreshed.snapshot.version, refreshed.snapshot.renewed),
        (1, false)
    );
    assert_eq!(
        (refreshed.targets.version, refreshed.targets.renewed),
        (1, false)
    );
    let after = metadata_files(&store);
    let changed: Vec<&String> = after
        .keys()
        .filter(|name| published.get(*name) != after.get(*name))
        .collect();
    assert_eq!(changed, ["timestamp.json"]);
    let out = reference_client(&state, &nginx, &root, &name).success();
    assert!(out.stdout.contains("\"timestamp\": 2"), "{}", out.stdout);

    // 20 days on, the 30-day snapshot is past half its lifetime; the 90-day targets are not.
    let refreshed = refresh(&store, &key, &expiry, days(20)).unwrap();
    assert_eq!(
        (refreshed.snapshot.version, refreshed.snapshot.renewed),
        (3, true)
    );
    assert_eq!(
        (refreshed.targets.version, refreshed.targets.renewed),
        (1, false)
    );
    assert_eq!(refreshed.snapshot.expires.as_second(), days(50).as_second());
    assert_eq!(
        fs_err::read(store.join("metadata/1.targets.json")).unwrap(),
        published["1.targets.json"]
    );
    assert!(!store.join("metadata/3.targets.json").exists());
    reference_client(&state, &nginx, &root, &name).success();

    // 50 days on, the targets are re-signed too, and the release is still there.
    let refreshed = refresh(&store, &key, &expiry, days(50)).unwrap();
    assert_eq!(
        (refreshed.targets.version, refreshed.targets.renewed),
        (4, true)
    );
    assert!(store.join("metadata/4.targets.json").exists());
    let out = reference_client(&state, &nginx, &root, &name).success();
    assert!(out.stdout.contains("\"timestamp\": 4"), "{}", out.stdout);
}

#[test]
fn a_separate_root_key_holds_the_root_role() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let root_key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    publish(
        &store,
        &release(dir.path(), "app", "1.0.0"),
        &key,
        Some(&root_key),
        "stable",
        &Expiry::default(),
        now,
    )
    .unwrap();
    let root: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(store.join("metadata/root.json")).unwrap())
            .unwrap();
    let roles = &root["signed"]["roles"];
    assert_ne!(roles["root"]["keyids"], roles["targets"]["keyids"]);
    assert_eq!(roles["targets"]["keyids"], roles["timestamp"]["keyids"]);
    let nginx = Nginx::serve(&store);
    reference_client(
        &dir.path().join("client"),
        &nginx,
        &store.join("metadata/root.json"),
        &format!("app-1.0.0-{TRIPLE}.tar.gz"),
    )
    .success();
}

/// `path` relative to the current folder (through as many `..` as it takes).
fn relative_to_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let mut relative = PathBuf::new();
    for _ in cwd.components().skip(1) {
        relative.push("..");
    }
    relative.join(path.strip_prefix("/").unwrap())
}

#[test]
fn a_store_given_by_a_relative_path_is_refreshed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    publish_app(&store, dir.path(), "app", "1.0.0", &key, now);
    let relative = relative_to_cwd(&store);
    assert!(relative.is_relative());
    assert_eq!(
        refresh(&relative, &key, &Expiry::default(), now)
            .unwrap()
            .timestamp
            .version,
        2
    );
}

/// The executable of `app` `version` as an install holds it: unpacked from its archive.
fn binary_of(parent: &Path, app: &str, version: &str) -> Vec<u8> {
    let archive = parent.join(format!("release-{version}/{app}-{version}-{TRIPLE}.tar.gz"));
    let out = parent.join(format!("unpacked-{version}"));
    keel_archive::extract(keel_schema::ArchiveFormat::TarGz, &archive, &out, 1 << 30).unwrap();
    fs_err::read(out.join(format!("{app}-{version}-{TRIPLE}/{app}"))).unwrap()
}

#[test]
fn each_archive_gets_patches_from_the_three_latest_earlier_versions_that_zstd_applies() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    let now = jiff::Timestamp::now();
    let first = publish_app(&store, dir.path(), "ledger", "1.0.0", &key, now);
    assert!(first.patches.is_empty());
    for version in ["1.1.0", "1.2.0", "1.3.0"] {
        publish_app(&store, dir.path(), "ledger", version, &key, now);
    }
    // Another app's releases are never a base.
    publish_app(&store, dir.path(), "other", "1.3.5", &key, now);
    let published = publish_app(&store, dir.path(), "ledger", "1.4.0", &key, now);
    let v4 = format!("ledger-1.4.0-{TRIPLE}.tar.gz");
    assert_eq!(
        published.patches,
        ["1.3.0", "1.2.0", "1.1.0"]
            .map(|from| format!("{v4}.from-{from}.patch"))
            .to_vec()
    );

    // The reference client downloads a patch as a verified target; the zstd tool applies it
    // to the installed 1.2.0 executable, giving 1.4.0's tar stream.
    require_tool("zstd");
    let nginx = Nginx::serve(&store);
    let state = dir.path().join("client");
    let patch = format!("{v4}.from-1.2.0.patch");
    let out =
        reference_client(&state, &nginx, &store.join("metadata/1.root.json"), &patch).success();
    let result: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let described = &result["custom"]["keel-patch"];
    assert_eq!(described["archive"], v4.as_str());
    assert_eq!(described["from_version"], "1.2.0");
    let base = dir.path().join("base");
    fs_err::write(&base, binary_of(dir.path(), "ledger", "1.2.0")).unwrap();
    let patched = dir.path().join("patched.tar");
    keel_test::run_ok(
        Command::new("zstd")
            .arg("-q")
            .arg("-d")
            .arg("--long=30")
            .arg(format!("--patch-from={}", base.display()))
            .arg(result["path"].as_str().unwrap())
            .arg("-o")
            .arg(&patched),
    );
    let tar = fs_err::read(&patched).unwrap();
    assert_eq!(
        keel_verify::sha256_bytes(&tar).to_hex(),
        described["output_sha256"].as_str().unwrap()
    );
    let expected = keel_archive::tar_stream(
        keel_schema::ArchiveFormat::TarGz,
        &dir.path().join(format!("release-1.4.0/{v4}")),
        1 << 30,
    )
    .unwrap()
    .unwrap();
    assert_eq!(tar, expected);

    // None when asked for none.
    let options = keel_store::PublishOptions {
        channel: "stable",
        expiry: Expiry::default(),
        patch_versions: 0,
    };
    let none = keel_store::publish_with(
        &store,
        &release(dir.path(), "ledger", "1.5.0"),
        &key,
        None,
        &options,
        now,
    )
    .unwrap();
    assert!(none.patches.is_empty());

    // A store fetched without its target files (metadata only) publishes without patches.
    for entry in fs_err::read_dir(store.join("targets")).unwrap() {
        fs_err::remove_file(entry.unwrap().path()).unwrap();
    }
    let published = publish_app(&store, dir.path(), "ledger", "1.6.0", &key, now);
    assert_eq!(published.targets.len(), 1);
    assert!(published.patches.is_empty());
}
