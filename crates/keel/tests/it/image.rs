//! `keel image build` and `keel image push`, checked with a real registry (`docker-registry`)
//! and the real `skopeo` and `umoci`.

use std::process::Command;

use keel_test::registry::{PASSWORD, Registry, USER};
use keel_test::{TestWorkspace, require_tool, run_command, run_ok, run_with_input};
use serde_json::Value;

use crate::single;

const HOST: &str = keel_schema::HOST_TARGET;

use keel_test::read_manifest as manifest;

/// `hello` built static (crt-static), so that it runs on an empty base.
fn static_hello(version: &str, extra: &str) -> TestWorkspace {
    let ws = single("hello", version);
    ws.write(
        ".cargo/config.toml",
        &format!("[target.{HOST}]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"),
    );
    if !extra.is_empty() {
        let toml = ws.read("Cargo.toml");
        ws.write("Cargo.toml", &format!("{toml}{extra}"));
    }
    ws.commit("static");
    ws
}

fn skopeo(args: &[&str]) -> String {
    let out = run_ok(Command::new(require_tool("skopeo")).args(args));
    String::from_utf8(out.stdout).unwrap()
}

fn skopeo_with(registry: &Registry, command: &str, prefix: &str, rest: &[&str]) -> String {
    let mut args = vec![command.to_owned()];
    args.extend(registry.skopeo_args(prefix));
    args.extend(rest.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    skopeo(&refs)
}

/// Unpacks the host's image of `reference` with `skopeo copy` and `umoci unpack`, and runs
/// `binary` from its root file system (in a chroot as root, else directly).
fn run_from_image(
    registry: &Registry,
    reference: &str,
    binary: &str,
) -> (String, std::path::PathBuf, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    let dest = format!("oci:{}:img", layout.display());
    skopeo_with(
        registry,
        "copy",
        "src-",
        &[&format!("docker://{reference}"), &dest],
    );
    let bundle = work.path().join("bundle");
    let mut umoci = Command::new(require_tool("umoci"));
    umoci.arg("unpack");
    if !rustix::process::getuid().is_root() {
        umoci.arg("--rootless");
    }
    run_ok(
        umoci
            .arg("--image")
            .arg(format!("{}:img", layout.display()))
            .arg(&bundle),
    );
    let rootfs = bundle.join("rootfs");
    let out = if rustix::process::getuid().is_root() {
        run_ok(Command::new("chroot").arg(&rootfs).arg(binary))
    } else {
        run_ok(&mut Command::new(
            rootfs.join(binary.trim_start_matches('/')),
        ))
    };
    (String::from_utf8(out.stdout).unwrap(), bundle, work)
}

#[test]
fn a_static_app_becomes_a_reproducible_image_on_scratch_that_a_real_registry_serves() {
    let ws = static_hello(
        "1.4.2",
        "\n[package.metadata.keel.image]\nports = [\"8080\"]\nenv = { HELLO_MODE = \"server\" }\n",
    );
    ws.run(&["release", "--out", "dist"]).success();
    let built = ws
        .run(&[
            "image",
            "build",
            "dist",
            "--image-format",
            "oci,docker-archive",
            "--format",
            "json",
        ])
        .success();
    let report: Value = serde_json::from_str(&built.stdout).unwrap();
    let dist = ws.path("dist");
    let m = manifest(&dist);
    let oci = &m["artifacts"]["hello-1.4.2.oci.tar"];
    assert_eq!(oci["kind"], "image");
    assert_eq!(oci["platforms"], serde_json::json!(["linux/amd64"]));
    let index_digest = oci["image_digest"].as_str().unwrap().to_owned();
    assert!(index_digest.starts_with("sha256:"), "{oci}");
    let docker = &m["artifacts"][&format!("hello-1.4.2-{HOST}.docker.tar")];
    assert_eq!(docker["kind"], "image");
    assert_eq!(docker["target"], HOST);
    assert_eq!(report["images"].as_array().unwrap().len(), 2, "{report}");
    // The images are part of the release: checksummed, in the provenance, and it verifies.
    run_ok(
        Command::new(require_tool("sha256sum"))
            .args(["-c", "SHA256SUMS"])
            .current_dir(&dist),
    );
    let sums = fs_err::read_to_string(dist.join("SHA256SUMS")).unwrap();
    assert!(sums.contains("hello-1.4.2.oci.tar"), "{sums}");
    let provenance = fs_err::read_to_string(dist.join("keel-provenance.intoto.jsonl")).unwrap();
    assert!(!provenance.is_empty());
    ws.run(&["verify", "dist"]).success();

    // skopeo reads both files; the OCI archive holds the index the manifest names.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci-archive:{}", dist.join("hello-1.4.2.oci.tar").display()),
    ]);
    assert_eq!(keel_oci::digest_of(raw.as_bytes()), index_digest);
    let inspected: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        &format!(
            "docker-archive:{}",
            dist.join(format!("hello-1.4.2-{HOST}.docker.tar"))
                .display()
        ),
    ]))
    .unwrap();
    let config = &inspected["config"];
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(config["WorkingDir"], "/data");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/usr/local/bin/hello"])
    );
    assert_eq!(config["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(config["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    assert!(
        config["Env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("HELLO_MODE=server"))
    );
    assert_eq!(
        config["Labels"]["org.opencontainers.image.version"],
        "1.4.2"
    );
    assert_eq!(config["Labels"]["org.opencontainers.image.licenses"], "MIT");
    assert_eq!(inspected["created"], "2024-05-01T12:00:00Z");

    // The same commit, released and imaged in another folder, gives the same bytes.
    let twin = static_hello(
        "1.4.2",
        "\n[package.metadata.keel.image]\nports = [\"8080\"]\nenv = { HELLO_MODE = \"server\" }\n",
    );
    twin.run(&["release", "--out", "elsewhere"]).success();
    twin.run(&["image", "build", "elsewhere"]).success();
    let twin_m = manifest(&twin.path("elsewhere"));
    assert_eq!(
        twin_m["artifacts"]["hello-1.4.2.oci.tar"],
        m["artifacts"]["hello-1.4.2.oci.tar"]
    );

    // Pushed to a real registry: tags, both documents, the referrers.
    let registry = Registry::start();
    let pushed = ws
        .run(&[
            "image",
            "push",
            &registry.destination("test"),
            "dist",
            "--format",
            "json",
        ])
        .success();
    let pushed: Value = serde_json::from_str(&pushed.stdout).unwrap();
    let image = &pushed["images"][0];
    assert_eq!(image["digest"], index_digest.as_str());
    assert_eq!(
        image["tags"],
        serde_json::json!(["v1.4.2", "v1.4", "latest"])
    );
    assert_eq!(image["referrers"].as_array().unwrap().len(), 2, "{pushed}");
    let reference = format!("{}/test/hello", registry.host());
    let tags: Value = serde_json::from_str(&skopeo_with(
        &registry,
        "list-tags",
        "",
        &[&format!("docker://{reference}")],
    ))
    .unwrap();
    let mut tags: Vec<&str> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    let fallback = index_digest.replacen(':', "-", 1);
    assert_eq!(tags, ["latest", fallback.as_str(), "v1.4", "v1.4.2"]);
    let raw = skopeo_with(
        &registry,
        "inspect",
        "",
        &["--raw", &format!("docker://{reference}:v1.4.2")],
    );
    assert_eq!(keel_oci::digest_of(raw.as_bytes()), index_digest);
    // The SBOM is found as a referrer of the index (the tag schema: this registry has no
    // referrers API), and its blob is the release's SBOM.
    let referrers: Value = serde_json::from_str(&skopeo_with(
        &registry,
        "inspect",
        "",
        &["--raw", &format!("docker://{reference}:{fallback}")],
    ))
    .unwrap();
    let types: Vec<&str> = referrers["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["artifactType"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"application/vnd.cyclonedx+json"),
        "{referrers}"
    );
    assert!(
        types.contains(&"application/vnd.in-toto+json"),
        "{referrers}"
    );

    // umoci unpacks what skopeo pulled, and the binary runs from the image's root.
    let (out, bundle, _work) = run_from_image(
        &registry,
        &format!("{reference}:latest"),
        "/usr/local/bin/hello",
    );
    assert_eq!(out, "hello 1.4.2\n");
    let data = fs_err::metadata(bundle.join("rootfs/data")).unwrap();
    if rustix::process::getuid().is_root() {
        use std::os::unix::fs::MetadataExt;
        assert_eq!((data.uid(), data.gid()), (65532, 65532));
    }

    // Pushing again uploads nothing.
    let again: Value = serde_json::from_str(
        &ws.run(&[
            "image",
            "push",
            &registry.destination("test"),
            "dist",
            "--format",
            "json",
        ])
        .success()
        .stdout,
    )
    .unwrap();
    assert_eq!(again["images"][0]["uploaded"], 0, "{again}");
}

#[test]
fn a_registry_with_tls_and_basic_auth_takes_credentials_from_the_environment_or_docker_config() {
    let ws = static_hello("0.3.0-rc.1", "");
    ws.run(&["release", "--out", "dist"]).success();
    ws.run(&["image", "build", "dist"]).success();
    let registry = Registry::start_secure();
    let destination = registry.destination("team");

    // The test CA is not trusted by default: the certificate is refused, and says so.
    let untrusted = ws.run(&["image", "push", &destination, "dist"]).failure(1);
    assert!(
        untrusted.stderr.contains("error: cannot reach 127.0.0.1"),
        "{}",
        untrusted.stderr
    );
    assert!(
        untrusted.stderr.to_lowercase().contains("certificate"),
        "{}",
        untrusted.stderr
    );
    assert!(
        untrusted.stderr.contains("SSL_CERT_FILE"),
        "{}",
        untrusted.stderr
    );

    // Trusted, but without credentials: refused, with the way to log in.
    let ca = registry.ca();
    let home = tempfile::tempdir().unwrap();
    let mut anonymous = ws.keel(["image", "push", &destination, "dist"]);
    anonymous
        .env("SSL_CERT_FILE", &ca)
        .env("HOME", home.path())
        .env_remove("DOCKER_CONFIG");
    let anonymous = run_command(&mut anonymous).failure(1);
    assert!(
        anonymous
            .stderr
            .contains("refused access to team/hello (401)"),
        "{}",
        anonymous.stderr
    );
    assert!(
        anonymous
            .stderr
            .contains("hint: log in with `keel image login 127.0.0.1:"),
        "{}",
        anonymous.stderr
    );

    // Credentials from the environment.
    let mut with_env = ws.keel(["image", "push", &destination, "dist", "--format", "json"]);
    with_env
        .env("SSL_CERT_FILE", &ca)
        .env("KEEL_REGISTRY_USER", USER)
        .env("KEEL_REGISTRY_PASSWORD", PASSWORD);
    let pushed = run_command(&mut with_env).success();
    assert!(!pushed.stdout.contains(PASSWORD) && !pushed.stderr.contains(PASSWORD));
    let pushed: Value = serde_json::from_str(&pushed.stdout).unwrap();
    // A pre-release gets its own tag only.
    assert_eq!(
        pushed["images"][0]["tags"],
        serde_json::json!(["v0.3.0-rc.1"])
    );

    // Credentials from Docker's config.json, as `docker login` writes it.
    let docker = tempfile::tempdir().unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    fs_err::write(
        docker.path().join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
            registry.host()
        ),
    )
    .unwrap();
    let mut with_config = ws.keel(["image", "push", &destination, "dist", "--format", "json"]);
    with_config
        .env("SSL_CERT_FILE", &ca)
        .env("DOCKER_CONFIG", docker.path());
    let again: Value =
        serde_json::from_str(&run_command(&mut with_config).success().stdout).unwrap();
    assert_eq!(again["images"][0]["uploaded"], 0, "{again}");

    // `keel image login` asks the registry first: a wrong password is refused and nothing is
    // written; the right one goes into config.json (mode 0600, other keys kept), never shown.
    let logged = tempfile::tempdir().unwrap();
    let config = logged.path().join("config.json");
    fs_err::write(&config, "{\"psFormat\": \"table\"}").unwrap();
    let login = |password: &str| {
        let mut command = ws.keel([
            "image",
            "login",
            &registry.host(),
            "--username",
            USER,
            "--password-stdin",
        ]);
        command
            .env("SSL_CERT_FILE", &ca)
            .env("DOCKER_CONFIG", logged.path());
        run_with_input(&mut command, &format!("{password}\n"))
    };
    let refused = login("not-the-password").failure(1);
    assert!(
        refused.stderr.contains("error: ") && refused.stderr.contains("refused access (401)"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("hint: check the user name and the password or token"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("not-the-password"));
    assert_eq!(
        fs_err::read_to_string(&config).unwrap(),
        "{\"psFormat\": \"table\"}"
    );
    let accepted = login(PASSWORD).success();
    assert!(
        accepted.stdout.contains(&format!(
            "Logged in to {} as {USER}; saved in",
            registry.host()
        )),
        "{}",
        accepted.stdout
    );
    assert!(!accepted.stdout.contains(PASSWORD) && !accepted.stderr.contains(PASSWORD));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs_err::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let saved: Value = serde_json::from_str(&fs_err::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(saved["psFormat"], "table");
    let mut after_login = ws.keel(["image", "push", &destination, "dist", "--format", "json"]);
    after_login
        .env("SSL_CERT_FILE", &ca)
        .env("DOCKER_CONFIG", logged.path());
    run_command(&mut after_login).success();

    // skopeo, with the same CA and credentials, reads the image.
    let inspected: Value = serde_json::from_str(&skopeo_with(
        &registry,
        "inspect",
        "",
        &[&format!(
            "docker://{}/team/hello:v0.3.0-rc.1",
            registry.host()
        )],
    ))
    .unwrap();
    assert_eq!(inspected["Architecture"], "amd64");
    assert_eq!(
        inspected["Labels"]["org.opencontainers.image.version"],
        "0.3.0-rc.1"
    );
}

/// Pushes an image of `files` (and their folders) for each platform to `registry` as
/// `base:v1`, with keel-oci itself; returns its digest.
fn push_base(registry: &Registry, files: &[(String, Vec<u8>)], platforms: &[&str]) -> String {
    use keel_oci::image::RunConfig;
    use keel_oci::layer::Entry;
    let entries: Vec<Entry> = files
        .iter()
        .map(|(path, data)| Entry::file(path.clone(), data.clone(), 0o755))
        .collect();
    let layer = keel_oci::layer::layer(&entries, 0).unwrap();
    let run = RunConfig {
        user: "0:0".into(),
        workdir: "/".into(),
        env: [("PATH".to_owned(), "/usr/bin:/bin".to_owned())].into(),
        entrypoint: vec!["/bin/sh".into()],
        ..RunConfig::default()
    };
    let images: Vec<keel_oci::image::Image> = platforms
        .iter()
        .map(|triple| {
            let platform = keel_oci::Platform::of_target(&triple.parse().unwrap()).unwrap();
            keel_oci::image::build(
                &platform,
                None,
                &layer,
                &run,
                "1970-01-01T00:00:00Z",
                &Default::default(),
            )
            .unwrap()
        })
        .collect();
    let index = keel_oci::image::index(&images, &Default::default());
    let mut layout = keel_oci::layout::Layout::new();
    for image in &images {
        layout.add_image_blobs(image);
    }
    layout.name(&index, "v1", None);
    let client = keel_oci::registry::Registry::connect(
        keel_oci::reference::Scheme::Http,
        &registry.host(),
        keel_oci::registry::Options::default(),
    )
    .unwrap();
    keel_oci::push::push(
        &client,
        "base",
        &layout,
        &index.descriptor(),
        &["v1".to_owned()],
        &[],
        "1970-01-01T00:00:00Z",
        &keel_schema::progress::Silent,
    )
    .unwrap();
    index.digest
}

#[test]
fn a_glibc_binary_needs_a_base_image_pinned_by_digest_with_its_platforms() {
    // Dynamic `hello` for the host, and a fake aarch64 build beside it.
    let ws = single("hello", "2.0.0");
    let toml = ws.read("Cargo.toml");
    ws.write(
        "Cargo.toml",
        &format!("{toml}\n[workspace.metadata.keel]\ntargets = [\"{HOST}\", \"aarch64-unknown-linux-gnu\"]\nbuilders = {{ \"aarch64-unknown-linux-gnu\" = \"fake\" }}\n"),
    );
    ws.commit("two targets");
    ws.run(&["release", "--out", "dist"]).success();
    let before = keel_test::snapshot_dir(&ws.path("dist"));
    let refused = ws.run(&["image", "build", "dist"]).failure(1);
    // The fake aarch64 build is a shell script: it needs /bin/sh.
    assert!(
        refused.stderr.contains(
            "error: the `hello` binary of `hello` for aarch64-unknown-linux-gnu needs the script interpreter `/bin/sh`"
        ),
        "{}",
        refused.stderr
    );
    // The host's glibc build needs its dynamic loader.
    ws.run(&["release", "--target", HOST, "--out", "host"])
        .success();
    let glibc = ws.run(&["image", "build", "host"]).failure(1);
    assert!(
        glibc.stderr.contains(&format!(
            "error: the `hello` binary of `hello` for {HOST} needs the dynamic loader /lib"
        )),
        "{}",
        glibc.stderr
    );
    assert!(
        refused
            .stderr
            .contains("which the `scratch` base does not have"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("hint: build the Linux targets static"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        keel_test::snapshot_dir(&ws.path("dist")),
        before,
        "a refused build changes nothing"
    );

    // A base with the C library the host binary needs (its loader and libraries, as `ldd`
    // lists them), published for one platform, then for both.
    let binary = {
        let unpacked = tempfile::tempdir().unwrap();
        run_ok(
            Command::new("tar")
                .arg("-xzf")
                .arg(ws.path(&format!("dist/hello-2.0.0-{HOST}.tar.gz")))
                .arg("-C")
                .arg(unpacked.path()),
        );
        fs_err::read(unpacked.path().join(format!("hello-2.0.0-{HOST}/hello"))).unwrap()
    };
    let probe = tempfile::tempdir().unwrap();
    let probe_bin = probe.path().join("hello");
    fs_err::write(&probe_bin, &binary).unwrap();
    let ldd = String::from_utf8(run_ok(Command::new(require_tool("ldd")).arg(&probe_bin)).stdout)
        .unwrap();
    let mut files = Vec::new();
    for line in ldd.lines() {
        let path = line
            .split("=>")
            .last()
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap_or_default();
        if path.starts_with('/') {
            let real = fs_err::canonicalize(path).unwrap();
            files.push((path.to_owned(), fs_err::read(real).unwrap()));
        }
    }
    assert!(files.iter().any(|(p, _)| p.contains("ld-linux")), "{ldd}");
    let registry = Registry::start();
    let amd64_only = push_base(&registry, &files, &[HOST]);
    let both = push_base(&registry, &files, &[HOST, "aarch64-unknown-linux-gnu"]);

    let with_base = |base: &str| {
        ws.write(
            "Cargo.toml",
            &format!("{toml}\n[workspace.metadata.keel]\ntargets = [\"{HOST}\", \"aarch64-unknown-linux-gnu\"]\nbuilders = {{ \"aarch64-unknown-linux-gnu\" = \"fake\" }}\n\n[package.metadata.keel.image]\nbase = \"{base}\"\n"),
        );
        ws.run(&["release", "--out", "dist"]).success();
    };
    let base_ref = |digest: &str| format!("http://{}/base@{digest}", registry.host());

    // Not pinned by digest.
    with_base(&format!("http://{}/base:v1", registry.host()));
    let unpinned = ws.run(&["image", "build", "dist"]).failure(1);
    assert!(
        unpinned.stderr.contains("is not pinned by digest"),
        "{}",
        unpinned.stderr
    );
    // A digest the registry does not have.
    with_base(&base_ref(&format!("sha256:{}", "0".repeat(64))));
    let wrong = ws.run(&["image", "build", "dist"]).failure(1);
    assert!(
        wrong
            .stderr
            .contains("the registry has no manifest with that digest"),
        "{}",
        wrong.stderr
    );
    // A base without the arm64 platform.
    with_base(&base_ref(&amd64_only));
    let missing = ws.run(&["image", "build", "dist"]).failure(1);
    assert!(
        missing
            .stderr
            .contains("has no linux/arm64 image (it has: linux/amd64)"),
        "{}",
        missing.stderr
    );
    // The right base: both platforms, and the host's binary runs on the base's C library.
    with_base(&base_ref(&both));
    ws.run(&["image", "build", "dist"]).success();
    let m = manifest(&ws.path("dist"));
    assert_eq!(
        m["artifacts"]["hello-2.0.0.oci.tar"]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    ws.run(&["image", "push", &registry.destination("apps"), "dist"])
        .success();
    let raw: Value = serde_json::from_str(&skopeo_with(
        &registry,
        "inspect",
        "",
        &[
            "--raw",
            &format!("docker://{}/apps/hello:v2.0.0", registry.host()),
        ],
    ))
    .unwrap();
    let platforms: Vec<&str> = raw["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["amd64", "arm64"]);
    let (out, _bundle, _work) = run_from_image(
        &registry,
        &format!("{}/apps/hello:v2.0.0", registry.host()),
        "/usr/local/bin/hello",
    );
    assert_eq!(out, "hello 2.0.0\n");
}

#[test]
fn a_release_without_linux_archives_has_no_image() {
    let ws = single("mac", "1.0.0");
    ws.run(&[
        "release",
        "--target",
        "x86_64-apple-darwin",
        "--builder",
        "fake",
        "--out",
        "dist",
    ])
    .success();
    let refused = ws.run(&["image", "build", "dist"]).failure(1);
    assert!(
        refused
            .stderr
            .contains("has no Linux archive to make an image of"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: images hold Linux binaries"),
        "{}",
        refused.stderr
    );
    let push = ws
        .run(&["image", "push", "http://127.0.0.1:9/x", "dist"])
        .failure(1);
    assert!(
        push.stderr.contains("has no OCI image to push"),
        "{}",
        push.stderr
    );
    assert!(
        push.stderr.contains("hint: run `keel image build`"),
        "{}",
        push.stderr
    );
}

#[test]
fn a_registry_that_fails_mid_upload_is_retried_and_a_second_run_finishes_the_push() {
    use std::sync::atomic::Ordering;
    let ws = static_hello("1.0.0", "");
    ws.run(&["release", "--out", "dist"]).success();
    ws.run(&["image", "build", "dist"]).success();
    // Plain HTTP beyond loopback needs --insecure: refused before anything is sent.
    let insecure = ws
        .run(&["image", "push", "http://registry.example/x", "dist"])
        .failure(1);
    assert!(
        insecure.stderr.contains(
            "error: registry.example would be reached over plain HTTP, which keel allows for loopback addresses only"
        ),
        "{}",
        insecure.stderr
    );
    assert!(
        insecure.stderr.contains("hint: use https://"),
        "{}",
        insecure.stderr
    );
    let registry = Registry::start();
    let proxy = keel_test::registry::FlakyProxy::start(registry.port);
    let destination = format!("http://127.0.0.1:{}/flaky", proxy.port);

    // Two failed uploads are retried, and the push completes.
    proxy.failures.store(2, Ordering::SeqCst);
    ws.run(&["image", "push", &destination, "dist"]).success();
    assert_eq!(proxy.failed.load(Ordering::SeqCst), 2);

    // A registry that keeps failing: the push fails, says where, and moves no tag.
    let other = static_hello("1.0.1", "");
    other.run(&["release", "--out", "dist"]).success();
    other.run(&["image", "build", "dist"]).success();
    proxy.failures.store(usize::MAX, Ordering::SeqCst);
    let failed = other
        .run(&["image", "push", &destination, "dist"])
        .failure(1);
    assert!(
        failed
            .stderr
            .contains("with 500: UNKNOWN injected failure (tried 4 times)"),
        "{}",
        failed.stderr
    );
    let reference = format!("docker://{}/flaky/hello", registry.host());
    let tags = skopeo(&["list-tags", "--tls-verify=false", &reference]);
    assert!(!tags.contains("v1.0.1"), "{tags}");
    assert!(tags.contains("v1.0.0"), "{tags}");

    // Once the registry recovers, running the push again finishes it; latest moves.
    proxy.failures.store(0, Ordering::SeqCst);
    other
        .run(&["image", "push", &destination, "dist"])
        .success();
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{reference}:latest"),
    ]);
    let digest =
        manifest(&other.path("dist"))["artifacts"]["hello-1.0.1.oci.tar"]["image_digest"].clone();
    assert_eq!(
        keel_oci::digest_of(raw.as_bytes()),
        digest.as_str().unwrap()
    );

    // A registry with the referrers API (it answers a manifest with a subject with
    // `OCI-Subject`) indexes the SBOM and provenance itself: no fallback tag is written.
    proxy.announce_subject.store(true, Ordering::SeqCst);
    let indexed: Value = serde_json::from_str(
        &ws.run(&[
            "image",
            "push",
            &format!("http://127.0.0.1:{}/indexed", proxy.port),
            "dist",
            "--format",
            "json",
        ])
        .success()
        .stdout,
    )
    .unwrap();
    assert_eq!(indexed["images"][0]["referrers_by_tag"], false, "{indexed}");
    assert_eq!(
        indexed["images"][0]["referrers"].as_array().unwrap().len(),
        2,
        "{indexed}"
    );
    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/indexed/hello", registry.host()),
    ]);
    assert!(!tags.contains("sha256-"), "{tags}");
    assert!(tags.contains("v1.0.0"), "{tags}");
}

#[test]
fn images_of_a_signed_release_are_signed_with_its_key() {
    let ws = static_hello("1.1.0", "");
    ws.keygen();
    ws.run(&["release", "--out", "dist", "--sign-key", "keys/release.key"])
        .success();
    let before = keel_test::snapshot_dir(&ws.path("dist"));
    let refused = ws.run(&["image", "build", "dist"]).failure(1);
    assert!(
        refused.stderr.contains(
            "is signed, and adding images without the signing key would leave it unsigned"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: pass --sign-key"),
        "{}",
        refused.stderr
    );
    assert_eq!(keel_test::snapshot_dir(&ws.path("dist")), before);
    // A rehearsal report names the manifest, which the image build writes anew: it is
    // carried over, bound to the new manifest and signed again.
    ws.run(&[
        "rehearse",
        "dist",
        "--first-release",
        "--sign-key",
        "keys/release.key",
    ])
    .success();
    ws.run(&["image", "build", "dist", "--sign-key", "keys/release.key"])
        .success();
    let verified = ws
        .run(&["verify", "dist", "--public-key", "keys/release.pub"])
        .success();
    assert!(
        verified
            .stdout
            .contains("ok      keel-rehearsal.json (rehearsal)"),
        "{}",
        verified.stdout
    );
    let minisign = require_tool("minisign");
    run_ok(
        Command::new(minisign)
            .args(["-Vm", "SHA256SUMS", "-p"])
            .arg(ws.path("keys/release.pub"))
            .current_dir(ws.path("dist")),
    );
    let sums = fs_err::read_to_string(ws.path("dist/SHA256SUMS")).unwrap();
    assert!(sums.contains("hello-1.1.0.oci.tar"), "{sums}");
}

#[test]
fn a_plain_http_registry_written_without_http_is_named_with_the_address_to_write() {
    let ws = static_hello("1.0.0", "");
    ws.run(&["release", "--out", "dist"]).success();
    ws.run(&["image", "build", "dist"]).success();
    let registry = Registry::start();
    let host = registry.host();

    // `image push 127.0.0.1:PORT/ns`: keel speaks HTTPS, the registry answers in plain HTTP.
    let pushed = ws
        .run(&["image", "push", &format!("{host}/ns"), "dist"])
        .failure(1);
    assert!(
        pushed
            .stderr
            .starts_with(&format!("error: {host} answers plain HTTP, not HTTPS\n")),
        "{}",
        pushed.stderr
    );
    assert!(
        pushed.stderr.contains(&format!(
            "hint: write `http://{host}/ns`: without `http://` keel speaks HTTPS\n"
        )),
        "{}",
        pushed.stderr
    );
    for unwanted in ["SSL_CERT_FILE", "InvalidContentType", "tried"] {
        assert!(!pushed.stderr.contains(unwanted), "{}", pushed.stderr);
    }
    // Written so, it goes.
    ws.run(&["image", "push", &format!("http://{host}/ns"), "dist"])
        .success();

    // `image login 127.0.0.1:PORT`: the same, and nothing is saved.
    let docker = tempfile::tempdir().unwrap();
    let mut login = ws.keel([
        "image",
        "login",
        &host,
        "--username",
        USER,
        "--password-stdin",
    ]);
    login.env("DOCKER_CONFIG", docker.path());
    let refused = run_with_input(&mut login, &format!("{PASSWORD}\n")).failure(1);
    assert!(
        refused
            .stderr
            .starts_with(&format!("error: {host} answers plain HTTP, not HTTPS\n")),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&format!(
            "hint: write `http://{host}`: without `http://` keel speaks HTTPS\n"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("SSL_CERT_FILE"),
        "{}",
        refused.stderr
    );
    assert!(!docker.path().join("config.json").exists());
}

#[test]
fn publish_pushes_the_images_the_settings_name_and_refuses_a_release_without_them() {
    let registry = Registry::start();
    let destination = registry.destination("acme");
    let ws = static_hello(
        "2.0.0",
        &format!("\n[package.metadata.keel.image]\nregistries = [\"{destination}\"]\n"),
    );
    ws.keygen();
    ws.run(&["release", "--out", "dist"]).success();
    let publish = [
        "publish",
        "dist",
        "--to",
        "store",
        "--sign-key",
        "keys/release.key",
    ];

    // The settings ask for an image the release does not have: refused, nothing published.
    let refused = ws.run(&publish).failure(1);
    assert!(
        refused.stderr.contains(&format!(
            "error: the settings push hello's image to {destination}, but the release in"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: run `keel image build`"),
        "{}",
        refused.stderr
    );
    assert!(!ws.path("store").exists());

    ws.run(&["image", "build", "dist", "--sign-key", "keys/release.key"])
        .success();
    let mut args = publish.to_vec();
    args.extend(["--format", "json"]);
    let published: Value = serde_json::from_str(&ws.run(&args).success().stdout).unwrap();
    let image = &published["images"][0];
    assert_eq!(
        image["repository"],
        format!("{}/acme/hello", registry.host())
    );
    assert_eq!(
        image["tags"],
        serde_json::json!(["v2.0.0", "v2.0", "latest"])
    );
    assert!(ws.path("store/metadata/root.json").is_file());
    let digest = manifest(&ws.path("dist"))["artifacts"]["hello-2.0.0.oci.tar"]["image_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(image["digest"], digest.as_str());
    let listed: Value = serde_json::from_str(&skopeo_with(
        &registry,
        "list-tags",
        "",
        &[&format!("docker://{}/acme/hello", registry.host())],
    ))
    .unwrap();
    let mut tags: Vec<&str> = listed["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort_unstable();
    let fallback = format!("sha256-{}", &digest[7..]);
    assert_eq!(tags, ["latest", fallback.as_str(), "v2.0", "v2.0.0"]);

    // The generated workflow builds the image and logs in to the registry with named secrets.
    let init = ws.run(&["ci", "init"]).success();
    let secret = format!("REGISTRY_127_0_0_1_{}_USERNAME", registry.port);
    assert!(init.stdout.contains(&secret), "{}", init.stdout);
    let workflow = ws.read(".github/workflows/release.yml");
    assert!(
        workflow.contains("run: keel image build dist"),
        "{workflow}"
    );
    assert!(
        workflow.contains(&format!("keel image login '{}'", registry.host())),
        "{workflow}"
    );
}

#[test]
fn publish_says_how_to_write_a_plain_http_registry_and_takes_insecure_for_one_elsewhere() {
    let registry = Registry::start();
    let port = registry.port;
    let ws = static_hello("2.0.0", "");
    ws.keygen();
    let toml = ws.read("Cargo.toml");
    let release = |registries: &str, out: &str| {
        ws.write(
            "Cargo.toml",
            &format!("{toml}\n[package.metadata.keel.image]\nregistries = [\"{registries}\"]\n"),
        );
        ws.run(&["release", "--out", out]).success();
        ws.run(&["image", "build", out, "--sign-key", "keys/release.key"])
            .success();
    };
    let publish = |dir: &str, extra: &[&str]| {
        let mut args = vec![
            "publish",
            dir,
            "--to",
            "store",
            "--sign-key",
            "keys/release.key",
        ];
        args.extend(extra);
        ws.run(&args)
    };

    // The settings name the plain-HTTP registry without `http://`.
    release(&format!("127.0.0.1:{port}/acme"), "dist");
    let refused = publish("dist", &[]).failure(1);
    assert!(
        refused.stderr.starts_with(&format!(
            "error: 127.0.0.1:{port} answers plain HTTP, not HTTPS\n"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&format!(
            "hint: write `http://127.0.0.1:{port}/acme` in `registries` of [package.metadata.keel.image]: without `http://` keel speaks HTTPS\n"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("SSL_CERT_FILE"),
        "{}",
        refused.stderr
    );
    assert!(!ws.path("store").exists());

    // Plain HTTP to another machine needs --insecure. (0.0.0.0 is not a loopback address, and
    // on Linux it reaches this machine: the registry.)
    release(&format!("http://0.0.0.0:{port}/acme"), "dist-insecure");
    let refused = publish("dist-insecure", &[]).failure(1);
    assert!(
        refused.stderr.contains(&format!(
            "error: 0.0.0.0:{port} would be reached over plain HTTP, which keel allows for loopback addresses only"
        )),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("--insecure"), "{}", refused.stderr);
    assert!(!ws.path("store").exists());
    let published: Value = serde_json::from_str(
        &publish("dist-insecure", &["--insecure", "--format", "json"])
            .success()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        published["images"][0]["repository"],
        format!("0.0.0.0:{port}/acme/hello")
    );
    assert!(ws.path("store/metadata/root.json").is_file());
    let listed: Value = serde_json::from_str(&skopeo_with(
        &registry,
        "list-tags",
        "",
        &[&format!("docker://{}/acme/hello", registry.host())],
    ))
    .unwrap();
    assert!(
        listed["Tags"]
            .as_array()
            .unwrap()
            .contains(&Value::from("v2.0.0")),
        "{listed}"
    );
}

#[test]
fn the_environments_registry_credentials_go_to_push_destinations_only() {
    // A base image on a registry behind a token service, which logs who asks for a token.
    let registry = Registry::start_token();
    let ws = single("hello", "2.0.0");
    let toml = ws.read("Cargo.toml");
    let zeros = "0".repeat(64);
    let release_with = |registries: &str| {
        ws.write(
            "Cargo.toml",
            &format!(
                "{toml}\n[package.metadata.keel.image]\nbase = \"http://{}/base@sha256:{zeros}\"\n{registries}",
                registry.host()
            ),
        );
        ws.run(&["release", "--target", HOST, "--out", "dist"])
            .success();
    };
    let build = || {
        let home = tempfile::tempdir().unwrap();
        let mut command = ws.keel(["image", "build", "dist"]);
        command
            .env("HOME", home.path())
            .env_remove("DOCKER_CONFIG")
            .env("KEEL_REGISTRY_USER", USER)
            .env("KEEL_REGISTRY_PASSWORD", PASSWORD);
        let refused = run_command(&mut command).failure(1);
        assert!(!refused.stderr.contains(PASSWORD), "{}", refused.stderr);
    };
    // The images go nowhere this registry: the base is pulled anonymously.
    release_with("");
    build();
    let requests = registry.token_requests();
    assert!(!requests.is_empty(), "the base image was not asked for");
    assert!(
        requests.iter().all(|r| r["user"].is_null()),
        "the environment's credentials reached another registry: {requests:#?}"
    );
    // The settings push the images to this registry: its base is pulled with them.
    release_with(&format!("registries = [\"{}/team\"]\n", registry.host()));
    build();
    let requests = registry.token_requests();
    assert!(requests.iter().any(|r| r["user"] == USER), "{requests:#?}");
}
