//! Container images of a release, made from its verified archives without a daemon: one OCI
//! image index per app over its Linux targets (`<app>-<version>.oci.tar`), or a
//! `docker load`-able tar per target, added to the release with its digests, covered by
//! `SHA256SUMS`, the provenance and the signatures. And pushing them to a registry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keel_oci::auth::Purpose;
use keel_oci::image::{Base, Image, RunConfig};
use keel_oci::layer::Entry;
use keel_oci::layout::Layout;
use keel_oci::reference::Reference;
use keel_oci::registry::{Options, Registry};
use keel_oci::{Platform, media};
use keel_schema::image::{BIN_DIR, ImageSettings};
use keel_schema::{App, Artifact, ArtifactKind, Manifest, TargetTriple};

use crate::files::{Whole, copy_checked, record, write_release_files};
use crate::folder::ReleaseFolder;
use crate::staging::Staging;
use crate::{Error, Event, Progress, ReleaseEnv, Released};

/// The most an app's archive may unpack to.
const MAX_UNPACKED: u64 = 4 << 30;

/// The file formats of images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ImageFormat {
    /// An OCI image layout in a tar, with an index over every platform
    /// (`<app>-<version>.oci.tar`); `skopeo copy oci-archive:...` and `keel image push` read it.
    Oci,
    /// A tar `docker load` reads, one per target (`<app>-<version>-<target>.docker.tar`).
    DockerArchive,
}

/// What `build_images` is asked.
pub struct ImageOptions<'a> {
    /// The formats to write (at least one).
    pub formats: Vec<ImageFormat>,
    /// Only these apps (all when empty).
    pub apps: Vec<String>,
    /// Signs the release files written anew.
    pub key: Option<&'a keel_sign::SigningKey>,
    /// What the environment says (the CI run, for the provenance).
    pub env: &'a ReleaseEnv,
    /// Allow plain HTTP to a base image's registry that is not on a loopback address.
    pub insecure: bool,
}

/// The file name of an app's OCI archive.
pub fn oci_archive_name(app: &str, version: &str) -> String {
    format!("{app}-{version}.oci.tar")
}

/// The file name of an app's Docker archive for one target.
pub fn docker_archive_name(app: &str, version: &str, target: &TargetTriple) -> String {
    format!("{app}-{version}-{target}.docker.tar")
}

/// An image file of a release, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ImageFile {
    /// The file name.
    pub file: String,
    /// The app.
    pub app: Option<String>,
    /// The target, for Docker archives (one per target).
    pub target: Option<TargetTriple>,
    /// The digest registries name the image by.
    pub digest: Option<String>,
    /// The platforms inside.
    pub platforms: Vec<String>,
    /// Bytes.
    pub size: u64,
}

/// The image files `manifest` lists, by file name.
pub fn image_files(manifest: &Manifest) -> Vec<ImageFile> {
    manifest
        .artifacts
        .iter()
        .filter(|(_, a)| a.kind == ArtifactKind::Image)
        .map(|(file, a)| ImageFile {
            file: file.clone(),
            app: a.app.clone(),
            target: a.target.clone(),
            digest: a.image_digest.clone(),
            platforms: a.platforms.clone(),
            size: a.size,
        })
        .collect()
}

/// The OCI labels and annotations of an app's image, from the release.
fn annotations(manifest: &Manifest, name: &str, app: &App) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut set = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            labels.insert(format!("org.opencontainers.image.{key}"), value.clone());
        }
    };
    set("title", Some(&name.to_owned()));
    set("version", Some(&app.version));
    set("revision", manifest.source.commit.as_ref());
    set("source", app.repository.as_ref());
    set("url", app.homepage.as_ref().or(app.repository.as_ref()));
    set("licenses", app.license.as_ref());
    set("description", app.description.as_ref());
    set(
        "created",
        Some(&keel_oci::image::rfc3339(manifest.source.source_date_epoch)),
    );
    labels
}

