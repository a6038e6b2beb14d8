//! minisign secret keys: generating, encrypting, reading and signing with them.
//!
//! A secret key file holds, in base64: the algorithms (`Ed`, the key derivation `Sc` for scrypt
//! or none, the checksum `B2` for BLAKE2b), a 32-byte salt, scrypt's opslimit and memlimit,
//! then the key id, the 64-byte Ed25519 secret key and a BLAKE2b-256 checksum, XORed with
//! scrypt's output when the key is encrypted. These are minisign's formats and parameters, so
//! keys move freely between keel and `minisign`.

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blake2::Digest;
use ed25519_dalek::Signer as _;
use keel_verify::minisign::{PublicKey, Signature, prehash};
use zeroize::{Zeroize, Zeroizing};

use crate::Error;

const KDF_SCRYPT: [u8; 2] = *b"Sc";
const KDF_NONE: [u8; 2] = [0, 0];
/// minisign's scrypt limits: scrypt with N = 2^20, r = 8, p = 1 (1 GiB of memory).
const OPSLIMIT: u64 = 33_554_432;
const MEMLIMIT: u64 = 1_073_741_824;
/// The most memory a key file may make scrypt use (minisign's "sensitive" limit).
const MAX_MEMORY: u64 = 1 << 31;
const KEYNUM_LEN: usize = 8 + 64 + 32;
const FILE_LEN: usize = 2 + 2 + 2 + 32 + 8 + 8 + KEYNUM_LEN;

/// A secret string (a key file's contents, a password): never shown by `Debug` or `Display`,
/// wiped from memory when dropped.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: String) -> Secret {
        Secret(Zeroizing::new(value))
    }

    /// The secret itself; for writing it where it belongs, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A decrypted signing key.
pub struct SigningKey {
    key_id: [u8; 8],
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, [redacted])",
            self.public_key().key_id_hex()
        )
    }
}

fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(Error::Random)?;
    Ok(bytes)
}

/// scrypt's N (as log2), r and p for minisign's opslimit and memlimit, chosen the way
/// libsodium chooses them.
fn scrypt_params(opslimit: u64, memlimit: u64) -> (u8, u32, u32) {
    let opslimit = opslimit.max(32_768);
    let r: u32 = 8;
    let first_log_n_above = |max_n: u64| (1u8..63).find(|&n| (1u64 << n) > max_n / 2).unwrap_or(63);
    if opslimit < memlimit / 32 {
        let log_n = first_log_n_above(opslimit / (u64::from(r) * 4));
        (log_n, r, 1)
    } else {
        let log_n = first_log_n_above(memlimit / (u64::from(r) * 128));
        let max_rp = ((opslimit / 4) / (1u64 << log_n)).min(0x3fff_ffff);
        (log_n, r, (max_rp as u32 / r).max(1))
    }
}

fn keystream(
    password: &Secret,
    salt: &[u8; 32],
    opslimit: u64,
    memlimit: u64,
) -> Result<Zeroizing<[u8; KEYNUM_LEN]>, Error> {
    let (log_n, r, p) = scrypt_params(opslimit, memlimit);
    let memory = (1u64 << log_n) * u64::from(r) * 128;
    if memory > MAX_MEMORY {
        return Err(Error::MalformedKey(format!(
            "its key derivation asks for {} MiB of memory",
            memory >> 20
        )));
    }
    let params = scrypt::Params::new(log_n, r, p)
        .map_err(|_| Error::MalformedKey("its key derivation parameters are invalid".into()))?;
    let mut stream = Zeroizing::new([0u8; KEYNUM_LEN]);
    scrypt::scrypt(password.expose().as_bytes(), salt, &params, stream.as_mut())
        .map_err(|_| Error::MalformedKey("its key derivation failed".into()))?;
    Ok(stream)
}

