//! Running git, once for all of keel (changelogs, versions, the workspace's state), and what
//! git says about the workspace: the commit, whether the tree is dirty, the commit time, and
//! the files a commit holds ([`tree_files`], [`write_blobs`]) for the source archive.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// Why a git command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// `git` could not be started.
    #[error("could not run git")]
    Spawn(#[source] std::io::Error),
    /// `git` failed.
    #[error("`git {args}` failed: {stderr}")]
    Failed {
        /// The arguments.
        args: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// `git`'s output could not be read, or what it gave could not be written.
    #[error("`git {args}`: {source}")]
    Io {
        /// The arguments.
        args: String,
        /// The cause (naming the file, when writing one failed).
        #[source]
        source: std::io::Error,
    },
    /// `git` printed something keel does not understand.
    #[error("`git {args}` printed {what}")]
    Unexpected {
        /// The arguments.
        args: String,
        /// What was unexpected.
        what: String,
    },
}

/// Runs `git args` in `dir` (without taking optional locks, so a read never blocks another
/// git); returns its standard output.
pub fn run(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs `git args` in `dir`, as [`run`] does; returns its standard output as bytes.
fn run_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(output.stdout)
}

/// Whether `git args` in `dir` succeeds.
pub fn succeeds(dir: &Path, args: &[&str]) -> bool {
    run(dir, args).is_ok()
}

/// The state of the git repository holding a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitInfo {
    /// The full hash of `HEAD`.
    pub commit: String,
    /// Whether tracked files have uncommitted changes.
    pub dirty: bool,
    /// The committer time of `HEAD`, in seconds since the Unix epoch.
    pub commit_time: u64,
}

/// Reads the git state of the repository containing `dir`; `None` when `dir` is not in a git
/// repository with at least one commit, or git is not installed.
pub fn git_info(dir: &Path) -> Option<GitInfo> {
    let git = |args: &[&str]| run(dir, args).ok().map(|out| out.trim().to_owned());
    let line = git(&["log", "-1", "--format=%H %ct"])?;
    let (commit, time) = line.split_once(' ')?;
    let status = git(&["status", "--porcelain", "--untracked-files=no"])?;
    Some(GitInfo {
        commit: commit.to_owned(),
        dirty: !status.is_empty(),
        commit_time: time.parse().ok()?,
    })
}

/// What a file of a commit's tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TreeFileKind {
    /// A file (mode `100644`).
    File,
    /// An executable file (mode `100755`).
    Executable,
    /// A symbolic link (mode `120000`): the blob holds its target.
    Symlink,
}

/// A file of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TreeFile {
    /// Its path from the repository's top, `/`-separated.
    pub path: String,
    /// What it is.
    pub kind: TreeFileKind,
    /// The blob holding its contents.
    pub object: String,
}

/// Every file of `commit`'s whole tree (from the repository's top, wherever `dir` is in it),
/// sorted by path: `git ls-tree -r --full-tree`. Submodules are left out, as `git archive`
/// leaves out their contents; a path that is not UTF-8 is an error.
pub fn tree_files(dir: &Path, commit: &str) -> Result<Vec<TreeFile>, GitError> {
    let args = ["ls-tree", "-r", "-z", "--full-tree", commit];
    let unexpected = |what: String| GitError::Unexpected {
        args: args.join(" "),
        what,
    };
    let output = run_bytes(dir, &args)?;
    let mut files = Vec::new();
    for record in output.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        // `<mode> SP <type> SP <object> TAB <path>`
        let tab = record
            .iter()
            .position(|b| *b == b'\t')
            .ok_or_else(|| unexpected(format!("`{}`", String::from_utf8_lossy(record))))?;
        let (info, path) = (&record[..tab], &record[tab + 1..]);
        let path = std::str::from_utf8(path).map_err(|_| {
            unexpected(format!(
                "a path that is not UTF-8: {}",
                String::from_utf8_lossy(path)
            ))
        })?;
        let info = String::from_utf8_lossy(info);
        let mut parts = info.split(' ');
        let (Some(mode), Some(_), Some(object)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(unexpected(format!("`{info}` for {path}")));
        };
        let kind = match mode {
            "100644" | "100664" => TreeFileKind::File,
            "100755" => TreeFileKind::Executable,
            "120000" => TreeFileKind::Symlink,
            "160000" => continue,
            other => return Err(unexpected(format!("mode {other} for {path}"))),
        };
        files.push(TreeFile {
            path: path.to_owned(),
            kind,
            object: object.to_owned(),
        });
    }
    files.sort();
    Ok(files)
}