/// `uid:gid` as numbers; a name (not a number) owns nothing: root keeps the folders.
fn owner(user: &str) -> (u64, u64) {
    let (uid, gid) = user.split_once(':').unwrap_or((user, user));
    match (uid.parse(), gid.parse()) {
        (Ok(uid), Ok(gid)) => (uid, gid),
        (Ok(uid), Err(_)) => (uid, uid),
        _ => (0, 0),
    }
}

/// The files of an app's layer for one target, from its unpacked archive.
fn layer_entries(
    app_name: &str,
    app: &App,
    settings: &ImageSettings,
    artifact: &Artifact,
    target: &TargetTriple,
    unpacked: &Path,
    scratch: bool,
) -> Result<Vec<Entry>, Error> {
    let read = |path: PathBuf| fs_err::read(&path).map_err(|source| Error::Read { path, source });
    let mut entries = Vec::new();
    let top = artifact
        .executables
        .first()
        .and_then(|path| path.split('/').next())
        .unwrap_or_default()
        .to_owned();
    for executable in &artifact.executables {
        let path = unpacked.join(executable);
        let name = executable.rsplit('/').next().unwrap_or(executable);
        if scratch {
            match keel_build::elf::linkage(&path).map_err(|err| Error::Image {
                app: app_name.to_owned(),
                message: err.to_string(),
            })? {
                keel_build::elf::Linkage::Static | keel_build::elf::Linkage::Other => {}
                keel_build::elf::Linkage::Dynamic(interpreter) => {
                    return Err(Error::DynamicOnScratch {
                        app: app_name.to_owned(),
                        target: target.clone(),
                        binary: name.to_owned(),
                        needs: format!("the dynamic loader {interpreter} and the C library"),
                    });
                }
                keel_build::elf::Linkage::Script(interpreter) => {
                    return Err(Error::DynamicOnScratch {
                        app: app_name.to_owned(),
                        target: target.clone(),
                        binary: name.to_owned(),
                        needs: format!("the script interpreter `{interpreter}`"),
                    });
                }
            }
        }
        entries.push(Entry::file(format!("{BIN_DIR}/{name}"), read(path)?, 0o755));
    }
    for (source, dest) in &settings.files {
        let path = unpacked.join(&top).join(source);
        if !path.is_file() {
            return Err(Error::Image {
                app: app_name.to_owned(),
                message: format!(
                    "`{source}` (from `files` of [package.metadata.keel.image]) is not in the archive {}",
                    artifact_name(app_name, app, target)
                ),
            });
        }
        let executable = is_executable(&path);
        entries.push(Entry::file(
            dest.clone(),
            read(path)?,
            if executable { 0o755 } else { 0o644 },
        ));
    }
    let (uid, gid) = owner(settings.user());
    let mut owned: Vec<String> = settings.volumes();
    owned.push(settings.workdir().to_owned());
    owned.sort();
    owned.dedup();
    for dir in owned {
        entries.push(Entry::dir(dir, 0o755, uid, gid));
    }
    if scratch {
        // What programs expect of a system: a user database naming the user, and /tmp.
        let user_line = if uid == 0 {
            String::new()
        } else {
            format!("nonroot:x:{uid}:{gid}:nonroot:/home/nonroot:/sbin/nologin\n")
        };
        entries.push(Entry::file(
            "/etc/passwd",
            format!("root:x:0:0:root:/root:/sbin/nologin\n{user_line}").into_bytes(),
            0o644,
        ));
        let group_line = if gid == 0 {
            String::new()
        } else {
            format!("nonroot:x:{gid}:\n")
        };
        entries.push(Entry::file(
            "/etc/group",
            format!("root:x:0:\n{group_line}").into_bytes(),
            0o644,
        ));
        if uid != 0 {
            entries.push(Entry::dir("/home/nonroot", 0o700, uid, gid));
        }
        entries.push(Entry::dir("/tmp", 0o1777, 0, 0));
    }
    Ok(entries)
}

