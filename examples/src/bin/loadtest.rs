//! The load harness behind `cargo xtask loadtest` (issue 20): loopback only, bounded in time.
//!
//! Each round drives two servers in turn with the same client at a fixed concurrency:
//!
//! 1. **baseline**: a minimal axum server built here for the comparison — it checks the
//!    Shopify HMAC and parses the body into a 7-field struct, and stores nothing;
//! 2. **receiver**: the reference `receiver` binary (`--config`, Shopify mounted as
//!    `tracking-links` mounts it) on a fresh SQLite file (or PostgreSQL with
//!    `--postgres`), which acknowledges only once the webhook is in the inbox, and
//!    processes the inbox beside ingest.
//!
//! Every request is a signed 6.5 KB Shopify `orders/fulfilled` with its own
//! `X-Shopify-Webhook-Id` and its own order id (so neither de-duplication rule makes it a
//! duplicate). Acknowledgement latency goes into an HDR histogram. After the receiver's
//! phase the harness waits for the backlog to drain, stops the receiver with SIGTERM, and
//! checks in the database that every acknowledged webhook is stored once and was
//! processed once (claimed once, done). It prints a Markdown table with the machine's load.
//!
//! ```text
//! cargo xtask loadtest [--seconds 10] [--concurrency 50] [--rounds 2] [--postgres]
//! ```
//!
//! One file past 800 lines: a standalone harness (client, baseline server, checks, report)
//! kept in one binary so `cargo xtask loadtest` builds one thing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use clap::Parser;
use hdrhistogram::Histogram;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The standard body: a 6.5 KB Shopify `orders/fulfilled` (the shopify adapter's bench
/// fixture, the same as the issue's).
const BODY: &[u8] =
    include_bytes!("../../../adapters/shopify/benches/fixtures/shopify_order_fulfilled.json");
/// The order id in `BODY` (in `id` and `admin_graphql_api_id`), replaced by a unique one in
/// each request.
const ORDER_ID: &str = "820982911946154500";
const SHOP: &str = "loadtest.myshopify.com";

#[derive(Parser, Debug)]
#[command(
    about = "Load harness: durable ingest against a non-durable baseline, processing, checks"
)]
struct Args {
    /// Seconds each server is driven per round.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections (requests in flight) at once.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Rounds, each driving the baseline then the receiver.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Also measure the receiver on a private PostgreSQL server (skipped with a message
    /// when `initdb`/`pg_ctl` are missing).
    #[arg(long)]
    postgres: bool,
    /// Internal: serve the baseline on this address (the harness starts itself so).
    #[arg(long, hide = true)]
    serve_baseline: Option<SocketAddr>,
}

const SECRET: &str = "aftercare-loadtest-client-secret";
/// Driven before each measured phase; its webhooks are checked, not timed.
const WARM_UP: Duration = Duration::from_secs(1);

fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(addr) = args.serve_baseline {
        return rt.block_on(baseline::serve(addr));
    }
    rt.block_on(run(args))
}

