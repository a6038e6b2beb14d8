//! The network side of the store client (feature `store`): opening a store through keel's
//! TUF client, listing and downloading releases, delta patches.

use std::path::{Path, PathBuf};

use keel_schema::TargetTriple;
use keel_schema::receipt::Receipt;
use keel_schema::store::{PATCH_CUSTOM_KEY, STORE_CUSTOM_KEY, StorePatch, StoreTarget};

use super::{
    Available, ClientOptions, Delivery, Fetched, StoreFailure, executables, redact, unpack,
};
use crate::Error;
use crate::select::{Request, Selection};
use crate::tuf::{Client, TufError};

/// The most an archive may unpack to.
const MAX_UNPACKED: u64 = 4 << 30;

/// Whether `url` may be used: `https://` and `file://` always, plain `http://` only on a
/// loopback address (this machine) unless `allow_http`.
fn check_scheme(url: &url::Url, allow_http: bool) -> Result<(), Error> {
    if keel_http::plain_http_allowed(url, allow_http) {
        Ok(())
    } else {
        Err(Error::PlainHttp {
            url: redact(url.as_str()),
        })
    }
}

/// How far the clock may step back behind the last read before keel refuses: NTP corrections
/// and suspended machines move clocks back by seconds, not hours.
const CLOCK_TOLERANCE_SECS: u64 = 3600;

/// Refuses a clock set well back behind the last time the store was read (a freeze attack's
/// help: an old clock makes expired metadata look fresh), within [`CLOCK_TOLERANCE_SECS`].
///
/// The record lives beside the trusted-metadata folder (`<folder>.last-read`, seconds since
/// 1970), because that folder holds metadata only.
struct Clock {
    record: PathBuf,
    now: u64,
    last_read: u64,
}

impl Clock {
    fn check(trusted_dir: &Path) -> Result<Clock, Error> {
        let name = trusted_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let record = keel_fs::parent(trusted_dir).join(format!("{name}.last-read"));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last_read = fs_err::read_to_string(&record)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_add(CLOCK_TOLERANCE_SECS) < last_read {
            return Err(Error::ClockBehind {
                now,
                last_read,
                record,
            });
        }
        Ok(Clock {
            record,
            now,
            last_read,
        })
    }

    /// After a successful read: keeps the latest time.
    fn done(self) -> Result<(), Error> {
        if self.now > self.last_read {
            keel_fs::write_atomic(&self.record, self.now.to_string().as_bytes(), None)?;
        }
        Ok(())
    }
}

/// A store, with its metadata fetched and verified.
pub struct Store {
    client: std::sync::Mutex<Client>,
    url: String,
}

fn store_err(what: &'static str, url: &str) -> impl FnOnce(TufError) -> Error {
    let url = redact(url);
    move |source| Error::Store {
        what,
        url,
        failure: source.failure(),
        source: Box::new(source),
    }
}

fn join(base: &str, path: &str) -> Result<url::Url, Error> {
    let base = if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    };
    url::Url::parse(&base)
        .and_then(|u| u.join(path))
        .map_err(|source| Error::BadUrl {
            url: redact(&base),
            source,
        })
}

impl Store {
    /// Fetches and verifies the store's metadata, starting from `root` (the trusted root, or
    /// the newest root trusted before) and refusing metadata older than what `trusted_dir`
    /// already holds; the newly trusted metadata is saved there.
    pub fn open(
        url: &str,
        root: &[u8],
        trusted_dir: &Path,
        options: &ClientOptions,
    ) -> Result<Store, Error> {
        check_scheme(&join(url, "")?, options.allow_http)?;
        Store::open_urls(
            &join(url, "metadata/")?,
            &join(url, "targets/")?,
            root,
            trusted_dir,
            options,
        )
    }

    /// [`Store::open`] for a repository whose metadata and targets live at any two URLs (as
    /// the TUF conformance suite serves them).
    pub fn open_urls(
        metadata_url: &url::Url,
        targets_url: &url::Url,
        root: &[u8],
        trusted_dir: &Path,
        options: &ClientOptions,
    ) -> Result<Store, Error> {
        check_scheme(metadata_url, options.allow_http)?;
        check_scheme(targets_url, options.allow_http)?;
        let url = metadata_url.as_str();
        keel_fs::create_dir(trusted_dir)?;
        let clock = Clock::check(trusted_dir)?;
        let now = i64::try_from(clock.now).unwrap_or(i64::MAX);
        let root = newest_root(root, trusted_dir);
        let mut client = Client::new(&root, trusted_dir, metadata_url, targets_url, options, now)
            .map_err(store_err("trust the root of", url))?;
        let root_path = trusted_dir.join("root.json");
        if !root_path.exists() {
            keel_fs::write_atomic(&root_path, &root, None)?;
        }
        client
            .refresh()
            .map_err(store_err("verify the metadata of", url))?;
        clock.done()?;
        Ok(Store {
            client: std::sync::Mutex::new(client),
            url: url.to_owned(),
        })
    }