fn artifact_name(app_name: &str, app: &App, target: &TargetTriple) -> String {
    format!("{app_name}-{}-{target}", app.version)
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_path: &Path) -> bool {
    false
}

/// Pulls base images, once per reference and platform.
struct Bases {
    insecure: bool,
    /// The registries image settings push to: a base image there may be pulled with the
    /// environment's credentials; from any other, with Docker's configuration only.
    destinations: BTreeSet<String>,
    pulled: BTreeMap<(String, Platform), Base>,
}

impl Bases {
    fn get(&mut self, app: &str, reference: &str, platform: &Platform) -> Result<Base, Error> {
        let key = (reference.to_owned(), platform.clone());
        if let Some(base) = self.pulled.get(&key) {
            return Ok(base.clone());
        }
        let parsed = Reference::parse(reference)?;
        if parsed.digest.is_none() {
            return Err(Error::Image {
                app: app.to_owned(),
                message: format!(
                    "the base image `{reference}` is not pinned by digest; write it as `{}@sha256:<digest>` so that every build uses the same bytes",
                    reference
                ),
            });
        }
        let purpose = match self.destinations.contains(&parsed.registry) {
            true => Purpose::Destination,
            false => Purpose::Other,
        };
        let registry = Registry::connect(
            parsed.scheme,
            &parsed.registry,
            Options {
                insecure: self.insecure,
                credentials: keel_oci::auth::lookup(&parsed.registry, purpose)?,
                ..Options::default()
            },
        )?;
        let base = keel_oci::push::pull_base(&registry, &parsed, platform)?;
        self.pulled.insert(key, base.clone());
        Ok(base)
    }
}

/// One app's images, one per Linux target.
struct AppImages {
    name: String,
    version: String,
    images: Vec<(TargetTriple, Image)>,
    annotations: BTreeMap<String, String>,
}

