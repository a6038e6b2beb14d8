//! What the user can do about an error: the `hint:` line under it. Library errors say what
//! failed; the hints that name command-line flags live here.

use keel_schema::env::{KEEL_SIGNING_KEY_PASSWORD, SOURCE_DATE_EPOCH};

/// An error type that knows what the user can do about it.
pub trait Hint {
    fn hint(&self) -> Option<String>;
}

impl Hint for keel_release::Error {
    fn hint(&self) -> Option<String> {
        use keel_release::Error as E;
        Some(match self {
            E::Workspace(e) => return e.hint(),
            E::Plan(e) => return e.hint(),
            E::Build(e) => return e.hint(),
            E::Sign { source, .. } => return source.hint(),
            E::NoLockfile { .. } => "run `cargo generate-lockfile` and commit Cargo.lock".into(),
            E::BadSourceDateEpoch { .. } => format!(
                "set {SOURCE_DATE_EPOCH} to a Unix time such as `$(git log -1 --format=%ct)`, or unset it"
            ),
            E::OutputIsFile { .. } | E::OutputUnwritable { .. } => {
                "choose another folder with --out".into()
            }
            E::OutputNotARelease { .. } => {
                "choose an empty or new folder with --out, or remove that folder".into()
            }
            E::NotARelease { .. } => "pass the output folders of `keel release`".into(),
            E::Oci(e) => return Hint::hint(e),
            E::DynamicOnScratch { .. } => "build the Linux targets static (a musl target such as x86_64-unknown-linux-musl, or `-C target-feature=+crt-static` on gnu), or set `base` in [package.metadata.keel.image] to an image with a C library, pinned by digest (e.g. gcr.io/distroless/cc-debian12@sha256:...)".into(),
            E::NoLinuxArchives { .. } => "images hold Linux binaries: release a Linux target (`keel release --target x86_64-unknown-linux-musl`)".into(),
            E::SignedNeedsKey { .. } => "pass --sign-key with the key that signed the release (or set KEEL_SIGNING_KEY)".into(),
            E::NoImages { .. } => "run `keel image build` on the release first".into(),
            E::ImagesNotBuilt { .. } => "run `keel image build` on the release before publishing it, or pass --no-images to publish without pushing images".into(),
            E::NotRehearsed { .. } => "run `keel rehearse --from STORE` on the release (or --first-release), or pass --no-rehearsal REASON".into(),
            E::EmptyWaiver => "say why the release goes out unrehearsed; the reason is written into the release notes".into(),
            E::DoesNotCheckOut { .. } => "`keel verify` shows every check; make the release again with `keel release`".into(),
            E::NoTag => "make the release with `keel release --tag vX.Y.Z`".into(),
            E::DetachedHead => "pass --base BRANCH".into(),
            E::Version(e) => return e.hint(),
            E::Github(e) => return Hint::hint(e),
            E::Store(e) => return e.hint(),
            E::GlibcTooNew { .. } => "build that target with `--builder zigbuild` (or `builders` in the keel settings), which links against the glibc of `glibc-floor`; or build on an older distribution, or raise `glibc-floor`".into(),
            _ => return None,
        })
    }
}

impl Hint for keel_store::Error {
    fn hint(&self) -> Option<String> {
        use keel_store::Error as E;
        Some(match self {
            E::Busy { .. } => "wait for it to finish and run this again; a store is written by one publisher at a time (the lock is released when that process ends, however it ends)".into(),
            E::WrongKey { .. } => "pass the key that created the store (`--key`), or publish to another store folder".into(),
            E::NotARelease { .. } | E::NoArchives { .. } => "pass the output folder of `keel release`".into(),
            E::Mismatch { .. } => "the release folder changed after `keel release`: release again, or restore the file".into(),
            _ => return None,
        })
    }
}

impl Hint for keel_version::Error {
    fn hint(&self) -> Option<String> {
        use keel_version::Error as E;
        Some(match self {
            E::Next { source, .. } => return source.hint(),
            E::Workspace(e) => return e.hint(),
            E::TagExists { .. } => {
                "that version is released already: bump again (`keel bump patch`), or delete the tag if it was made by mistake".into()
            }
            E::NothingReleased => {
                "keel versions packages with a binary to ship or a library to publish; check `apps`, `dist = false` and `publish`".into()
            }
            E::UnknownPackage { .. } => "pass one of the released packages to --package".into(),
            _ => return None,
        })
    }
}

