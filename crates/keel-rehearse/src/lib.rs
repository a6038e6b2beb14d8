//! Release rehearsals: before a release is published, prove on this machine that updating to
//! it, rolling it back, and surviving a failed migration all keep the operator's data.
//!
//! For each app of a candidate release and each target this machine runs, in a sandbox of
//! its own (its own `KEEL_HOME`, binaries folder and databases, in a temporary folder removed
//! afterwards; nothing outside is touched), [`rehearse`]:
//!
//! 1. installs the **previous** release: the highest version below the candidate in a store
//!    or a release folder ([`Previous`]);
//! 2. creates data with it, by the `seed` commands of the app's settings (by default its
//!    migrate hook);
//! 3. updates to the candidate through the same transaction as `keel update` (snapshot, swap,
//!    migrate, check), then runs the settings' `verify` commands with the new version;
//! 4. rolls back, and checks the binaries and every database are as before the update: the
//!    binaries byte for byte, the databases by their logical content (schema version, schema,
//!    every row);
//! 5. updates again with a migration made to fail ([`KEEL_REHEARSE_FAIL`]`=migrate` for the
//!    hooks; when the app does not honour it, keel fails the update right after the
//!    migration), and checks the automatic rollback restored the old binary and data.
//!
//! A first release (nothing earlier to update from) rehearses a fresh install, migrate and
//! check only, and the report says so. The result is a [`Rehearsal`], which the caller writes
//! beside the manifest with [`keel_release::write_rehearsal`].

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use keel_schema::receipt::{Hook, UpdateHooks};
use keel_schema::rehearsal::{
    DatabaseDigests, Digests, KEEL_REHEARSE_FAIL, REHEARSAL_SCHEMA_VERSION, Rehearsal,
    RehearsalKind, RehearsalRun, RehearsalStep, RehearseSettings, database_count,
};
use keel_schema::{ArtifactKind, Manifest, TargetTriple};
use keel_update::store::{Available, ClientOptions, Store, Version};
use keel_update::{AppHome, AppLock, NewRelease};

/// Where the previous release comes from.
#[derive(Debug, Clone)]
pub enum Previous {
    /// A release store (a URL, or `file://` for a folder) and its trusted root.
    Store {
        /// The store's URL.
        url: String,
        /// The trusted `root.json`.
        root: Vec<u8>,
        /// The channel the candidate is published to.
        channel: String,
    },
    /// A release folder (what `keel release` wrote for the previous version).
    Release(PathBuf),
    /// Nothing was released before: rehearse a first release.
    None,
}

impl Previous {
    /// What `from` names, relative to `cwd`: a release folder (with `keel-manifest.json`), a
    /// store folder (with `metadata/root.json`, its root trusted unless `root` is given), or a
    /// store URL, whose trusted `root` must be given. Releases are taken from `channel`.
    pub fn locate(
        from: &str,
        root: Option<&Path>,
        channel: &str,
        cwd: &Path,
    ) -> Result<Previous, Error> {
        let local = cwd.join(from);
        let is_url = from.contains("://");
        if !is_url && local.join(keel_schema::MANIFEST_FILE_NAME).is_file() {
            return Ok(Previous::Release(local));
        }
        let (url, default_root) = if is_url {
            (from.to_owned(), None)
        } else if local.join("metadata/root.json").is_file() {
            let url = url::Url::from_directory_path(&local).map_err(|()| Error::NotPrevious {
                from: from.to_owned(),
            })?;
            (url.to_string(), Some(local.join("metadata/root.json")))
        } else {
            return Err(Error::NotPrevious {
                from: from.to_owned(),
            });
        };
        let path = root
            .map(|r| cwd.join(r))
            .or(default_root)
            .ok_or(Error::NoRoot)?;
        let root = fs_err::read(&path).map_err(|source| Error::Root { path, source })?;
        Ok(Previous::Store {
            url,
            root,
            channel: channel.to_owned(),
        })
    }
}