/// What one phase measured.
struct Phase {
    ok: u64,
    failed: u64,
    elapsed: Duration,
    hist: Histogram<u64>,
    acked: Vec<String>,
    /// Server CPU (user + system), as a share of one core.
    cpu: f64,
    /// Bytes the server wrote to disk (`/proc/<pid>/io` `write_bytes`), when measured.
    written: Option<u64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn p(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

/// The receiver's processing, read from its database after a phase.
struct Processing {
    /// Entries done by the end of ingest, per second of ingest.
    during: f64,
    /// Backlog left at the end of ingest, and how fast it drained.
    backlog: u64,
    drain_rate: Option<f64>,
    lag_p50_ms: f64,
    lag_p99_ms: f64,
    /// Acknowledged ids missing from the inbox, stored more than once, not done, or
    /// claimed more than once.
    missing: u64,
    duplicated: u64,
    not_done: u64,
    processed_twice: u64,
    clean_stop: bool,
}

async fn run(args: Args) -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().ok_or("no directory for the harness binary")?;
    let receiver = dir.join(format!("receiver{}", std::env::consts::EXE_SUFFIX));
    if !receiver.exists() {
        return Err(format!(
            "{} is missing: build it first (`cargo build --release -p aftercare-examples --bins`, as `cargo xtask loadtest` does)",
            receiver.display()
        )
        .into());
    }
    let work = std::env::temp_dir().join(format!("aftercare-loadtest-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let load_before = loadavg();
    let started = chrono::Utc::now();
    let mut rows: Vec<Row> = Vec::new();
    let pg = if args.postgres {
        match pg::Server::start(&work) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("PostgreSQL skipped: {e}");
                None
            }
        }
    } else {
        None
    };
    let result = rounds(&args, &exe, &receiver, &work, pg.as_ref(), &mut rows).await;
    if let Some(pg) = &pg {
        pg.stop();
    }
    result?;
    let load_after = loadavg();
    print_report(&args, &rows, &load_before, &load_after, started);
    let _ = std::fs::remove_dir_all(&work);
    let failures: u64 = rows
        .iter()
        .filter_map(|(_, _, p)| p.as_ref())
        .map(|p| {
            p.missing + p.duplicated + p.not_done + p.processed_twice + u64::from(!p.clean_stop)
        })
        .sum();
    if failures > 0 {
        return Err(format!("{failures} check(s) failed: see the table").into());
    }
    Ok(())
}

type Row = (String, Phase, Option<Processing>);

async fn rounds(
    args: &Args,
    exe: &Path,
    receiver: &Path,
    work: &Path,
    pg: Option<&pg::Server>,
    rows: &mut Vec<Row>,
) -> Result<(), BoxError> {
    for round in 0..args.rounds {
        eprintln!("round {}: baseline", round + 1);
        let addr = free_addr()?;
        let mut child = Command::new(exe)
            .arg("--serve-baseline")
            .arg(addr.to_string())
            .stdout(Stdio::null())
            .spawn()?;
        let phase = drive_server(args, addr, &child, "base", round).await;
        stop(&mut child);
        rows.push((
            "baseline (axum, verify + parse, not stored)".into(),
            phase?,
            None,
        ));

        let mut stores = vec![(
            "SQLite",
            format!(
                "sqlite = {{ path = {:?} }}",
                work.join(format!("r{round}.db"))
            ),
        )];
        if let Some(pg) = pg {
            let db = format!("r{round}");
            pg.create_db(&db).await?;
            stores.push((
                "PostgreSQL",
                format!("postgres = {{ url = {{ value = {:?} }} }}", pg.url(&db)),
            ));
        }
        for (kind, storage) in stores {
            eprintln!("round {}: receiver on {kind}", round + 1);
            let (phase, processing) =
                drive_receiver(args, receiver, work, round, kind, &storage, pg).await?;
            rows.push((
                format!("receiver, {kind} inbox (durable, processing beside)"),
                phase,
                Some(processing),
            ));
        }
    }
    Ok(())
}

async fn drive_receiver(
    args: &Args,
    receiver: &Path,
    work: &Path,
    round: usize,
    kind: &str,
    storage: &str,
    pg: Option<&pg::Server>,
) -> Result<(Phase, Processing), BoxError> {
    let addr = free_addr()?;
    let cfg = work.join(format!("r{round}-{kind}.toml"));
    std::fs::write(&cfg, config(addr, storage))?;
    let stderr = work.join(format!("r{round}-{kind}.stderr"));
    let mut child = Command::new(receiver)
        .arg("--config")
        .arg(&cfg)
        .arg("--quiet")
        .arg("--bind")
        .arg(addr.to_string())
        .env("AFTERCARE_WEBHOOK_SECRET", "aftercare-loadtest-native")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr)?)
        .spawn()?;
    let phase = match drive_server(args, addr, &child, kind, round).await {
        Ok(p) => p,
        Err(e) => {
            stop(&mut child);
            return Err(e);
        }
    };
    let ingest_end = Instant::now();
    let db = match pg {
        Some(pg) if kind == "PostgreSQL" => Db::Postgres(pg.url(&format!("r{round}"))),
        _ => Db::Sqlite(work.join(format!("r{round}.db"))),
    };
    // Processing: what was done by the end of ingest, then the backlog's drain.
    let (done_at_end, total) = db.progress().await?;
    let mut drained: Option<(u64, Duration)> = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let (done, total) = db.progress().await?;
        if done >= total {
            drained = Some((done - done_at_end, ingest_end.elapsed()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let clean_stop = terminate(&mut child)?
        && !std::fs::read_to_string(&stderr)
            .unwrap_or_default()
            .contains("processing failed");
    let check = db.check(&phase.acked).await?;
    let backlog = total.saturating_sub(done_at_end);
    Ok((
        Phase { ..phase },
        Processing {
            // Ingest ran for the warm-up second and the measured phase.
            during: done_at_end as f64 / (phase.elapsed + WARM_UP).as_secs_f64(),
            backlog,
            drain_rate: drained
                .filter(|(n, _)| *n > 0)
                .map(|(n, t)| n as f64 / t.as_secs_f64()),
            lag_p50_ms: check.lag_p50_ms,
            lag_p99_ms: check.lag_p99_ms,
            missing: check.missing,
            duplicated: check.duplicated,
            not_done: check.not_done,
            processed_twice: check.processed_twice,
            clean_stop,
        },
    ))
}

/// The receiver's configuration: Shopify signed with the harness's secret, the store given.
fn config(addr: SocketAddr, storage: &str) -> String {
    format!(
        r#"[shop]
platform = "shopify"

[shopify]
shop = "{SHOP}"
access_token = {{ value = "shpat_loadtest" }}
client_secrets = [{{ value = "{SECRET}" }}]
tracking_link_key = {{ value = "loadtest-tracking-link-key-0123456789abcdef" }}

# Never contacted: the receiver only prints (the file is the one `tracking-links` reads).
[smtp]
host = "smtp.example.com"
port = 587
tls = "starttls"
username = "orders@shop.example"
password = {{ value = "unused" }}
from = "Loadtest <orders@shop.example>"

[tracking]
channels = ["email"]

[storage]
{storage}

[server]
bind = "{addr}"
public_url = "http://{addr}"
"#
    )
}

fn free_addr() -> Result<SocketAddr, BoxError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERM, then waits up to 20 s; true when the process exited successfully.
fn terminate(child: &mut Child) -> Result<bool, BoxError> {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if let Some(status) = child.try_wait()? {
            return Ok(status.success());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(child);
    Ok(false)
}

/// User + system CPU ticks of a process.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn write_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Waits for the server, then drives it for `--seconds` (after a 1 s warm-up whose requests
/// are checked but not measured).
async fn drive_server(
    args: &Args,
    addr: SocketAddr,
    child: &Child,
    tag: &str,
    round: usize,
) -> Result<Phase, BoxError> {
    let until = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > until {
            return Err(format!("the server on {addr} did not start").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let url = format!("http://{addr}/webhooks/shopify");
    let run_id = format!("{tag}{round}-{}", std::process::id());
    let counter = Arc::new(AtomicU64::new(0));
    let pid = child.id();
    let mut acked = Vec::new();
    // Warm-up.
    let warm = load(
        &client,
        &url,
        &run_id,
        &counter,
        args.concurrency,
        Duration::from_secs(1),
    )
    .await;
    acked.extend(warm.2);
    let (cpu0, io0, t0) = (cpu_ticks(pid), write_bytes(pid), Instant::now());
    let (ok, failed, ids, hist) = load(
        &client,
        &url,
        &run_id,
        &counter,
        args.concurrency,
        Duration::from_secs(args.seconds),
    )
    .await;
    let elapsed = t0.elapsed();
    let (cpu1, io1) = (cpu_ticks(pid), write_bytes(pid));
    acked.extend(ids);
    let ticks = 100.0; // USER_HZ on Linux
    Ok(Phase {
        ok,
        failed,
        elapsed,
        hist,
        acked,
        cpu: match (cpu0, cpu1) {
            (Some(a), Some(b)) => (b - a) as f64 / ticks / elapsed.as_secs_f64(),
            _ => 0.0,
        },
        written: io0.zip(io1).map(|(a, b)| b.saturating_sub(a)),
    })
}

/// `concurrency` loops posting signed webhooks until `time` is up: (acknowledged, failed,
/// acknowledged ids, latency histogram in µs).
async fn load(
    client: &reqwest::Client,
    url: &str,
    run_id: &str,
    counter: &Arc<AtomicU64>,
    concurrency: usize,
    time: Duration,
) -> (u64, u64, Vec<String>, Histogram<u64>) {
    let deadline = Instant::now() + time;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, run_id, counter) = (
            client.clone(),
            url.to_owned(),
            run_id.to_owned(),
            counter.clone(),
        );
        set.spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
            let (mut ok, mut failed, mut ids) = (0_u64, 0_u64, Vec::new());
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let id = format!("{run_id}-{n}");
                let (body, hmac) = signed(n);
                let start = Instant::now();
                let sent = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("X-Shopify-Hmac-Sha256", hmac)
                    .header("X-Shopify-Topic", "orders/fulfilled")
                    .header("X-Shopify-Shop-Domain", SHOP)
                    .header("X-Shopify-API-Version", "2025-07")
                    .header("X-Shopify-Webhook-Id", &id)
                    .header("X-Shopify-Triggered-At", chrono::Utc::now().to_rfc3339())
                    .body(body)
                    .send()
                    .await;
                let good = match sent {
                    Ok(r) => {
                        let status = r.status();
                        r.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                let us = start.elapsed().as_micros() as u64;
                if good {
                    ok += 1;
                    let _ = hist.record(us.max(1));
                    ids.push(id);
                } else {
                    failed += 1;
                }
            }
            (ok, failed, ids, hist)
        });
    }
    let mut all = (
        0,
        0,
        Vec::new(),
        Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)
            .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!())),
    );
    while let Some(r) = set.join_next().await {
        if let Ok((ok, failed, ids, h)) = r {
            all.0 += ok;
            all.1 += failed;
            all.2.extend(ids);
            let _ = all.3.add(h);
        }
    }
    all
}