fn checksum(key_id: &[u8; 8], secret: &[u8; 64]) -> [u8; 32] {
    let mut hasher = blake2::Blake2b::<blake2::digest::consts::U32>::new();
    hasher.update(b"Ed");
    hasher.update(key_id);
    hasher.update(secret);
    hasher.finalize().into()
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<SigningKey, Error> {
        let seed = Zeroizing::new(random::<32>()?);
        Ok(SigningKey {
            key_id: random::<8>()?,
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_parts(self.key_id, self.key.verifying_key().as_bytes())
            .expect("a signing key's public key is a valid point")
    }

    /// The secret key file, encrypted with `password` when one is given.
    pub fn to_text(&self, password: Option<&Secret>) -> Result<Secret, Error> {
        let mut keynum = Zeroizing::new([0u8; KEYNUM_LEN]);
        let secret = Zeroizing::new(self.key.to_keypair_bytes());
        keynum[..8].copy_from_slice(&self.key_id);
        keynum[8..72].copy_from_slice(secret.as_ref());
        keynum[72..].copy_from_slice(&checksum(&self.key_id, &secret));
        let mut file = Zeroizing::new(Vec::with_capacity(FILE_LEN));
        file.extend_from_slice(b"Ed");
        match password {
            Some(password) => {
                let salt = random::<32>()?;
                let stream = keystream(password, &salt, OPSLIMIT, MEMLIMIT)?;
                for (byte, mask) in keynum.iter_mut().zip(stream.iter()) {
                    *byte ^= mask;
                }
                file.extend_from_slice(&KDF_SCRYPT);
                file.extend_from_slice(b"B2");
                file.extend_from_slice(&salt);
                file.extend_from_slice(&OPSLIMIT.to_le_bytes());
                file.extend_from_slice(&MEMLIMIT.to_le_bytes());
            }
            None => {
                file.extend_from_slice(&KDF_NONE);
                file.extend_from_slice(b"B2");
                file.extend_from_slice(&[0u8; 48]);
            }
        }
        file.extend_from_slice(keynum.as_ref());
        let comment = if password.is_some() {
            "minisign encrypted secret key"
        } else {
            "minisign secret key"
        };
        Ok(Secret::new(format!(
            "untrusted comment: {comment}\n{}\n",
            BASE64.encode(&file)
        )))
    }

    /// Whether a secret key file is encrypted (needs a password).
    pub fn is_encrypted(text: &Secret) -> Result<bool, Error> {
        let file = decode(text)?;
        Ok(file[2..4] == KDF_SCRYPT)
    }

    /// Reads a secret key file, decrypting it with `password`.
    pub fn from_text(text: &Secret, password: Option<&Secret>) -> Result<SigningKey, Error> {
        let file = decode(text)?;
        if file[..2] != *b"Ed" || file[4..6] != *b"B2" {
            return Err(Error::MalformedKey(
                "it is not an Ed25519 key with a BLAKE2b checksum".into(),
            ));
        }
        let mut keynum = Zeroizing::new([0u8; KEYNUM_LEN]);
        keynum.copy_from_slice(&file[54..]);
        match [file[2], file[3]] {
            KDF_NONE => {}
            KDF_SCRYPT => {
                let password = password.ok_or(Error::PasswordNeeded)?;
                let salt: [u8; 32] = file[6..38].try_into().expect("32 bytes");
                let opslimit = u64::from_le_bytes(file[38..46].try_into().expect("8 bytes"));
                let memlimit = u64::from_le_bytes(file[46..54].try_into().expect("8 bytes"));
                let stream = keystream(password, &salt, opslimit, memlimit)?;
                for (byte, mask) in keynum.iter_mut().zip(stream.iter()) {
                    *byte ^= mask;
                }
            }
            _ => return Err(Error::MalformedKey("unknown key derivation".into())),
        }
        let key_id: [u8; 8] = keynum[..8].try_into().expect("8 bytes");
        let mut secret = Zeroizing::new([0u8; 64]);
        secret.copy_from_slice(&keynum[8..72]);
        if checksum(&key_id, &secret) != keynum[72..] {
            return Err(if file[2..4] == KDF_SCRYPT {
                Error::WrongPassword
            } else {
                Error::MalformedKey("its checksum does not match".into())
            });
        }
        let key = ed25519_dalek::SigningKey::from_keypair_bytes(&secret)
            .map_err(|_| Error::MalformedKey("its public half does not match its secret".into()))?;
        Ok(SigningKey { key_id, key })
    }

    /// Signs `data` as `minisign -S` does (prehashed), with the given comments.
    pub fn sign(
        &self,
        data: impl Read,
        trusted_comment: &str,
        untrusted_comment: &str,
    ) -> Result<Signature, Error> {
        if trusted_comment.contains('\n') || untrusted_comment.contains('\n') {
            return Err(Error::Comment);
        }
        let hash = prehash(data).map_err(Error::ReadData)?;
        let signature = self.key.sign(&hash).to_bytes();
        let global = Signature::global_message(&signature, trusted_comment);
        Ok(Signature {
            untrusted_comment: untrusted_comment.to_owned(),
            prehashed: true,
            key_id: self.key_id,
            signature,
            trusted_comment: trusted_comment.to_owned(),
            global_signature: self.key.sign(&global).to_bytes(),
        })
    }

    /// The Ed25519 seed, for handing this key to another signer (the TUF repository editor).
    /// It is wiped from memory when dropped; never print it.
    pub fn ed25519_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// A plain Ed25519 signature of `message` (for DSSE envelopes).
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

fn decode(text: &Secret) -> Result<Zeroizing<Vec<u8>>, Error> {
    let line = text
        .expose()
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with("untrusted comment:"))
        .ok_or_else(|| Error::MalformedKey("it has no key line".into()))?;
    let mut bytes = BASE64
        .decode(line)
        .map_err(|_| Error::MalformedKey("its key line is not base64".into()))?;
    if bytes.len() != FILE_LEN {
        let len = bytes.len();
        bytes.zeroize();
        return Err(Error::MalformedKey(format!(
            "it is {len} bytes long, not {FILE_LEN}"
        )));
    }
    Ok(Zeroizing::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minisign_parameters_are_libsodiums() {
        assert_eq!(scrypt_params(OPSLIMIT, MEMLIMIT), (20, 8, 1));
        // libsodium's interactive limits.
        assert_eq!(scrypt_params(524_288, 16_777_216), (14, 8, 1));
    }

    #[test]
    fn unencrypted_round_trip_and_signature() {
        let key = SigningKey::generate().unwrap();
        let text = key.to_text(None).unwrap();
        assert!(!SigningKey::is_encrypted(&text).unwrap());
        let again = SigningKey::from_text(&text, None).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let signature = again.sign(&b"data"[..], "app=x", "signature").unwrap();
        let parsed = Signature::from_text(&signature.to_text()).unwrap();
        keel_verify::minisign::verify(&key.public_key(), &parsed, &b"data"[..]).unwrap();
        assert!(keel_verify::minisign::verify(&key.public_key(), &parsed, &b"datA"[..]).is_err());
    }

    #[test]
    fn secrets_are_never_shown() {
        let key = SigningKey::generate().unwrap();
        let text = key.to_text(None).unwrap();
        assert_eq!(format!("{text:?}"), "Secret([redacted])");
        let shown = format!("{key:?}");
        assert!(
            shown.contains("[redacted]") && !shown.contains(text.expose().lines().nth(1).unwrap())
        );
    }

    #[test]
    fn a_truncated_key_is_malformed() {
        let key = SigningKey::generate().unwrap().to_text(None).unwrap();
        let cut = Secret::new(key.expose()[..key.expose().len() - 20].to_owned());
        assert!(matches!(
            SigningKey::from_text(&cut, None),
            Err(Error::MalformedKey(_))
        ));
    }
}