/// Builds the images of the release in `dir` (every file checked against its manifest
/// first) and adds them to the release, whose `SHA256SUMS`, provenance, signatures and
/// manifest are written anew; the folder is replaced whole, so a failure leaves it as it was.
pub fn build_images(
    dir: &Path,
    options: &ImageOptions<'_>,
    reporter: &dyn Progress,
) -> Result<Released, Error> {
    let mut manifest = ReleaseFolder::open_checked(dir)?.into_manifest();
    for wanted in &options.apps {
        if !manifest.apps.contains_key(wanted) {
            return Err(Error::Image {
                app: wanted.clone(),
                message: format!(
                    "the release has no app `{wanted}` (it has: {})",
                    manifest.apps.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    // Writing the release files anew without the key would leave a signed release unsigned.
    if options.key.is_none()
        && manifest
            .artifacts
            .values()
            .any(|a| a.kind == ArtifactKind::Signature)
    {
        return Err(Error::SignedNeedsKey {
            dir: dir.to_owned(),
        });
    }
    let epoch = manifest.source.source_date_epoch;
    let created = keel_oci::image::rfc3339(epoch);
    let scratch_dir = tempfile::Builder::new()
        .prefix("keel-image-")
        .tempdir()
        .map_err(|source| Error::Read {
            path: std::env::temp_dir(),
            source,
        })?;
    let apps = manifest.apps.iter();
    let destinations =
        image_destinations(apps.map(|(name, app)| (name.as_str(), app.image.as_ref())))?;
    let mut bases = Bases {
        insecure: options.insecure,
        destinations: destinations.into_iter().map(|d| d.registry).collect(),
        pulled: BTreeMap::new(),
    };
    let mut built: Vec<AppImages> = Vec::new();
    for (name, app) in &manifest.apps {
        if !options.apps.is_empty() && !options.apps.contains(name) {
            continue;
        }
        let settings = app.image.clone().unwrap_or_default();
        let labels = annotations(&manifest, name, app);
        let mut run_labels = labels.clone();
        run_labels.extend(settings.labels.clone());
        let run = RunConfig {
            user: settings.user().to_owned(),
            workdir: settings.workdir().to_owned(),
            env: settings.env.clone(),
            entrypoint: settings.entrypoint(&app.binaries),
            cmd: settings.cmd.clone(),
            ports: settings.exposed_ports(),
            volumes: settings.volumes(),
            labels: run_labels,
        };
        let mut images = Vec::new();
        for (file, artifact) in &manifest.artifacts {
            if artifact.kind != ArtifactKind::Archive || artifact.app.as_deref() != Some(name) {
                continue;
            }
            let Some(target) = &artifact.target else {
                continue;
            };
            let Some(platform) = Platform::of_target(target) else {
                continue;
            };
            let Some(format) = artifact.format else {
                continue;
            };
            if images
                .iter()
                .any(|(_, image): &(TargetTriple, Image)| image.platform == platform)
            {
                return Err(Error::Image {
                    app: name.clone(),
                    message: format!(
                        "two Linux targets of the release are both {platform} (one image per platform): release only one of them, or make images of a release without the other"
                    ),
                });
            }
            reporter.event(&Event::Writing(&format!("{name} image for {platform}")));
            let unpacked = scratch_dir.path().join(file);
            keel_archive::extract(format, &dir.join(file), &unpacked, MAX_UNPACKED)?;
            let base = match settings.base_image() {
                Some(reference) => Some(bases.get(name, reference, &platform)?),
                None => None,
            };
            let entries = layer_entries(
                name,
                app,
                &settings,
                artifact,
                target,
                &unpacked,
                base.is_none(),
            )?;
            let layer = keel_oci::layer::layer(&entries, epoch)?;
            let image =
                keel_oci::image::build(&platform, base.as_ref(), &layer, &run, &created, &labels)?;
            images.push((target.clone(), image));
        }
        if !images.is_empty() {
            built.push(AppImages {
                name: name.clone(),
                version: app.version.clone(),
                images,
                annotations: labels,
            });
        }
    }
    if built.is_empty() {
        return Err(Error::NoLinuxArchives {
            dir: dir.to_owned(),
        });
    }

    // The release, with the images in place of any made before.
    let (installers, page) = (
        manifest
            .artifacts
            .values()
            .any(|a| a.kind == ArtifactKind::Installer),
        manifest
            .artifacts
            .values()
            .any(|a| a.kind == ArtifactKind::Page),
    );
    manifest
        .artifacts
        .retain(|_, a| !a.kind.covers_release() && a.kind != ArtifactKind::Image);
    // The rehearsal report names the manifest, which is written anew: it is carried over.
    let rehearsal = crate::rehearsal::rehearsals_of(&[dir.to_owned()])?;
    let staging = Staging::prepare(dir.to_owned())?;
    for (name, artifact) in &manifest.artifacts {
        copy_checked(
            &dir.join(name),
            &staging.path().join(name),
            artifact.size,
            &artifact.sha256,
        )?;
    }
    for app in &built {
        let mut platforms: Vec<String> = app
            .images
            .iter()
            .map(|(_, i)| i.platform.to_string())
            .collect();
        platforms.sort();
        if options.formats.contains(&ImageFormat::Oci) {
            let images: Vec<Image> = app.images.iter().map(|(_, image)| image.clone()).collect();
            let index = keel_oci::image::index(&images, &app.annotations);
            let mut layout = Layout::new();
            for image in &images {
                layout.add_image_blobs(image);
            }
            layout.name(&index, &app.version, None);
            let file = oci_archive_name(&app.name, &app.version);
            let written =
                crate::files::write_synced(staging.path(), &file, &layout.to_tar(epoch)?)?;
            let mut artifact = record(ArtifactKind::Image, Some(app.name.clone()), None, written);
            artifact.image_digest = Some(index.digest.clone());
            artifact.platforms = platforms.clone();
            manifest.artifacts.insert(file.clone(), artifact);
            reporter.event(&Event::Written(&file));
        }
        if options.formats.contains(&ImageFormat::DockerArchive) {
            for (target, image) in &app.images {
                let mut layout = Layout::new();
                layout.add_image_blobs(image);
                layout.name(&image.manifest, &app.version, Some(&image.platform));
                layout.docker_tag(image, &[format!("{}:v{}", app.name, app.version)]);
                let file = docker_archive_name(&app.name, &app.version, target);
                let written =
                    crate::files::write_synced(staging.path(), &file, &layout.to_tar(epoch)?)?;
                let mut artifact = record(
                    ArtifactKind::Image,
                    Some(app.name.clone()),
                    Some(target.clone()),
                    written,
                );
                artifact.image_digest = Some(image.manifest.digest.clone());
                artifact.platforms = vec![image.platform.to_string()];
                manifest.artifacts.insert(file.clone(), artifact);
                reporter.event(&Event::Written(&file));
            }
        }
    }
    let github = options.env.github_run();
    let whole = Whole {
        key: options.key,
        github: github.as_ref(),
        installers,
        page,
    };
    write_release_files(staging.path(), &mut manifest, &whole)?;
    let dir = staging.finish(&manifest, options.key)?;
    if let Some(rehearsal) = rehearsal {
        crate::rehearsal::write_rebound_rehearsal(rehearsal, &dir, &manifest, options.key)?;
    }
    reporter.event(&Event::Finished);
    Ok(Released { manifest, dir })
}

/// What `push_images` is asked.
pub struct PushOptions<'a> {
    /// `REGISTRY/NAMESPACE`, with `http://` for a plain-HTTP registry.
    pub destination: &'a str,
    /// Only these apps (all when empty).
    pub apps: Vec<String>,
    /// Allow plain HTTP beyond loopback.
    pub insecure: bool,
    /// Say what would be pushed; push nothing.
    pub dry_run: bool,
    /// How failures are retried.
    pub retry: keel_oci::registry::Retry,
}

/// `keel image build`'s outcome: the release folder and its image files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ImagesBuilt<'a> {
    /// The release folder.
    pub dir: &'a Path,
    /// The image files now in it.
    pub images: &'a [ImageFile],
}

/// `keel image push`'s outcome.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct PushedImages<'a> {
    /// Whether nothing was pushed.
    pub dry_run: bool,
    /// Each app's push.
    pub images: &'a [PushedImage],
}

/// One app's push.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct PushedImage {
    /// The app.
    pub app: String,
    /// `registry/namespace/repository`.
    pub repository: String,
    /// The index's digest.
    pub digest: String,
    /// Tags set (or that would be set).
    pub tags: Vec<String>,
    /// The platforms.
    pub platforms: Vec<String>,
    /// Blobs uploaded and bytes.
    pub uploaded: usize,
    /// Bytes uploaded.
    pub uploaded_bytes: u64,
    /// Blobs the registry had.
    pub skipped: usize,
    /// Referrers (SBOMs, provenance) attached, by digest.
    pub referrers: Vec<String>,
    /// Whether the referrers are listed under the `sha256-<hex>` tag (no referrers API).
    pub referrers_by_tag: bool,
}

/// One `REGISTRY/NAMESPACE` that image settings name (`registries`), and the apps sent there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDestination {
    /// `REGISTRY/NAMESPACE`, as the settings give it.
    pub destination: String,
    /// The registry's host.
    pub registry: String,
    /// The apps whose settings name it.
    pub apps: Vec<String>,
}