/// Writes the contents of each blob of `objects` to `to/<object>`, through one
/// `git cat-file --batch` (the bytes as committed: no line-ending conversion, no filters).
pub fn write_blobs<'a>(
    dir: &Path,
    objects: impl IntoIterator<Item = &'a str>,
    to: &Path,
) -> Result<(), GitError> {
    let args = "cat-file --batch";
    let io_err = |source| GitError::Io {
        args: args.into(),
        source,
    };
    let unexpected = |what: String| GitError::Unexpected {
        args: args.into(),
        what,
    };
    let objects: std::collections::BTreeSet<&str> = objects.into_iter().collect();
    let mut child = Command::new("git")
        .args(["cat-file", "--batch"])
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let requests: String = objects.iter().map(|o| format!("{o}\n")).collect();
    // git answers while it reads; a second thread writes the requests so neither side waits
    // on a full pipe. Dropping stdin at the end tells git there is no more.
    let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut answers = BufReader::with_capacity(1 << 16, stdout);
    let mut result = Ok(());
    for object in &objects {
        let mut header = String::new();
        if let Err(err) = answers.read_line(&mut header) {
            result = Err(io_err(err));
            break;
        }
        // `<object> blob <size>`, or `<object> missing`.
        let fields: Vec<&str> = header.trim_end().split(' ').collect();
        let size = match fields.as_slice() {
            [name, "blob", size] if name == object => size.parse::<u64>().ok(),
            _ => None,
        };
        let Some(size) = size else {
            result = Err(unexpected(format!("`{}` for {object}", header.trim_end())));
            break;
        };
        let path = to.join(object);
        let copied = fs_err::File::create(&path).and_then(|mut file| {
            let copied = std::io::copy(&mut (&mut answers).take(size), &mut file)?;
            let mut newline = [0u8; 1];
            answers.read_exact(&mut newline)?;
            Ok(copied)
        });
        match copied {
            Ok(copied) if copied == size => {}
            Ok(_) => {
                result = Err(unexpected(format!("less than {size} bytes for {object}")));
                break;
            }
            Err(err) => {
                result = Err(io_err(err));
                break;
            }
        }
    }
    drop(answers);
    let written = writer.join();
    let status = child.wait().map_err(io_err)?;
    let stderr = errors.join().unwrap_or_default();
    if !status.success() && result.is_ok() {
        return Err(GitError::Failed {
            args: args.into(),
            stderr: stderr.trim().to_owned(),
        });
    }
    result?;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(io_err(err)),
        Err(_) => Err(unexpected("nothing: the thread feeding it panicked".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commits_files_come_from_its_tree_and_its_blobs() {
        let ws = keel_test::TestWorkspace::new("keel");
        ws.write("a.txt", "a\n");
        ws.write("bin/run.sh", "#!/bin/sh\n");
        let script = ws.path("bin/run.sh");
        let mut permissions = fs_err::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        fs_err::set_permissions(&script, permissions).unwrap();
        std::os::unix::fs::symlink("a.txt", ws.path("link")).unwrap();
        ws.write("same.txt", "a\n");
        ws.commit("files");
        let commit = run(ws.root(), &["rev-parse", "HEAD"]).unwrap();
        // Changed, new and ignored files after the commit are not the commit's.
        ws.write("a.txt", "changed\n");
        ws.write("new.txt", "new\n");
        ws.write("dist/ignored.txt", "ignored\n");

        // From a subfolder too, the whole tree.
        let files = tree_files(&ws.path("bin"), commit.trim()).unwrap();
        let listed: Vec<(&str, TreeFileKind)> =
            files.iter().map(|f| (f.path.as_str(), f.kind)).collect();
        assert_eq!(
            listed,
            [
                (".gitignore", TreeFileKind::File),
                ("a.txt", TreeFileKind::File),
                ("bin/run.sh", TreeFileKind::Executable),
                ("link", TreeFileKind::Symlink),
                ("same.txt", TreeFileKind::File),
            ]
        );
        assert_eq!(files[1].object, files[4].object, "one blob, two paths");

        let blobs = ws.path("blobs");
        fs_err::create_dir(&blobs).unwrap();
        write_blobs(ws.root(), files.iter().map(|f| f.object.as_str()), &blobs).unwrap();
        let read = |i: usize| fs_err::read_to_string(blobs.join(&files[i].object)).unwrap();
        assert_eq!(read(1), "a\n");
        assert_eq!(read(2), "#!/bin/sh\n");
        assert_eq!(read(3), "a.txt");

        let missing = write_blobs(
            ws.root(),
            ["0123456789abcdef0123456789abcdef01234567"],
            &blobs,
        );
        assert!(
            matches!(missing, Err(GitError::Unexpected { .. })),
            "{missing:?}"
        );
        assert!(tree_files(ws.root(), "no-such-commit").is_err());
    }
}