/// Request `n`'s body (the standard body with order id `9…n`) and its Shopify HMAC.
fn signed(n: u64) -> (Vec<u8>, String) {
    let text = std::str::from_utf8(BODY).unwrap_or_default();
    let order = format!("{}", 900_000_000_000_000_000_u64 + n);
    let body = text.replace(ORDER_ID, &order).into_bytes();
    let mut mac = match Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(&body);
    let tag = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (body, tag)
}

/// The receiver's database, read after its phase.
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

/// An inbox row: key, status, attempts, lag from receipt to done in µs.
type StoredRow = (String, String, i64, Option<i64>);

struct Check {
    missing: u64,
    duplicated: u64,
    not_done: u64,
    processed_twice: u64,
    lag_p50_ms: f64,
    lag_p99_ms: f64,
}

impl Db {
    async fn progress(&self) -> Result<(u64, u64), BoxError> {
        let q = "SELECT CAST(count(*) FILTER (WHERE status IN ('done', 'dead')) AS BIGINT), CAST(count(*) AS BIGINT) FROM inbox";
        let (done, total): (i64, i64) = match self {
            Db::Sqlite(path) => {
                let mut c = sqlite(path).await?;
                sqlx::query_as(q).fetch_one(&mut c).await?
            }
            Db::Postgres(url) => {
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
                sqlx::query_as(q).fetch_one(&mut c).await?
            }
        };
        Ok((done as u64, total as u64))
    }

