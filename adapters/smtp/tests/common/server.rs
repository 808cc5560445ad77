//! The real SMTP server of `tests/smtpd.py` (aiosmtpd), started for a test. Also included by
//! the examples' tests (`#[path]`), so it uses nothing but std, tempfile and serde_json.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};

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
    pub fn start(mode: &str, tls: Option<(&Path, &Path)>, auth: Option<(&str, &str)>) -> Server {
        let dir = tempfile::tempdir().unwrap();
        // Found from any crate of the workspace (the examples' tests start it too).
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|d| d.join("adapters/smtp/tests/smtpd.py"))
            .find(|p| p.exists())
            .expect("adapters/smtp/tests/smtpd.py in the workspace");
        let python = python();
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .arg("--mode")
            .arg(mode)
            .arg("--out")
            .arg(dir.path());
        if let Some((cert, key)) = tls {
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
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
