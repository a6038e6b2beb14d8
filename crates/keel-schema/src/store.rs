//! What a release store says about each release file, and how long its metadata stays valid.
//!
//! A store is a TUF repository; every archive in it is a TUF target whose `custom` metadata
//! holds, under [`STORE_CUSTOM_KEY`], a [`StoreTarget`]: written by `keel publish`, read by
//! `keel install`, `keel update` and apps that update themselves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArchiveFormat;
use crate::receipt::UpdateHooks;
use crate::target::TargetTriple;

/// The key of keel's section in a TUF target's `custom` metadata.
pub const STORE_CUSTOM_KEY: &str = "keel";

/// The key of a patch's section in its TUF target's `custom` metadata.
pub const PATCH_CUSTOM_KEY: &str = "keel-patch";

/// A delta-update patch in a store (`custom.keel-patch` of its TUF target): it rebuilds one
/// archive's uncompressed tar stream from the executables of an earlier version, as they are
/// installed.
///
/// The base is the earlier release's executables, read in the order of their file names and
/// concatenated. The output is checked against `output_sha256` and `output_length` before
/// it is used; both are signed with the rest of the targets metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StorePatch {
    /// The archive (target name) whose contents the patch rebuilds.
    pub archive: String,
    /// The version whose installed executables are the base.
    pub from_version: String,
    /// How the patch is applied (`zstd-ref-prefix`: zstd with the base as reference prefix).
    pub format: String,
    /// The base's sha256.
    pub base_sha256: String,
    /// The base's length in bytes.
    pub base_length: u64,
    /// The sha256 of the archive's uncompressed tar stream, what the patch gives.
    pub output_sha256: String,
    /// The length of that tar stream.
    pub output_length: u64,
}

/// keel's metadata of one release file in a store (`custom.keel` of its TUF target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StoreTarget {
    /// The app the archive holds.
    pub app: String,
    /// The app's version (semver).
    pub version: String,
    /// The platform the archive is built for.
    pub target: TargetTriple,
    /// The release channel it was published to (`stable`, `beta`, ...).
    pub channel: String,
    /// The archive's format.
    pub format: ArchiveFormat,
    /// The paths of the executables inside the archive.
    #[serde(default)]
    pub executables: Vec<String>,
    /// The commands the new binary runs when an update installs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<UpdateHooks>,
    /// The git commit the release was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// How long each role's metadata stays valid after it is signed, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// The root role (rarely re-signed).
    pub root_days: u32,
    /// The targets role (re-signed at every publish).
    pub targets_days: u32,
    /// The snapshot role.
    pub snapshot_days: u32,
    /// The timestamp role: the shortest, so that a frozen store is noticed soon; keep it
    /// fresh with `keel store refresh` on a schedule.
    pub timestamp_days: u32,
}

impl Expiry {
    /// keel's defaults: a year for the root, 90 days for targets, 30 for the snapshot and a
    /// week for the timestamp.
    pub const DEFAULT: Expiry = Expiry {
        root_days: 365,
        targets_days: 90,
        snapshot_days: 30,
        timestamp_days: 7,
    };
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_targets_written_by_older_keels_and_by_other_tools_are_read() {
        // Older keels wrote `null` for absent hooks and commits; other writers omit them.
        let older = r#"{"app":"a","version":"1.0.0","target":"x86_64-unknown-linux-gnu",
            "channel":"stable","format":"tar.gz","executables":["a-1.0.0/a"],
            "hooks":null,"commit":null}"#;
        let minimal = r#"{"app":"a","version":"1.0.0","target":"x86_64-unknown-linux-gnu",
            "channel":"stable","format":"tar.gz"}"#;
        let older: StoreTarget = serde_json::from_str(older).unwrap();
        let minimal: StoreTarget = serde_json::from_str(minimal).unwrap();
        assert_eq!(older.hooks, None);
        assert_eq!(older.executables, ["a-1.0.0/a"]);
        assert!(minimal.executables.is_empty());
        let written = serde_json::to_value(&older).unwrap();
        assert!(written.get("hooks").is_none() && written.get("commit").is_none());
    }
}
