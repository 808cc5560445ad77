//! Starts the real SMTP server in `tests/smtpd.py` (aiosmtpd) for a test.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};

mod server;
pub use server::Server;

pub struct Certs {
    pub ca_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Certs {
    /// The leaf certificate's and its key's files, for [`Server::start`].
    pub fn files(&self) -> (&Path, &Path) {
        (&self.cert_path, &self.key_path)
    }
}

/// A CA and a `localhost` leaf certificate it signed, generated now.
pub fn certs() -> Certs {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, leaf.pem()).unwrap();
    std::fs::write(&key_path, leaf_key.serialize_pem()).unwrap();
    Certs {
        ca_pem: ca.pem(),
        cert_path,
        key_path,
        _dir: dir,
    }
}

/// All values of a header in a parsed summary (case-insensitive name).
pub fn headers<'a>(summary: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    summary["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap())
        .collect()
}

/// The raw (undecoded, unfolded) header lines of a message, as received.
pub fn raw_header_block(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap().to_owned();
    head.replace("\r\n ", " ").replace("\r\n\t", " ")
}
