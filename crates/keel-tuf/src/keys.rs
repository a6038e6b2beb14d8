//! Public keys in TUF metadata, and checking a signature with one.
//!
//! The key types and schemes of the TUF specification: `ed25519` (hex public key),
//! `ecdsa` on P-256 and P-384 and `rsa` with PSS or PKCS#1 v1.5 padding (PEM public keys,
//! as securesystemslib writes them). A key of any other type or scheme verifies nothing:
//! it counts toward no threshold, and the metadata naming it stays readable.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde::{Deserialize, Serialize};

/// A public key as metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Key {
    keytype: String,
    scheme: String,
    keyval: KeyVal,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
struct KeyVal {
    public: String,
}

impl Key {
    /// An Ed25519 public key (32 bytes), as keel's stores list theirs.
    pub fn ed25519(public: &[u8]) -> Key {
        Key {
            keytype: "ed25519".to_owned(),
            scheme: "ed25519".to_owned(),
            keyval: KeyVal {
                public: hex::encode(public),
            },
        }
    }

    /// The key's id: the sha256 of its canonical JSON, as the specification defines it.
    pub fn id(&self) -> String {
        let value = serde_json::to_value(self).expect("a key is plain JSON data");
        let bytes =
            crate::canonical::canonical(&value).expect("a key has no floating-point number");
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))
    }

    /// The raw Ed25519 public key, when this is one.
    pub fn ed25519_public(&self) -> Option<Vec<u8>> {
        (self.keytype == "ed25519" && self.scheme == "ed25519")
            .then(|| hex::decode(self.keyval.public.trim()).ok())
            .flatten()
    }

    /// Whether `signature` (hex) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &str) -> bool {
        let Ok(signature) = hex::decode(signature) else {
            return false;
        };
        let Some((algorithm, public)) = self.algorithm() else {
            return false;
        };
        UnparsedPublicKey::new(algorithm, public)
            .verify(message, &signature)
            .is_ok()
    }

    /// ring's algorithm for the key's type and scheme, and the public key in ring's form.
    fn algorithm(&self) -> Option<(&'static dyn VerificationAlgorithm, Vec<u8>)> {
        let public = self.keyval.public.trim();
        let algorithm: &'static dyn VerificationAlgorithm =
            match (self.keytype.as_str(), self.scheme.as_str()) {
                ("ed25519", "ed25519") => {
                    let raw = hex::decode(public).ok()?;
                    return (raw.len() == 32).then_some((&signature::ED25519, raw));
                }
                ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                    &signature::ECDSA_P256_SHA256_ASN1
                }
                ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                    &signature::ECDSA_P384_SHA384_ASN1
                }
                ("rsa", "rsassa-pss-sha256") => &signature::RSA_PSS_2048_8192_SHA256,
                ("rsa", "rsassa-pss-sha384") => &signature::RSA_PSS_2048_8192_SHA384,
                ("rsa", "rsassa-pss-sha512") => &signature::RSA_PSS_2048_8192_SHA512,
                ("rsa", "rsa-pkcs1v15-sha256") => &signature::RSA_PKCS1_2048_8192_SHA256,
                ("rsa", "rsa-pkcs1v15-sha384") => &signature::RSA_PKCS1_2048_8192_SHA384,
                ("rsa", "rsa-pkcs1v15-sha512") => &signature::RSA_PKCS1_2048_8192_SHA512,
                _ => return None,
            };
        // ECDSA and RSA keys are PEM SubjectPublicKeyInfo; ring takes the key inside (the
        // EC point, or the RSAPublicKey structure).
        let der = pem_body(public)?;
        Some((algorithm, spki_key(&der)?.to_vec()))
    }
}

/// The DER bytes of a PEM `PUBLIC KEY` block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body = pem
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .trim()
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let text: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// One DER element: its tag, its content and what follows it.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, &rest[count..])
    };
    if rest.len() < length {
        return None;
    }
    Some((tag, &rest[..length], &rest[length..]))
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo:
/// `SEQUENCE { SEQUENCE algorithm, BIT STRING key }`.
fn spki_key(der: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const BIT_STRING: u8 = 0x03;
    let (SEQUENCE, spki, _) = der_element(der)? else {
        return None;
    };
    let (SEQUENCE, _, rest) = der_element(spki)? else {
        return None;
    };
    let (BIT_STRING, bits, _) = der_element(rest)? else {
        return None;
    };
    // The first byte counts unused bits, 0 for a key.
    match bits.split_first()? {
        (0, key) => Some(key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(keytype: &str, scheme: &str, public: &str) -> Key {
        Key {
            keytype: keytype.into(),
            scheme: scheme.into(),
            keyval: KeyVal {
                public: public.into(),
            },
        }
    }

    #[test]
    fn an_ed25519_signature_verifies_only_its_message() {
        use ring::signature::KeyPair;
        let pkcs8 =
            ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
                .unwrap();
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let public = key("ed25519", "ed25519", &hex::encode(pair.public_key()));
        let sig = hex::encode(pair.sign(b"signed bytes"));
        assert!(public.verifies(b"signed bytes", &sig));
        assert!(!public.verifies(b"other bytes", &sig));
        assert!(!public.verifies(b"signed bytes", "zz"));
        let unknown = key("ed448", "ed448", &hex::encode(pair.public_key()));
        assert!(!unknown.verifies(b"signed bytes", &sig));
    }

    #[test]
    fn an_ecdsa_pem_key_verifies() {
        use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        // SubjectPublicKeyInfo for a P-256 key: the fixed algorithm header, then the point.
        let mut spki = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
        spki.extend_from_slice(pair.public_key().as_ref());
        use base64::Engine;
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&spki)
        );
        let public = key("ecdsa", "ecdsa-sha2-nistp256", &pem);
        let sig = hex::encode(pair.sign(&rng, b"payload").unwrap());
        assert!(public.verifies(b"payload", &sig));
        assert!(!public.verifies(b"payloaD", &sig));
        let wrong_scheme = key("ecdsa", "ecdsa-sha2-nistp384", &pem);
        assert!(!wrong_scheme.verifies(b"payload", &sig));
    }
}
