//! keel-archive against the real `tar` and `unzip`: what they list and extract is what was
//! written, and the same inputs give the same bytes.
#![allow(clippy::unwrap_used)] // Test helpers fail the test on unexpected errors.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use keel_archive::{Entry, write_archive};
use keel_schema::ArchiveFormat;
use keel_test::{require_tool, run_ok};

const MTIME: u64 = 1_714_564_800; // 2024-05-01 12:00:00 UTC

fn entries(dir: &Path) -> Vec<Entry> {
    let binary = dir.join("input-bin");
    fs_err::write(&binary, vec![0x7fu8; 200_000]).unwrap();
    let long_name = format!(
        "app-1.0.0-x86_64-unknown-linux-gnu/docs/{}.md",
        "n".repeat(120)
    );
    vec![
        Entry::file("app-1.0.0-x86_64-unknown-linux-gnu/app", &binary, true),
        Entry::bytes(
            "app-1.0.0-x86_64-unknown-linux-gnu/README.md",
            b"# app\n".to_vec(),
            false,
        ),
        Entry::bytes(long_name, b"long\n".to_vec(), false),
    ]
}

fn extract(format: ArchiveFormat, archive: &Path, into: &Path) {
    fs_err::create_dir_all(into).unwrap();
    let mut command = match format {
        ArchiveFormat::Zip => {
            let mut c = Command::new(require_tool("unzip"));
            c.arg("-q").arg(archive).arg("-d").arg(into);
            c
        }
        _ => {
            let flag = match format {
                ArchiveFormat::TarGz => "-z",
                ArchiveFormat::TarXz => {
                    require_tool("xz");
                    "-J"
                }
                _ => {
                    require_tool("zstd");
                    "--zstd"
                }
            };
            let mut c = Command::new(require_tool("tar"));
            c.arg(flag).arg("-xf").arg(archive).arg("-C").arg(into);
            c
        }
    };
    run_ok(&mut command);
}

#[test]
fn real_tools_extract_what_was_written_in_every_format() {
    for format in ArchiveFormat::ALL {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("app.{}", format.extension()));
        let written = write_archive(format, &entries(dir.path()), MTIME, &out).unwrap();
        assert_eq!(
            written.size,
            fs_err::metadata(&out).unwrap().len(),
            "{format}"
        );
        assert_eq!(
            written.sha256,
            keel_verify::sha256_file(&out).unwrap().0,
            "{format}"
        );

        let unpacked = dir.path().join("unpacked");
        extract(format, &out, &unpacked);
        let top = unpacked.join("app-1.0.0-x86_64-unknown-linux-gnu");
        let bin = fs_err::metadata(top.join("app")).unwrap();
        assert_eq!(bin.len(), 200_000, "{format}");
        assert_eq!(
            bin.permissions().mode() & 0o777,
            0o755,
            "{format}: binary mode"
        );
        let readme = fs_err::metadata(top.join("README.md")).unwrap();
        assert_eq!(
            readme.permissions().mode() & 0o777,
            0o644,
            "{format}: document mode"
        );
        assert_eq!(
            fs_err::read_to_string(top.join("README.md")).unwrap(),
            "# app\n"
        );
        let long = top.join("docs").join(format!("{}.md", "n".repeat(120)));
        assert_eq!(
            fs_err::read_to_string(long).unwrap(),
            "long\n",
            "{format}: long name"
        );
        use std::os::unix::fs::MetadataExt;
        assert_eq!(readme.mtime() as u64, MTIME, "{format}: mtime");
    }
}

#[test]
fn tar_listing_shows_root_owner_sorted_entries_and_one_top_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.tar.gz");
    write_archive(ArchiveFormat::TarGz, &entries(dir.path()), MTIME, &out).unwrap();
    let listing = run_ok(
        Command::new(require_tool("tar"))
            .args(["--numeric-owner", "--utc", "-tvzf"])
            .arg(&out),
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 5, "{listing}");
    assert!(lines[0].starts_with("drwxr-xr-x 0/0"), "{listing}");
    assert!(
        lines[0].ends_with("2024-05-01 12:00 app-1.0.0-x86_64-unknown-linux-gnu/"),
        "{listing}"
    );
    assert!(lines.iter().all(|l| l.contains(" 0/0 ")), "{listing}");
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn gzip_header_has_no_time_and_no_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.tar.gz");
    write_archive(ArchiveFormat::TarGz, &entries(dir.path()), MTIME, &out).unwrap();
    let bytes = fs_err::read(&out).unwrap();
    assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
    assert_eq!(bytes[3] & 0x08, 0, "FNAME flag set");
    assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "MTIME not zero");
    let gzip = run_ok(Command::new(require_tool("gzip")).arg("-lv").arg(&out));
    assert!(String::from_utf8_lossy(&gzip.stdout).contains("app.tar"));
}

