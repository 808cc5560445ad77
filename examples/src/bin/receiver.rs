//! The webhook receiver: Aftercare's own event format signed with Standard Webhooks, every
//! platform a configuration file sets up (Shopify, WooCommerce, ...; the same file as
//! `tracking-links`), SQLite or PostgreSQL, and a console printout of every event it
//! processes.
//!
//! ```text
//! cargo run -p aftercare-examples --bin receiver -- --demo   # sends itself signed webhooks, then exits
//! cargo run -p aftercare-examples --bin receiver             # serves until Ctrl-C
//! cargo run -p aftercare-examples --bin receiver -- --config shop.toml  # + the shop's platform
//! ```
//!
//! With `--config`, the shop's webhook route is mounted as `tracking-links` mounts it
//! (`/webhooks/shopify` for `[shop] platform = "shopify"`, signed with `client_secrets`),
//! and the store is the file's `[storage]`; the handler only prints.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aftercare::clock::{Clock, SystemClock};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{LineItem, Order, PlatformEvent, Shipment, ShipmentStatus};
use aftercare::store::InboxEntry;
use aftercare::store::Store;
use aftercare::webhook::{NativeSource, Secret};
use aftercare::work::WorkStore;
use aftercare_examples::config::TrackingLinksConfig;
use aftercare_examples::real::{ShopStack, StoreHandle};
use aftercare_sqlite::SqliteStore;
use clap::Parser;

/// mimalloc rather than the system allocator: processing allocates and frees across threads
/// (a batch is staged on the runtime's workers and committed from another task), where
/// glibc's arenas cost issue 20's harness a fifth of the CPU in `malloc`/`free`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Receives signed webhooks, stores them before acknowledging, and prints what it
/// processes.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "Receive signed webhooks, store each before acknowledging it, and print what is processed"
)]
struct Args {
    /// SQLite file (created if missing); with `--config`, the file's `[storage]` is used.
    #[arg(long, default_value = "aftercare-receiver.db")]
    db: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// A `tracking-links` configuration file (`tracking-links.example.toml`): mounts the
    /// shop platform's webhook route beside the native one, on the file's storage.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not print each processed event (for load tests).
    #[arg(long)]
    quiet: bool,
    /// Store and acknowledge webhooks but do not process them (they wait in the inbox for
    /// a later run): the load harness measures ingest alone so.
    #[arg(long)]
    ingest_only: bool,
    /// With `--config`: process the shop's webhooks with the tracking flow (`tracking-links`'s
    /// own: order snapshots, milestones, messages queued in the outbox) instead of printing
    /// them. Nothing is dispatched: the messages wait in the outbox (the load harness's
    /// standard workload).
    #[arg(long, requires = "config")]
    flow: bool,
    /// How many orders of a claimed batch are processed at once. Default: 64 on SQLite
    /// (concurrent flows' writes share one commit there, so more at once is faster), 16 on
    /// PostgreSQL (each order's flow holds a pooled connection; more starve ingest).
    #[arg(long, value_name = "ORDERS")]
    concurrency: Option<usize>,
    /// How many stored webhooks one claim takes: each batch is read ahead in one query and
    /// committed in one transaction, while the next batch is handled. Default: 64 on SQLite,
    /// 256 on PostgreSQL (`SQLITE`, `POSTGRES` below say what was measured).
    #[arg(long, value_name = "ENTRIES")]
    batch: Option<u32>,
    /// Send a few signed webhooks (and a forged, a replayed and a duplicate one) to this
    /// server over HTTP, print what happens, and exit.
    #[arg(long)]
    demo: bool,
}

const DEMO_SECRET: &str = "aftercare-local-demo-secret";

/// How the processor runs on a store unless `--concurrency` and `--batch` say otherwise.
#[derive(Clone, Copy)]
struct Tuning {
    /// Orders of a batch processed at once.
    orders: usize,
    /// Entries one claim takes.
    batch: u32,
}

