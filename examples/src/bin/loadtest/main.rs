//! The load harness behind `cargo xtask loadtest` (issue 20): loopback only, bounded in time.
//!
//! Each round measures, with the same client at a fixed concurrency:
//!
//! 1. **baseline**: a minimal axum server built here for the comparison (`baseline.rs`) — it
//!    checks the Shopify HMAC and parses the body into a 7-field struct, and stores nothing;
//! 2. **ingest alone**: the reference `receiver` binary (`--config`, Shopify mounted as
//!    `tracking-links` mounts it, `--ingest-only`) on a fresh SQLite file (and PostgreSQL
//!    with `--postgres`), which acknowledges only once the webhook is in the inbox and
//!    processes nothing: the issue's ingest figure;
//! 3. **processing the backlog**: the receiver restarted on the same database with
//!    processing on (`--flow`: decode, the tracking flow against a Shopify Admin API
//!    stand-in (`shop_api.rs`), the outbox), and the rate at which it works off what step 2
//!    stored, measured for up to `--seconds`;
//! 4. **ingest with processing beside it**: the same receiver driven again, and how much it
//!    processed meanwhile;
//! 5. **dispatch** (`dispatch.rs`): `--messages` queued with `Outbox::enqueue_many` (timed),
//!    then sent by a `Dispatcher` through a channel that only counts, at a `--rate` limit.
//!
//! Every request is a signed 6.5 KB Shopify `orders/fulfilled` with its own
//! `X-Shopify-Webhook-Id` and its own order id (so neither de-duplication rule makes it a
//! duplicate). Acknowledgement latency goes into an HDR histogram. After step 4 the harness
//! lets the backlog drain (for up to twice `--seconds`), stops the receiver with SIGTERM,
//! and checks in the database that every acknowledged webhook is stored once and was
//! processed at most once (claimed once, done; those never claimed yet are counted, not
//! failed); after step 5, that every message was sent once. It prints Markdown tables
//! with the machine's load. Every process it starts (servers, PostgreSQL) is stopped on every
//! way out, errors included.
//!
//! This binary (the baseline and the client) keeps the system allocator: the issue's
//! baseline is a default axum server. The `receiver` ships with mimalloc; given mimalloc
//! too, the baseline ran 24.7–27.0k req/s in five runs against 19.3–24.5k without in
//! others (2026-12-07, quiet machine), which would lower the receiver's ratio.
//!
//! ```text
//! cargo xtask loadtest [--seconds 10] [--concurrency 50] [--rounds 2] [--messages 100000]
//!                      [--rate 5000] [--postgres] [--phases ingest,processing,dispatch]
//! ```

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
mod baseline;
mod dispatch;
mod pg;
mod phases;
mod shop_api;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The standard body: a 6.5 KB Shopify `orders/fulfilled` (the shopify adapter's bench
/// fixture, the same as the issue's).
const BODY: &[u8] =
    include_bytes!("../../../../adapters/shopify/benches/fixtures/shopify_order_fulfilled.json");
/// The order id in `BODY` (in `id`, `admin_graphql_api_id` and the fulfillment's
/// `order_id`), replaced by a unique one in each request.
const ORDER_ID: &str = "820982911946154500";
/// The fulfillment's id in `BODY`, also unique in each request: the tracking flow follows
/// each shipment's milestones, and one shipment would be news only once.
const FULFILLMENT_ID: &str = "4075788173";
const SHOP: &str = "loadtest.myshopify.com";

#[derive(Parser, Debug)]
#[command(
    about = "Load harness: durable ingest against a non-durable baseline, processing, dispatch, checks"
)]
struct Args {
    /// Seconds each server is driven per phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections (requests in flight) at once.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Rounds, each driving the baseline then the receiver.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Messages queued for the dispatch phase (0 skips it).
    #[arg(long, default_value_t = 100_000)]
    messages: u64,
    /// The dispatch phase's rate limit, messages per second.
    #[arg(long, default_value_t = 5000.0)]
    rate: f64,
    /// Also measure the receiver on a private PostgreSQL server (skipped with a message
    /// when `initdb`/`pg_ctl` are missing).
    #[arg(long)]
    postgres: bool,
    /// The parts of each round to run: `ingest` (the baseline and ingest alone),
    /// `processing` (implies ingest), `dispatch`.
    #[arg(long, value_enum, value_delimiter = ',', default_value = phases::ALL)]
    phases: Vec<phases::Step>,
    /// Internal: serve the baseline on this address (the harness starts itself so).
    #[arg(long, hide = true)]
    serve_baseline: Option<SocketAddr>,
}