/// Why a rehearsal could not run at all (a failed step is not an error: it is in the report).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The candidate or previous release could not be read.
    #[error(transparent)]
    Release(#[from] keel_release::Error),
    /// The store could not be read.
    #[error(transparent)]
    Update(#[from] keel_update::Error),
    /// A file operation failed.
    #[error(transparent)]
    File(#[from] keel_fs::Error),
    /// A file could not be hashed.
    #[error(transparent)]
    Verify(#[from] keel_verify::Error),
    /// The sandbox could not be made.
    #[error("cannot make the rehearsal's sandbox in {}", dir.display())]
    Sandbox {
        /// The folder it was made in.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `--from` names neither a release folder nor a store.
    #[error("{from} is neither a release folder nor a store")]
    NotPrevious {
        /// What was given.
        from: String,
    },
    /// A store URL was given without its trusted root.
    #[error("a store URL needs its trusted root")]
    NoRoot,
    /// The trusted root could not be read.
    #[error("cannot read the trusted root {}", path.display())]
    Root {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The candidate has no archive this machine can run.
    #[error(
        "the release in {} has no archive this machine can run (it runs {})",
        dir.display(),
        runnable.join(", ")
    )]
    NothingRunnable {
        /// The release.
        dir: PathBuf,
        /// The targets this machine runs.
        runnable: Vec<String>,
    },
    /// The previous release is not older than the candidate.
    #[error("the previous release {app} {previous} is not older than the candidate {candidate}")]
    NotOlder {
        /// The app.
        app: String,
        /// The previous release's version.
        previous: String,
        /// The candidate's version.
        candidate: String,
    },
    /// An archive does not match its manifest.
    #[error("{} is not the archive its manifest lists (sha256 {actual}, expected {expected})", path.display())]
    Tampered {
        /// The archive.
        path: PathBuf,
        /// Its sha256.
        actual: String,
        /// What the manifest says.
        expected: String,
    },
}

impl Error {
    /// What to do about the error, when that needs no command-line flag (the `keel` binary
    /// adds the hints that name its flags).
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::NothingRunnable { .. } => {
                "rehearse on a machine of the release's targets (the CI workflow rehearses on each native runner)"
            }
            _ => return None,
        })
    }
}

/// A rehearsal reports each run ([`Event::RehearsalRun`]) and each step as it ends
/// ([`Event::RehearsalStep`]) to keel's one progress trait.
pub use keel_schema::progress::{Event, Progress, Silent};

/// The targets this machine runs: the host, and on Linux the static (musl) build of its
/// architecture.
pub fn runnable_targets() -> Vec<TargetTriple> {
    let host = TargetTriple::host();
    let mut targets = vec![host.clone()];
    if let Some(musl) = host.as_str().strip_suffix("-gnu")
        && let Ok(musl) = TargetTriple::parse(&format!("{musl}-musl"))
    {
        targets.push(musl);
    }
    targets
}

/// Writes `report` beside the candidate's manifest, signed with `key`; the runs of an earlier
/// report of the same release for other targets (another machine's) are kept.
pub fn save(
    candidate: &Path,
    report: &Rehearsal,
    key: Option<&keel_sign::SigningKey>,
) -> Result<Rehearsal, Error> {
    let manifest = keel_release::read_manifest(candidate)?;
    let mut merged = match keel_release::read_rehearsal(candidate) {
        Ok(Some(earlier)) if earlier.manifest_sha256 == report.manifest_sha256 => earlier,
        _ => Rehearsal {
            runs: Vec::new(),
            ..report.clone()
        },
    };
    for run in &report.runs {
        merged.put(run.clone());
    }
    keel_release::write_rehearsal(candidate, &merged, key, &manifest)?;
    Ok(merged)
}