    fn client(&self) -> std::sync::MutexGuard<'_, Client> {
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every release the store describes, oldest first; files without keel's metadata (or
    /// with a version that is not semver) are left out.
    pub fn all_releases(&self) -> Vec<Available> {
        let client = self.client();
        let mut found: Vec<Available> = client
            .top_level_targets()
            .filter_map(|(name, info)| {
                let custom = info.custom.as_ref()?.get(STORE_CUSTOM_KEY)?;
                let target: StoreTarget = serde_json::from_value(custom.clone()).ok()?;
                Available::from_store_target(name, info.length, target)
            })
            .collect();
        found.sort_by(|a, b| a.version.cmp(&b.version).then(a.name.cmp(&b.name)));
        found
    }

    /// The releases of `app` for `target` on `channel` in a format this build extracts
    /// (see [`keel_archive::supports`]), oldest first.
    pub fn releases(&self, app: &str, target: &TargetTriple, channel: &str) -> Vec<Available> {
        self.all_releases()
            .into_iter()
            .filter(|r| r.app == app && &r.target == target && r.channel == channel)
            .filter(|r| keel_archive::supports(r.format))
            .collect()
    }

    /// The release a request asks for: see [`crate::select`].
    pub fn select(&self, request: &Request<'_>) -> Selection {
        crate::select::select(
            self.releases(request.app, request.target, request.channel),
            request,
        )
    }

    /// The apps and targets the store has releases of, for messages.
    pub fn catalogue(&self) -> Vec<String> {
        let mut apps: Vec<String> = self
            .all_releases()
            .iter()
            .map(|r| format!("{} {} ({}, {})", r.app, r.version, r.target, r.channel))
            .collect();
        apps.sort();
        apps
    }

    /// Downloads `release` to `dest` (a new file), verified against the signed length and
    /// hashes as it streams; a partial or wrong file is removed.
    pub fn download(&self, release: &Available, dest: &Path) -> Result<(), Error> {
        self.download_target(&release.name, dest)
    }

    fn find(&self, client: &mut Client, target: &str) -> Result<crate::tuf::TargetFile, Error> {
        client
            .target(target)
            .map_err(store_err("look up a target in", &self.url))?
            .ok_or_else(|| Error::NotInStore {
                name: target.to_owned(),
            })
    }

    /// Downloads the target `name` (found through the store's delegations) to `dest` (a new
    /// file), verified as it streams.
    pub fn download_target(&self, target: &str, dest: &Path) -> Result<(), Error> {
        let mut client = self.client();
        let info = self.find(&mut client, target)?;
        let result = (|| {
            use std::io::Write;
            let io = |what| crate::io_err(dest, what);
            let mut file = fs_err::File::create_new(dest).map_err(io("create"))?;
            let mut write_failed = None;
            let downloaded = client.download(target, &info, &mut |chunk| {
                file.write_all(chunk).map_err(|err| {
                    let tuf = TufError::new(StoreFailure::Other, "cannot write the download");
                    write_failed = Some(err);
                    tuf
                })
            });
            if let Some(err) = write_failed {
                return Err(io("write")(err));
            }
            downloaded.map_err(store_err("download from", &self.url))?;
            file.sync_all().map_err(io("flush"))?;
            Ok(())
        })();
        if result.is_err() {
            let _ = fs_err::remove_file(dest);
        }
        result
    }

    /// Makes `dest` the target `target`: a file already there with the signed length and
    /// hashes is kept (returns `false`); otherwise the target is downloaded beside it,
    /// verified as it streams, and renamed over it (returns `true`). A refused download
    /// leaves `dest` as it was.
    pub fn download_target_to(&self, target: &str, dest: &Path) -> Result<bool, Error> {
        let info = {
            let mut client = self.client();
            self.find(&mut client, target)?
        };
        if crate::tuf::file_matches(dest, &info) {
            return Ok(false);
        }
        let file = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = keel_fs::parent(dest).join(format!(".{file}.keel-download"));
        keel_fs::remove_if_there(&temp)?;
        self.download_target(target, &temp)?;
        fs_err::rename(&temp, dest).map_err(crate::io_err(dest, "replace"))?;
        keel_fs::sync_dir(keel_fs::parent(dest))?;
        Ok(true)
    }