const SECRET: &str = "aftercare-loadtest-client-secret";
/// Driven before each measured phase; its webhooks are checked, not timed.
const WARM_UP: Duration = Duration::from_secs(1);
/// Request numbers: unique across every phase of a run (each one's order id and webhook id).
static NEXT: AtomicU64 = AtomicU64::new(0);

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

/// A process the harness started: killed on every way out (an error, a panic) unless it was
/// stopped already.
struct Proc(Child);

impl Proc {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// What one phase of driving a server measured.
struct Phase {
    ok: u64,
    failed: u64,
    elapsed: Duration,
    hist: Histogram<u64>,
    acked: Vec<String>,
    /// Server CPU (user + system), as a share of one core.
    cpu: f64,
    /// The server's busiest threads: name and CPU share of one core.
    threads: Vec<(String, f64)>,
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

/// An ingest row of the report.
struct IngestRow {
    round: usize,
    server: String,
    phase: Phase,
    /// The baseline's rate in the same round.
    base: f64,
    /// Whether the server measures disk writes of its own (not PostgreSQL's processes).
    own_writes: bool,
}

/// The receiver's processing on one store in one round.
struct Processing {
    round: usize,
    store: String,
    /// What ingest alone stored, and how fast the restarted receiver worked it off.
    backlog: u64,
    backlog_rate: f64,
    backlog_cpu: f64,
    /// Ingest alone, for the ratio.
    ingest_rate: f64,
    /// Ingest with processing beside it, and entries done meanwhile per second.
    beside_rate: f64,
    during: f64,
    /// What was left at the end of that ingest, and how fast it drained (for up to twice
    /// `--seconds`).
    left: u64,
    /// Acknowledged entries never claimed yet when the receiver stopped (stored, waiting:
    /// not a failure).
    queued: u64,
    drain_rate: Option<f64>,
    lag_p50_ms: f64,
    lag_p99_ms: f64,
    outbox: u64,
    /// Acknowledged ids missing from the inbox, stored more than once, not done, or
    /// claimed more than once.
    missing: u64,
    duplicated: u64,
    not_done: u64,
    processed_twice: u64,
    clean_stop: bool,
}

/// Everything measured, for the report.
#[derive(Default)]
struct Report {
    ingest: Vec<IngestRow>,
    processing: Vec<Processing>,
    dispatch: Vec<(usize, String, dispatch::Dispatched)>,
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
    let mut report = Report::default();
    let api = shop_api::start().await?;
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
    let result = rounds(&args, &exe, &receiver, &work, api, pg.as_ref(), &mut report).await;
    drop(pg);
    let load_after = loadavg();
    // What was measured is printed even when a later phase failed.
    print_report(&args, &report, &load_before, &load_after, started);
    result?;
    if std::env::var_os("LOADTEST_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("kept {}", work.display());
    }
    let failures: u64 = report
        .processing
        .iter()
        .map(|p| {
            p.missing + p.duplicated + p.not_done + p.processed_twice + u64::from(!p.clean_stop)
        })
        .chain(report.dispatch.iter().map(|(_, _, d)| d.failures()))
        .sum();
    if failures > 0 {
        return Err(format!("{failures} check(s) failed: see the tables").into());
    }
    Ok(())
}

async fn rounds(
    args: &Args,
    exe: &Path,
    receiver: &Path,
    work: &Path,
    api: SocketAddr,
    pg: Option<&pg::Server>,
    report: &mut Report,
) -> Result<(), BoxError> {
    for round in 1..=args.rounds {
        if phases::runs(&args.phases, phases::Step::Ingest) {
            ingest_round(args, exe, receiver, work, api, pg, round, report).await?;
        }
        if args.messages > 0 && phases::runs(&args.phases, phases::Step::Dispatch) {
            dispatch_round(args, work, pg, round, report).await?;
        }
    }
    Ok(())
}

/// The baseline, then the receiver on each store (steps 1–4).
#[allow(clippy::too_many_arguments)]
async fn ingest_round(
    args: &Args,
    exe: &Path,
    receiver: &Path,
    work: &Path,
    api: SocketAddr,
    pg: Option<&pg::Server>,
    round: usize,
    report: &mut Report,
) -> Result<(), BoxError> {
    eprintln!("round {round}: baseline");
    let addr = free_addr()?;
    let child = Proc(
        Command::new(exe)
            .arg("--serve-baseline")
            .arg(addr.to_string())
            .stdout(Stdio::null())
            .spawn()?,
    );
    let phase = drive_server(args, addr, child.pid()).await?;
    drop(child);
    let base = phase.rate();
    report.ingest.push(IngestRow {
        round,
        server: "baseline (axum, verify + parse, not stored)".into(),
        phase,
        base,
        own_writes: false,
    });

    let mut stores = vec![(
        "SQLite",
        format!(
            "sqlite = {{ path = {:?} }}",
            work.join(format!("r{round}.db"))
        ),
        Db::Sqlite(work.join(format!("r{round}.db"))),
    )];
    if let Some(pg) = pg {
        let db = format!("r{round}");
        pg.create_db(&db).await?;
        stores.push((
            "PostgreSQL",
            format!("postgres = {{ url = {{ value = {:?} }} }}", pg.url(&db)),
            Db::Postgres(pg.url(&db)),
        ));
    }
    for (kind, storage, db) in stores {
        if let Some(p) = drive_receiver(
            args, receiver, work, api, round, kind, &storage, &db, base, report,
        )
        .await?
        {
            report.processing.push(p);
        }
    }
    Ok(())
}

/// Step 5 on each store.
async fn dispatch_round(
    args: &Args,
    work: &Path,
    pg: Option<&pg::Server>,
    round: usize,
    report: &mut Report,
) -> Result<(), BoxError> {
    eprintln!("round {round}: dispatch on SQLite");
    let store = aftercare_sqlite::SqliteStore::open(work.join(format!("d{round}.db"))).await?;
    let d = dispatch::run(Arc::new(store.clone()), args.messages, args.rate).await;
    store.close().await;
    report.dispatch.push((round, "SQLite".into(), d?));
    if let Some(pg) = pg {
        eprintln!("round {round}: dispatch on PostgreSQL");
        let db = format!("d{round}");
        pg.create_db(&db).await?;
        let store = aftercare_postgres::PostgresStore::connect(&pg.url(&db)).await?;
        let d = dispatch::run(Arc::new(store.clone()), args.messages, args.rate).await;
        store.close().await;
        report.dispatch.push((round, "PostgreSQL".into(), d?));
    }
    Ok(())
}

/// Starts the receiver on `cfg`; its stderr goes to `stderr` (appended).
fn start_receiver(
    receiver: &Path,
    cfg: &Path,
    addr: SocketAddr,
    stderr: &Path,
    ingest_only: bool,
) -> Result<Proc, BoxError> {
    let mut c = Command::new(receiver);
    c.arg("--config")
        .arg(cfg)
        .arg("--quiet")
        .arg("--bind")
        .arg(addr.to_string());
    if ingest_only {
        c.arg("--ingest-only");
    } else {
        c.arg("--flow");
    }
    // `LOADTEST_RECEIVER_ARGS="--batch 64"`: more of the receiver's options, for comparisons.
    if let Ok(more) = std::env::var("LOADTEST_RECEIVER_ARGS") {
        c.args(more.split_whitespace());
    }
    let err = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(stderr)?;
    Ok(Proc(
        c.env("AFTERCARE_WEBHOOK_SECRET", "aftercare-loadtest-native")
            // `LOADTEST_RECEIVER_LOG=aftercare::inbox=debug` shows each batch's timings in
            // the work directory's `r<round>-<store>.stderr` (kept with `LOADTEST_KEEP=1`).
            .env(
                "RUST_LOG",
                std::env::var("LOADTEST_RECEIVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            // The receiver logs (`tracing`) to standard output: kept with its errors.
            .stdout(err.try_clone()?)
            .stderr(err)
            .spawn()?,
    ))
}

/// Steps 2–4 of a round on one store (see the top of this file).
#[allow(clippy::too_many_arguments)]
async fn drive_receiver(
    args: &Args,
    receiver: &Path,
    work: &Path,
    api: SocketAddr,
    round: usize,
    kind: &str,
    storage: &str,
    db: &Db,
    base: f64,
    report: &mut Report,
) -> Result<Option<Processing>, BoxError> {
    let addr = free_addr()?;
    let cfg = work.join(format!("r{round}-{kind}.toml"));
    std::fs::write(&cfg, config(addr, api, storage))?;
    let stderr = work.join(format!("r{round}-{kind}.stderr"));
    let own_writes = kind != "PostgreSQL";

    eprintln!("round {round}: receiver on {kind}, ingest alone");
    let mut child = start_receiver(receiver, &cfg, addr, &stderr, true)?;
    let ingest = drive_server(args, addr, child.pid()).await?;
    let mut clean_stop = terminate(&mut child)?;
    let ingest_rate = ingest.rate();
    let mut acked = ingest.acked.clone();
    report.ingest.push(IngestRow {
        round,
        server: format!("receiver, {kind} inbox (durable), ingest alone"),
        phase: ingest,
        base,
        own_writes,
    });
    if !phases::runs(&args.phases, phases::Step::Processing) {
        return Ok(None);
    }

    eprintln!("round {round}: receiver on {kind}, processing the backlog");
    let (done0, backlog) = db.progress().await?;
    let mut child = start_receiver(receiver, &cfg, addr, &stderr, false)?;
    wait_for(addr).await?;
    let (t0, cpu0) = (Instant::now(), cpu_ticks(child.pid()));
    // Measured for `--seconds` at most (the run stays bounded); what is left is worked off
    // beside the next ingest and after it.
    db.wait_done(Duration::from_secs(args.seconds)).await?;
    let (done1, _) = db.progress().await?;
    let backlog_secs = t0.elapsed().as_secs_f64();
    let backlog_cpu = cpu_share(cpu0, cpu_ticks(child.pid()), t0.elapsed());

    eprintln!("round {round}: receiver on {kind}, ingest with processing beside it");
    let beside = drive_server(args, addr, child.pid()).await?;
    let ingest_end = Instant::now();
    let (done_at_end, total) = db.progress().await?;
    db.wait_done(Duration::from_secs(2 * args.seconds)).await?;
    let (done_after, _) = db.progress().await?;
    let drain_secs = ingest_end.elapsed();
    clean_stop &= terminate(&mut child)?;
    clean_stop &= !std::fs::read_to_string(&stderr)
        .unwrap_or_default()
        .contains("processing failed");
    let lag_from = acked.len();
    acked.extend(beside.acked.iter().cloned());
    let check = db.check(&acked, lag_from).await?;
    let left = total.saturating_sub(done_at_end);
    let processing = Processing {
        round,
        store: kind.into(),
        backlog: backlog.saturating_sub(done0),
        backlog_rate: done1.saturating_sub(done0) as f64 / backlog_secs,
        backlog_cpu,
        ingest_rate,
        beside_rate: beside.rate(),
        // Ingest ran for the warm-up second and the measured phase.
        during: done_at_end.saturating_sub(done1) as f64 / (beside.elapsed + WARM_UP).as_secs_f64(),
        left,
        drain_rate: (left > 0)
            .then(|| done_after.saturating_sub(done_at_end) as f64 / drain_secs.as_secs_f64()),
        queued: check.queued,
        lag_p50_ms: check.lag_p50_ms,
        lag_p99_ms: check.lag_p99_ms,
        outbox: check.outbox,
        missing: check.missing,
        duplicated: check.duplicated,
        not_done: check.not_done,
        processed_twice: check.processed_twice,
        clean_stop,
    };
    report.ingest.push(IngestRow {
        round,
        server: format!("receiver, {kind} inbox (durable), processing beside"),
        phase: beside,
        base,
        own_writes,
    });
    Ok(Some(processing))
}

/// The receiver's configuration: Shopify signed with the harness's secret, its Admin API the
/// harness's stand-in, the store given.
fn config(addr: SocketAddr, api: SocketAddr, storage: &str) -> String {
    format!(
        r#"[shop]
platform = "shopify"

[shopify]
shop = "{SHOP}"
access_token = {{ value = "shpat_loadtest" }}
client_secrets = [{{ value = "{SECRET}" }}]
tracking_link_key = {{ value = "loadtest-tracking-link-key-0123456789abcdef" }}
api_base_url = "http://{api}"

# Never contacted: the receiver's tracking flow only queues messages (nothing dispatches).
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

/// SIGTERM, then waits up to 20 s; true when the process exited successfully (killed, and
/// false, otherwise).
fn terminate(child: &mut Proc) -> Result<bool, BoxError> {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.pid().to_string())
        .status();
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if let Some(status) = child.0.try_wait()? {
            return Ok(status.success());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.0.kill();
    let _ = child.0.wait();
    Ok(false)
}

/// User + system CPU ticks of a process (`/proc/<pid>/stat`) or a thread
/// (`/proc/<pid>/task/<tid>/stat`), with its name.
fn stat_ticks(path: &Path) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (head, after) = stat.rsplit_once(')')?;
    let name = head.split_once('(')?.1.to_owned();
    let f: Vec<&str> = after.split_whitespace().collect();
    Some((
        name,
        f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?,
    ))
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    stat_ticks(Path::new(&format!("/proc/{pid}/stat"))).map(|(_, t)| t)
}

/// CPU ticks of each thread of a process, by thread id.
fn thread_ticks(pid: u32) -> HashMap<u64, (String, u64)> {
    let mut out = HashMap::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for e in dir.flatten() {
            if let Some(tid) = e.file_name().to_str().and_then(|t| t.parse().ok())
                && let Some(t) = stat_ticks(&e.path().join("stat"))
            {
                out.insert(tid, t);
            }
        }
    }
    out
}

/// USER_HZ on Linux.
const TICKS: f64 = 100.0;

fn cpu_share(a: Option<u64>, b: Option<u64>, elapsed: Duration) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / TICKS / elapsed.as_secs_f64(),
        _ => 0.0,
    }
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

/// Waits up to 30 s for a server to accept connections.
async fn wait_for(addr: SocketAddr) -> Result<(), BoxError> {
    let until = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if Instant::now() > until {
            return Err(format!("the server on {addr} did not start").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Waits for the server, then drives it for `--seconds` (after a 1 s warm-up whose requests
/// are checked but not measured).
async fn drive_server(args: &Args, addr: SocketAddr, pid: u32) -> Result<Phase, BoxError> {
    wait_for(addr).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let url = format!("http://{addr}/webhooks/shopify");
    let run_id = format!("lt{}", std::process::id());
    let mut acked = Vec::new();
    // Warm-up.
    let warm = load(&client, &url, &run_id, args.concurrency, WARM_UP).await;
    acked.extend(warm.2);
    let (cpu0, threads0, io0, t0) = (
        cpu_ticks(pid),
        thread_ticks(pid),
        write_bytes(pid),
        Instant::now(),
    );
    let (ok, failed, ids, hist) = load(
        &client,
        &url,
        &run_id,
        args.concurrency,
        Duration::from_secs(args.seconds),
    )
    .await;
    let elapsed = t0.elapsed();
    let (cpu1, threads1, io1) = (cpu_ticks(pid), thread_ticks(pid), write_bytes(pid));
    acked.extend(ids);
    let mut threads: Vec<(String, f64)> = threads1
        .iter()
        .map(|(tid, (name, b))| {
            let a = threads0.get(tid).map_or(0, |(_, a)| *a);
            (
                name.clone(),
                b.saturating_sub(a) as f64 / TICKS / elapsed.as_secs_f64(),
            )
        })
        .filter(|(_, share)| *share >= 0.02)
        .collect();
    threads.sort_by(|a, b| b.1.total_cmp(&a.1));
    threads.truncate(4);
    Ok(Phase {
        ok,
        failed,
        elapsed,
        hist,
        acked,
        cpu: cpu_share(cpu0, cpu1, elapsed),
        threads,
        written: io0.zip(io1).map(|(a, b)| b.saturating_sub(a)),
    })
}

/// `concurrency` loops posting signed webhooks until `time` is up: (acknowledged, failed,
/// acknowledged ids, latency histogram in µs).
async fn load(
    client: &reqwest::Client,
    url: &str,
    run_id: &str,
    concurrency: usize,
    time: Duration,
) -> (u64, u64, Vec<String>, Histogram<u64>) {
    let deadline = Instant::now() + time;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, run_id) = (client.clone(), url.to_owned(), run_id.to_owned());
        set.spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)
                .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
            let (mut ok, mut failed, mut ids) = (0_u64, 0_u64, Vec::new());
            while Instant::now() < deadline {
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
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
    let fulfillment = format!("{}", 5_000_000_000_u64 + n);
    let body = text
        .replace(ORDER_ID, &order)
        .replace(FULFILLMENT_ID, &fulfillment)
        .into_bytes();
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
    outbox: u64,
    queued: u64,
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

    /// Waits until every inbox entry is done (or dead), up to `limit`; false if not.
    async fn wait_done(&self, limit: Duration) -> Result<bool, BoxError> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let (done, total) = self.progress().await?;
            if done >= total {
                return Ok(true);
            }
            // Each look counts the inbox (an index scan of every entry, in the receiver's
            // file): every 50 ms took a tenth of a core from the server it measures. A rate
            // taken at the next look after the end is low by at most this much.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(false)
    }

    /// Every acknowledged id: stored once, done, claimed once; the lag from receipt to done
    /// of the entries `acked[lag_from..]` (those received while processing ran); and the
    /// messages the flow queued.
    async fn check(&self, acked: &[String], lag_from: usize) -> Result<Check, BoxError> {
        let outbox = "SELECT CAST(count(*) AS BIGINT) FROM outbox";
        let (rows, outbox): (Vec<StoredRow>, i64) = match self {
            Db::Sqlite(path) => {
                let mut c = sqlite(path).await?;
                (sqlx::query_as("SELECT dedupe_key, status, attempts, finished_at - received_at FROM inbox WHERE source = 'shopify'")
                    .fetch_all(&mut c)
                    .await?,
                sqlx::query_scalar(outbox).fetch_one(&mut c).await?)
            }
            Db::Postgres(url) => {
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(url).await?;
                (sqlx::query_as("SELECT dedupe_key, status, attempts::BIGINT, (EXTRACT(EPOCH FROM (finished_at - received_at)) * 1000000)::BIGINT FROM inbox WHERE source = 'shopify'")
                    .fetch_all(&mut c)
                    .await?,
                sqlx::query_scalar(outbox).fetch_one(&mut c).await?)
            }
        };
        let mut by_key: HashMap<&str, Vec<&StoredRow>> = HashMap::new();
        for r in &rows {
            by_key.entry(r.0.as_str()).or_default().push(r);
        }
        let mut lag = Histogram::<u64>::new(3)?;
        for id in acked.get(lag_from..).unwrap_or_default() {
            if let Some([(_, _, _, Some(l))]) = by_key.get(id.as_str()).map(Vec::as_slice) {
                let _ = lag.record((*l).max(1) as u64);
            }
        }
        let mut c = Check {
            outbox: outbox as u64,
            queued: 0,
            missing: 0,
            duplicated: 0,
            not_done: 0,
            processed_twice: 0,
            // NaN (printed as –) when none of them was processed before the stop.
            lag_p50_ms: quantile_ms(&lag, 0.5),
            lag_p99_ms: quantile_ms(&lag, 0.99),
        };
        for id in acked {
            match by_key.get(id.as_str()).map(Vec::as_slice) {
                None | Some([]) => c.missing += 1,
                Some([r]) => {
                    if r.1 == "pending" && r.2 == 0 {
                        c.queued += 1;
                    } else if r.1 != "done" {
                        c.not_done += 1;
                    }
                    if r.2 > 1 {
                        c.processed_twice += 1;
                    }
                }
                Some(_) => c.duplicated += 1,
            }
        }
        Ok(c)
    }
}

fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
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
/// Milliseconds with one decimal, `–` for none.
fn ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:.1}")
    }
}

fn print_report(
    args: &Args,
    report: &Report,
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
        "`cargo xtask loadtest --seconds {} --concurrency {} --rounds {} --messages {} --rate {}{}{}`, {} ({cpus} CPUs, {model}); load average before / after: {load_before} / {load_after}; the harness's client runs on the same machine.",
        args.seconds,
        args.concurrency,
        args.rounds,
        args.messages,
        args.rate,
        if args.postgres { " --postgres" } else { "" },
        phases::shown(&args.phases),
        started.format("%Y-%m-%d %H:%M UTC")
    );
    println!();
    println!("Ingest (signed 6.5 KB Shopify webhooks, acknowledged after the inbox commit):");
    println!();
    println!(
        "| round | server | req/s | × baseline | p50 / p99 / p99.9 ms | failed | server CPU | busiest threads (CPU) | disk bytes / webhook |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &report.ingest {
        let ph = &r.phase;
        let ratio = if r.base > 0.0 {
            format!("{:.2}", ph.rate() / r.base)
        } else {
            "–".into()
        };
        let written = match ph.written {
            Some(w) if r.own_writes && ph.ok > 0 => {
                format!("{:.1} KB", w as f64 / ph.ok as f64 / 1000.0)
            }
            _ => "–".into(),
        };
        let threads = ph
            .threads
            .iter()
            .map(|(n, s)| format!("{n} {:.0}%", s * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "| {} | {} | {:.0} | {ratio} | {:.2} / {:.2} / {:.2} | {} | {:.0}% | {threads} | {written} |",
            r.round,
            r.server,
            ph.rate(),
            ph.p(0.5),
            ph.p(0.99),
            ph.p(0.999),
            ph.failed,
            ph.cpu * 100.0,
        );
    }
    if !report.processing.is_empty() {
        println!();
        println!(
            "Processing (decode + the tracking flow + the outbox; concurrency bounded, one order at a time):"
        );
        println!();
        println!(
            "| round | store | backlog of ingest alone: entries, processed /s (× ingest alone), server CPU | processed /s during ingest (× that ingest) | left, then processed /s | lag p50 / p99 ms | messages queued | lost / twice / failed | never claimed at the stop | clean stops |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for p in &report.processing {
            println!(
                "| {} | {} | {}, {:.0} ({:.2}), {:.0}% | {:.0} ({:.2}) | {}, {} | {} / {} | {} | {} / {} / {} | {} | {} |",
                p.round,
                p.store,
                p.backlog,
                p.backlog_rate,
                p.backlog_rate / p.ingest_rate.max(1.0),
                p.backlog_cpu * 100.0,
                p.during,
                p.during / p.beside_rate.max(1.0),
                p.left,
                p.drain_rate.map_or("–".into(), |r| format!("{r:.0}")),
                ms(p.lag_p50_ms),
                ms(p.lag_p99_ms),
                p.outbox,
                p.missing + p.duplicated,
                p.processed_twice,
                p.not_done,
                p.queued,
                if p.clean_stop { "yes" } else { "no" },
            );
        }
    }
    if !report.dispatch.is_empty() {
        println!();
        println!(
            "Dispatch (a `Dispatcher` over the store's outbox, a channel that only counts, a strict rate limit):"
        );
        println!();
        println!(
            "| round | store | messages | enqueued in (per s) | sent /s | × limit | one batch at a time: sent /s (× limit) | store's ceiling /s (no limit) | sent twice / not sent |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for (round, store, d) in &report.dispatch {
            println!(
                "| {round} | {store} | {} | {:.1} s ({:.0}) | {:.0} | {:.3} | {:.0} ({:.3}) | {} | {} / {} |",
                d.messages,
                d.enqueue.as_secs_f64(),
                d.messages as f64 / d.enqueue.as_secs_f64(),
                d.rate(),
                d.rate() / d.limit,
                d.one_batch_at_a_time,
                d.one_batch_at_a_time / d.limit,
                d.ceiling.map_or("–".into(), |c| format!("{c:.0}")),
                d.twice,
                d.not_sent,
            );
        }
    }
}
