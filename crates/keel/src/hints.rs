//! What the user can do about an error: the `hint:` line under it. Each library says what to
//! do where that needs none of keel's flags (`Error::hint`); the hints that name command-line
//! flags live here, in one table, and fall back to the library's.

/// An error type that knows what the user can do about it.
pub trait Hint {
    fn hint(&self) -> Option<String>;
}

/// Each error type's hints, arm by arm; any other error gets its library's hint.
macro_rules! hints {
    ($($ty:path { $($pat:pat $(if $guard:expr)? => $hint:expr),* $(,)? })+) => {$(
        impl Hint for $ty {
            #[allow(unreachable_patterns, unused_imports)]
            fn hint(&self) -> Option<String> {
                use $ty as E;
                match self {
                    $($pat $(if $guard)? => $hint,)*
                    _ => <$ty>::hint(self).map(Into::into),
                }
            }
        }
    )+};
}

fn h(hint: impl Into<String>) -> Option<String> {
    Some(hint.into())
}

hints! {
    keel_plan::Error {}
    keel_verify::Error {}
    keel_release::Error {
        E::Workspace(e) => Hint::hint(e),
        E::Plan(e) => Hint::hint(e),
        E::Build(e) => Hint::hint(e),
        E::Sign { source, .. } => Hint::hint(source),
        E::Oci(e) => Hint::hint(e),
        E::Version(e) => Hint::hint(e),
        E::Github(e) => Hint::hint(e),
        E::Store(e) => Hint::hint(e),
        E::OutputIsFile { .. } | E::OutputUnwritable { .. } => h("choose another folder with --out"),
        E::OutputNotARelease { .. } => h("choose an empty or new folder with --out, or remove that folder"),
        E::NoLinuxArchives { .. } => h("images hold Linux binaries: release a Linux target (`keel release --target x86_64-unknown-linux-musl`)"),
        E::SignedNeedsKey { .. } => h("pass --sign-key with the key that signed the release (or set KEEL_SIGNING_KEY)"),
        E::ImagesNotBuilt { .. } => h("run `keel image build` on the release before publishing it, or pass --no-images to publish without pushing images"),
        E::NotRehearsed { .. } => h("run `keel rehearse --from STORE` on the release (or --first-release), or pass --no-rehearsal REASON"),
        E::NoTagAtHead => h("`--tag` without a value takes the tag on the current commit: `keel bump --commit --tag` makes one; or pass --tag vX.Y.Z"),
        E::SeveralTagsAtHead { .. } => h("pass the one to release: --tag TAG"),
        E::NoTag => h("make the release with `keel release --tag vX.Y.Z`"),
        E::DetachedHead => h("pass --base BRANCH"),
        E::SourceElsewhere { .. } => h("run it in the checkout the release was made from, or name that workspace with --manifest-path"),
        E::BranchIsBase { .. } => h("pass another --branch (the default is keel/release)"),
        E::PlainHttpRegistry { destination, from_settings: false, needs_insecure, .. } => h(format!(
            "write `{destination}`{}: without `http://` keel speaks HTTPS",
            if *needs_insecure { " and pass --insecure (plain HTTP to another machine)" } else { "" }
        )),
        E::PlainHttpRegistry { destination, from_settings: true, needs_insecure, .. } => h(format!(
            "write `{destination}` in `registries` of [package.metadata.keel.image]{}: without `http://` keel speaks HTTPS",
            if *needs_insecure { ", and pass --insecure (plain HTTP to another machine)" } else { "" }
        )),
        E::GlibcTooNew { .. } => h("build that target with `--builder zigbuild` (or `builders` in the keel settings), which links against the glibc of `glibc-floor`; or build on an older distribution, or raise `glibc-floor`"),
    }
    keel_store::Error {
        E::WrongKey { .. } => h("pass the key that created the store (`--sign-key`), or publish to another store folder"),
    }
    keel_version::Error {
        E::Next { source, .. } => Hint::hint(source),
        E::Workspace(e) => Hint::hint(e),
        E::UnknownPackage { .. } => h("pass one of the released packages to --package"),
    }
    keel_version::NextError {
        E::LevelOfPrerelease { .. } => h("finish it with `keel bump release`, continue it with `keel bump alpha|beta|rc`, or move its base with `keel bump rc --bump major`"),
        E::NothingToRelease { .. } => h("say which version the pre-release is of: `keel bump alpha --bump minor`"),
    }
    keel_build::Error {
        E::TargetNotInstalled { target } => h(format!("install it with `rustup target add {target}`, or build this target on a CI runner of that platform")),
        E::BuilderMissing { builder: "zigbuild", .. } => h("install them with `pip install cargo-zigbuild ziglang`, or choose another builder with --builder"),
        E::BuilderMissing { builder: "cross", missing } if missing == "cross" => h("install it with `cargo install cross --locked`; it also needs docker or podman running. Or build the target with --builder zigbuild or on a native CI runner"),
        E::BuilderMissing { builder: "cross", .. } => h("start docker or podman (cross builds inside a container), or build the target with --builder zigbuild or on a native CI runner"),
    }
    keel_workspace::Error {
        E::NotFound { .. } | E::ManifestMissing { .. } => h("run keel in a Cargo workspace, or pass --manifest-path path/to/Cargo.toml"),
    }
    keel_sign::Error {
        E::WrongPassword => h("check the password (from KEEL_SIGNING_KEY_PASSWORD, or typed); a key made by `keel keygen --unencrypted` needs none"),
        E::ReadKey { .. } => h("`keel keygen --out PREFIX` creates a key pair"),
        E::UseKey { source, .. } => Hint::hint(&**source),
        E::KeyExists { .. } => h("choose another --out, or pass --force to replace the key pair"),
    }
    keel_github::Error {
        E::Differs { .. } => h("a release's files should not change; pass --replace to replace them in a draft"),
        E::ForeignRemote { .. } => h("pass a --remote on GitHub's host, or leave --remote out to push to the repository itself"),
        E::Push { .. } => h("check that the token may push to the repository (`contents: write`) and that --remote is right"),
    }
    keel_oci::Error {
        E::Unauthorized { registry, .. } => h(format!("log in with `keel image login {registry} -u USER --password-stdin` (or `docker login`: keel reads ~/.docker/config.json and its credential helpers), or set KEEL_REGISTRY_USER and KEEL_REGISTRY_PASSWORD")),
        E::PlainHttpServer { registry, needs_insecure } => h(format!(
            "write `http://{registry}`{}: without `http://` keel speaks HTTPS",
            if *needs_insecure { " and pass --insecure (plain HTTP to another machine)" } else { "" }
        )),
        E::Insecure { .. } => h("use https://, or pass --insecure if this registry really serves plain HTTP on a trusted network"),
    }
    keel_rehearse::Error {
        E::NotOlder { .. } => h("--from names the release to update from: the one before the candidate"),
        E::NotPrevious { .. } => h("--from takes the previous version's release folder (with keel-manifest.json), a store folder (with metadata/root.json) or a store URL"),
        E::NoRoot => h("pass the store's root.json with --root"),
        E::Root { .. } => h("give --root the root.json the store's maintainer published (for a store folder: STORE/metadata/root.json); check the path"),
        E::Update(err) => Hint::hint(err),
    }
    keel_update::Error {
        E::NoRelease { available, .. } if available.is_empty() => h("the store is empty; `keel publish` adds releases"),
        E::NoRelease { available, .. } => h(format!("it has: {}", available.join("; "))),
        E::NotInstalled { app } => h(format!("`keel install --app {app} --from STORE` installs it (a store folder, or its URL with --root ROOT_JSON)")),
        E::AlreadyInstalled { app, .. } => h(format!("`keel update --app {app}` updates it")),
        E::NothingToRollBack { .. } => h("keel keeps the version before the last update; there was no update since install or the last rollback"),
        E::ReadRoot { .. } => h("give --root the root.json the store's maintainer published (for a store folder: STORE/metadata/root.json); check the path"),
        E::NoStoreUrl { .. } => h("set KEEL_STORE_URL"),
        E::NoTrustedRoot { .. } => h("pass --root with the store's root.json, as its maintainer published it"),
        E::Store { failure: keel_update::store::StoreFailure::PlainHttpServer, url, .. } => {
            // The error names the store's metadata folder; `--from` takes the folder above it.
            let rest = url.strip_prefix("https://").unwrap_or(url);
            let store = rest.strip_suffix("metadata/").unwrap_or(rest);
            h(format!("the store's server speaks plain HTTP: give its URL as `http://{store}` (`keel install --from`); plain HTTP to another machine also needs --allow-http"))
        },
        E::PlainHttp { .. } => h("use the store's https:// URL; if the network between is trusted, allow plain HTTP with --allow-http (KEEL_ALLOW_HTTP=1): TUF still checks every signature and hash, but anyone on the path can see what is installed and hold updates back"),
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
