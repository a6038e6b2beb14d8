//! The source archive: every file of the commit a release is made from, as committed, in one
//! reproducible `tar.gz` written by keel's own archive writer.
//!
//! The files come from git's objects (`git ls-tree`, `git cat-file --batch`), never from the
//! work tree: uncommitted changes and ignored files stay out, and no line-ending conversion or
//! filter applies, so a second clone on any machine, and every CI runner of a fanned-out
//! release, writes the same bytes (`keel merge` requires that of files two partials share).

use std::path::Path;

use keel_archive::{Entry, Written, write_archive};
use keel_schema::ArchiveFormat;
use keel_workspace::git::{self, GitError, TreeFileKind};

use crate::Error;

/// Writes the source archive of `commit` (of the repository holding `root`) at `out`: every
/// file of the commit's whole tree under `top/`, stamped with `mtime`, links kept as links,
/// submodules left out.
/// A committed file whose name no archive may hold safely (`:`, `\\`, a control character) is
/// left out, and said through `progress`.
pub(crate) fn write_source_archive(
    root: &Path,
    commit: &str,
    top: &str,
    mtime: u64,
    out: &Path,
    progress: &dyn keel_schema::progress::Progress,
) -> Result<Written, Error> {
    let git_err = |source| Error::Source {
        commit: commit.to_owned(),
        source,
    };
    let mut files = git::tree_files(root, commit).map_err(git_err)?;
    let archive = out
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    files.retain(
        |file| match keel_archive::validate_path(&format!("{top}/{}", file.path)) {
            Ok(()) => true,
            Err(err) => {
                let reason = match &err {
                    keel_archive::Error::InvalidPath { reason, .. } => *reason,
                    _ => "its name cannot be archived",
                };
                progress.event(&keel_schema::progress::Event::LeftOut {
                    archive: &archive,
                    path: &file.path,
                    reason,
                });
                false
            }
        },
    );
    // Each blob is copied out once, beside the archive (inside the staging folder, and gone
    // before the release files are listed), then read in the archive's order.
    let folder = keel_fs::parent(out);
    let blobs = tempfile::Builder::new()
        .prefix(".keel-source-")
        .tempdir_in(folder)
        .map_err(|source| Error::OutputUnwritable {
            path: folder.to_owned(),
            source,
        })?;
    git::write_blobs(root, files.iter().map(|f| f.object.as_str()), blobs.path())
        .map_err(git_err)?;
    let mut entries = Vec::with_capacity(files.len());
    for file in &files {
        let path = format!("{top}/{}", file.path);
        let blob = blobs.path().join(&file.object);
        entries.push(match file.kind {
            TreeFileKind::File => Entry::file(path, blob, false),
            TreeFileKind::Executable => Entry::file(path, blob, true),
            TreeFileKind::Symlink => {
                let target = fs_err::read(&blob).map_err(|source| Error::Read {
                    path: blob.clone(),
                    source,
                })?;
                let target = String::from_utf8(target).map_err(|_| {
                    git_err(GitError::Unexpected {
                        args: "cat-file --batch".into(),
                        what: format!("a link target that is not UTF-8 for {}", file.path),
                    })
                })?;
                Entry::symlink(path, target)
            }
        });
    }
    Ok(write_archive(ArchiveFormat::TarGz, &entries, mtime, out)?)
}
