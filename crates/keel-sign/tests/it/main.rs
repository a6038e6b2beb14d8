//! keel's keys and signatures against the real `minisign`, both ways.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use keel_sign::{Secret, SigningKey};
use keel_test::require_tool;
use keel_verify::minisign::{PublicKey, verify_file};

/// Runs minisign with `input` on its standard input (where it reads passwords when piped).
fn minisign(args: &[&str], dir: &Path, input: &str) -> keel_test::RunResult {
    let mut child = Command::new(require_tool("minisign"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    keel_test::RunResult {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn password() -> Secret {
    Secret::new("correct horse".into())
}

#[test]
fn minisign_checks_keel_signatures_and_signs_with_keel_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    fs_err::write(dir.path().join("k.pub"), key.public_key().to_text()).unwrap();
    let secret = key.to_text(Some(&password())).unwrap();
    fs_err::write(dir.path().join("k.key"), secret.expose()).unwrap();
    fs_err::write(dir.path().join("SHA256SUMS"), "abc  file\n").unwrap();

    let signature = key
        .sign(
            fs_err::File::open(dir.path().join("SHA256SUMS")).unwrap(),
            "app=demo version=1.0.0 file=SHA256SUMS",
            "signature from keel",
        )
        .unwrap();
    fs_err::write(dir.path().join("SHA256SUMS.minisig"), signature.to_text()).unwrap();
    let checked = minisign(&["-Vm", "SHA256SUMS", "-p", "k.pub"], dir.path(), "").success();
    assert!(
        checked
            .stdout
            .contains("Trusted comment: app=demo version=1.0.0 file=SHA256SUMS"),
        "{}",
        checked.stdout
    );

    // minisign decrypts keel's encrypted key file and signs with it; keel checks the result.
    fs_err::write(dir.path().join("other.txt"), "other\n").unwrap();
    minisign(
        &["-Sm", "other.txt", "-s", "k.key"],
        dir.path(),
        "correct horse\n",
    )
    .success();
    verify_file(
        &key.public_key(),
        &dir.path().join("other.txt"),
        &dir.path().join("other.txt.minisig"),
    )
    .unwrap();
}

#[test]
fn keel_uses_minisign_keys_and_checks_minisign_signatures() {
    let dir = tempfile::tempdir().unwrap();
    minisign(
        &["-G", "-p", "m.pub", "-s", "m.key"],
        dir.path(),
        "correct horse\ncorrect horse\n",
    )
    .success();
    let public =
        PublicKey::from_text(&fs_err::read_to_string(dir.path().join("m.pub")).unwrap()).unwrap();
    let secret = Secret::new(fs_err::read_to_string(dir.path().join("m.key")).unwrap());
    assert!(SigningKey::is_encrypted(&secret).unwrap());
    let key = SigningKey::from_text(&secret, Some(&password())).unwrap();
    assert_eq!(key.public_key(), public, "keel derived another public key");

    fs_err::write(dir.path().join("data"), vec![9u8; 100_000]).unwrap();
    minisign(
        &["-Sm", "data", "-s", "m.key", "-t", "made by minisign"],
        dir.path(),
        "correct horse\n",
    )
    .success();
    let signature = verify_file(
        &public,
        &dir.path().join("data"),
        &dir.path().join("data.minisig"),
    )
    .unwrap();
    assert_eq!(signature.trusted_comment, "made by minisign");

    let mine = key.sign(&b"keel"[..], "by keel", "x").unwrap();
    fs_err::write(dir.path().join("keel.txt"), "keel").unwrap();
    fs_err::write(dir.path().join("keel.txt.minisig"), mine.to_text()).unwrap();
    minisign(&["-Vm", "keel.txt", "-p", "m.pub"], dir.path(), "").success();

    // The wrong password is named as such.
    let wrong = SigningKey::from_text(&secret, Some(&Secret::new("nope".into())));
    assert!(
        matches!(wrong, Err(keel_sign::Error::WrongPassword)),
        "{wrong:?}"
    );
    assert!(matches!(
        SigningKey::from_text(&secret, None),
        Err(keel_sign::Error::PasswordNeeded)
    ));
}

#[test]
fn tampering_is_caught_by_keel_and_by_minisign() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    fs_err::write(dir.path().join("k.pub"), key.public_key().to_text()).unwrap();
    fs_err::write(dir.path().join("file"), "payload\n").unwrap();
    let signature = key.sign(&b"payload\n"[..], "file=file", "c").unwrap();
    fs_err::write(dir.path().join("file.minisig"), signature.to_text()).unwrap();
    minisign(&["-Vm", "file", "-p", "k.pub"], dir.path(), "").success();

    // One flipped byte in the file.
    fs_err::write(dir.path().join("file"), "payloaD\n").unwrap();
    assert_ne!(
        minisign(&["-Vm", "file", "-p", "k.pub"], dir.path(), "").code,
        0
    );
    let err = verify_file(
        &key.public_key(),
        &dir.path().join("file"),
        &dir.path().join("file.minisig"),
    )
    .unwrap_err();
    assert!(matches!(err, keel_verify::Error::BadSignature), "{err}");
    fs_err::write(dir.path().join("file"), "payload\n").unwrap();

    // An edited trusted comment.
    let edited = signature.to_text().replace("file=file", "file=evil");
    fs_err::write(dir.path().join("file.minisig"), &edited).unwrap();
    assert_ne!(
        minisign(&["-Vm", "file", "-p", "k.pub"], dir.path(), "").code,
        0
    );
    let err = verify_file(
        &key.public_key(),
        &dir.path().join("file"),
        &dir.path().join("file.minisig"),
    )
    .unwrap_err();
    assert!(
        matches!(err, keel_verify::Error::BadTrustedComment),
        "{err}"
    );

    // Another key.
    let other = SigningKey::generate().unwrap();
    fs_err::write(dir.path().join("file.minisig"), signature.to_text()).unwrap();
    let err = verify_file(
        &other.public_key(),
        &dir.path().join("file"),
        &dir.path().join("file.minisig"),
    )
    .unwrap_err();
    assert!(
        matches!(err, keel_verify::Error::KeyMismatch { .. }),
        "{err}"
    );

    // A truncated signature file.
    let text = signature.to_text();
    fs_err::write(dir.path().join("file.minisig"), &text[..text.len() / 2]).unwrap();
    let err = verify_file(
        &key.public_key(),
        &dir.path().join("file"),
        &dir.path().join("file.minisig"),
    )
    .unwrap_err();
    assert!(
        matches!(err, keel_verify::Error::MalformedSignature { .. }),
        "{err}"
    );
}

/// The scrypt limits stored in an encrypted minisign secret key file (opslimit, memlimit).
fn kdf_limits(key_file: &str) -> (u64, u64) {
    use base64::Engine as _;
    let line = key_file.lines().nth(1).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(line)
        .unwrap();
    assert_eq!(&bytes[2..4], b"Sc", "not an scrypt-encrypted key");
    (
        u64::from_le_bytes(bytes[38..46].try_into().unwrap()),
        u64::from_le_bytes(bytes[46..54].try_into().unwrap()),
    )
}

/// keel protects its keys exactly as the `minisign` tool does (its "sensitive" scrypt limits,
/// 1 GiB of memory). The `minisign` crate writes keys with 32 MiB, one reason keel writes
/// minisign's formats itself (see ARCHITECTURE.md).
#[test]
fn encrypted_keys_use_the_minisign_tools_key_derivation_limits() {
    let dir = tempfile::tempdir().unwrap();
    minisign(
        &["-G", "-p", "m.pub", "-s", "m.key"],
        dir.path(),
        "correct horse\ncorrect horse\n",
    )
    .success();
    let tool = kdf_limits(&fs_err::read_to_string(dir.path().join("m.key")).unwrap());
    let key = SigningKey::generate().unwrap();
    let keel = kdf_limits(key.to_text(Some(&password())).unwrap().expose());
    assert_eq!(keel, tool);
    assert_eq!(keel, (33_554_432, 1_073_741_824));
}

/// Ed25519 signatures are deterministic, so signing the same file twice gives the same bytes
/// and a signed release is reproducible. (The `minisign` crate mixes random bytes into each
/// signature, another reason keel signs itself.)
#[test]
fn signatures_are_deterministic() {
    let key = SigningKey::generate().unwrap();
    let once = key.sign(&b"release"[..], "file=x", "c").unwrap().to_text();
    let twice = key.sign(&b"release"[..], "file=x", "c").unwrap().to_text();
    assert_eq!(once, twice);
}