    /// Every acknowledged id: stored once, done, claimed once; and the lag from receipt to
    /// done of every entry.
    async fn check(&self, acked: &[String]) -> Result<Check, BoxError> {
        let rows: Vec<StoredRow> = match self {
            Db::Sqlite(path) => {
                let mut c = sqlite(path).await?;
                sqlx::query_as("SELECT dedupe_key, status, attempts, finished_at - received_at FROM inbox WHERE source = 'shopify'")
                    .fetch_all(&mut c)
                    .await?
            }
            Db::Postgres(url) => {
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
                sqlx::query_as("SELECT dedupe_key, status, attempts::BIGINT, (EXTRACT(EPOCH FROM (finished_at - received_at)) * 1000000)::BIGINT FROM inbox WHERE source = 'shopify'")
                    .fetch_all(&mut c)
                    .await?
            }
        };
        let mut by_key: HashMap<&str, Vec<&StoredRow>> = HashMap::new();
        let mut lag = Histogram::<u64>::new(3)?;
        for r in &rows {
            by_key.entry(r.0.as_str()).or_default().push(r);
            if let Some(l) = r.3 {
                let _ = lag.record(l.max(1) as u64);
            }
        }
        let mut c = Check {
            missing: 0,
            duplicated: 0,
            not_done: 0,
            processed_twice: 0,
            lag_p50_ms: lag.value_at_quantile(0.5) as f64 / 1000.0,
            lag_p99_ms: lag.value_at_quantile(0.99) as f64 / 1000.0,
        };
        for id in acked {
            match by_key.get(id.as_str()).map(Vec::as_slice) {
                None | Some([]) => c.missing += 1,
                Some([r]) => {
                    if r.1 != "done" {
                        c.not_done += 1;
                    }
                    if r.2 != 1 {
                        c.processed_twice += 1;
                    }
                }
                Some(_) => c.duplicated += 1,
            }
        }
        Ok(c)
    }
}

async fn sqlite(path: &Path) -> Result<sqlx::SqliteConnection, BoxError> {
    use sqlx::ConnectOptions as _;
    Ok(sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?)
}

