//! keel-update's update flow (`updater::Updater`: what `keel install`/`update`/`rollback` and
//! apps that update themselves run) against stores keel-store wrote, served by nginx.

use std::path::Path;

use keel_sign::SigningKey;
use keel_store::{Expiry, publish};
use keel_test::Nginx;
use keel_update::store::{ClientOptions, Version};
use keel_update::updater::{Check, DownloadKind, InstallRequest, Updater};
use keel_update::{AppHome, Error, Silent};

use crate::{TRIPLE, release};

/// Publishes `version` of `app` (no hooks: its binary is not a program) on `channel`.
fn publish_on(store: &Path, parent: &Path, version: &str, channel: &str, key: &SigningKey) {
    let dir = release(parent, "app", version);
    let manifest_path = dir.join("keel-manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["apps"]["app"]
        .as_object_mut()
        .unwrap()
        .remove("update");
    fs_err::write(&manifest_path, manifest.to_string()).unwrap();
    publish(
        store,
        &dir,
        key,
        None,
        channel,
        &Expiry::default(),
        jiff::Timestamp::now(),
    )
    .unwrap();
}

/// The update flow of `app` in `keel_home`, as a fresh process (or the app itself) opens it.
fn updater(keel_home: &Path) -> Updater<'static> {
    Updater::open(
        AppHome::new(keel_home, "app"),
        ClientOptions::default(),
        &Silent,
    )
    .unwrap()
}

#[test]
fn an_install_on_a_channel_is_updated_from_that_channel_and_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = SigningKey::generate().unwrap();
    publish_on(&store, dir.path(), "1.0.0", "beta", &key);
    let nginx = Nginx::serve(&store);
    let root = fs_err::read(store.join("metadata/1.root.json")).unwrap();
    let keel_home = dir.path().join("keel");
    let bin_dir = dir.path().join("bin");
    let url = nginx.url("");
    let request = |channel| InstallRequest {
        store_url: &url,
        root: &root,
        target: TRIPLE.parse().unwrap(),
        channel,
        version: None,
        bin_dir: &bin_dir,
        databases: &[],
    };

    // Nothing on stable: the error lists what the store has.
    let err = updater(&keel_home).install(&request("stable")).unwrap_err();
    match &err {
        Error::NoRelease {
            channel, available, ..
        } => {
            assert_eq!(channel, "stable");
            assert_eq!(available, &[format!("app 1.0.0 ({TRIPLE}, beta)")], "{err}");
        }
        other => panic!("expected NoRelease, got {other}"),
    }
    assert!(!bin_dir.join("app").exists());

    let receipt = updater(&keel_home).install(&request("beta")).unwrap();
    assert_eq!(receipt.channel.as_deref(), Some("beta"));
    assert_eq!(receipt.version, "1.0.0");
    let installed = fs_err::read(bin_dir.join("app")).unwrap();
    assert!(installed.starts_with(b"binary of app 1.0.0"));
    // Installed twice: refused, naming the version there.
    assert!(matches!(
        updater(&keel_home).install(&request("beta")),
        Err(Error::AlreadyInstalled { version, .. }) if version == "1.0.0"
    ));

    // A newer release on stable is not for a beta install; one on beta is.
    publish_on(&store, dir.path(), "2.0.0", "stable", &key);
    match updater(&keel_home).check(None, None, None).unwrap() {
        Check::UpToDate(current) => assert_eq!(current.version, "1.0.0"),
        Check::Available(update) => panic!("a beta install was offered {update:?}"),
    }
    publish_on(&store, dir.path(), "1.1.0-beta.1", "beta", &key);
    let flow = updater(&keel_home);
    let Check::Available(update) = flow.check(None, None, None).unwrap() else {
        panic!("the beta release was not found");
    };
    let plan = update.plan();
    assert_eq!(
        (plan.from.as_str(), plan.to.as_str()),
        ("1.0.0", "1.1.0-beta.1")
    );
    assert_eq!(plan.archive, format!("app-1.1.0-beta.1-{TRIPLE}.tar.gz"));
    let updated = flow.apply(update).unwrap();
    assert_eq!(updated.version, "1.1.0-beta.1");
    // The publisher made a patch from 1.0.0, and the installed binary is its base.
    assert_eq!(updated.download.kind, DownloadKind::Patch, "{updated:?}");
    assert!(
        fs_err::read(bin_dir.join("app"))
            .unwrap()
            .starts_with(b"binary of app 1.1.0-beta.1")
    );
    drop(flow);

    // A version asked for by name; then back to the version before.
    let flow = updater(&keel_home);
    let wanted: Version = "1.0.0".parse().unwrap();
    assert!(matches!(
        flow.check(None, None, Some(&wanted)).unwrap(),
        Check::Available(update) if update.release().version == wanted
    ));
    let (_, previous) = flow.previous().unwrap();
    assert_eq!(previous, "1.0.0");
    let rolled = flow.rollback().unwrap();
    assert_eq!(
        (rolled.from.as_str(), rolled.version.as_str()),
        ("1.1.0-beta.1", "1.0.0")
    );
    assert_eq!(fs_err::read(bin_dir.join("app")).unwrap(), installed);
    assert!(matches!(
        flow.previous(),
        Err(Error::NothingToRollBack { .. })
    ));
    let receipt = flow.receipt().unwrap();
    assert_eq!(receipt.channel.as_deref(), Some("beta"));
}

#[test]
fn an_update_of_an_app_not_installed_or_without_a_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let flow = updater(&dir.path().join("keel"));
    assert!(matches!(
        flow.check(None, None, None),
        Err(Error::NotInstalled { app }) if app == "app"
    ));
    // An app that adopts itself without naming a store has none to update from.
    let exe = dir.path().join("app");
    fs_err::write(&exe, b"#!/bin/sh\n").unwrap();
    flow.adopt("1.0.0", &exe, &[], None).unwrap();
    assert!(matches!(
        flow.check(None, None, None),
        Err(Error::NoStoreUrl { .. })
    ));
}
