//! A real PostgreSQL server for the tests, and a fresh database per test.
//!
//! With `AFTERCARE_TEST_POSTGRES_URL` set (a URL whose user may `CREATE DATABASE`), tests use
//! that server. Otherwise the first test starts a private server from the PostgreSQL
//! binaries (`initdb`, `pg_ctl`, found under `/usr/lib/postgresql/*/bin`, in
//! `AFTERCARE_TEST_POSTGRES_BIN`, or on `PATH`) in a temporary directory, listening only on a
//! unix socket there; a watchdog process stops it and deletes the directory when the test
//! binary exits, however it exits. As root, the server runs as the `postgres` user.
//! Without binaries or URL the tests fail, saying what to install.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use aftercare_postgres::PostgresStore;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

struct Server {
    admin: PgConnectOptions,
    /// Closing this pipe (when the process ends) tells the watchdog to stop the server.
    _watchdog: Option<Mutex<ChildStdin>>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// Whether a server started here flushes its commits to disk (for benchmarks); tests run
/// without fsync, which makes no difference to what they check.
static DURABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Starts the server (when one is started here) with fsync on: call before anything else.
pub fn durable() {
    DURABLE.store(true, std::sync::atomic::Ordering::SeqCst);
}

const INSTALL_HINT: &str = "install PostgreSQL (Debian/Ubuntu: `apt-get install -y postgresql`; the tests start \
     their own server from its binaries) or set AFTERCARE_TEST_POSTGRES_URL to a server whose user may CREATE DATABASE";

/// Connection options of a user allowed to create databases.
fn admin() -> PgConnectOptions {
    match SERVER.get_or_init(start) {
        Ok(s) => s.admin.clone(),
        Err(e) => panic!("no PostgreSQL server for the tests: {e}"),
    }
}

fn start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("AFTERCARE_TEST_POSTGRES_URL") {
        let admin = url
            .parse()
            .map_err(|e| format!("AFTERCARE_TEST_POSTGRES_URL is not a valid URL: {e}"))?;
        return Ok(Server {
            admin,
            _watchdog: None,
        });
    }
    let bin = find_bin().ok_or_else(|| {
        format!("no PostgreSQL binaries (initdb, pg_ctl) were found; {INSTALL_HINT}")
    })?;
    let dir = tempfile::Builder::new()
        .prefix("aftercare-pg-")
        .tempdir_in("/tmp")
        .map_err(|e| format!("could not create a temporary directory: {e}"))?
        .keep();
    // PostgreSQL refuses to run as root: run it as `postgres`, owner of the directory.
    let as_user: Vec<String> = if is_root() {
        let uid = id_of("-u")?;
        let gid = id_of("-g")?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("could not give {} to the postgres user: {e}", dir.display()))?;
        vec![
            "runuser".into(),
            "-u".into(),
            "postgres".into(),
            "--".into(),
        ]
    } else {
        Vec::new()
    };
    let data = dir.join("data");
    let pg_ctl = bin.join("pg_ctl");
    // The watchdog first, so the directory goes even if starting fails.
    let stop = format!(
        "cat >/dev/null; {} '{}' -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
        as_user.join(" "),
        pg_ctl.display(),
        data.display(),
        dir.display()
    );
    let mut watchdog = Command::new("setsid")
        .args(["sh", "-c", &stop])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .or_else(|_| {
            Command::new("sh")
                .args(["-c", &stop])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        })
        .map_err(|e| format!("could not start the watchdog shell: {e}"))?;
    let stdin = watchdog.stdin.take().map(Mutex::new);

    run(
        &as_user,
        &bin.join("initdb"),
        &[
            "-D",
            &data.to_string_lossy(),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
    )?;
    let fast = if DURABLE.load(std::sync::atomic::Ordering::SeqCst) {
        ""
    } else {
        "-F -c full_page_writes=off"
    };
    let server_opts = format!(
        "-k {} -c listen_addresses='' {fast} -c max_connections=200",
        dir.display()
    );
    run(
        &as_user,
        &pg_ctl,
        &[
            "-D",
            &data.to_string_lossy(),
            "-l",
            &dir.join("server.log").to_string_lossy(),
            "-w",
            "-t",
            "60",
            "-o",
            &server_opts,
            "start",
        ],
    )
    .map_err(|e| {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        format!("{e}\nserver log:\n{log}")
    })?;
    let admin = PgConnectOptions::new()
        .socket(&dir)
        .port(5432)
        .username("postgres")
        .database("postgres");
    Ok(Server {
        admin,
        _watchdog: stdin,
    })
}

fn run(prefix: &[String], program: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program);
            c
        }
        None => Command::new(program),
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {} failed ({}):\n{}{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn find_bin() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Ok(d) = std::env::var("AFTERCARE_TEST_POSTGRES_BIN") {
        return Some(PathBuf::from(d)).filter(|d| has(d));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| has(d))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn id_of(flag: &str) -> Result<u32, String> {
    let out = Command::new("id")
        .args([flag, "postgres"])
        .output()
        .map_err(|e| format!("could not run `id`: {e}"))?;
    String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| {
        format!("running as root, the server must run as the `postgres` user, which does not exist; {INSTALL_HINT}")
    })
}

/// Connection options for a new, empty database of its own.
pub async fn fresh_database() -> PgConnectOptions {
    let admin = tokio::task::spawn_blocking(admin).await.unwrap();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .expect("connect to the test server");
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    conn.close().await.ok();
    admin.database(&name)
}

/// A store on a new, empty database.
pub async fn fresh_store() -> PostgresStore {
    let opts = fresh_database().await;
    PostgresStore::connect_with(PgPoolOptions::new().max_connections(10), opts)
        .await
        .expect("a fresh test database connects and migrates")
}