/// SQLite. Orders at once, measured by the load harness (round 4, loaded machine): the
/// backlog drained at 1,113 entries/s with 64 against 508/s with 16. Batch, with pipelined
/// processing (2026-12-07, one run each, quiet machine): the backlog drained at 3,690 /
/// 4,088–4,933 / 3,953 / 3,695–4,642 entries/s with 32 / 64 / 128 / 256, and ingest beside
/// processing kept 3,982 / 1,848–2,759 / 1,678 / 1,130–1,329 req/s (a batch's commit holds
/// SQLite's one writer: smaller batches let acknowledgements through sooner).
const SQLITE: Tuning = Tuning {
    orders: 64,
    batch: 64,
};
/// PostgreSQL. Orders at once: 64 gained nothing and ingest beside processing fell from
/// 1,053 to 644 req/s (the flows held the pool's connections); measured again with the
/// unit of work, the backlog drained at 2,245/s with 16 and 1,776/s with 64 (quiet machine).
/// Batch, with pipelined processing (2026-12-07, quiet machine): 2,813 entries/s and 0.59×
/// the ingest beside it with 256, 2,242/s and 0.49× with 64 (no single writer there: a
/// larger batch costs ingest nothing, and saves round trips).
const POSTGRES: Tuning = Tuning {
    orders: 16,
    batch: 256,
};

struct Printer {
    quiet: bool,
}

#[async_trait::async_trait]
impl EventHandler for Printer {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        if self.quiet {
            return Ok(());
        }
        for e in events {
            let what = match &e {
                PlatformEvent::OrderCreated { order } => format!(
                    "order {} created with {} item(s)",
                    order.number,
                    order.line_items.len()
                ),
                PlatformEvent::ShipmentUpdated { shipment }
                | PlatformEvent::ShipmentCreated { shipment } => format!(
                    "shipment {} of order {} is {} ({})",
                    shipment.id,
                    shipment.order_id,
                    shipment.status.as_str(),
                    shipment.tracking_numbers.join(", ")
                ),
                other => other.kind().to_owned(),
            };
            println!("  processed  #{:<3} {}: {what}", entry.id, entry.source);
        }
        Ok(())
    }
}

type BoxError = aftercare_examples::real::BoxError;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = Args::parse();
    match &args.config {
        Some(file) => {
            let cfg = aftercare_examples::cli::load(file)
                .map_err(|_| format!("{}: not a valid configuration", file.display()))?;
            let cfg = Arc::new(cfg);
            aftercare_examples::real::with_store(&cfg.clone(), move |store| async move {
                match store {
                    StoreHandle::Sqlite(s) => receive(args, Some(&cfg), s, SQLITE).await,
                    StoreHandle::Postgres(s) => receive(args, Some(&cfg), s, POSTGRES).await,
                }
            })
            .await
        }
        None => {
            let store = Arc::new(SqliteStore::open(&args.db).await?);
            let r = receive(args, None, store.clone(), SQLITE).await;
            store.close().await;
            r
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn receive<S: Store + WorkStore + 'static>(
    args: Args,
    cfg: Option<&TrackingLinksConfig>,
    store: Arc<S>,
    tuning: Tuning,
) -> Result<(), BoxError> {
    let secret = match std::env::var("AFTERCARE_WEBHOOK_SECRET") {
        Ok(s) => Secret::from(s),
        Err(_) => {
            println!(
                "AFTERCARE_WEBHOOK_SECRET is not set: using the local demo secret `{DEMO_SECRET}`."
            );
            Secret::from(DEMO_SECRET)
        }
    };
    let source = Arc::new(NativeSource::new(secret));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut routes =
        WebhookRoutes::new(store.clone(), clock.clone()).source("native", source.clone());
    let mut handler: Arc<dyn EventHandler> = Arc::new(Printer { quiet: args.quiet });
    let mut shop = None;
    if let Some(cfg) = cfg {
        // The shop's platform, as `tracking-links` mounts it.
        let s = ShopStack::with_store(cfg, store.clone())?;
        s.prepare().await?;
        if args.flow {
            handler = Arc::new(aftercare_examples::real::tracking_flow(
                cfg,
                s.orders.clone(),
                s.customers.clone(),
                store.clone(),
                clock.clone(),
            )?);
        }
        shop = Some(s);
    }
    // Each claimed batch is one unit of work: its snapshots read in one query, the flow's
    // writes staged and committed with the batch's completion in one transaction.
    let mut processor = InboxProcessor::new(store.clone(), handler, clock.clone())
        .source("native", source.clone())
        .concurrency(args.concurrency.unwrap_or(tuning.orders))
        .batch_size(args.batch.unwrap_or(tuning.batch))
        .unit_of_work(store.clone());
    let mut paths = vec!["native"];
    if let Some(shop) = shop {
        let parts = shop.parts(store.clone(), clock.clone());
        routes = routes.source(parts.name(), parts.source());
        processor = parts.register(processor);
        paths.push(shop.name);
    }
    let stored = routes.stored_signal();
    let listener = aftercare_examples::cli::listen(args.bind, "--bind").await?;
    let addr = listener.local_addr()?;
    for p in &paths {
        println!("Aftercare webhook receiver on http://{addr}/webhooks/{p}");
    }
    // The default limits of `aftercare::http::serve`: header, body and idle timeouts, at most
    // 512 connections at once; it stops accepting when `stopping` is set.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(aftercare::http::serve_with_shutdown(
        listener,
        routes.into_router(),
        aftercare::http::ServeOptions::default(),
        async move {
            let _ = server_stop.wait_for(|s| *s).await;
        },
    ));
    let processor = Arc::new(processor);

    if args.demo {
        demo(addr, &source, &processor).await?;
        let _ = stop_tx.send(true);
        let _ = server.await;
        return Ok(());
    }

    println!(
        "Send events in Aftercare's schema (schemas/platform-event.json) signed with Standard Webhooks. Ctrl-C stops."
    );
    let p = processor.clone();
    let mut worker_stop = stop_rx.clone();
    // Batches pipelined: each one is committed while the next is handled. A stop lets the
    // batch in hand finish and commits it (its entries completed), then the worker ends
    // before the store is closed.
    let ingest_only = args.ingest_only;
    let worker = tokio::spawn(async move {
        let mut pipeline = p.pipeline();
        while !ingest_only && !*worker_stop.borrow() {
            let busy = match pipeline.step().await {
                Ok(r) => r.done + r.retried + r.dead > 0 || pipeline.is_pending(),
                Err(e) => {
                    eprintln!("processing failed: {e}");
                    if let Err(e) = pipeline.flush().await {
                        eprintln!(
                            "commit failed (those entries are processed again when their lease runs out): {e}"
                        );
                    }
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = stored.notified() => {}
                    _ = worker_stop.changed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                }
            }
        }
        if let Err(e) = pipeline.flush().await {
            eprintln!(
                "commit failed at the stop (those entries are processed again when their lease runs out): {e}"
            );
        }
    });
    stop_signal().await;
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = worker.await;
    Ok(())
}

