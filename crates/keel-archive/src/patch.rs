//! Patches between releases, for delta updates: zstd with the old release's executables as a
//! reference prefix (what `zstd --patch-from` does), long-distance matching on, rebuilding the
//! new archive's uncompressed tar stream.
//!
//! A patch is made against the uncompressed tar because compressed streams differ from the
//! first changed byte on; zstd with a reference prefix was chosen over bsdiff for its apply
//! speed and because keel already links zstd (figures in the README).

use std::io::{self, Read};
#[cfg(feature = "write")]
use std::path::Path;

#[cfg(feature = "write")]
use keel_schema::ArchiveFormat;

use crate::Error;

/// The name of the patch format, as store metadata records it.
pub const PATCH_FORMAT: &str = "zstd-ref-prefix";

/// The largest window a patch may ask for: 2^30 bytes (1 GiB of base and output together).
const MAX_WINDOW_LOG: u32 = 30;

#[cfg(feature = "write")]
/// The window that lets a patch refer back over the whole of `base` while writing `len`
/// bytes of output.
fn window_log(base: usize, len: usize) -> u32 {
    let total = (base + len).max(1 << 10) as u64;
    (64 - (total - 1).leading_zeros()).clamp(10, MAX_WINDOW_LOG)
}

fn patch_err(what: &'static str) -> impl FnOnce(io::Error) -> Error {
    move |source| Error::Patch { what, source }
}

/// A patch that turns `base` into `new`, at zstd `level` (1 to 22; 19 is a good trade).
#[cfg(feature = "write")]
pub fn make_patch(base: &[u8], new: &[u8], level: i32) -> Result<Vec<u8>, Error> {
    use std::io::Write;
    let window = window_log(base.len(), new.len());
    if window >= MAX_WINDOW_LOG {
        return Err(Error::Patch {
            what: "make a patch",
            source: io::Error::other("the files are too large to patch"),
        });
    }
    let mut encoder = zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), level, base)
        .map_err(patch_err("start a patch"))?;
    encoder
        .long_distance_matching(true)
        .map_err(patch_err("configure a patch"))?;
    encoder
        .window_log(window)
        .map_err(patch_err("configure a patch"))?;
    encoder
        .set_pledged_src_size(Some(new.len() as u64))
        .map_err(patch_err("configure a patch"))?;
    encoder
        .include_contentsize(true)
        .map_err(patch_err("configure a patch"))?;
    encoder.write_all(new).map_err(patch_err("make a patch"))?;
    encoder.finish().map_err(patch_err("finish a patch"))
}

/// Applies `patch` to `base`, giving at most `max_output` bytes.
pub fn apply_patch(base: &[u8], patch: &[u8], max_output: u64) -> Result<Vec<u8>, Error> {
    let mut decoder = zstd::stream::read::Decoder::with_ref_prefix(patch, base)
        .map_err(patch_err("start applying a patch"))?;
    decoder
        .window_log_max(MAX_WINDOW_LOG)
        .map_err(patch_err("start applying a patch"))?;
    let mut out = Vec::new();
    decoder
        .take(max_output.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(patch_err("apply a patch"))?;
    if out.len() as u64 > max_output {
        return Err(Error::Patch {
            what: "apply a patch",
            source: io::Error::other("the patch gives more than the size limit allows"),
        });
    }
    Ok(out)
}

/// The uncompressed tar stream inside a `tar.*` archive (at most `max_bytes`); `None` for a
/// zip, whose entries are compressed one by one.
#[cfg(feature = "write")]
pub fn tar_stream(
    format: ArchiveFormat,
    archive: &Path,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, Error> {
    let read_err = |source| Error::ReadSource {
        path: archive.to_owned(),
        source,
    };
    let file = fs_err::File::open(archive).map_err(read_err)?;
    let Some(reader) = crate::extract::tar_reader(format, file, archive)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    reader
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(read_err)?;
    if out.len() as u64 > max_bytes {
        return Err(Error::TooLarge {
            archive: archive.to_owned(),
        });
    }
    Ok(Some(out))
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;

    #[test]
    fn a_patch_rebuilds_the_new_bytes_from_the_base_and_is_small() {
        let base: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        let mut new = base.clone();
        new[1234] ^= 0xff;
        new.extend_from_slice(b"a new tail");
        let patch = make_patch(&base, &new, 19).unwrap();
        assert!(patch.len() < new.len() / 50, "{} bytes", patch.len());
        assert_eq!(apply_patch(&base, &patch, new.len() as u64).unwrap(), new);
        // Another base gives other bytes or an error, never the new file.
        let mut other = base.clone();
        other[99] ^= 1;
        assert_ne!(
            apply_patch(&other, &patch, new.len() as u64).ok(),
            Some(new.clone())
        );
        assert!(apply_patch(&base, &patch, new.len() as u64 - 1).is_err());
    }
}