#[test]
fn same_inputs_give_same_bytes_in_every_format() {
    for format in ArchiveFormat::ALL {
        let dir = tempfile::tempdir().unwrap();
        let list = entries(dir.path());
        let a = dir.path().join(format!("a.{}", format.extension()));
        let b = dir.path().join(format!("b.{}", format.extension()));
        let first = write_archive(format, &list, MTIME, &a).unwrap();
        // A different order of the same entries and a later source file time change nothing.
        let mut reversed = list.clone();
        reversed.reverse();
        let second = write_archive(format, &reversed, MTIME, &b).unwrap();
        assert_eq!(first, second, "{format}");
        assert_eq!(
            fs_err::read(&a).unwrap(),
            fs_err::read(&b).unwrap(),
            "{format}"
        );
    }
}

#[test]
fn an_existing_output_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.tar.gz");
    fs_err::write(&out, b"precious").unwrap();
    let err = write_archive(ArchiveFormat::TarGz, &entries(dir.path()), MTIME, &out).unwrap_err();
    assert!(err.to_string().contains("app.tar.gz"), "{err}");
    assert_eq!(fs_err::read(&out).unwrap(), b"precious");
}

#[test]
fn a_missing_source_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.zip");
    let missing = dir.path().join("no-such-binary");
    let err = write_archive(
        ArchiveFormat::Zip,
        &[Entry::file("a/app", &missing, true)],
        MTIME,
        &out,
    )
    .unwrap_err();
    assert!(
        matches!(err, keel_archive::Error::ReadSource { ref path, .. } if *path == missing),
        "{err}"
    );
}

#[test]
fn extraction_returns_what_was_written_in_every_format() {
    for format in ArchiveFormat::ALL {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("app.{}", format.extension()));
        write_archive(format, &entries(dir.path()), MTIME, &out).unwrap();
        let dest = dir.path().join("x");
        let files = keel_archive::extract(format, &out, &dest, 10 << 20).unwrap();
        assert_eq!(files.len(), 3, "{format}: {files:?}");
        let bin = dest.join("app-1.0.0-x86_64-unknown-linux-gnu/app");
        assert_eq!(
            fs_err::read(&bin).unwrap(),
            vec![0x7fu8; 200_000],
            "{format}"
        );
        assert_eq!(
            fs_err::metadata(&bin).unwrap().permissions().mode() & 0o777,
            0o755,
            "{format}"
        );
        let readme = dest.join("app-1.0.0-x86_64-unknown-linux-gnu/README.md");
        assert_eq!(
            fs_err::metadata(&readme).unwrap().permissions().mode() & 0o777,
            0o644,
            "{format}"
        );
    }
}

/// Builds a hostile archive with python's own tarfile or zipfile module.
fn hostile(dir: &Path, kind: &str) -> (ArchiveFormat, std::path::PathBuf) {
    let script = r#"
import io, sys, tarfile, zipfile
kind, out = sys.argv[1], sys.argv[2]
def tar(entries):
    with tarfile.open(out, "w:gz") as t:
        for name, typ, link in entries:
            info = tarfile.TarInfo(name)
            info.type = typ
            info.linkname = link
            data = b"" if typ != tarfile.REGTYPE else b"pwned\n"
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
if kind == "dotdot":
    tar([("app/ok.txt", tarfile.REGTYPE, ""), ("app/../../evil.txt", tarfile.REGTYPE, "")])
elif kind == "absolute":
    tar([("/tmp/keel-evil-absolute.txt", tarfile.REGTYPE, "")])
elif kind == "symlink":
    tar([("app/link", tarfile.SYMTYPE, "/etc"), ("app/link/passwd", tarfile.REGTYPE, "")])
elif kind == "hardlink":
    tar([("app/hard", tarfile.LNKTYPE, "/etc/passwd")])
elif kind == "zip-dotdot":
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("../evil.txt", "pwned\n")
elif kind == "pax-bomb":
    # A PAX header with 4 MiB of attributes before a small file.
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo("app/small")
        info.pax_headers = {"comment": "x" * (4 << 20)}
        info.size = 3
        t.addfile(info, io.BytesIO(b"ok\n"))
elif kind == "longname-bomb":
    # A GNU long name of 4 MiB.
    with tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT) as t:
        info = tarfile.TarInfo("app/" + "n" * (4 << 20))
        info.size = 0
        t.addfile(info, io.BytesIO(b""))
elif kind in ("drive", "drive-relative", "stream", "control"):
    name = {"drive": "C:/evil.txt", "drive-relative": "C:evil.txt",
            "stream": "app/ok.txt:hidden", "control": "app/a\x1bb"}[kind]
    tar([(name, tarfile.REGTYPE, "")])
elif kind == "zip-drive":
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("C:/evil.txt", "pwned\n")
elif kind == "bomb":
    with tarfile.open(out, "w:gz") as t:
        data = b"\0" * (4 << 20)
        info = tarfile.TarInfo("app/big")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
