//! Certificates for HTTPS tests, made by the test with python's `cryptography` package: a
//! test CA, a certificate it signs for `localhost` and `127.0.0.1`, one that has expired, one
//! for another host name, and one signed by another CA that nobody trusts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{require_tool, run_command};

/// A certificate and its private key, both PEM files.
#[derive(Debug, Clone)]
pub struct CertPair {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// A test CA and the server certificates the HTTPS tests need.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA's certificate: what a client must trust (`SSL_CERT_FILE`).
    pub ca: PathBuf,
    /// Valid now, for `localhost` and `127.0.0.1`.
    pub good: CertPair,
    /// For `localhost` and `127.0.0.1`, but expired a day ago.
    pub expired: CertPair,
    /// Valid now, but for `store.invalid` only.
    pub other_host: CertPair,
    /// Valid now, for `localhost` and `127.0.0.1`, but signed by a CA nobody trusts.
    pub unknown_ca: CertPair,
}

const MAKE: &str = r#"
import datetime, ipaddress, os, sys
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:
    sys.exit("the python package cryptography is not installed; run scripts/test.sh")
out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)

def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

def save(stem, cert, key):
    with open(os.path.join(out, stem + ".pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        with open(os.path.join(out, stem + ".key"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))

def ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - day).not_valid_after(now + 30 * day)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key

def leaf(stem, issuer, issuer_key, names, ips, before, after):
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(name(names[0])).issuer_name(issuer.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(before).not_valid_after(after)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False)
            .sign(issuer_key, hashes.SHA256()))
    save(stem, cert, key)

ca_cert, ca_key = ca("keel test CA")
save("ca", ca_cert, None)
other_cert, other_key = ca("a CA nobody trusts")
local = (["localhost"], ["127.0.0.1"])
leaf("good", ca_cert, ca_key, *local, now - day, now + 7 * day)
leaf("expired", ca_cert, ca_key, *local, now - 10 * day, now - day)
leaf("other-host", ca_cert, ca_key, ["store.invalid"], [], now - day, now + 7 * day)
leaf("unknown-ca", other_cert, other_key, *local, now - day, now + 7 * day)
"#;

impl TestCa {
    /// Makes the CA and the certificates in `dir`.
    pub fn new(dir: &Path) -> TestCa {
        fs_err::create_dir_all(dir).unwrap();
        run_command(
            Command::new(require_tool("python3"))
                .arg("-c")
                .arg(MAKE)
                .arg(dir),
        )
        .success();
        let pair = |stem: &str| CertPair {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}.key")),
        };
        TestCa {
            ca: dir.join("ca.pem"),
            good: pair("good"),
            expired: pair("expired"),
            other_host: pair("other-host"),
            unknown_ca: pair("unknown-ca"),
        }
    }
}