/// Where the apps' images go, from each app's name and image settings: every destination
/// their `registries` name (sorted), checked, with its host and its apps.
pub fn image_destinations<'a>(
    apps: impl IntoIterator<Item = (&'a str, Option<&'a ImageSettings>)>,
) -> Result<Vec<ImageDestination>, Error> {
    let mut by_destination: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (app, settings) in apps {
        for destination in settings.iter().flat_map(|s| &s.registries) {
            by_destination
                .entry(destination)
                .or_default()
                .push(app.to_owned());
        }
    }
    by_destination
        .into_iter()
        .map(|(destination, apps)| {
            let (_, registry, _) = Reference::parse_namespace(destination)?;
            Ok(ImageDestination {
                destination: destination.to_owned(),
                registry,
                apps,
            })
        })
        .collect()
}

/// Pushes each app's image to the registries its settings name (`registries` in
/// `[package.metadata.keel.image]`, recorded in the manifest), as `keel publish` does before
/// it publishes the release's files. Apps whose settings name no registry are left alone; an
/// app whose settings name one but whose image the release lacks, or a registry that cannot
/// be one, is refused before anything is pushed. `insecure` allows plain HTTP (a registry
/// written `http://...`) beyond this machine, as [`PushOptions::insecure`] does.
pub fn publish_images(
    dir: &Path,
    dry_run: bool,
    insecure: bool,
    retry: keel_oci::registry::Retry,
    progress: &dyn keel_schema::progress::Progress,
) -> Result<Vec<PushedImage>, Error> {
    let manifest = ReleaseFolder::open_checked(dir)?.into_manifest();
    for (name, app) in &manifest.apps {
        let Some(settings) = app.image.as_ref().filter(|s| !s.registries.is_empty()) else {
            continue;
        };
        let built = manifest.artifacts.values().any(|a| {
            a.kind == ArtifactKind::Image && a.target.is_none() && a.app.as_ref() == Some(name)
        });
        if !built {
            return Err(Error::ImagesNotBuilt {
                app: name.clone(),
                registries: settings.registries.clone(),
                dir: dir.to_owned(),
            });
        }
    }
    let destinations = image_destinations(
        manifest
            .apps
            .iter()
            .map(|(name, app)| (name.as_str(), app.image.as_ref())),
    )?;
    let mut pushed = Vec::new();
    for target in destinations {
        let options = PushOptions {
            destination: &target.destination,
            apps: target.apps,
            insecure,
            dry_run,
            retry,
        };
        let images = push_images(dir, &options, progress).map_err(|err| match err {
            Error::PlainHttpRegistry {
                registry,
                destination,
                needs_insecure,
                ..
            } => Error::PlainHttpRegistry {
                registry,
                destination,
                from_settings: true,
                needs_insecure,
            },
            other => other,
        })?;
        pushed.extend(images);
    }
    Ok(pushed)
}

