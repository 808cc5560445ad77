//! Starts the real SMTP server in `tests/smtpd.py` (aiosmtpd) for a test.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Certs {
    pub ca_pem: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    _dir: tempfile::TempDir,
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

/// The first Python that can import aiosmtpd: `$AFTERCARE_TEST_PYTHON`, `python3` on the
/// PATH (pip-installed aiosmtpd), then `/usr/bin/python3` (Debian's `python3-aiosmtpd`).
fn python() -> String {
    let candidates = std::env::var("AFTERCARE_TEST_PYTHON")
        .into_iter()
        .chain(["python3".to_owned(), "/usr/bin/python3".to_owned()]);
    for p in candidates {
        let ok = Command::new(&p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return p;
        }
    }
    panic!(
        "no Python 3 with aiosmtpd found for the SMTP test server; install it (`apt-get install python3-aiosmtpd` or `python3 -m pip install aiosmtpd`) or set AFTERCARE_TEST_PYTHON"
    );
}

pub struct Server {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts aiosmtpd in `mode` (`plain`, `starttls`, `tls`), optionally requiring AUTH.
    pub fn start(mode: &str, certs: Option<&Certs>, auth: Option<(&str, &str)>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtpd.py");
        let python = python();
        let mut cmd = Command::new(&python);
        cmd.arg(script)
            .arg("--mode")
            .arg(mode)
            .arg("--out")
            .arg(dir.path());
        if let Some(c) = certs {
            cmd.arg("--cert")
                .arg(&c.cert_path)
                .arg("--key")
                .arg(&c.key_path);
        }
        if let Some((u, p)) = auth {
            cmd.arg("--user").arg(u).arg("--password").arg(p);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start `{python}` for the SMTP test server: {e}; install Python 3 and aiosmtpd (`pip install aiosmtpd` or `apt-get install python3-aiosmtpd`)"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(port) = line.trim().strip_prefix("READY ") else {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).ok();
            panic!(
                "the SMTP test server did not start (is aiosmtpd installed? `pip install aiosmtpd` or `apt-get install python3-aiosmtpd`):\n{err}"
            );
        };
        Server {
            port: port.parse().unwrap(),
            child,
            dir,
        }
    }

    /// Every message received so far, in order: (parsed summary, raw bytes).
    pub fn messages(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let mut out = Vec::new();
        for n in 1.. {
            let json = self.dir.path().join(format!("{n}.json"));
            if !json.exists() {
                break;
            }
            let summary = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
            let raw = std::fs::read(self.dir.path().join(format!("{n}.eml"))).unwrap();
            out.push((summary, raw));
        }
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
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
