//! What the user can do about an error: the `hint:` line under it. Each library says what to
//! do where that needs none of keel's flags (`Error::hint`); the hints that name command-line
//! flags live here, and fall back to the library's.

/// An error type that knows what the user can do about it.
pub trait Hint {
    fn hint(&self) -> Option<String>;
}

/// The `Hint` of error types whose every hint comes from their library.
macro_rules! library_hints {
    ($($ty:ty),+) => {$(
        impl Hint for $ty {
            fn hint(&self) -> Option<String> {
                <$ty>::hint(self).map(Into::into)
            }
        }
    )+};
}

library_hints!(keel_plan::Error, keel_verify::Error);

impl Hint for keel_release::Error {
    fn hint(&self) -> Option<String> {
        use keel_release::Error as E;
        Some(match self {
            E::Workspace(e) => return Hint::hint(e),
            E::Plan(e) => return Hint::hint(e),
            E::Build(e) => return Hint::hint(e),
            E::Sign { source, .. } => return Hint::hint(source),
            E::Oci(e) => return Hint::hint(e),
            E::Version(e) => return Hint::hint(e),
            E::Github(e) => return Hint::hint(e),
            E::Store(e) => return Hint::hint(e),
            E::OutputIsFile { .. } | E::OutputUnwritable { .. } => {
                "choose another folder with --out".into()
            }
            E::OutputNotARelease { .. } => {
                "choose an empty or new folder with --out, or remove that folder".into()
            }
            E::NoLinuxArchives { .. } => "images hold Linux binaries: release a Linux target (`keel release --target x86_64-unknown-linux-musl`)".into(),
            E::SignedNeedsKey { .. } => "pass --sign-key with the key that signed the release (or set KEEL_SIGNING_KEY)".into(),
            E::ImagesNotBuilt { .. } => "run `keel image build` on the release before publishing it, or pass --no-images to publish without pushing images".into(),
            E::NotRehearsed { .. } => "run `keel rehearse --from STORE` on the release (or --first-release), or pass --no-rehearsal REASON".into(),
            E::NoTag => "make the release with `keel release --tag vX.Y.Z`".into(),
            E::DetachedHead => "pass --base BRANCH".into(),
            E::GlibcTooNew { .. } => "build that target with `--builder zigbuild` (or `builders` in the keel settings), which links against the glibc of `glibc-floor`; or build on an older distribution, or raise `glibc-floor`".into(),
            _ => return self.hint().map(Into::into),
        })
    }
}

impl Hint for keel_store::Error {
    fn hint(&self) -> Option<String> {
        match self {
            keel_store::Error::WrongKey { .. } => Some(
                "pass the key that created the store (`--key`), or publish to another store folder"
                    .into(),
            ),
            _ => self.hint().map(Into::into),
        }
    }
}

impl Hint for keel_version::Error {
    fn hint(&self) -> Option<String> {
        match self {
            keel_version::Error::Next { source, .. } => Hint::hint(source),
            keel_version::Error::Workspace(e) => Hint::hint(e),
            keel_version::Error::UnknownPackage { .. } => {
                Some("pass one of the released packages to --package".into())
            }
            _ => self.hint().map(Into::into),
        }
    }
}

impl Hint for keel_version::NextError {
    fn hint(&self) -> Option<String> {
        use keel_version::NextError as E;
        Some(match self {
            E::LevelOfPrerelease { .. } => {
                "finish it with `keel bump release`, continue it with `keel bump alpha|beta|rc`, or move its base with `keel bump rc --bump major`".into()
            }
            E::NothingToRelease { .. } => {
                "say which version the pre-release is of: `keel bump alpha --bump minor`".into()
            }
            _ => return self.hint().map(Into::into),
        })
    }
}

