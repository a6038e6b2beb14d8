//! Signing roles: the signed part is the role's fields and the [`Common`] ones, the
//! signatures are Ed25519 over its canonical JSON, and the file is the canonical JSON of
//! `{"signatures": [...], "signed": ...}` (compact and the same bytes on every run).

use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::keys::Key;
use crate::metadata::{Common, RoleKeys, canonical};
use crate::{Error, Failure};

/// An Ed25519 key that signs roles.
pub struct Signer {
    pair: Ed25519KeyPair,
    key: Key,
    id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer of the Ed25519 key whose 32-byte seed is `seed`.
    pub fn ed25519(seed: &[u8; 32]) -> Result<Signer, Error> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|err| Error::new(Failure::BadKey, format!("not an Ed25519 key: {err}")))?;
        let key = Key::ed25519(pair.public_key().as_ref());
        let id = key.id();
        Ok(Signer { pair, key, id })
    }

    /// The public key, as root metadata lists it.
    pub fn public_key(&self) -> Key {
        self.key.clone()
    }

    /// The key's id.
    pub fn key_id(&self) -> String {
        self.id.clone()
    }

    /// A role this key alone signs (threshold 1).
    pub fn role_keys(&self) -> RoleKeys {
        RoleKeys {
            keyids: vec![self.id.clone()],
            threshold: 1,
        }
    }

    /// `body` (a role's own fields) with `common`, signed by this key: the file's bytes.
    pub fn sign_role(&self, common: &Common, body: &impl Serialize) -> Result<Vec<u8>, Error> {
        sign_role(&[self], common, body)
    }
}

/// `body` with `common`, signed by every one of `signers`: the file's bytes.
pub fn sign_role(
    signers: &[&Signer],
    common: &Common,
    body: &impl Serialize,
) -> Result<Vec<u8>, Error> {
    let as_object = |value: Value| match value {
        Value::Object(map) => Ok(map),
        _ => Err(Error::new(Failure::Malformed, "a role is a JSON object")),
    };
    let malformed = |err: serde_json::Error| Error::new(Failure::Malformed, err.to_string());
    let mut signed: Map<String, Value> = as_object(serde_json::to_value(body).map_err(malformed)?)?;
    signed.extend(as_object(serde_json::to_value(common).map_err(malformed)?)?);
    let signed = Value::Object(signed);
    let payload = canonical(&signed)?;
    let mut signatures: Vec<(String, String)> = signers
        .iter()
        .map(|s| (s.id.clone(), hex::encode(s.pair.sign(&payload).as_ref())))
        .collect();
    signatures.sort();
    signatures.dedup_by(|a, b| a.0 == b.0);
    let envelope = serde_json::json!({
        "signatures": signatures
            .into_iter()
            .map(|(keyid, sig)| serde_json::json!({ "keyid": keyid, "sig": sig }))
            .collect::<Vec<_>>(),
        "signed": signed,
    });
    canonical(&envelope)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::metadata::{Root, parse, verify_signatures};
    use std::collections::BTreeMap;

    #[test]
    fn a_signed_root_parses_and_verifies_and_another_key_does_not() {
        let signer = Signer::ed25519(&[1; 32]).unwrap();
        let other = Signer::ed25519(&[2; 32]).unwrap();
        let keys = BTreeMap::from([(signer.key_id(), signer.public_key())]);
        let roles = ["root", "targets", "snapshot", "timestamp"]
            .into_iter()
            .map(|name| (name.to_owned(), signer.role_keys()))
            .collect();
        let root = Root {
            consistent_snapshot: true,
            keys: keys.clone(),
            roles,
        };
        let common = Common::new("root", 1, "2030-01-01T00:00:00Z");
        let bytes = signer.sign_role(&common, &root).unwrap();
        assert_eq!(
            bytes,
            signer.sign_role(&common, &root).unwrap(),
            "not deterministic"
        );
        let parsed = parse::<Root>(&bytes, "root").unwrap();
        assert_eq!(parsed.common.version, 1);
        verify_signatures(&parsed.envelope, &keys, parsed.signed.role("root"), "root").unwrap();
        let forged = other.sign_role(&common, &root).unwrap();
        let parsed = parse::<Root>(&forged, "root").unwrap();
        let err = verify_signatures(&parsed.envelope, &keys, parsed.signed.role("root"), "root")
            .unwrap_err();
        assert_eq!(err.failure(), Failure::BadSignature);
        // The key id is the sha256 of the key's canonical JSON.
        let key_json = canonical(&serde_json::to_value(signer.public_key()).unwrap()).unwrap();
        assert_eq!(
            signer.key_id(),
            hex::encode(ring::digest::digest(&ring::digest::SHA256, &key_json))
        );
    }
}