fn print_report(
    args: &Args,
    rows: &[(String, Phase, Option<Processing>)],
    load_before: &str,
    load_after: &str,
    started: chrono::DateTime<chrono::Utc>,
) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!();
    println!(
        "`cargo xtask loadtest --seconds {} --concurrency {} --rounds {}`, {} ({cpus} CPUs, {model}); load average before / after: {load_before} / {load_after}; the harness's client runs on the same machine.",
        args.seconds,
        args.concurrency,
        args.rounds,
        started.format("%Y-%m-%d %H:%M UTC")
    );
    println!();
    println!(
        "| round | server | req/s | × baseline | p50 ms | p99 ms | p99.9 ms | failed | server CPU | disk bytes / webhook | processed /s during ingest (× ingest) | backlog, drained at /s | lag p50 / p99 ms | lost / twice / not done | clean stop |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut base: Option<f64> = None;
    let mut round = 0;
    for (name, ph, proc_) in rows {
        if proc_.is_none() {
            base = Some(ph.rate());
            round += 1;
        }
        let ratio = match (proc_, base) {
            (Some(_), Some(b)) if b > 0.0 => format!("{:.2}", ph.rate() / b),
            _ => "1".into(),
        };
        let written = match ph.written {
            // PostgreSQL writes in its own processes, not measured here.
            Some(w) if proc_.is_some() && ph.ok > 0 && !name.contains("PostgreSQL") => {
                format!("{:.1} KB", w as f64 / ph.ok as f64 / 1000.0)
            }
            _ => "–".into(),
        };
        let (during, backlog, lag, checks, clean) = match proc_ {
            Some(p) => (
                format!("{:.0} ({:.2})", p.during, p.during / ph.rate().max(1.0)),
                format!(
                    "{}, {}",
                    p.backlog,
                    p.drain_rate.map_or("–".into(), |r| format!("{r:.0}"))
                ),
                format!("{:.1} / {:.1}", p.lag_p50_ms, p.lag_p99_ms),
                format!(
                    "{} / {} / {}",
                    p.missing + p.duplicated,
                    p.processed_twice,
                    p.not_done
                ),
                if p.clean_stop { "yes" } else { "no" }.to_owned(),
            ),
            None => ("–".into(), "–".into(), "–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {round} | {name} | {:.0} | {ratio} | {:.2} | {:.2} | {:.2} | {} | {:.0}% | {written} | {during} | {backlog} | {lag} | {checks} | {clean} |",
            ph.rate(),
            ph.p(0.5),
            ph.p(0.99),
            ph.p(0.999),
            ph.failed,
            ph.cpu * 100.0,
        );
    }
}

mod baseline {
    //! The comparison: axum on a multi-threaded runtime, the Shopify HMAC checked in
    //! constant time and the body parsed into a 7-field struct; nothing stored.

    use std::net::SocketAddr;

    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use base64::Engine as _;
    use hmac::{Hmac, Mac as _};
    use sha2::Sha256;

    use super::{BoxError, SECRET};

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Order<'a> {
        id: u64,
        name: &'a str,
        email: Option<&'a str>,
        financial_status: Option<&'a str>,
        fulfillment_status: Option<&'a str>,
        updated_at: &'a str,
        currency: &'a str,
    }

    async fn receive(headers: HeaderMap, body: Bytes) -> StatusCode {
        let Some(tag) = headers.get("x-shopify-hmac-sha256").and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.as_bytes())
                .ok()
        }) else {
            return StatusCode::UNAUTHORIZED;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()) else {
            return StatusCode::INTERNAL_SERVER_ERROR;
        };
        mac.update(&body);
        if mac.verify_slice(&tag).is_err() {
            return StatusCode::UNAUTHORIZED;
        }
        if headers.get("x-shopify-webhook-id").is_none() {
            return StatusCode::BAD_REQUEST;
        }
        match serde_json::from_slice::<Order<'_>>(&body) {
            Ok(_) => StatusCode::OK,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    pub(super) async fn serve(addr: SocketAddr) -> Result<(), BoxError> {
        let app = axum::Router::new().route("/webhooks/shopify", post(receive));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        axum::serve(listener, app).await?;
        Ok(())
    }
}

mod pg {
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
            std::env::split_paths(&p)
                .find(|d| d.join("pg_ctl").exists() && d.join("initdb").exists())
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
                .map_err(
                    |_| "running as root, and there is no `postgres` user to run the server as",
                )?)
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

        pub(super) fn stop(&self) {
            let _ = command(&self.user, &self.bin.join("pg_ctl"))
                .args(["-w", "-m", "fast", "-D"])
                .arg(&self.data)
                .arg("stop")
                .stdout(Stdio::null())
                .status();
        }
    }
}
