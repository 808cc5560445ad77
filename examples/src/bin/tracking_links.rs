//! The reference integration's tracking-link sharing.
//!
//! ```text
//! tracking-links                       # the demo on embedded defaults
//! tracking-links --platform woocommerce # the same shop as a WooCommerce store
//! tracking-links --platform bigcommerce # ... as a BigCommerce store (thin webhooks, its API)
//! tracking-links --platform woocommerce --tracking-source aftership # carrier steps from AfterShip
//! tracking-links ledger --order '#1001' --db aftercare-demo.db
//! tracking-links dispatch --db aftercare.db --log sent.jsonl
//! tracking-links --check-config shop.toml   # every mistake, with its line
//! tracking-links run --config shop.toml      # the real store, until Ctrl-C
//! tracking-links backfill --since 2026-03-01 --config shop.toml [--send]
//! tracking-links schema                      # the config file's JSON Schema
//! ```

use std::path::PathBuf;
use std::time::Duration;

use aftercare::model::OrderId;
use aftercare::store::Ledger;
use aftercare_sqlite::SqliteStore;
use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: processing allocates and frees across threads
/// (a batch is staged on the runtime's workers and committed from another task), where
/// glibc's arenas cost issue 20's harness a fifth of the CPU in `malloc`/`free`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Share live tracking links and milestone messages with customers"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The demo's SQLite file (recreated on each run).
    #[arg(long, default_value = "aftercare-demo.db")]
    db: PathBuf,
    /// Where the demo serves webhooks and the tracking page.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// Keep serving the tracking pages after the demo story, until Ctrl-C.
    #[arg(long)]
    serve: bool,
    /// Check a configuration file, report every mistake, and exit.
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
    /// The shop platform the demo's sandbox plays.
    #[arg(long, value_enum, default_value_t)]
    platform: aftercare_examples::tracking::DemoPlatform,
    /// A carrier-tracking source the sandbox plays too: the shop's shipments are registered
    /// with it and its signed webhooks tell the carrier's steps.
    #[arg(long, value_enum)]
    tracking_source: Option<aftercare_examples::tracking_source::DemoTrackingSource>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Explain every send, deferral and skip for an order.
    Ledger {
        /// The order: its number (`#1001`) or the platform's id (820982911946154500).
        #[arg(long)]
        order: String,
        /// The SQLite file.
        #[arg(long, default_value = "aftercare-demo.db")]
        db: PathBuf,
    },
    /// Run only the dispatcher: send what is due through the sandbox channels, recording
    /// each message as a JSON line, until nothing is pending.
    Dispatch {
        /// The SQLite file.
        #[arg(long)]
        db: PathBuf,
        /// Where sent messages are appended (JSON lines).
        #[arg(long)]
        log: PathBuf,
        /// Time each send takes, in milliseconds (a slow provider).
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
        /// Claim lease, in milliseconds: how long before a crashed worker's claims are taken over.
        #[arg(long, default_value_t = 300_000)]
        lease_ms: u64,
        /// Messages sent at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    #[command(flatten)]
    Real(aftercare_examples::cli::RealCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(file) = &cli.check_config {
        return aftercare_examples::cli::check_config(file);
    }
    let result = match cli.command {
        Some(Command::Real(c)) => return c.run().await,
        Some(Command::Ledger { order, db }) => ledger(&order, &db).await,
        Some(Command::Dispatch {
            db,
            log,
            delay_ms,
            lease_ms,
            concurrency,
        }) => aftercare_examples::worker::dispatch_until_idle(
            &db,
            &log,
            Duration::from_millis(delay_ms),
            Duration::from_millis(lease_ms),
            concurrency,
        )
        .await
        .map(|summary| println!("dispatch: {summary}; each appended to {}", log.display()))
        .map_err(|e| e.to_string()),
        None => aftercare_examples::tracking::run(aftercare_examples::tracking::DemoOptions {
            platform: cli.platform,
            db: cli.db,
            bind: cli.bind,
            serve: cli.serve,
            tracking_source: cli.tracking_source,
        })
        .await
        .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracking-links: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn ledger(order: &str, db: &std::path::Path) -> Result<(), String> {
    // Opening a missing file would create an empty database and report "nothing recorded".
    if !db.is_file() {
        return Err(format!(
            "{}: no such database (the demo writes aftercare-demo.db; name another with --db)",
            db.display()
        ));
    }
    let store = SqliteStore::open(db).await.map_err(|e| e.to_string())?;
    // An order number (`#1001`) is resolved to the platform's id.
    let order = match aftercare::store::SnapshotStore::snapshot(&store, "order-number", order)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(s) => s
            .data
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| order.to_owned()),
        None => order.to_owned(),
    };
    let order = order.as_str();
    let rows = store
        .ledger_for_order(&OrderId::new(order))
        .await
        .map_err(|e| e.to_string())?;
    if rows.is_empty() {
        println!("No decisions recorded for order {order}.");
    }
    let totals = aftercare_examples::cli::ledger_totals(&rows);
    for line in aftercare_examples::cli::ledger_lines(&rows) {
        println!("{line}");
    }
    if !totals.is_empty() {
        println!("totals: {totals}");
    }
    Ok(())
}
