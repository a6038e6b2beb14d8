//! Target triples, as rustc names them (`x86_64-unknown-linux-gnu`).

use std::fmt;
use std::str::FromStr;

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The triple of the target this program was compiled for: [`TargetTriple::host`] as text.
pub const HOST_TARGET: &str = env!("KEEL_HOST_TARGET");

/// A target triple: the platform a binary is built for, as rustc names it
/// (`aarch64-apple-darwin`, `x86_64-pc-windows-msvc`, `armv7-unknown-linux-gnueabihf`).
///
/// Releases take their triples from `rustc -vV` and the configuration; an installed program
/// knows its own from [`TargetTriple::host`], recorded when it was compiled, so both sides name
/// a platform the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TargetTriple(String);

impl JsonSchema for TargetTriple {
    fn schema_name() -> Cow<'static, str> {
        "TargetTriple".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A target triple, as rustc names it (`x86_64-unknown-linux-gnu`).",
            "type": "string",
            "pattern": "^[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+)+$"
        })
    }
}

/// A string that is not a target triple.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a target triple")]
pub struct InvalidTargetTriple(pub String);

/// The operating system family of a target, as far as packaging cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Os {
    /// Linux, with any libc.
    Linux,
    /// macOS.
    MacOs,
    /// Windows, with the MSVC or the GNU toolchain.
    Windows,
    /// FreeBSD.
    FreeBsd,
    /// Anything else.
    Other,
}

impl TargetTriple {
    /// Checks the form of a triple: at least two `-`-separated parts of ASCII letters, digits,
    /// `_` and `.`. Whether rustc knows it is for the toolchain to say.
    pub fn parse(text: &str) -> Result<TargetTriple, InvalidTargetTriple> {
        let parts: Vec<&str> = text.split('-').collect();
        let valid = parts.len() >= 2
            && parts.iter().all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
            });
        if valid {
            Ok(TargetTriple(text.to_owned()))
        } else {
            Err(InvalidTargetTriple(text.to_owned()))
        }
    }

    /// The triple of the machine this program runs on: the target it was compiled for, as cargo
    /// told its build script. Exact on every platform (`armv7-unknown-linux-gnueabihf`,
    /// `i686-pc-windows-gnu`, `riscv64gc-unknown-linux-gnu`), unlike a guess from
    /// `std::env::consts`.
    pub fn host() -> TargetTriple {
        TargetTriple(HOST_TARGET.to_owned())
    }

    /// The triple as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The CPU architecture: the first part (`x86_64`, `aarch64`, `armv7`).
    pub fn arch(&self) -> &str {
        self.0.split('-').next().unwrap_or_default()
    }

    /// The operating system family.
    pub fn os(&self) -> Os {
        let parts: Vec<&str> = self.0.split('-').collect();
        if parts.contains(&"windows") {
            Os::Windows
        } else if parts.contains(&"darwin") {
            Os::MacOs
        } else if parts.contains(&"linux") {
            Os::Linux
        } else if parts.contains(&"freebsd") {
            Os::FreeBsd
        } else {
            Os::Other
        }
    }

    /// The environment (the C library or ABI): the last part when there are four
    /// (`gnu`, `musl`, `msvc`, `gnueabihf`), else `None`.
    pub fn env(&self) -> Option<&str> {
        let parts: Vec<&str> = self.0.split('-').collect();
        (parts.len() >= 4).then(|| parts[parts.len() - 1])
    }

    /// Whether binaries for this target are Windows executables (`.exe`, zip archives).
    pub fn is_windows(&self) -> bool {
        self.os() == Os::Windows
    }

    /// `.exe` for Windows targets, nothing otherwise.
    pub fn exe_suffix(&self) -> &'static str {
        if self.is_windows() { ".exe" } else { "" }
    }

    /// `name` with this target's executable suffix.
    pub fn executable(&self, name: &str) -> String {
        format!("{name}{}", self.exe_suffix())
    }
}

impl fmt::Display for TargetTriple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TargetTriple {
    type Err = InvalidTargetTriple;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TargetTriple::parse(s)
    }
}

impl AsRef<str> for TargetTriple {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for TargetTriple {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TargetTriple {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<'de> Deserialize<'de> for TargetTriple {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TargetTriple::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_the_compiled_target() {
        let host = TargetTriple::host();
        assert!(TargetTriple::parse(host.as_str()).is_ok(), "{host}");
        assert_eq!(host.is_windows(), cfg!(windows));
        if matches!(std::env::consts::ARCH, "x86_64" | "aarch64") {
            assert_eq!(host.arch(), std::env::consts::ARCH);
        }
        assert_eq!(host.os() == Os::Linux, cfg!(target_os = "linux"));
    }

    #[test]
    fn parts_are_read_from_rustc_names() {
        let t = |s: &str| TargetTriple::parse(s).unwrap();
        assert_eq!(t("x86_64-pc-windows-msvc").exe_suffix(), ".exe");
        assert_eq!(t("aarch64-pc-windows-gnullvm").os(), Os::Windows);
        assert_eq!(t("aarch64-apple-darwin").os(), Os::MacOs);
        assert_eq!(t("aarch64-apple-darwin").env(), None);
        assert_eq!(t("armv7-unknown-linux-gnueabihf").arch(), "armv7");
        assert_eq!(t("armv7-unknown-linux-gnueabihf").env(), Some("gnueabihf"));
        assert_eq!(t("riscv64gc-unknown-linux-musl").env(), Some("musl"));
        assert_eq!(t("x86_64-unknown-freebsd").os(), Os::FreeBsd);
        assert_eq!(t("wasm32-wasip1").os(), Os::Other);
        assert_eq!(t("x86_64-unknown-linux-gnu").executable("app"), "app");
    }

    #[test]
    fn the_schema_pattern_agrees_with_the_parser() {
        let schema = serde_json::to_value(schemars::schema_for!(TargetTriple)).unwrap();
        assert_eq!(
            schema["pattern"], "^[A-Za-z0-9_.]+(-[A-Za-z0-9_.]+)+$",
            "update both the pattern and `TargetTriple::parse`"
        );
    }

    #[test]
    fn malformed_triples_are_refused() {
        for bad in ["", "linux", "x86_64--linux", "x86 64-linux", "a/b-c", "-x"] {
            assert!(TargetTriple::parse(bad).is_err(), "{bad:?}");
        }
        let err = serde_json::from_str::<TargetTriple>("\"nope\"").unwrap_err();
        assert!(err.to_string().contains("not a target triple"), "{err}");
    }
}
