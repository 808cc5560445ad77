//! The webhook receiver on embedded defaults: SQLite, Aftercare's own event format signed
//! with Standard Webhooks, and a console printout of every event it accepts.
//!
//! ```text
//! cargo run -p aftercare-examples --bin receiver -- --demo   # sends itself signed webhooks, then exits
//! cargo run -p aftercare-examples --bin receiver             # serves until Ctrl-C
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aftercare::clock::{Clock, SystemClock};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{LineItem, Order, PlatformEvent, Shipment, ShipmentStatus};
use aftercare::store::InboxEntry;
use aftercare::webhook::{NativeSource, Secret};
use aftercare_sqlite::SqliteStore;
use clap::Parser;

/// Receives signed webhooks, stores them in SQLite before acknowledging, and prints what it
/// processes.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "Receive signed webhooks, store each before acknowledging it, and print what is processed"
)]
struct Args {
    /// SQLite file (created if missing).
    #[arg(long, default_value = "aftercare-receiver.db")]
    db: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Send a few signed webhooks (and a forged, a replayed and a duplicate one) to this
    /// server over HTTP, print what happens, and exit.
    #[arg(long)]
    demo: bool,
}

const DEMO_SECRET: &str = "aftercare-local-demo-secret";

struct Printer;

#[async_trait::async_trait]
impl EventHandler for Printer {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = Args::parse();
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
    let store = SqliteStore::open(&args.db).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let routes =
        WebhookRoutes::new(Arc::new(store.clone()), clock.clone()).source("native", source.clone());
    let stored = routes.stored_signal();
    let listener = aftercare_examples::cli::listen(args.bind, "--bind").await?;
    let addr = listener.local_addr()?;
    println!(
        "Aftercare webhook receiver on http://{addr}/webhooks/native, storing in {}",
        args.db.display()
    );
    // The default limits of `aftercare::http::serve`: header, body and idle timeouts, at most
    // 512 connections at once.
    let server = tokio::spawn(aftercare::http::serve(
        listener,
        routes.into_router(),
        aftercare::http::ServeOptions::default(),
    ));

    let processor = Arc::new(
        InboxProcessor::new(Arc::new(store.clone()), Arc::new(Printer), clock.clone())
            .source("native", source.clone()),
    );

    if args.demo {
        demo(addr, &source, &processor).await?;
        server.abort();
        store.close().await;
        return Ok(());
    }

    println!(
        "Send events in Aftercare's schema (schemas/platform-event.json) signed with Standard Webhooks. Ctrl-C stops."
    );
    let p = processor.clone();
    let worker = tokio::spawn(async move {
        loop {
            if let Err(e) = p.drain().await {
                eprintln!("processing failed: {e}");
            }
            tokio::select! {
                _ = stored.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    });
    tokio::signal::ctrl_c().await?;
    worker.abort();
    server.abort();
    store.close().await;
    Ok(())
}

async fn demo(
    addr: SocketAddr,
    source: &NativeSource,
    processor: &InboxProcessor,
) -> Result<(), Box<dyn std::error::Error>> {
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
