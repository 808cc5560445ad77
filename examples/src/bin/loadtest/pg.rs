//! A private PostgreSQL server for the harness (initdb + pg_ctl, fsync on, unix socket
//! in the work directory), as the postgres adapter's tests start one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::BoxError;

pub(super) struct Server {
    bin: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    user: Vec<String>,
}

fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).find(|d| d.join("pg_ctl").exists() && d.join("initdb").exists())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("pg_ctl").exists())
            .collect();
        found.sort();
        found.pop()
    })
}

/// `runuser -u postgres --` as root (PostgreSQL refuses to run as root), else nothing.
fn as_user(dir: &Path) -> Result<Vec<String>, BoxError> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !root {
        return Ok(Vec::new());
    }
    let id = |flag: &str| -> Result<u32, BoxError> {
        let out = Command::new("id").args([flag, "postgres"]).output()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| "running as root, and there is no `postgres` user to run the server as")?)
    };
    std::os::unix::fs::chown(dir, Some(id("-u")?), Some(id("-g")?))?;
    Ok(["runuser", "-u", "postgres", "--"]
        .map(String::from)
        .to_vec())
}

fn command(prefix: &[String], program: &Path) -> Command {
    match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    }
}

impl Server {
    pub(super) fn start(work: &Path) -> Result<Self, BoxError> {
        let bin = bin_dir().ok_or(
            "no PostgreSQL binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql",
        )?;
        let dir = work.join("pg");
        std::fs::create_dir_all(&dir)?;
        let user = as_user(&dir)?;
        let data = dir.join("data");
        let socket = dir.clone();
        let ok = command(&user, &bin.join("initdb"))
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "-D",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?
            .success();
        if !ok {
            return Err("initdb failed".into());
        }
        // fsync on (the default): acknowledgements are durable as on SQLite.
        let opts = format!(
            "-k {} -c listen_addresses='' -c max_connections=200",
            socket.display()
        );
        let ok = command(&user, &bin.join("pg_ctl"))
            .args(["-w", "-D"])
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(dir.join("pg.log"))
            .arg("start")
            .stdout(Stdio::null())
            .status()?
            .success();
        if !ok {
            return Err("pg_ctl start failed".into());
        }
        Ok(Self {
            bin,
            data,
            socket,
            user,
        })
    }

    pub(super) fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres@localhost/{db}?host={}",
            self.socket.display()
        )
    }

    pub(super) async fn create_db(&self, db: &str) -> Result<(), BoxError> {
        let mut c =
            <sqlx::PgConnection as sqlx::Connection>::connect(&self.url("postgres")).await?;
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut c)
            .await?;
        Ok(())
    }

    fn stop(&self) {
        let _ = command(&self.user, &self.bin.join("pg_ctl"))
            .args(["-w", "-m", "fast", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(Stdio::null())
            .status();
    }
}

/// The server is stopped on every way out of the harness, errors and panics included.
impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
