//! TUF metadata: parsing, the checks every file must pass, signatures over canonical JSON.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::Key;
use crate::{Error as TufError, Failure};

/// The four top-level roles.
pub const ROOT: &str = "root";
pub const TIMESTAMP: &str = "timestamp";
pub const SNAPSHOT: &str = "snapshot";
pub const TARGETS: &str = "targets";
const TOP_LEVEL: [&str; 4] = [ROOT, TIMESTAMP, SNAPSHOT, TARGETS];

fn malformed(message: impl Into<String>) -> TufError {
    TufError::new(Failure::Malformed, message)
}

/// A metadata file as received: its signatures, its signed part and that part's canonical
/// bytes (what the signatures sign).
pub struct Envelope {
    signatures: BTreeMap<String, String>,
    payload: Vec<u8>,
}

/// The fields every role's signed part has.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Common {
    #[serde(rename = "_type")]
    pub kind: String,
    pub spec_version: String,
    pub version: u64,
    pub expires: String,
}

/// The TUF specification version keel writes.
pub const SPEC_VERSION: &str = "1.0.0";

impl Common {
    /// The common fields of a role of type `kind` (`root`, `targets`, ...) at `version`,
    /// expiring at `expires` (`YYYY-MM-DDTHH:MM:SSZ`).
    pub fn new(kind: &str, version: u64, expires: impl Into<String>) -> Common {
        Common {
            kind: kind.to_owned(),
            spec_version: SPEC_VERSION.to_owned(),
            version,
            expires: expires.into(),
        }
    }
}

/// A parsed, not yet verified, metadata file of one role type.
pub struct Parsed<T> {
    pub envelope: Envelope,
    pub common: Common,
    pub expires: i64,
    pub signed: T,
}

impl<T> Parsed<T> {
    /// Whether it has expired at `now` (seconds since 1970): expired at the second it names.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires
    }
}

#[derive(Deserialize)]
struct RawSignature {
    keyid: String,
    sig: String,
}

#[derive(Deserialize)]
struct RawEnvelope {
    signatures: Vec<RawSignature>,
    signed: Value,
}

/// Parses `bytes` as metadata of role type `kind` (`root`, `timestamp`, `snapshot` or
/// `targets`) and checks what can be checked without keys.
pub fn parse<T: for<'de> Deserialize<'de> + Validate>(
    bytes: &[u8],
    kind: &str,
) -> Result<Parsed<T>, TufError> {
    let raw: RawEnvelope = serde_json::from_slice(bytes)
        .map_err(|err| malformed(format!("not TUF metadata: {err}")))?;
    let mut signatures = BTreeMap::new();
    for signature in raw.signatures {
        if signatures
            .insert(signature.keyid.clone(), signature.sig)
            .is_some()
        {
            return Err(malformed(format!(
                "two signatures by the key {}",
                signature.keyid
            )));
        }
    }
    let common: Common = serde_json::from_value(raw.signed.clone())
        .map_err(|err| malformed(format!("bad {kind} metadata: {err}")))?;
    if common.kind != kind {
        return Err(malformed(format!(
            "expected {kind} metadata, got {}",
            common.kind
        )));
    }
    check_spec_version(&common.spec_version)?;
    if common.version == 0 {
        return Err(malformed("metadata version 0"));
    }
    let expires = parse_time(&common.expires)
        .ok_or_else(|| malformed(format!("bad expiry `{}`", common.expires)))?;
    let payload = canonical(&raw.signed)?;
    let signed: T = serde_json::from_value(raw.signed)
        .map_err(|err| malformed(format!("bad {kind} metadata: {err}")))?;
    signed.validate()?;
    Ok(Parsed {
        envelope: Envelope {
            signatures,
            payload,
        },
        common,
        expires,
        signed,
    })
}