async fn demo(
    addr: SocketAddr,
    source: &NativeSource,
    processor: &InboxProcessor,
) -> Result<(), BoxError> {
    let url = format!("http://{addr}/webhooks/native");
    let client = reqwest::Client::new();
    let now = chrono::Utc::now();
    let run = now.timestamp_millis();

    let mut order = Order::new(format!("{run}"), "#1042");
    order.line_items.push(LineItem::new("Espresso grinder", 1));
    let mut shipment = Shipment::new(
        "5791",
        order.id.clone(),
        ShipmentStatus::parse("out_for_delivery"),
    );
    shipment.carrier = Some("UPS".into());
    shipment.tracking_numbers.push("1Z999AA10123456784".into());
    let created = serde_json::to_vec(&PlatformEvent::OrderCreated { order })?;
    let moving = serde_json::to_vec(&PlatformEvent::ShipmentUpdated { shipment })?;

    let cases: Vec<(&str, Vec<u8>, aftercare::webhook::RawHeaders)> = vec![
        (
            "order created",
            created.clone(),
            source
                .verifier()
                .sign_with_id(&format!("msg_{run}_1"), now.timestamp(), &created),
        ),
        (
            "shipment out for delivery",
            moving.clone(),
            source
                .verifier()
                .sign_with_id(&format!("msg_{run}_2"), now.timestamp(), &moving),
        ),
        (
            "the same delivery again",
            created.clone(),
            source
                .verifier()
                .sign_with_id(&format!("msg_{run}_1"), now.timestamp(), &created),
        ),
        (
            "forged (wrong secret)",
            created.clone(),
            NativeSource::new(Secret::from("guess"))
                .verifier()
                .sign(&created, now),
        ),
        (
            "replayed an hour later",
            created.clone(),
            source.verifier().sign_with_id(
                &format!("msg_{run}_3"),
                now.timestamp() - 3600,
                &created,
            ),
        ),
    ];
    for (label, body, headers) in cases {
        let mut req = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        for (n, v) in headers.iter() {
            req = req.header(n, v);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        println!("  POST {label:<28} -> {status} {text}");
    }
    let report = processor.drain().await?;
    println!(
        "Processed {} stored webhook(s); {} retried, {} dead-lettered.",
        report.done, report.retried, report.dead
    );
    Ok(())
}
