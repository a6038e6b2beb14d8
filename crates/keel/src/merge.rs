//! `keel merge`: joins the partial releases that CI runners wrote for their targets into one
//! release, with one `SHA256SUMS` and one manifest over every artifact.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use keel_schema::{MANIFEST_FILE_NAME, Manifest};

use crate::artifacts;
use crate::cli::{GlobalArgs, MergeArgs};
use crate::hinted;
use crate::release::{OutDir, report_release};

/// Reads a partial release and checks that every file it lists is there, intact.
fn read_partial(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join(MANIFEST_FILE_NAME);
    let text = fs_err::read_to_string(&path).map_err(|err| {
        hinted(
            format!("{} is not a keel release: {err}", dir.display()),
            "pass the output folders of `keel release`",
        )
    })?;
    let manifest =
        Manifest::from_json(&text).with_context(|| format!("could not read {}", path.display()))?;
    for (name, artifact) in &manifest.artifacts {
        let file = dir.join(name);
        let (digest, size) = keel_verify::sha256_file(&file)?;
        if digest.to_hex() != artifact.sha256 || size != artifact.size {
            bail!(
                "{} does not match its manifest (size {size}, sha256 {digest}; the manifest says size {}, sha256 {})",
                file.display(),
                artifact.size,
                artifact.sha256
            );
        }
    }
    Ok(manifest)
}

pub fn run_merge(global: &GlobalArgs, args: &MergeArgs) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("could not read the current directory")?;
    let key = crate::signing::load_signing_key(args.sign.sign_key.as_deref())?;
    let partials: Vec<PathBuf> = args.partials.iter().map(|p| cwd.join(p)).collect();
    let mut sources: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut merged: Option<Manifest> = None;
    for dir in &partials {
        let manifest = read_partial(dir)?;
        for (name, artifact) in &manifest.artifacts {
            if !artifact.kind.covers_release() {
                sources.entry(name.clone()).or_insert_with(|| dir.clone());
            }
        }
        match &mut merged {
            None => merged = Some(manifest),
            Some(merged) => merged
                .merge(manifest)
                .with_context(|| format!("could not merge {}", dir.display()))?,
        }
    }
    let mut manifest = merged.context("no partial release given")?;
    manifest
        .artifacts
        .retain(|_, artifact| !artifact.kind.covers_release());

    let out_dir = OutDir::prepare(cwd.join(&args.out))?;
    for (name, dir) in &sources {
        let target = out_dir.path().join(name);
        fs_err::copy(dir.join(name), &target)?;
        fs_err::File::open(&target)?.sync_all()?;
    }
    artifacts::write_release_files(out_dir.path(), &mut manifest, key.as_ref())?;
    let out = out_dir.finish(&manifest, key.as_ref())?;
    report_release(global, &manifest, &out);
    Ok(())
}