/// Spec versions `1.x` and `1.x.y` are read.
fn check_spec_version(version: &str) -> Result<(), TufError> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if matches!(parts.len(), 2 | 3) && numeric && parts[0] == "1" {
        Ok(())
    } else {
        Err(malformed(format!(
            "unsupported TUF specification version `{version}`"
        )))
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` as seconds since 1970.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days from 1970-01-01 to the civil date (proleptic Gregorian).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

pub use crate::canonical::canonical;

/// Checks a role's own consistency once parsed.
pub trait Validate {
    fn validate(&self) -> Result<(), TufError> {
        Ok(())
    }
}

/// The keys allowed to sign for a role, and how many must.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: u64,
}

impl RoleKeys {
    fn validate(&self, name: &str) -> Result<(), TufError> {
        if self.threshold == 0 {
            return Err(malformed(format!("the role {name} has a threshold of 0")));
        }
        let unique: BTreeSet<&String> = self.keyids.iter().collect();
        if unique.len() != self.keyids.len() {
            return Err(malformed(format!("the role {name} lists a key twice")));
        }
        Ok(())
    }
}

/// Checks that at least `role.threshold` of the role's keys signed `envelope`.
pub fn verify_signatures(
    envelope: &Envelope,
    keys: &BTreeMap<String, Key>,
    role: &RoleKeys,
    name: &str,
) -> Result<(), TufError> {
    let mut good = BTreeSet::new();
    for keyid in &role.keyids {
        if let (Some(key), Some(signature)) = (keys.get(keyid), envelope.signatures.get(keyid))
            && key.verifies(&envelope.payload, signature)
        {
            good.insert(keyid);
        }
    }
    if (good.len() as u64) < role.threshold {
        return Err(TufError::new(
            Failure::BadSignature,
            format!(
                "{name} has {} valid signature(s) of the {} required",
                good.len(),
                role.threshold
            ),
        ));
    }
    Ok(())
}

/// root.json's signed part.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Root {
    #[serde(default)]
    pub consistent_snapshot: bool,
    pub keys: BTreeMap<String, Key>,
    pub roles: BTreeMap<String, RoleKeys>,
}

impl Validate for Root {
    fn validate(&self) -> Result<(), TufError> {
        let names: BTreeSet<&str> = self.roles.keys().map(String::as_str).collect();
        if names != BTreeSet::from(TOP_LEVEL) {
            return Err(malformed(
                "root must name exactly the roles root, timestamp, snapshot and targets",
            ));
        }
        for (name, role) in &self.roles {
            role.validate(name)?;
        }
        Ok(())
    }
}

impl Root {
    pub fn role(&self, name: &str) -> &RoleKeys {
        // Validated: the four top-level roles are there.
        &self.roles[name]
    }
}

/// Hashes in the order the file lists them (the first one names consistent-snapshot
/// targets).
#[derive(Debug, Clone, Default)]
pub struct Hashes(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Hashes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Hashes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of hash algorithms to hex digests")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Hashes, A::Error> {
                let mut out = Vec::new();
                while let Some((algorithm, digest)) = map.next_entry::<String, String>()? {
                    out.push((algorithm, digest));
                }
                Ok(Hashes(out))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

impl Serialize for Hashes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (algorithm, digest) in &self.0 {
            map.serialize_entry(algorithm, digest)?;
        }
        map.end()
    }
}

impl Hashes {
    /// A file's sha256, the one hash keel's stores list.
    pub fn sha256(digest_hex: impl Into<String>) -> Hashes {
        Hashes(vec![("sha256".to_owned(), digest_hex.into())])
    }

    /// The hex digest of `algorithm`, if listed.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(a, _)| a == algorithm)
            .map(|(_, d)| d.as_str())
    }

    /// Checks `bytes` against every hash listed; an algorithm keel does not know fails.
    pub fn check(&self, bytes: &[u8], what: &str) -> Result<(), TufError> {
        let mut hasher = Hasher::new(self)?;
        hasher.update(bytes);
        hasher.finish(what)
    }
}

/// Hashes a stream with every algorithm a [`Hashes`] lists.
pub struct Hasher<'a> {
    expected: &'a Hashes,
    contexts: Vec<ring::digest::Context>,
}

impl<'a> Hasher<'a> {
    pub fn new(expected: &'a Hashes) -> Result<Hasher<'a>, TufError> {
        let mut contexts = Vec::new();
        for (algorithm, _) in &expected.0 {
            let algorithm = match algorithm.as_str() {
                "sha256" => &ring::digest::SHA256,
                "sha384" => &ring::digest::SHA384,
                "sha512" => &ring::digest::SHA512,
                other => {
                    return Err(TufError::new(
                        Failure::HashMismatch,
                        format!("unsupported hash algorithm `{other}`"),
                    ));
                }
            };
            contexts.push(ring::digest::Context::new(algorithm));
        }
        Ok(Hasher { expected, contexts })
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for context in &mut self.contexts {
            context.update(bytes);
        }
    }

    pub fn finish(self, what: &str) -> Result<(), TufError> {
        for ((algorithm, digest), context) in self.expected.0.iter().zip(self.contexts) {
            if hex::encode(context.finish()) != digest.to_ascii_lowercase() {
                return Err(TufError::new(
                    Failure::HashMismatch,
                    format!("{what} does not match its signed {algorithm} hash"),
                ));
            }
        }
        Ok(())
    }
}

/// What timestamp or snapshot says about another metadata file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MetaFile {
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
}

impl MetaFile {
    fn validate(&self, name: &str) -> Result<(), TufError> {
        if self.version == 0 {
            return Err(malformed(format!("{name} listed at version 0")));
        }
        if self.hashes.as_ref().is_some_and(|h| h.0.is_empty()) {
            return Err(malformed(format!("{name} listed with an empty hash list")));
        }
        Ok(())
    }

    /// Checks a file's length and hashes against this entry, where it gives them.
    pub fn check(&self, bytes: &[u8], what: &str) -> Result<(), TufError> {
        if let Some(length) = self.length
            && bytes.len() as u64 != length
        {
            return Err(TufError::new(
                Failure::LengthMismatch,
                format!("{what} is {} bytes, not the {length} signed", bytes.len()),
            ));
        }
        if let Some(hashes) = &self.hashes {
            hashes.check(bytes, what)?;
        }
        Ok(())
    }
}

/// timestamp.json's signed part.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Timestamp {
    /// `snapshot.json` and what the timestamp says of it.
    pub meta: BTreeMap<String, MetaFile>,
}

impl Validate for Timestamp {
    fn validate(&self) -> Result<(), TufError> {
        match self.meta.get("snapshot.json") {
            Some(meta) => meta.validate("snapshot.json"),
            None => Err(malformed("timestamp lists no snapshot.json")),
        }
    }
}

impl Timestamp {
    pub fn snapshot(&self) -> &MetaFile {
        &self.meta["snapshot.json"]
    }
}

/// snapshot.json's signed part.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Snapshot {
    pub meta: BTreeMap<String, MetaFile>,
}

impl Validate for Snapshot {
    fn validate(&self) -> Result<(), TufError> {
        for (name, meta) in &self.meta {
            meta.validate(name)?;
        }
        Ok(())
    }
}

/// One target file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: Hashes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

/// targets.json's (or a delegated role's) signed part.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Targets {
    pub targets: BTreeMap<String, TargetFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
}

impl Validate for Targets {
    fn validate(&self) -> Result<(), TufError> {
        for (name, target) in &self.targets {
            if target.hashes.0.is_empty() {
                return Err(malformed(format!("the target {name} lists no hash")));
            }
        }
        if let Some(delegations) = &self.delegations {
            delegations.validate()?;
        }
        Ok(())
    }
}

/// The roles a targets role delegates to.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
}

impl Delegations {
    fn validate(&self) -> Result<(), TufError> {
        match (&self.roles, &self.succinct_roles) {
            (Some(_), Some(_)) => {
                return Err(malformed("delegations have both roles and succinct_roles"));
            }
            (None, None) => {
                return Err(malformed(
                    "delegations have neither roles nor succinct_roles",
                ));
            }
            _ => {}
        }
        let mut names = BTreeSet::new();
        for role in self.roles.iter().flatten() {
            // Ignoring case: a role's file sits beside the top-level ones, and on a
            // case-insensitive disk `ROOT.json` would be `root.json`.
            if TOP_LEVEL
                .iter()
                .any(|top| top.eq_ignore_ascii_case(&role.name))
            {
                return Err(malformed(format!(
                    "a delegated role is named {}, a top-level role's name",
                    role.name
                )));
            }
            if !names.insert(&role.name) {
                return Err(malformed(format!(
                    "two delegated roles named {}",
                    role.name
                )));
            }
            role.keys.validate(&role.name)?;
            if role.paths.is_some() == role.path_hash_prefixes.is_some() {
                return Err(malformed(format!(
                    "the delegated role {} must have exactly one of paths and path_hash_prefixes",
                    role.name
                )));
            }
        }
        if let Some(succinct) = &self.succinct_roles {
            succinct.keys.validate(&succinct.name_prefix)?;
            if !(1..=32).contains(&succinct.bit_length) {
                return Err(malformed("succinct_roles bit_length is not in 1..=32"));
            }
        }
        Ok(())
    }

    /// The keys that sign for the delegated role `name`, if this delegates to it.
    pub fn role_keys(&self, name: &str) -> Option<&RoleKeys> {
        if let Some(roles) = &self.roles {
            return roles.iter().find(|r| r.name == name).map(|r| &r.keys);
        }
        let succinct = self.succinct_roles.as_ref()?;
        succinct.is_role(name).then_some(&succinct.keys)
    }

    /// The delegated roles responsible for `target`, in order, each with whether it is
    /// terminating.
    pub fn roles_for(&self, target: &str) -> Vec<(String, bool)> {
        if let Some(roles) = &self.roles {
            return roles
                .iter()
                .filter(|r| r.is_delegated(target))
                .map(|r| (r.name.clone(), r.terminating))
                .collect();
        }
        self.succinct_roles
            .iter()
            // Hash bins are terminating (TAP 15): a target's bin is the only role for it.
            .map(|s| (s.role_for(target), true))
            .collect()
    }
}

/// A delegation to one role.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DelegatedRole {
    pub name: String,
    #[serde(flatten)]
    pub keys: RoleKeys,
    #[serde(default)]
    pub terminating: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
}

impl DelegatedRole {
    fn is_delegated(&self, target: &str) -> bool {
        if let Some(prefixes) = &self.path_hash_prefixes {
            let digest = hex::encode(ring::digest::digest(
                &ring::digest::SHA256,
                target.as_bytes(),
            ));
            return prefixes.iter().any(|p| digest.starts_with(p.as_str()));
        }
        self.paths
            .iter()
            .flatten()
            .any(|pattern| path_matches(target, pattern))
    }
}

/// Hash-bin delegations (TAP 15): `2^bit_length` roles `<name_prefix>-<bin in hex>`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SuccinctRoles {
    #[serde(flatten)]
    pub keys: RoleKeys,
    pub bit_length: u32,
    pub name_prefix: String,
}

impl SuccinctRoles {
    fn suffix_len(&self) -> usize {
        format!("{:x}", (1u64 << self.bit_length) - 1).len()
    }

    fn role_for(&self, target: &str) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, target.as_bytes());
        let first = u32::from_be_bytes([
            digest.as_ref()[0],
            digest.as_ref()[1],
            digest.as_ref()[2],
            digest.as_ref()[3],
        ]);
        let bin = u64::from(first) >> (32 - self.bit_length);
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            bin,
            width = self.suffix_len()
        )
    }

    fn is_role(&self, name: &str) -> bool {
        let Some(suffix) = name
            .strip_prefix(self.name_prefix.as_str())
            .and_then(|s| s.strip_prefix('-'))
        else {
            return false;
        };
        suffix.len() == self.suffix_len()
            && u64::from_str_radix(suffix, 16).is_ok_and(|bin| bin < (1u64 << self.bit_length))
    }
}

/// Whether `target` matches the delegation path pattern `pattern`: as many `/`-separated
/// parts, each matching as a shell pattern (`*` and `?` never cross a `/`).
pub fn path_matches(target: &str, pattern: &str) -> bool {
    let targets: Vec<&str> = target.split('/').collect();
    let patterns: Vec<&str> = pattern.split('/').collect();
    targets.len() == patterns.len()
        && targets
            .iter()
            .zip(&patterns)
            .all(|(t, p)| glob(t.as_bytes(), p.as_bytes()))
}

/// fnmatch for one path part: `*`, `?`, `[abc]`, `[a-z]`, `[!abc]`. Iterative, with one
/// backtracking point for the last `*`, so no pattern makes it slow or deep.
fn glob(text: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0, 0);
    // Where to resume after the last `*`: the pattern after it, and the text it stopped at.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match class(&pattern[p + 1..], text[t]) {
                Some((true, rest)) => Some(pattern.len() - rest.len() - p),
                Some((false, _)) => None,
                // An unclosed `[` is a literal.
                None => (text[t] == b'[').then_some(1),
            },
            Some(&literal) => (text[t] == literal).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(len), _) => {
                t += 1;
                p += len;
            }
            (None, Some((after, from))) => {
                star = Some((after, from + 1));
                p = after;
                t = from + 1;
            }
            (None, None) => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// A `[...]` class after its `[`: whether `c` is in it, and the pattern after its `]`.
fn class(pattern: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negate, mut i) = match pattern.first() {
        Some(b'!') => (true, 1),
        _ => (false, 0),
    };
    let start = i;
    let mut matched = false;
    while i < pattern.len() {
        let p = pattern[i];
        if p == b']' && i > start {
            return Some((matched != negate, &pattern[i + 1..]));
        }
        if i + 2 < pattern.len() && pattern[i + 1] == b'-' && pattern[i + 2] != b']' {
            matched |= (p..=pattern[i + 2]).contains(&c);
            i += 3;
        } else {
            matched |= p == c;
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_are_read_exactly() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2000-03-01T00:00:01Z"), Some(951_868_801));
        assert_eq!(parse_time("2038-01-19T03:14:08Z"), Some(1 << 31));
        assert_eq!(parse_time("2030-13-01T00:00:00Z"), None);
        assert_eq!(parse_time("2030-01-01 00:00:00Z"), None);
        assert_eq!(parse_time("2030-01-01T00:00:00+00:00"), None);
    }

    #[test]
    fn path_patterns_match_part_by_part() {
        assert!(path_matches("a/b.tgz", "a/*"));
        assert!(path_matches("a/b.tgz", "*/*.tgz"));
        assert!(!path_matches("a/b/c.tgz", "a/*"));
        assert!(!path_matches("b.tgz", "a/*"));
        assert!(path_matches("file-3", "file-[0-9]"));
        assert!(!path_matches("file-x", "file-[0-9]"));
        assert!(path_matches("file-x", "file-[!0-9]"));
        assert!(path_matches("f?o", "f[?]o"));
        assert!(path_matches("xy", "x?"));
        assert!(path_matches("anything", "*"));
        assert!(!path_matches("", "?"));
        assert!(path_matches("abc", "a*c*"));
        assert!(path_matches("ab[c", "ab[c"));
        assert!(!path_matches("abd", "ab[c"));
        assert!(path_matches("aaab", "*a*b"));
        // A pattern that makes backtracking matchers exponential answers at once.
        let text = "a".repeat(200);
        assert!(!path_matches(&text, "*a*a*a*a*a*a*a*a*a*a*a*a*b"));
        assert!(path_matches(&text, &"*".repeat(100_000)));
    }

    #[test]
    fn succinct_roles_name_bins_by_the_target_hash() {
        let roles = SuccinctRoles {
            keys: RoleKeys {
                keyids: vec![],
                threshold: 1,
            },
            bit_length: 8,
            name_prefix: "bin".into(),
        };
        let name = roles.role_for("some/target");
        assert!(roles.is_role(&name), "{name}");
        assert_eq!(name.len(), "bin-00".len());
        assert!(!roles.is_role("bin-100"));
        assert!(!roles.is_role("other-00"));
    }
}