impl Hint for keel_version::NextError {
    fn hint(&self) -> Option<String> {
        use keel_version::NextError as E;
        Some(match self {
            E::Backwards { .. } => {
                "a pre-release goes alpha → beta → rc → release; pass a version after the current one".into()
            }
            E::NotPrerelease { .. } => "`keel bump auto` (or major, minor, patch) makes a new version".into(),
            E::LevelOfPrerelease { .. } => {
                "finish it with `keel bump release`, continue it with `keel bump alpha|beta|rc`, or move its base with `keel bump rc --bump major`".into()
            }
            E::UnknownPrerelease { .. } => "pass the next version itself: `keel bump 1.3.0-rc.1`".into(),
            E::NothingToRelease { .. } => {
                "say which version the pre-release is of: `keel bump alpha --bump minor`".into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_plan::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_plan::Error::NoBinaries => {
                "keel ships binaries: add src/main.rs or a [[bin]] target to a member, or check `apps` and `dist = false` in the keel settings".into()
            }
            keel_plan::Error::TagMismatch { .. } => {
                "tag the commit with the version in Cargo.toml, or bump that version before tagging".into()
            }
            keel_plan::Error::TagFormat { .. } => {
                "tags are `v` and the version (`v1.2.3`), or the package name, `-v` and the version (`my-app-v1.2.3`)".into()
            }
            keel_plan::Error::UnknownApp { .. } | keel_plan::Error::UnknownBinary { .. } => {
                "fix the name in Cargo.toml; `keel plan` shows what would be shipped".into()
            }
            keel_plan::Error::BadGlibcFloor { .. } => {
                "write `glibc-floor` as a glibc version such as \"2.17\" or \"2.28\"".into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_build::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_build::Error::TargetNotInstalled { target } => format!(
                "install it with `rustup target add {target}`, or build this target on a CI runner of that platform"
            ),
            keel_build::Error::UnknownTarget { .. } => {
                "`rustc --print target-list` lists the targets rustc knows".into()
            }
            keel_build::Error::BuilderMissing { builder: "zigbuild", .. } => {
                "install them with `pip install cargo-zigbuild ziglang`, or choose another builder with --builder".into()
            }
            keel_build::Error::BuilderMissing { builder: "cross", missing } if missing == "cross" => {
                "install it with `cargo install cross --locked`; it also needs docker or podman running. Or build the target with --builder zigbuild or on a native CI runner".into()
            }
            keel_build::Error::BuilderMissing { builder: "cross", .. } => {
                "start docker or podman (cross builds inside a container), or build the target with --builder zigbuild or on a native CI runner".into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_workspace::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_workspace::Error::NotFound { .. } | keel_workspace::Error::ManifestMissing { .. } => {
                "run keel in a Cargo workspace, or pass --manifest-path path/to/Cargo.toml".into()
            }
            keel_workspace::Error::Config { .. } => {
                "the keel settings are documented in the README; `keel init` writes them with their defaults".into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_sign::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_sign::Error::WrongPassword => format!(
                "check the password (from {KEEL_SIGNING_KEY_PASSWORD}, or typed); a key made by `keel keygen --unencrypted` needs none"
            ),
            keel_sign::Error::PasswordNeeded => format!("set {KEEL_SIGNING_KEY_PASSWORD}"),
            keel_sign::Error::ReadKey { .. } => {
                "`keel keygen --out PREFIX` creates a key pair".into()
            }
            keel_sign::Error::UseKey { source, .. } => return source.hint(),
            keel_sign::Error::KeyExists { .. } => {
                "choose another --out, or pass --force to replace the key pair".into()
            }
            keel_sign::Error::MalformedKey(_) => {
                "pass the secret key file (PREFIX.key) that `keel keygen` or `minisign -G` wrote"
                    .into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_verify::Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            keel_verify::Error::ReadKey { .. } => {
                "pass the PREFIX.pub file written by `keel keygen`".into()
            }
            keel_verify::Error::MalformedKey { .. } => {
                "pass the public key file (PREFIX.pub) that `keel keygen` or `minisign -G` wrote"
                    .into()
            }
            _ => return None,
        })
    }
}

impl Hint for keel_github::Error {
    fn hint(&self) -> Option<String> {
        use keel_github::Error as E;
        Some(match self {
            E::NoToken => {
                "set GITHUB_TOKEN (or GH_TOKEN) to a token that may write the repository's contents".into()
            }
            E::Unauthorized { .. } => {
                "check that GITHUB_TOKEN is current and may write the repository's contents (`contents: write`)".into()
            }
            E::Differs { .. } => {
                "a release's files should not change; pass --replace to replace them in a draft".into()
            }
            E::Immutable { .. } => {
                "publish a new version instead: a published immutable release cannot be changed".into()
            }
            E::GaveUp { .. } => "run the same command again: it finishes what is left".into(),
            E::Push { .. } => {
                "check that the token may push to the repository (`contents: write`) and that --remote is right".into()
            }
            E::Trust(_) => "set SSL_CERT_FILE to a PEM file of the certificate authorities to trust, or unset it".into(),
            _ => return None,
        })
    }
}

impl Hint for keel_oci::Error {
    fn hint(&self) -> Option<String> {
        use keel_oci::Error as E;
        Some(match self {
            E::Unauthorized { registry, .. } => format!(
                "log in with `keel image login {registry} -u USER --password-stdin` (or `docker login`: keel reads ~/.docker/config.json and its credential helpers), or set KEEL_REGISTRY_USER and KEEL_REGISTRY_PASSWORD"
            ),
            E::Insecure { .. } => "use https://, or pass --insecure if this registry really serves plain HTTP on a trusted network".into(),
            E::NoPlatform { .. } => "choose a base image published for every Linux target of the release, or release only the targets it has".into(),
            E::DigestMismatch { .. } => "check the digest in `base` of [package.metadata.keel.image]: `docker buildx imagetools inspect` or `skopeo inspect --raw` shows the right one".into(),
            E::Network { .. } => "check the registry's address; for a private certificate authority, set SSL_CERT_FILE to its PEM file".into(),
            _ => return None,
        })
    }
}

impl Hint for keel_rehearse::Error {
    fn hint(&self) -> Option<String> {
        use keel_rehearse::Error as E;
        Some(match self {
            E::NothingRunnable { .. } => "rehearse on a machine of the release's targets (the CI workflow rehearses on each native runner)".into(),
            E::NotOlder { .. } => "--from names the release to update from: the one before the candidate".into(),
            E::NotPrevious { .. } => "--from takes the previous version's release folder (with keel-manifest.json), a store folder (with metadata/root.json) or a store URL".into(),
            E::NoRoot | E::Root { .. } => "pass the store's root.json with --root".into(),
            E::Update(err) => return Hint::hint(err),
            _ => return None,
        })
    }
}

impl Hint for keel_update::Error {
    fn hint(&self) -> Option<String> {
        use keel_update::Error as E;
        Some(match self {
            E::NoRelease { available, .. } if available.is_empty() => {
                "the store is empty; `keel publish` adds releases".into()
            }
            E::NoRelease { available, .. } => format!("it has: {}", available.join("; ")),
            E::NotInstalled { app } => {
                format!("`keel install --app {app} --from STORE_URL --root ROOT_JSON` installs it")
            }
            E::AlreadyInstalled { app, .. } => format!("`keel update --app {app}` updates it"),
            E::NothingToRollBack { .. } => "keel keeps the version before the last update; there was no update since install or the last rollback".into(),
            E::ReadRoot { .. } => "pass the store's root.json with --root".into(),
            E::NoStoreUrl { .. } => format!("set {}", keel_schema::env::KEEL_STORE_URL),
            E::PlainHttp { .. } => "use the store's https:// URL; if the network between is trusted, allow plain HTTP with --allow-http (KEEL_ALLOW_HTTP=1): TUF still checks every signature and hash, but anyone on the path can see what is installed and hold updates back".into(),
            _ => return keel_update::Error::hint(self).map(str::to_owned),
        })
    }
}

/// The hint for the first error in `err`'s chain that has one.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(h) = cause.downcast_ref::<crate::Hinted>() {
            Some(h.hint.clone())
        } else if let Some(e) = cause.downcast_ref::<keel_release::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_plan::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_build::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_workspace::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_sign::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_verify::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_rehearse::Error>() {
            Hint::hint(e)
        } else if let Some(e) = cause.downcast_ref::<keel_update::Error>() {
            Hint::hint(e)
        } else if let Some(e) = cause.downcast_ref::<keel_github::Error>() {
            Hint::hint(e)
        } else if let Some(e) = cause.downcast_ref::<keel_oci::Error>() {
            Hint::hint(e)
        } else if let Some(e) = cause.downcast_ref::<keel_store::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_version::Error>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<keel_version::NextError>() {
            e.hint()
        } else {
            None
        }
    })
}
