//! Image references: `registry[:port]/repository[:tag][@sha256:<hex>]`, with Docker's
//! defaults (`docker.io`, `library/`), and an optional `http://` or `https://` in front that
//! says how the registry is reached.

use crate::Error;

/// Docker Hub as references name it.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The registry's host and port, as written (`ghcr.io`, `127.0.0.1:5000`, `docker.io`).
    pub registry: String,
    /// The repository (`owner/app`).
    pub repository: String,
    /// The tag, when one is given.
    pub tag: Option<String>,
    /// The digest, when one is given.
    pub digest: Option<String>,
}

/// How a registry is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// HTTPS (the default).
    Https,
    /// Plain HTTP, asked for with `http://`.
    Http,
}

fn bad(reference: &str, reason: &str) -> Error {
    Error::BadReference {
        reference: reference.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Splits `text` into scheme, registry and the rest (a repository path, maybe with a tag or
/// digest, or nothing).
fn split(text: &str) -> Result<(Scheme, String, String), Error> {
    let (scheme, rest) = if let Some(rest) = text.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else if let Some(rest) = text.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if text.contains("://") {
        return Err(bad(text, "only http:// and https:// registries exist"));
    } else {
        (Scheme::Https, text)
    };
    let rest = rest.trim_end_matches('/');
    let (first, after) = match rest.split_once('/') {
        Some((first, after)) => (first, after.to_owned()),
        None => (rest, String::new()),
    };
    let explicit = matches!(scheme, Scheme::Http) || text.starts_with("https://");
    let has_path = rest.contains('/');
    if explicit
        || (has_path && (first.contains('.') || first.contains(':') || first == "localhost"))
    {
        Ok((scheme, first.to_owned(), after))
    } else {
        Ok((scheme, DOCKER_HUB.to_owned(), rest.to_owned()))
    }
}

fn check_repository(text: &str, repository: &str) -> Result<(), Error> {
    let ok = !repository.is_empty()
        && repository.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
                && part.as_bytes()[0].is_ascii_alphanumeric()
        });
    if ok {
        Ok(())
    } else {
        Err(bad(
            text,
            "a repository is lowercase letters, digits, `.`, `_`, `-`, in `/`-separated parts",
        ))
    }
}

impl Reference {
    /// Parses an image reference (`ghcr.io/owner/app:1.0@sha256:...`).
    pub fn parse(text: &str) -> Result<Reference, Error> {
        let (scheme, registry, rest) = split(text)?;
        let (rest, digest) = match rest.split_once('@') {
            Some((rest, digest)) => {
                if !crate::is_digest(digest) {
                    return Err(bad(
                        text,
                        "a digest is `sha256:` and 64 lowercase hex digits",
                    ));
                }
                (rest.to_owned(), Some(digest.to_owned()))
            }
            None => (rest, None),
        };
        let (mut repository, tag) = match rest.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => {
                (repository.to_owned(), Some(tag.to_owned()))
            }
            _ => (rest.clone(), None),
        };
        if registry == DOCKER_HUB && !repository.contains('/') && !repository.is_empty() {
            repository = format!("library/{repository}");
        }
        check_repository(text, &repository)?;
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                && !tag.starts_with(['.', '-']);
            if !valid {
                return Err(bad(
                    text,
                    "a tag is letters, digits, `_`, `.`, `-` (at most 128)",
                ));
            }
        }
        Ok(Reference {
            scheme,
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Parses a registry as `keel image login` takes it (`ghcr.io`, `http://127.0.0.1:5000`):
    /// the scheme and the host.
    pub fn parse_registry(text: &str) -> Result<(Scheme, String), Error> {
        let (scheme, rest) = if let Some(rest) = text.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            (Scheme::Https, text.strip_prefix("https://").unwrap_or(text))
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '@']) || host.contains("://") {
            return Err(bad(
                text,
                "give a registry's host (`ghcr.io`, `registry.example.com:5000`) without a path",
            ));
        }
        Ok((scheme, host.to_owned()))
    }

    /// Parses `REGISTRY/NAMESPACE` as `keel image push` takes it: the scheme, the registry and
    /// the namespace (possibly empty, possibly several parts).
    pub fn parse_namespace(text: &str) -> Result<(Scheme, String, String), Error> {
        let (scheme, registry, namespace) = split(text)?;
        if namespace.contains([':', '@']) {
            return Err(bad(
                text,
                "give a registry and namespace (`ghcr.io/owner`) without a tag or digest",
            ));
        }
        if !namespace.is_empty() {
            check_repository(text, &namespace)?;
        }
        Ok((scheme, registry, namespace))
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references_parse_like_dockers() {
        let r = Reference::parse(&format!("gcr.io/distroless/cc-debian12:nonroot@{D}")).unwrap();
        assert_eq!(r.registry, "gcr.io");
        assert_eq!(r.repository, "distroless/cc-debian12");
        assert_eq!(r.tag.as_deref(), Some("nonroot"));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.scheme, Scheme::Https);
        let hub = Reference::parse("alpine:3.20").unwrap();
        assert_eq!(
            (hub.registry.as_str(), hub.repository.as_str()),
            ("docker.io", "library/alpine")
        );
        let local = Reference::parse(&format!("http://127.0.0.1:5000/base@{D}")).unwrap();
        assert_eq!(local.scheme, Scheme::Http);
        assert_eq!(local.registry, "127.0.0.1:5000");
        assert_eq!(local.repository, "base");
        assert_eq!(local.tag, None);
        assert_eq!(local.to_string(), format!("127.0.0.1:5000/base@{D}"));
        for wrong in [
            "ghcr.io/Owner/app",
            "ghcr.io/app@sha256:12",
            "ftp://x.io/a",
            "ghcr.io/a:-x",
            "ghcr.io/a b",
        ] {
            assert!(Reference::parse(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn namespaces() {
        assert_eq!(
            Reference::parse_namespace("ghcr.io/keel-rs").unwrap(),
            (Scheme::Https, "ghcr.io".to_owned(), "keel-rs".to_owned())
        );
        assert_eq!(
            Reference::parse_namespace("http://localhost:5000").unwrap(),
            (Scheme::Http, "localhost:5000".to_owned(), String::new())
        );
        assert!(Reference::parse_namespace("ghcr.io/keel-rs:v1").is_err());
    }
}