impl Hint for keel_build::Error {
    fn hint(&self) -> Option<String> {
        use keel_build::Error as E;
        Some(match self {
            E::TargetNotInstalled { target } => format!(
                "install it with `rustup target add {target}`, or build this target on a CI runner of that platform"
            ),
            E::BuilderMissing { builder: "zigbuild", .. } => {
                "install them with `pip install cargo-zigbuild ziglang`, or choose another builder with --builder".into()
            }
            E::BuilderMissing { builder: "cross", missing } if missing == "cross" => {
                "install it with `cargo install cross --locked`; it also needs docker or podman running. Or build the target with --builder zigbuild or on a native CI runner".into()
            }
            E::BuilderMissing { builder: "cross", .. } => {
                "start docker or podman (cross builds inside a container), or build the target with --builder zigbuild or on a native CI runner".into()
            }
            _ => return self.hint().map(Into::into),
        })
    }
}

impl Hint for keel_workspace::Error {
    fn hint(&self) -> Option<String> {
        use keel_workspace::Error as E;
        match self {
            E::NotFound { .. } | E::ManifestMissing { .. } => Some(
                "run keel in a Cargo workspace, or pass --manifest-path path/to/Cargo.toml".into(),
            ),
            _ => self.hint().map(Into::into),
        }
    }
}

impl Hint for keel_sign::Error {
    fn hint(&self) -> Option<String> {
        use keel_sign::Error as E;
        Some(match self {
            E::WrongPassword => "check the password (from KEEL_SIGNING_KEY_PASSWORD, or typed); a key made by `keel keygen --unencrypted` needs none".into(),
            E::ReadKey { .. } => "`keel keygen --out PREFIX` creates a key pair".into(),
            E::UseKey { source, .. } => return Hint::hint(&**source),
            E::KeyExists { .. } => {
                "choose another --out, or pass --force to replace the key pair".into()
            }
            _ => return self.hint().map(Into::into),
        })
    }
}

impl Hint for keel_github::Error {
    fn hint(&self) -> Option<String> {
        use keel_github::Error as E;
        Some(match self {
            E::Differs { .. } => {
                "a release's files should not change; pass --replace to replace them in a draft".into()
            }
            E::Push { .. } => {
                "check that the token may push to the repository (`contents: write`) and that --remote is right".into()
            }
            _ => return self.hint().map(Into::into),
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
            _ => return self.hint().map(Into::into),
        })
    }
}

impl Hint for keel_rehearse::Error {
    fn hint(&self) -> Option<String> {
        use keel_rehearse::Error as E;
        Some(match self {
            E::NotOlder { .. } => "--from names the release to update from: the one before the candidate".into(),
            E::NotPrevious { .. } => "--from takes the previous version's release folder (with keel-manifest.json), a store folder (with metadata/root.json) or a store URL".into(),
            E::NoRoot | E::Root { .. } => "pass the store's root.json with --root".into(),
            E::Update(err) => return Hint::hint(err),
            _ => return self.hint().map(Into::into),
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
            _ => return self.hint().map(Into::into),
        })
    }
}

/// The hint of `cause` when it is one of `types`; `None` when it is none of them.
macro_rules! hint_of_any {
    ($cause:expr, $($ty:ty),+) => {{
        let cause = $cause;
        None$(.or_else(|| cause.downcast_ref::<$ty>().map(|e| Hint::hint(e))))+
    }};
}

/// The hint for the first error in `err`'s chain that has one.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(h) = cause.downcast_ref::<crate::Hinted>() {
            return Some(h.hint.clone());
        }
        let hint: Option<Option<String>> = hint_of_any!(
            cause,
            keel_release::Error,
            keel_plan::Error,
            keel_build::Error,
            keel_workspace::Error,
            keel_sign::Error,
            keel_verify::Error,
            keel_rehearse::Error,
            keel_update::Error,
            keel_github::Error,
            keel_oci::Error,
            keel_store::Error,
            keel_version::Error,
            keel_version::NextError
        );
        hint.flatten()
    })
}
