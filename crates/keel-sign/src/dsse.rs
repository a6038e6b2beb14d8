//! DSSE envelopes (Dead Simple Signing Envelope, v1): the payload, its type, and Ed25519
//! signatures over the "pre-authentication encoding" of both.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signature as EdSignature;
use keel_verify::minisign::PublicKey;
use serde::{Deserialize, Serialize};

use crate::{Error, SigningKey};

/// The payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope: what keel writes, and what a verifier reads back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The payload, base64.
    pub payload: String,
    /// What the payload is.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The signatures.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// The minisign key id of the key that signed, as minisign prints it.
    pub keyid: String,
    /// The Ed25519 signature of the pre-authentication encoding, base64.
    pub sig: String,
}

/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Wraps `payload` in an envelope, signed by `key` when one is given.
pub fn sign(payload_type: &str, payload: &[u8], key: Option<&SigningKey>) -> Envelope {
    Envelope {
        payload: BASE64.encode(payload),
        payload_type: payload_type.to_owned(),
        signatures: key
            .map(|key| EnvelopeSignature {
                keyid: key.public_key().key_id_hex(),
                sig: BASE64.encode(key.sign_raw(&pae(payload_type, payload))),
            })
            .into_iter()
            .collect(),
    }
}

impl Envelope {
    /// Reads an envelope from one line of JSON.
    pub fn from_json(text: &str) -> Result<Envelope, serde_json::Error> {
        serde_json::from_str(text.trim())
    }

    /// The envelope as one line of JSON with a trailing newline.
    pub fn to_json_line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("an envelope is plain JSON data");
        line.push('\n');
        line
    }

    /// The payload, without checking any signature (for reading an unsigned release).
    pub fn payload_unverified(&self) -> Result<Vec<u8>, Error> {
        BASE64
            .decode(&self.payload)
            .map_err(|_| Error::EnvelopePayload)
    }
}

/// The payload of an envelope, after checking that `key` signed it.
pub fn verify(envelope: &Envelope, key: &PublicKey) -> Result<Vec<u8>, Error> {
    let payload = BASE64
        .decode(&envelope.payload)
        .map_err(|_| Error::EnvelopePayload)?;
    let message = pae(&envelope.payload_type, &payload);
    let signature = envelope
        .signatures
        .iter()
        .find(|s| s.keyid == key.key_id_hex())
        .ok_or_else(|| Error::EnvelopeUnsigned {
            key_id: key.key_id_hex(),
        })?;
    let bytes: [u8; 64] = BASE64
        .decode(&signature.sig)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::EnvelopeSignatureMalformed)?;
    key.ed25519()
        .verify_strict(&message, &EdSignature::from_bytes(&bytes))
        .map_err(|_| Error::EnvelopeBadSignature)?;
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn signed_envelopes_verify_and_tampering_is_caught() {
        let key = SigningKey::generate().unwrap();
        let mut envelope = sign(IN_TOTO_PAYLOAD_TYPE, b"{}", Some(&key));
        assert_eq!(verify(&envelope, &key.public_key()).unwrap(), b"{}");
        envelope.payload = BASE64.encode(b"{ }");
        assert!(verify(&envelope, &key.public_key()).is_err());
        let other = SigningKey::generate().unwrap();
        let envelope = sign(IN_TOTO_PAYLOAD_TYPE, b"{}", Some(&key));
        assert!(verify(&envelope, &other.public_key()).is_err());
    }
}