    /// The root the client trusts now (it may have been rotated since install).
    pub fn trusted_root(trusted_dir: &Path) -> Option<Vec<u8>> {
        fs_err::read(trusted_dir.join("root.json")).ok()
    }
}

impl Store {
    /// Downloads and unpacks `release` into a new folder below `work_dir`, returning the
    /// folder (removed when dropped) and the release ready for [`crate::AppHome::update`].
    pub fn fetch(
        &self,
        release: &Available,
        work_dir: &Path,
    ) -> Result<(Fetched, crate::NewRelease), Error> {
        let dir = Fetched::new(work_dir)?;
        let archive = dir.0.join(local_name(&release.name, "archive"));
        self.download(release, &archive)?;
        let binaries = unpack(release, &archive, &dir.0.join("unpacked"), MAX_UNPACKED)?;
        Ok((dir, release.new_release(binaries)))
    }
}

impl Store {
    /// The patch that rebuilds `release` from an install of `from_version`, if the store
    /// has one: its target name, length and description.
    pub fn patch_for(
        &self,
        release: &Available,
        from_version: &str,
    ) -> Option<(String, u64, StorePatch)> {
        let client = self.client();
        client.top_level_targets().find_map(|(name, info)| {
            let custom = info.custom.as_ref()?.get(PATCH_CUSTOM_KEY)?;
            let patch: StorePatch = serde_json::from_value(custom.clone()).ok()?;
            (patch.archive == release.name
                && patch.from_version == from_version
                && patch.format == keel_archive::PATCH_FORMAT)
                .then(|| (name.clone(), info.length, patch))
        })
    }

    /// [`Store::fetch`] for an update of the install `receipt` describes: when the store
    /// has a patch from the installed version and the installed executables are exactly its
    /// base (checked by sha256), downloads the patch and rebuilds the release from it; the
    /// result is used only when it matches the signed sha256 and length. On any failure the
    /// full archive is downloaded instead, and [`Delivery::FellBack`] says why.
    pub fn fetch_update(
        &self,
        release: &Available,
        work_dir: &Path,
        receipt: &Receipt,
    ) -> Result<(Fetched, crate::NewRelease, Delivery), Error> {
        let Some((name, length, patch)) = self.patch_for(release, &receipt.version) else {
            let (dir, new) = self.fetch(release, work_dir)?;
            return Ok((dir, new, Delivery::Full));
        };
        match self.fetch_patched(release, work_dir, receipt, &name, &patch) {
            Ok((dir, new)) => Ok((
                dir,
                new,
                Delivery::Patch {
                    name,
                    length,
                    archive_length: release.length,
                },
            )),
            Err(err) => {
                let (dir, new) = self.fetch(release, work_dir)?;
                Ok((
                    dir,
                    new,
                    Delivery::FellBack {
                        patch: name,
                        reason: err.with_causes(),
                    },
                ))
            }
        }
    }

    fn fetch_patched(
        &self,
        release: &Available,
        work_dir: &Path,
        receipt: &Receipt,
        name: &str,
        patch: &StorePatch,
    ) -> Result<(Fetched, crate::NewRelease), Error> {
        let unusable = |reason: String| Error::PatchUnusable { reason };
        // The base: the installed executables, in the order of their file names.
        let mut base = Vec::new();
        let bin_dir = Path::new(&receipt.bin_dir);
        for binary in receipt.binaries.keys() {
            let path = bin_dir.join(binary);
            let bytes = fs_err::read(&path).map_err(crate::io_err(&path, "read"))?;
            base.extend_from_slice(&bytes);
        }
        if base.len() as u64 != patch.base_length
            || keel_verify::sha256_bytes(&base).to_hex() != patch.base_sha256
        {
            return Err(unusable(
                "the installed executables are not the patch's base (changed since they were installed?)".into(),
            ));
        }
        let dir = Fetched::new(work_dir)?;
        let patch_path = dir.0.join(local_name(name, "patch"));
        self.download_target(name, &patch_path)?;
        let patch_bytes = fs_err::read(&patch_path).map_err(crate::io_err(&patch_path, "read"))?;
        if patch.output_length > MAX_UNPACKED {
            return Err(unusable(
                "the patch's output is larger than keel unpacks".into(),
            ));
        }
        let output = keel_archive::apply_patch(&base, &patch_bytes, patch.output_length).map_err(
            |source| Error::Archive {
                path: patch_path.clone(),
                source,
            },
        )?;
        if output.len() as u64 != patch.output_length
            || keel_verify::sha256_bytes(&output).to_hex() != patch.output_sha256
        {
            return Err(unusable(
                "the patched release does not match its signed sha256".into(),
            ));
        }
        let tar = dir.0.join("release.tar");
        keel_fs::write_new(&tar, &output)?;
        drop(output);
        let unpacked = dir.0.join("unpacked");
        keel_archive::extract_tar(&tar, &unpacked, MAX_UNPACKED).map_err(|source| {
            Error::Archive {
                path: tar.clone(),
                source,
            }
        })?;
        let binaries = executables(release, &unpacked)?;
        Ok((dir, release.new_release(binaries)))
    }
}