/// Pushes the OCI images of the release in `dir` (every file checked against its manifest
/// first): each app to `<destination>/<repository>` with its tags, and the release's SBOMs of
/// its Linux targets and the provenance attached as referrers.
///
/// A registry written without `http://` that answers in plain HTTP is
/// [`Error::PlainHttpRegistry`], which names the destination as it is to be written.
pub fn push_images(
    dir: &Path,
    options: &PushOptions<'_>,
    progress: &dyn keel_schema::progress::Progress,
) -> Result<Vec<PushedImage>, Error> {
    push_to(dir, options, progress).map_err(|err| match err {
        Error::Oci(keel_oci::Error::PlainHttpServer {
            registry,
            needs_insecure,
        }) => {
            let written = options.destination;
            Error::PlainHttpRegistry {
                registry,
                destination: format!(
                    "http://{}",
                    written.strip_prefix("https://").unwrap_or(written)
                ),
                from_settings: false,
                needs_insecure,
            }
        }
        other => other,
    })
}

fn push_to(
    dir: &Path,
    options: &PushOptions<'_>,
    progress: &dyn keel_schema::progress::Progress,
) -> Result<Vec<PushedImage>, Error> {
    let manifest = ReleaseFolder::open_checked(dir)?.into_manifest();
    let (scheme, registry_name, namespace) = Reference::parse_namespace(options.destination)?;
    let images: Vec<(&String, &Artifact)> = manifest
        .artifacts
        .iter()
        .filter(|(_, a)| a.kind == ArtifactKind::Image && a.target.is_none())
        .filter(|(_, a)| {
            options.apps.is_empty() || a.app.as_ref().is_some_and(|app| options.apps.contains(app))
        })
        .collect();
    if images.is_empty() {
        return Err(Error::NoImages {
            dir: dir.to_owned(),
        });
    }
    let registry = Registry::connect(
        scheme,
        &registry_name,
        Options {
            insecure: options.insecure,
            retry: options.retry,
            credentials: keel_oci::auth::lookup(&registry_name, Purpose::Destination)?,
        },
    )?;
    let created = keel_oci::image::rfc3339(manifest.source.source_date_epoch);
    let mut results = Vec::new();
    for (file, artifact) in images {
        let app_name = artifact.app.clone().unwrap_or_default();
        let Some(app) = manifest.apps.get(&app_name) else {
            continue;
        };
        let repository_name = app
            .image
            .as_ref()
            .and_then(|s| s.repository.clone())
            .unwrap_or_else(|| app_name.clone());
        let repository = if namespace.is_empty() {
            repository_name
        } else {
            format!("{namespace}/{repository_name}")
        };
        let layout = Layout::from_tar(&dir.join(file))?;
        let top = layout
            .named(&app.version)
            .cloned()
            .ok_or_else(|| Error::Image {
                app: app_name.clone(),
                message: format!("{file} names no image `{}`", app.version),
            })?;
        if Some(&top.digest) != artifact.image_digest.as_ref() {
            return Err(Error::Image {
                app: app_name.clone(),
                message: format!(
                    "{file} holds the image {}, not the {} the manifest lists",
                    top.digest,
                    artifact.image_digest.as_deref().unwrap_or("none")
                ),
            });
        }
        let version = semver::Version::parse(&app.version).map_err(|err| Error::Image {
            app: app_name.clone(),
            message: format!("its version `{}` is not semver: {err}", app.version),
        })?;
        let existing = registry.tags(&repository)?;
        let tags = keel_oci::push::tags_for(&version, &existing);
        let mut attachments = Vec::new();
        for (name, other) in &manifest.artifacts {
            let sbom = other.kind == ArtifactKind::Sbom
                && other.app.as_deref() == Some(app_name.as_str())
                && other
                    .target
                    .as_ref()
                    .is_some_and(|t| Platform::of_target(t).is_some());
            let provenance = other.kind == ArtifactKind::Provenance;
            if sbom || provenance {
                let path = dir.join(name);
                let data = fs_err::read(&path).map_err(|source| Error::Read { path, source })?;
                let artifact_type = if sbom {
                    media::CYCLONEDX
                } else {
                    media::IN_TOTO
                };
                attachments.push(keel_oci::push::Attachment {
                    artifact_type: artifact_type.to_owned(),
                    file_name: name.clone(),
                    blob: keel_oci::Blob::new(artifact_type, data),
                });
            }
        }
        let mut result = PushedImage {
            app: app_name.clone(),
            repository: format!("{registry_name}/{repository}"),
            digest: top.digest.clone(),
            tags: tags.clone(),
            platforms: artifact.platforms.clone(),
            uploaded: 0,
            uploaded_bytes: 0,
            skipped: 0,
            referrers: Vec::new(),
            referrers_by_tag: false,
        };
        if !options.dry_run {
            let pushed = keel_oci::push::push(
                &registry,
                &repository,
                &layout,
                &top,
                &tags,
                &attachments,
                &created,
                progress,
            )?;
            result.uploaded = pushed.uploaded;
            result.uploaded_bytes = pushed.uploaded_bytes;
            result.skipped = pushed.skipped;
            result.referrers = pushed.referrers;
            result.referrers_by_tag = pushed.referrers_by_tag;
        }
        results.push(result);
    }
    Ok(results)
}
