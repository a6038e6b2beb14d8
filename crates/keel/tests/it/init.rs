//! `keel init`: adds the settings and the profile, and nothing else.

use crate::single;

#[test]
fn init_adds_commented_defaults_and_a_dist_profile() {
    let ws = single("fresh", "1.0.0");
    let before = ws.read("Cargo.toml");
    let result = ws.run(&["init"]).success();
    assert!(
        result
            .stdout
            .contains("Added [workspace.metadata.keel] and [profile.dist] to Cargo.toml"),
        "{}",
        result.stdout
    );
    let after = ws.read("Cargo.toml");
    assert!(
        after.starts_with(&before),
        "init changed existing lines:\n{after}"
    );
    assert!(
        after.contains("# targets = [\"x86_64-unknown-linux-gnu\""),
        "{after}"
    );
    assert!(after.contains("[profile.dist]\n"), "{after}");
    // The result is a valid workspace whose plan is the zero-config plan.
    let plan = ws.run(&["plan", "--format", "json"]).success();
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(
        plan["targets"],
        serde_json::json!([keel_schema::HOST_TARGET])
    );
    // And cargo builds with the profile it added.
    ws.lock();
    ws.run(&["build"]).success();
    assert!(
        ws.path(&format!("target/{}/dist/fresh", keel_schema::HOST_TARGET))
            .is_file()
    );

    let again = ws.run(&["init"]).success();
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
    assert_eq!(ws.read("Cargo.toml"), after);
}

#[test]
fn init_keeps_the_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let ws = single("mode", "1.0.0");
    crate::set_mode(&ws.path("Cargo.toml"), 0o664);
    let result = ws.run(&["init", "--format", "json"]).success();
    let json: serde_json::Value = serde_json::from_str(&result.stdout).unwrap();
    assert_eq!(json["added_profile"], true);
    let mode = fs_err::metadata(ws.path("Cargo.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o664);
}