/// The newer (by version) of the root given and the one `trusted_dir` holds: a client never
/// starts from an older root than it trusted before.
fn newest_root(given: &[u8], trusted_dir: &Path) -> Vec<u8> {
    let version = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| v["signed"]["version"].as_u64())
    };
    match fs_err::read(trusted_dir.join("root.json")) {
        Ok(stored) if version(&stored) > version(given) => stored,
        _ => given.to_vec(),
    }
}

/// The name a downloaded target gets in its download folder: its own when that is one plain
/// file name, `fallback` otherwise. A signed target name is never a path on this machine.
fn local_name<'a>(target: &'a str, fallback: &'a str) -> &'a str {
    let plain = !target.is_empty()
        && target != "."
        && target != ".."
        && !target.contains(['/', '\\', '\0', ':']);
    if plain { target } else { fallback }
}

impl Fetched {
    /// A new, empty folder below `parent` (created if needed).
    fn new(parent: &Path) -> Result<Fetched, Error> {
        keel_fs::create_private_dir(parent)?;
        Ok(Fetched(unique_dir(parent)?))
    }
}

fn unique_dir(parent: &Path) -> Result<PathBuf, Error> {
    for n in 0..1000u32 {
        let dir = parent.join(format!("release-{}-{n}", std::process::id()));
        match fs_err::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(crate::io_err(&dir, "create")(err)),
        }
    }
    Err(crate::io_err(parent, "create a download folder in")(
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "no free folder name for a download",
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_target_name_is_a_local_file_name_only_when_plain() {
        assert_eq!(
            local_name("app-1.0.0.tar.gz", "archive"),
            "app-1.0.0.tar.gz"
        );
        for name in ["../x", "/etc/passwd", "a/b", "..", ".", "", "c:x", "a\\b"] {
            assert_eq!(local_name(name, "archive"), "archive", "{name}");
        }
    }

    #[test]
    fn the_newer_of_the_given_and_the_trusted_root_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let root = |v: u64| format!(r#"{{"signed":{{"version":{v}}}}}"#).into_bytes();
        assert_eq!(newest_root(&root(3), dir.path()), root(3));
        fs_err::write(dir.path().join("root.json"), root(5)).unwrap();
        assert_eq!(newest_root(&root(3), dir.path()), root(5));
        assert_eq!(newest_root(&root(7), dir.path()), root(7));
    }

    fn allowed(url: &str, allow_http: bool) -> bool {
        check_scheme(&url::Url::parse(url).unwrap(), allow_http).is_ok()
    }

    #[test]
    fn plain_http_is_allowed_on_this_machine_or_when_asked_for() {
        for url in [
            "https://store.example/",
            "file:///srv/store/",
            "http://127.0.0.1:8080/store/",
            "http://127.1.2.3/",
            "http://[::1]:80/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://store.localhost/",
        ] {
            assert!(allowed(url, false), "{url}");
        }
        for url in [
            "http://store.example/",
            "http://10.0.0.1/",
            "http://localhost.example/",
            "http://[::2]/",
        ] {
            assert!(!allowed(url, false), "{url}");
            assert!(allowed(url, true), "{url}");
        }
        let err = check_scheme(
            &url::Url::parse("http://user:secret@store.example/").unwrap(),
            false,
        )
        .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(err.hint().unwrap().contains("KEEL_ALLOW_HTTP=1"));
    }
}
