//! What a Linux binary needs from the system's C library: the newest `GLIBC_x.y` symbol
//! version among the symbols it imports, read from its ELF dynamic symbol table with the
//! `object` crate (not from a tool's text output).

use std::fmt;
use std::path::Path;

use object::elf;
use object::read::elf::{FileHeader, Sym};
use object::{Endianness, FileKind};

/// A glibc version (`2.17`, `2.2.5`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GlibcVersion(Vec<u32>);

impl GlibcVersion {
    /// Reads `2.17` (or `GLIBC_2.17`).
    pub fn parse(text: &str) -> Option<GlibcVersion> {
        let text = text.strip_prefix("GLIBC_").unwrap_or(text);
        let parts: Option<Vec<u32>> = text.split('.').map(|p| p.parse().ok()).collect();
        parts
            .filter(|p| (2..=3).contains(&p.len()))
            .map(GlibcVersion)
    }
}

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

/// The newest glibc a binary needs, and one symbol that needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlibcNeed {
    /// The version.
    pub version: GlibcVersion,
    /// A symbol imported at that version (`getrandom@GLIBC_2.25`).
    pub symbol: String,
}

/// Why a binary could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ElfError {
    /// The file could not be read.
    #[error("could not read {}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is ELF but malformed.
    #[error("{} is not a valid ELF file: {reason}", path.display())]
    Malformed {
        /// The file.
        path: std::path::PathBuf,
        /// What the parser said.
        reason: String,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, ElfError> {
    fs_err::read(path).map_err(|source| ElfError::Read {
        path: path.to_owned(),
        source,
    })
}

fn malformed(path: &Path) -> impl Fn(object::Error) -> ElfError + '_ {
    move |err| ElfError::Malformed {
        path: path.to_owned(),
        reason: err.to_string(),
    }
}

/// The newest `GLIBC_*` version `path` imports a symbol at; `None` when it imports none (a
/// static binary, a musl one) or is not an ELF file at all.
pub fn glibc_need(path: &Path) -> Result<Option<GlibcNeed>, ElfError> {
    let data = read(path)?;
    let malformed = malformed(path);
    match FileKind::parse(&*data) {
        Ok(FileKind::Elf64) => need::<elf::FileHeader64<Endianness>>(&data).map_err(malformed),
        Ok(FileKind::Elf32) => need::<elf::FileHeader32<Endianness>>(&data).map_err(malformed),
        _ => Ok(None),
    }
}

fn need<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) -> object::Result<Option<GlibcNeed>> {
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let symbols = sections.symbols(endian, data, elf::SHT_DYNSYM)?;
    let Some(versions) = sections.versions(endian, data)? else {
        return Ok(None);
    };
    let mut newest: Option<GlibcNeed> = None;
    for (index, symbol) in symbols.enumerate() {
        if !symbol.is_undefined(endian) {
            continue;
        }
        let Some(version) = versions.version(versions.version_index(endian, index).index())? else {
            continue;
        };
        let name = String::from_utf8_lossy(version.name());
        let Some(parsed) = name
            .starts_with("GLIBC_")
            .then(|| GlibcVersion::parse(&name))
            .flatten()
        else {
            continue;
        };
        if newest.as_ref().is_none_or(|n| parsed > n.version) {
            let symbol = String::from_utf8_lossy(symbols.symbol_name(endian, symbol)?);
            newest = Some(GlibcNeed {
                symbol: format!("{symbol}@{name}"),
                version: parsed,
            });
        }
    }
    Ok(newest)
}

/// How a binary runs: on its own, or through a program interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// A static ELF binary: it runs with nothing else in the file system.
    Static,
    /// A dynamic ELF binary, loaded by this interpreter (`/lib64/ld-linux-x86-64.so.2`).
    Dynamic(String),
    /// A script run by the program its `#!` line names.
    Script(String),
    /// Neither ELF nor a script.
    Other,
}

/// Whether `path` needs a program interpreter (a dynamic loader, or a script's interpreter).
pub fn linkage(path: &Path) -> Result<Linkage, ElfError> {
    let data = read(path)?;
    let malformed = malformed(path);
    match FileKind::parse(&*data) {
        Ok(FileKind::Elf64) => interp::<elf::FileHeader64<Endianness>>(&data).map_err(malformed),
        Ok(FileKind::Elf32) => interp::<elf::FileHeader32<Endianness>>(&data).map_err(malformed),
        _ if data.starts_with(b"#!") => {
            let line = data[2..].split(|b| *b == b'\n').next().unwrap_or_default();
            Ok(Linkage::Script(
                String::from_utf8_lossy(line).trim().to_owned(),
            ))
        }
        _ => Ok(Linkage::Other),
    }
}

fn interp<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) -> object::Result<Linkage> {
    use object::read::elf::ProgramHeader;
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    for segment in header.program_headers(endian, data)? {
        if let Some(name) = segment.interpreter(endian, data)? {
            let name = name.split(|b| *b == 0).next().unwrap_or_default();
            return Ok(Linkage::Dynamic(String::from_utf8_lossy(name).into_owned()));
        }
    }
    Ok(Linkage::Static)
}

#[cfg(test)]
mod tests {
    #[test]
    fn linkage_of_this_test_binary_and_a_script() {
        let me = std::env::current_exe().unwrap();
        // Test binaries on the gnu host are dynamic unless built with crt-static.
        let linkage = super::linkage(&me).unwrap();
        assert!(
            matches!(&linkage, super::Linkage::Dynamic(interp) if interp.contains("ld-"))
                || linkage == super::Linkage::Static,
            "{linkage:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("s");
        fs_err::write(&script, "#!/bin/sh -e\necho hi\n").unwrap();
        assert_eq!(
            super::linkage(&script).unwrap(),
            super::Linkage::Script("/bin/sh -e".into())
        );
        fs_err::write(&script, "plain").unwrap();
        assert_eq!(super::linkage(&script).unwrap(), super::Linkage::Other);
    }

    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |s: &str| GlibcVersion::parse(s).unwrap();
        assert!(v("2.17") < v("2.28"));
        assert!(v("2.2.5") < v("2.17"));
        assert_eq!(v("GLIBC_2.34").to_string(), "2.34");
        assert_eq!(GlibcVersion::parse("2"), None);
        assert_eq!(GlibcVersion::parse("two.17"), None);
    }

    #[test]
    fn this_test_binary_needs_glibc_when_built_for_gnu() {
        let exe = std::env::current_exe().unwrap();
        let need = glibc_need(&exe).unwrap();
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            let need = need.expect("a gnu binary imports versioned glibc symbols");
            assert!(need.version >= GlibcVersion::parse("2.2.5").unwrap());
            assert!(need.symbol.contains("@GLIBC_"), "{}", need.symbol);
        }
        // A script is not ELF.
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("app");
        fs_err::write(&script, "#!/bin/sh\n").unwrap();
        assert_eq!(glibc_need(&script).unwrap(), None);
    }
}