/// Rehearses the release in `candidate` for each of its apps and each target this machine
/// runs; `work_dir` holds the sandboxes (a temporary folder each, removed afterwards;
/// default: the system's temporary folder).
pub fn rehearse(
    candidate: &Path,
    previous: &Previous,
    work_dir: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Rehearsal, Error> {
    let temp = std::env::temp_dir();
    let work_dir = work_dir.unwrap_or(&temp);
    let manifest = keel_release::read_manifest(candidate)?;
    let runnable = runnable_targets();
    let mut report = Rehearsal {
        schema_version: REHEARSAL_SCHEMA_VERSION,
        manifest_sha256: keel_release::manifest_digest(candidate)?,
        runs: Vec::new(),
    };
    let archives: Vec<(&String, &keel_schema::Artifact)> = manifest
        .artifacts
        .iter()
        .filter(|(_, a)| {
            a.kind == ArtifactKind::Archive
                && a.target.as_ref().is_some_and(|t| runnable.contains(t))
        })
        .collect();
    if archives.is_empty() {
        return Err(Error::NothingRunnable {
            dir: candidate.to_owned(),
            runnable: runnable.iter().map(|t| t.as_str().to_owned()).collect(),
        });
    }
    keel_fs::create_dir(work_dir)?;
    for (name, artifact) in archives {
        let (Some(app), Some(target)) = (artifact.app.as_deref(), artifact.target.as_ref()) else {
            continue;
        };
        let sandbox = tempfile::Builder::new()
            .prefix("rehearsal-")
            .tempdir_in(work_dir)
            .map_err(|source| Error::Sandbox {
                dir: work_dir.to_owned(),
                source,
            })?;
        let run = Sandbox::new(sandbox.path(), &manifest, app, target)?
            .run(candidate, name, artifact, previous, progress)?;
        report.put(run);
    }
    Ok(report)
}

/// One app's sandbox: its keel home, binaries folder and databases.
struct Sandbox<'a> {
    dir: PathBuf,
    manifest: &'a Manifest,
    app: &'a str,
    target: &'a TargetTriple,
    hooks: UpdateHooks,
    settings: RehearseSettings,
    databases: Vec<PathBuf>,
}

/// What a step ended with: a detail sentence, or the failure's.
type StepResult = Result<String, String>;