"#;
    let (format, name) = if kind.starts_with("zip") {
        (ArchiveFormat::Zip, format!("{kind}.zip"))
    } else {
        (ArchiveFormat::TarGz, format!("{kind}.tar.gz"))
    };
    let out = dir.join(name);
    run_ok(
        Command::new(require_tool("python3"))
            .arg("-c")
            .arg(script)
            .arg(kind)
            .arg(&out),
    );
    (format, out)
}

#[test]
fn hostile_archives_are_refused_and_nothing_lands_outside() {
    for kind in [
        "dotdot",
        "absolute",
        "symlink",
        "hardlink",
        "zip-dotdot",
        "drive",
        "drive-relative",
        "stream",
        "control",
        "zip-drive",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (format, archive) = hostile(dir.path(), kind);
        let inner = dir.path().join("a/b");
        fs_err::create_dir_all(&inner).unwrap();
        let dest = inner.join("dest");
        let err = keel_archive::extract(format, &archive, &dest, 10 << 20).unwrap_err();
        assert!(
            matches!(err, keel_archive::Error::UnsafeEntry { .. }),
            "{kind}: {err}"
        );
        assert!(
            err.to_string().contains("refusing to extract"),
            "{kind}: {err}"
        );
        assert!(
            !dir.path().join("a/evil.txt").exists() && !dir.path().join("evil.txt").exists(),
            "{kind}"
        );
        assert!(!Path::new("/tmp/keel-evil-absolute.txt").exists(), "{kind}");
    }
}

#[test]
fn headers_and_long_names_count_against_the_cap() {
    for kind in ["pax-bomb", "longname-bomb"] {
        let dir = tempfile::tempdir().unwrap();
        let (format, archive) = hostile(dir.path(), kind);
        let err =
            keel_archive::extract(format, &archive, &dir.path().join("dest"), 1 << 20).unwrap_err();
        assert!(
            matches!(err, keel_archive::Error::TooLarge { .. }),
            "{kind}: {err}"
        );
    }
    // With room for its header, the PAX archive extracts.
    let dir = tempfile::tempdir().unwrap();
    let (format, archive) = hostile(dir.path(), "pax-bomb");
    let written = keel_archive::extract(format, &archive, &dir.path().join("dest"), 64 << 20);
    assert_eq!(written.unwrap(), ["app/small"]);
}

#[test]
fn an_archive_larger_than_the_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (format, archive) = hostile(dir.path(), "bomb");
    let err =
        keel_archive::extract(format, &archive, &dir.path().join("dest"), 1 << 20).unwrap_err();
    assert!(matches!(err, keel_archive::Error::TooLarge { .. }), "{err}");
}

#[test]
fn links_are_written_as_links_and_keels_extraction_refuses_them() {
    for format in [ArchiveFormat::TarGz, ArchiveFormat::Zip] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(format!("src.{}", format.extension()));
        let long_target = format!("{}/README.md", "d".repeat(120));
        let entries = [
            Entry::bytes("src-1.0.0/README.md", b"# src\n".to_vec(), false),
            Entry::symlink("src-1.0.0/docs/README.md", "../README.md"),
            Entry::symlink("src-1.0.0/long", long_target.clone()),
        ];
        write_archive(format, &entries, MTIME, &out).unwrap();
        let again = dir.path().join(format!("again.{}", format.extension()));
        write_archive(format, &entries, MTIME, &again).unwrap();
        assert_eq!(fs_err::read(&out).unwrap(), fs_err::read(&again).unwrap());

        let unpacked = dir.path().join("unpacked");
        extract(format, &out, &unpacked);
        let top = unpacked.join("src-1.0.0");
        let link = top.join("docs/README.md");
        assert!(
            fs_err::symlink_metadata(&link).unwrap().is_symlink(),
            "{format}"
        );
        assert_eq!(
            fs_err::read_link(&link).unwrap(),
            Path::new("../README.md"),
            "{format}"
        );
        assert_eq!(
            fs_err::read_to_string(&link).unwrap(),
            "# src\n",
            "{format}"
        );
        assert_eq!(
            fs_err::read_link(top.join("long")).unwrap(),
            Path::new(&long_target),
            "{format}"
        );

        let err =
            keel_archive::extract(format, &out, &dir.path().join("keel"), 10 << 20).unwrap_err();
        assert!(
            matches!(err, keel_archive::Error::UnsafeEntry { .. }),
            "{format}: {err}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("src.tar.gz");
    write_archive(
        ArchiveFormat::TarGz,
        &[Entry::symlink("src-1.0.0/link", "target")],
        MTIME,
        &out,
    )
    .unwrap();
    let listing = run_ok(
        Command::new(require_tool("tar"))
            .args(["--numeric-owner", "-tvzf"])
            .arg(&out),
    );
    let listing = String::from_utf8(listing.stdout).unwrap();
    let line = listing.lines().last().unwrap();
    assert!(line.starts_with("lrwxrwxrwx 0/0 "), "{line}");
    assert!(line.ends_with("src-1.0.0/link -> target"), "{line}");
}
