//! Extraction of hostile archives: whatever the bytes, extraction ends (an error or the
//! files), writes nothing outside its folder, and never more than the cap.
#![no_main]

use keel_schema::ArchiveFormat;
use libfuzzer_sys::fuzz_target;

const CAP: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    let format = match which % 5 {
        0 => Some(ArchiveFormat::TarGz),
        1 => Some(ArchiveFormat::TarXz),
        2 => Some(ArchiveFormat::TarZst),
        3 => Some(ArchiveFormat::Zip),
        _ => None,
    };
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    std::fs::write(&archive, bytes).unwrap();
    let dest = dir.path().join("dest");
    let result = match format {
        Some(format) => keel_archive::extract(format, &archive, &dest, CAP),
        None => keel_archive::extract_tar(&archive, &dest, CAP),
    };
    // Nothing lands beside the destination: the folder holds the archive and `dest` only.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() <= 2, "{names:?}");
    if let Ok(written) = result {
        let mut total = 0;
        for path in &written {
            assert!(
                !path.starts_with('/') && !path.split('/').any(|p| p == ".."),
                "{path}"
            );
            let on_disk = dest.join(path);
            let meta = std::fs::symlink_metadata(&on_disk).unwrap();
            assert!(meta.is_file() || meta.is_dir(), "{path}");
            total += meta.len();
        }
        assert!(total <= CAP);
    }
});