impl<'a> Sandbox<'a> {
    fn new(
        dir: &Path,
        manifest: &'a Manifest,
        app: &'a str,
        target: &'a TargetTriple,
    ) -> Result<Sandbox<'a>, Error> {
        let settings = manifest
            .apps
            .get(app)
            .map(|a| (a.update.clone(), a.rehearse.clone()));
        let (hooks, settings) = settings.unwrap_or_default();
        let count = database_count(hooks.as_ref(), settings.as_ref());
        let data = dir.join("data");
        keel_fs::create_dir(&data)?;
        keel_fs::create_dir(&dir.join("home"))?;
        Ok(Sandbox {
            dir: dir.to_owned(),
            manifest,
            app,
            target,
            hooks: hooks.unwrap_or_default(),
            settings: settings.unwrap_or_default(),
            databases: (0..count)
                .map(|i| data.join(format!("{app}-{i}.db")))
                .collect(),
        })
    }

    /// The app's keel home in the sandbox; its hooks run with the sandbox's environment.
    fn home(&self) -> AppHome {
        let mut home = AppHome::new(&self.dir.join("keel"), self.app);
        for (key, value) in self.env() {
            home = home.with_hook_env(key, &value);
        }
        home
    }

    /// What every process of the app runs with: keel's state, the home folder and the XDG
    /// folders all inside the sandbox, so that nothing the app writes lands outside it.
    fn env(&self) -> Vec<(&'static str, String)> {
        let home = self.dir.join("home");
        let at = |path: PathBuf| path.display().to_string();
        vec![
            (keel_schema::env::KEEL_HOME, at(self.dir.join("keel"))),
            ("HOME", at(home.clone())),
            ("XDG_CONFIG_HOME", at(home.join(".config"))),
            ("XDG_DATA_HOME", at(home.join(".local/share"))),
            ("XDG_STATE_HOME", at(home.join(".local/state"))),
            ("XDG_CACHE_HOME", at(home.join(".cache"))),
        ]
    }

    fn bin_dir(&self) -> PathBuf {
        self.dir.join("bin")
    }

    fn run(
        &self,
        candidate_dir: &Path,
        archive: &str,
        artifact: &keel_schema::Artifact,
        previous: &Previous,
        progress: &dyn Progress,
    ) -> Result<RehearsalRun, Error> {
        let version = self
            .manifest
            .apps
            .get(self.app)
            .map(|a| a.version.clone())
            .unwrap_or_default();
        let candidate = self.unpack_release(
            candidate_dir,
            self.manifest,
            archive,
            artifact,
            &self.dir.join("candidate"),
        )?;
        let old = self.previous_release(previous, &version)?;
        progress.event(&Event::RehearsalRun {
            app: self.app,
            target: self.target,
            version: &version,
            previous: old.as_ref().map(|(r, _)| r.version.as_str()),
        });
        let mut run = RehearsalRun {
            app: self.app.to_owned(),
            target: self.target.clone(),
            kind: if old.is_some() {
                RehearsalKind::Update
            } else {
                RehearsalKind::FirstRelease
            },
            version,
            archive: archive.to_owned(),
            archive_sha256: artifact.sha256.clone(),
            previous: old.as_ref().map(|(r, _)| r.version.clone()),
            previous_sha256: old.as_ref().map(|(_, sha)| sha.clone()),
            passed: false,
            steps: Vec::new(),
            databases: BTreeMap::new(),
        };
        let home = self.home();
        let lock = home.lock()?;
        run.passed = match old {
            None => self.first_release(&lock, &candidate, &mut run, progress),
            Some((old, _)) => {
                self.update_rollback_fail(&lock, &old, &candidate, &mut run, progress)
            }
        };
        drop(lock);
        Ok(run)
    }

    /// A first release: fresh install, migrate, check.
    fn first_release(
        &self,
        lock: &AppLock,
        candidate: &NewRelease,
        run: &mut RehearsalRun,
        progress: &dyn Progress,
    ) -> bool {
        let mut at = Instant::now();
        let mut step = |run: &mut RehearsalRun, name: &str, result: StepResult| {
            push_step(run, progress, name, &mut at, result)
        };
        step(run, "install", self.install(lock, candidate))
            && step(run, "migrate", self.hook(Hook::Migrate))
            && {
                let result = self.hook(Hook::Check).and_then(|detail| {
                    self.record(run, |d, digests| d.updated = Some(digests))?;
                    Ok(detail)
                });
                step(run, "check", result)
            }
    }

    /// Install the previous release, seed, update, verify, roll back, fail a migration.
    fn update_rollback_fail(
        &self,
        lock: &AppLock,
        old: &NewRelease,
        candidate: &NewRelease,
        run: &mut RehearsalRun,
        progress: &dyn Progress,
    ) -> bool {
        let home = self.home();
        let mut at = Instant::now();
        let mut step = |run: &mut RehearsalRun, name: &str, result: StepResult| {
            push_step(run, progress, name, &mut at, result)
        };
        if !step(run, "install-previous", self.install(lock, old)) {
            return false;
        }
        let seeded = self.seed().and_then(|detail| {
            self.record(run, |d, digests| d.before = Some(digests))?;
            Ok(detail)
        });
        if !step(run, "seed", seeded) {
            return false;
        }
        let before = match self.state() {
            Ok(state) => state,
            Err(err) => return step(run, "seed", Err(err)),
        };
        let updated = home
            .update(lock, candidate, &keel_update::Silent)
            .map_err(|e| {
                // The transaction rolled back on its own: say whether that kept the data too.
                let restored = match self.same_as(&before, "the automatic rollback") {
                    Ok(detail) | Err(detail) => detail,
                };
                format!("{}\n{restored}", e.with_causes())
            })
            .and_then(|after| {
                self.record(run, |d, digests| d.updated = Some(digests))?;
                Ok(format!(
                    "updated {} to {} through the transaction: snapshot, swap, migrate, check",
                    old.version, after.version
                ))
            });
        if !step(run, "update", updated) || !step(run, "verify", self.verify()) {
            return false;
        }
        let rolled_back = home
            .rollback(lock, &keel_update::Silent)
            .map_err(|e| e.with_causes())
            .and_then(|_| {
                self.record(run, |d, digests| d.rolled_back = Some(digests))?;
                let detail = self.same_as(&before, "the rollback")?;
                Ok(format!("rolled back to {}: {detail}", old.version))
            });
        if !step(run, "rollback", rolled_back) {
            return false;
        }
        let failing = self
            .home()
            .with_hook_env(KEEL_REHEARSE_FAIL, "migrate")
            .failing_after(Hook::Migrate);
        let how = match failing.update(lock, candidate, &keel_update::Silent) {
            Ok(_) => Err("the update succeeded although its migration was made to fail".to_owned()),
            Err(keel_update::Error::HookFailed {
                hook: Hook::Migrate,
                ..
            }) => Ok(format!(
                "the migration failed part way ({KEEL_REHEARSE_FAIL}=migrate)"
            )),
            Err(keel_update::Error::Injected { .. }) => Ok(format!(
                "the migration ran to its end (the app does not honour {KEEL_REHEARSE_FAIL}), then the update was made to fail"
            )),
            Err(err) => Err(format!(
                "the update failed otherwise: {}",
                err.with_causes()
            )),
        };
        let failed = how.and_then(|how| {
            self.record(run, |d, digests| d.failed_migration = Some(digests))?;
            let detail = self.same_as(&before, "the automatic rollback")?;
            Ok(format!("{how}; {detail}"))
        });
        step(run, "failed-migration", failed)
    }

    /// Verifies `archive` against `manifest` and unpacks it into `into`.
    fn unpack_release(
        &self,
        dir: &Path,
        manifest: &Manifest,
        archive: &str,
        artifact: &keel_schema::Artifact,
        into: &Path,
    ) -> Result<NewRelease, Error> {
        let path = dir.join(archive);
        let (digest, _) = keel_verify::sha256_file(&path)?;
        if digest.to_hex() != artifact.sha256 {
            return Err(Error::Tampered {
                path,
                actual: digest.to_hex(),
                expected: artifact.sha256.clone(),
            });
        }
        let app = manifest.apps.get(self.app);
        let available = Available {
            name: archive.to_owned(),
            app: self.app.to_owned(),
            version: app
                .and_then(|a| a.version.parse().ok())
                .unwrap_or_else(|| Version::new(0, 0, 0)),
            target: self.target.clone(),
            channel: String::new(),
            format: artifact.format.unwrap_or(keel_schema::ArchiveFormat::TarGz),
            executables: artifact.executables.clone(),
            hooks: app.and_then(|a| a.update.clone()).unwrap_or_default(),
            length: artifact.size,
        };
        Ok(self.unpacked(&available, &path, into)?)
    }

    fn unpacked(
        &self,
        release: &Available,
        archive: &Path,
        into: &Path,
    ) -> Result<NewRelease, keel_update::Error> {
        let binaries = keel_update::store::unpack(release, archive, into, 4 << 30)?;
        Ok(NewRelease {
            version: release.version.to_string(),
            target: release.target.clone(),
            binaries,
            hooks: release.hooks.clone(),
        })
    }

    /// The release to update from and its archive's sha256; `None` for a first release.
    fn previous_release(
        &self,
        previous: &Previous,
        candidate: &str,
    ) -> Result<Option<(NewRelease, String)>, Error> {
        let candidate_version: Option<Version> = candidate.parse().ok();
        let older = |v: &Version| candidate_version.as_ref().is_none_or(|c| v < c);
        // A pre-release may update from an earlier pre-release; a release only from releases.
        let candidate_is_pre = candidate_version
            .as_ref()
            .is_some_and(|c| !c.pre.is_empty());
        match previous {
            Previous::None => Ok(None),
            Previous::Release(dir) => {
                let manifest = keel_release::read_manifest(dir)?;
                let Some((name, artifact)) = manifest.artifacts.iter().find(|(_, a)| {
                    a.kind == ArtifactKind::Archive
                        && a.app.as_deref() == Some(self.app)
                        && a.target.as_ref() == Some(self.target)
                }) else {
                    return Ok(None);
                };
                let version = manifest
                    .apps
                    .get(self.app)
                    .map(|a| a.version.clone())
                    .unwrap_or_default();
                if !version.parse::<Version>().is_ok_and(|v| older(&v)) {
                    return Err(Error::NotOlder {
                        app: self.app.to_owned(),
                        previous: version,
                        candidate: candidate.to_owned(),
                    });
                }
                let release = self.unpack_release(
                    dir,
                    &manifest,
                    name,
                    artifact,
                    &self.dir.join("previous"),
                )?;
                Ok(Some((release, artifact.sha256.clone())))
            }
            Previous::Store { url, root, channel } => {
                let store = Store::open(
                    url,
                    root,
                    &self.dir.join("store-trusted"),
                    &ClientOptions::from_env(),
                )?;
                let Some(release) = store
                    .releases(self.app, self.target, channel)
                    .into_iter()
                    .filter(|r| older(&r.version) && (r.version.pre.is_empty() || candidate_is_pre))
                    .max_by(|a, b| a.version.cmp(&b.version))
                else {
                    return Ok(None);
                };
                let downloads = self.dir.join("previous-download");
                keel_fs::create_dir(&downloads)?;
                let archive = downloads.join(&release.name);
                store.download(&release, &archive)?;
                let (digest, _) = keel_verify::sha256_file(&archive)?;
                let new = self.unpacked(&release, &archive, &self.dir.join("previous"))?;
                Ok(Some((new, digest.to_hex())))
            }
        }
    }

    fn install(&self, lock: &AppLock, release: &NewRelease) -> StepResult {
        self.home()
            .install(
                lock,
                release,
                &self.bin_dir(),
                &self.databases,
                keel_update::Origin::default(),
                &keel_update::Silent,
            )
            .map_err(|e| e.with_causes())?;
        Ok(format!(
            "installed {} {} in the sandbox",
            self.app, release.version
        ))
    }

    /// Runs the installed main binary with `args` (`{db}` filled in), in the sandbox.
    fn exec(&self, args: &[String], env: &[(&str, &str)]) -> StepResult {
        let receipt = self
            .home()
            .receipt()
            .map_err(|e| e.with_causes())?
            .ok_or("the app is not installed in the sandbox")?;
        let binary = self.bin_dir().join(keel_update::main_binary(&receipt));
        let args = UpdateHooks::expand(args, &receipt.databases).map_err(|e| e.to_string())?;
        let output = Command::new(&binary)
            .args(&args)
            .envs(self.env())
            .envs(env.iter().copied())
            .current_dir(self.dir.join("data"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let shown = format!("`{} {}`", receipt.version, args.join(" "));
        if output.status.success() {
            return Ok(shown);
        }
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Err(format!(
            "{shown} failed ({}): {}",
            output.status,
            text.trim_end()
        ))
    }

    /// The previous version creates data: the settings' seed commands, else its migrate hook.
    fn seed(&self) -> StepResult {
        let commands: Vec<Vec<String>> = if self.settings.seed.is_empty() {
            let receipt = self.home().receipt().ok().flatten();
            receipt
                .and_then(|r| r.hooks.migrate.clone())
                .into_iter()
                .collect()
        } else {
            self.settings.seed.clone()
        };
        for args in &commands {
            self.exec(args, &[])?;
        }
        Ok(format!(
            "{} command(s) made data in {} database(s)",
            commands.len(),
            self.databases.len()
        ))
    }

    /// Runs a hook of the installed (candidate) release outside a transaction.
    fn hook(&self, hook: Hook) -> StepResult {
        let Some(args) = self.hooks.command(hook) else {
            return Ok(format!("no {} hook", hook.as_str()));
        };
        let shown = self.exec(args, &[(keel_schema::env::KEEL_UPDATE_HOOK, hook.as_str())])?;
        Ok(format!("{} hook {shown} passed", hook.as_str()))
    }

    fn verify(&self) -> StepResult {
        let check = match self.hooks.check {
            Some(_) => "the check hook passed in the update",
            None => "no check hook",
        };
        for args in &self.settings.verify {
            self.exec(args, &[])?;
        }
        Ok(format!(
            "{check}; {} verify command(s) passed",
            self.settings.verify.len()
        ))
    }

    fn digests(&self, db: &Path) -> Result<Digests, String> {
        if !db.exists() {
            return Ok(Digests {
                file_sha256: None,
                content_sha256: None,
            });
        }
        let (file, _) = keel_verify::sha256_file(db).map_err(|e| e.to_string())?;
        let content = keel_update::logical_digest(db).map_err(|e| e.with_causes())?;
        Ok(Digests {
            file_sha256: Some(file.to_hex()),
            content_sha256: Some(content),
        })
    }

    /// Records every database's digests at a stage of the run.
    fn record(
        &self,
        run: &mut RehearsalRun,
        set: impl Fn(&mut DatabaseDigests, Digests),
    ) -> Result<(), String> {
        for (index, db) in self.databases.iter().enumerate() {
            let digests = self.digests(db)?;
            set(
                run.databases.entry(format!("db-{index}")).or_default(),
                digests,
            );
        }
        Ok(())
    }

    /// The installed binaries' sha256 and every database's logical digest.
    fn state(&self) -> Result<State, String> {
        let mut binaries = BTreeMap::new();
        for entry in fs_err::read_dir(self.bin_dir()).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            let (digest, _) = keel_verify::sha256_file(&entry.path()).map_err(|e| e.to_string())?;
            binaries.insert(
                entry.file_name().to_string_lossy().into_owned(),
                digest.to_hex(),
            );
        }
        let databases = self
            .databases
            .iter()
            .map(|db| self.digests(db).map(|d| d.content_sha256))
            .collect::<Result<_, _>>()?;
        Ok(State {
            binaries,
            databases,
        })
    }

    /// Whether the binaries and databases are as `before`; says so, or what differs.
    fn same_as(&self, before: &State, what: &str) -> StepResult {
        let now = self.state()?;
        let mut differ = Vec::new();
        for (name, digest) in &before.binaries {
            if now.binaries.get(name) != Some(digest) {
                differ.push(format!("the binary {name}"));
            }
        }
        for (index, (was, is)) in before.databases.iter().zip(&now.databases).enumerate() {
            if was != is {
                differ.push(format!(
                    "database {} ({})",
                    index,
                    self.databases[index].display()
                ));
            }
        }
        if differ.is_empty() {
            Ok(format!(
                "{what} restored {} binary(ies) byte for byte and {} database(s) row for row",
                before.binaries.len(),
                before.databases.len()
            ))
        } else {
            Err(format!(
                "after {what}, these differ from before the update: {}",
                differ.join(", ")
            ))
        }
    }
}

/// Ends a step: records it in `run` with the time since `at`, tells `progress`, and says
/// whether it passed.
fn push_step(
    run: &mut RehearsalRun,
    progress: &dyn Progress,
    name: &str,
    at: &mut Instant,
    result: StepResult,
) -> bool {
    let step = RehearsalStep {
        step: name.to_owned(),
        passed: result.is_ok(),
        millis: at.elapsed().as_millis() as u64,
        detail: result.unwrap_or_else(|e| e),
    };
    *at = Instant::now();
    progress.event(&Event::RehearsalStep(&step));
    let passed = step.passed;
    run.steps.push(step);
    passed
}

/// What the rollback must restore.
struct State {
    binaries: BTreeMap<String, String>,
    databases: Vec<Option<String>>,
}
