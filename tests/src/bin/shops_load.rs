//! `cargo xtask shops-load [--shops N] [--orders N] [--big N] [--instances N] [--seconds N]`:
//! the bounded multi-shop load run on PostgreSQL.
//!
//! N shops (1,000 by default) are installed in one database (a schema per shop, sealed
//! secrets in the registry), served by several instances of the deployment in this process
//! (each its own pool, its own `/shops/{shop}/webhooks/native` server, inbox processors and
//! `FairDispatcher`, all claiming with `SKIP LOCKED` from the same schemas). One big shop
//! posts a backlog first (a flash sale); then every shop posts its orders. Each webhook is
//! acknowledged only once stored; a handler turns it into one message; the dispatchers send
//! it through a recording provider. The run reports throughput, webhook acknowledgement
//! p50/p99, end-to-end latency (posted → sent) p50/p99, and fairness: each small shop's
//! lateness (its slowest message), max and median across shops, against the big shop's
//! drain time. Exit code 1 when the run does not finish within `--seconds`.
//!
//! PostgreSQL: `AFTERCARE_TEST_POSTGRES_URL`, or a private server started from the
//! binaries as the postgres tests do (fsync off).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../adapters/postgres/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::{Clock, SystemClock};
use aftercare::dispatch::Dispatcher;
use aftercare::http::{ServeOptions, WebhookRoutes};
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::model::{ChannelKind, OutboundMessage, PlatformEvent, Purpose, Receipt, ShopId};
use aftercare::store::{InboxEntry, NewOutboxMessage, Outbox};
use aftercare::tenancy::{
    FairDispatcher, Keyring, ShopInstall, ShopRoutes, ShopScope, Tenancy, WEBHOOK_SECRET,
};
use aftercare::webhook::{NativeSource, Scheme, Verifier};
use aftercare_postgres::PostgresShops;
use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt as _;
use sqlx::postgres::PgPoolOptions;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The provider every shop sends through: when each message arrived, per shop.
#[derive(Debug, Default)]
struct Provider {
    sent: Mutex<Vec<(String, f64)>>,
}

#[derive(Debug)]
struct Recording(Arc<Provider>);

#[async_trait]
impl MessageChannel for Recording {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }
    async fn send(&self, m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let posted: i64 = m.text.parse().unwrap_or(0);
        let latency_ms = (Utc::now().timestamp_micros() - posted) as f64 / 1000.0;
        let shop = m.shop.as_ref().map(|s| s.to_string()).unwrap_or_default();
        self.0.sent.lock().unwrap().push((shop, latency_ms));
        Ok(Receipt::new(key, Utc::now()))
    }
}

/// One message per webhook, due now, carrying the time the webhook was posted.
struct Enqueue {
    outbox: Arc<dyn Outbox>,
    shop: ShopId,
}

#[async_trait]
impl EventHandler for Enqueue {
    async fn handle(&self, entry: &InboxEntry, _: Vec<PlatformEvent>) -> Result<(), HandlerError> {
        let body: serde_json::Value =
            serde_json::from_slice(&entry.body).map_err(|e| HandlerError::Poison(e.to_string()))?;
        let posted = body["posted_us"].as_i64().unwrap_or(0).to_string();
        let mut m = OutboundMessage::new(
            ChannelKind::Email,
            format!("c{}@example.com", body["order"]),
            Purpose::Transactional,
            posted,
        );
        m.shop = Some(self.shop.clone());
        let now = Utc::now();
        self.outbox
            .enqueue(
                NewOutboxMessage::new(
                    format!("{}:{}", self.shop, entry.dedupe_key),
                    m,
                    now,
                    "load",
                ),
                now,
            )
            .await?;
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

struct Instance {
    base: String,
    fair: Arc<FairDispatcher>,
}

async fn instance(tenancy: Arc<Tenancy>, shops: &[ShopId], provider: Arc<Provider>) -> Instance {
    let fair = Arc::new(
        FairDispatcher::new()
            .idle_poll(Duration::from_secs(30))
            .parallel(8),
    );
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Each shop: its processor, woken when its route stores a webhook.
    let signals: Arc<Mutex<HashMap<ShopId, Arc<tokio::sync::Notify>>>> = Arc::default();
    for shop in shops {
        let scope = tenancy.scope(shop).await.unwrap();
        fair.add(
            shop.clone(),
            Dispatcher::new(scope.store(), clock.clone())
                .channel(Arc::new(Recording(provider.clone())))
                .batch(16, 4),
        );
        let notify = Arc::new(tokio::sync::Notify::new());
        signals.lock().unwrap().insert(shop.clone(), notify.clone());
        let processor = InboxProcessor::new(
            scope.store(),
            Arc::new(Enqueue {
                outbox: scope.store(),
                shop: shop.clone(),
            }),
            clock.clone(),
        )
        .source("native", native(&scope));
        let (fair, shop) = (fair.clone(), shop.clone());
        tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(Duration::from_secs(60), notify.notified()).await;
                match processor.drain().await {
                    Ok(r) if r.done > 0 => fair.wake(&shop),
                    Ok(_) => {}
                    Err(e) => eprintln!("processing {shop}: {e}"),
                }
            }
        });
    }
    let routes = ShopRoutes::new(tenancy, move |scope: &ShopScope| {
        let routes = WebhookRoutes::new(scope.store(), Arc::new(SystemClock))
            .source("native", native(scope));
        // Wake the shop's processor when a webhook is stored.
        let stored = routes.stored_signal();
        if let Some(n) = signals.lock().unwrap().get(scope.shop()).cloned() {
            tokio::spawn(async move {
                loop {
                    stored.notified().await;
                    n.notify_one();
                }
            });
        }
        Ok(routes.into_router())
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        routes.into_router(),
        ServeOptions::default(),
    ));
    let f = fair.clone();
    tokio::spawn(async move {
        f.run(Duration::from_millis(10), std::future::pending())
            .await;
    });
    Instance { base, fair }
}

fn native(scope: &ShopScope) -> Arc<NativeSource> {
    Arc::new(NativeSource::with_verifier(Verifier::new(
        Scheme::StandardWebhooks,
        scope
            .secret(WEBHOOK_SECRET)
            .cloned()
            .unwrap_or_else(|| "".into()),
    )))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n_shops = arg(&args, "--shops", 1000) as usize;
    let orders = arg(&args, "--orders", 5) as usize;
    let big = arg(&args, "--big", 2000) as usize;
    let n_instances = arg(&args, "--instances", 2).max(1) as usize;
    let bound = Duration::from_secs(arg(&args, "--seconds", 600));
    let started = Instant::now();

    let options = support::fresh_database().await;
    let keys = Keyring::new("k1", &[7; 32]).unwrap();
    let mut tenancies = Vec::new();
    for _ in 0..n_instances {
        let shops = PostgresShops::connect(
            PgPoolOptions::new().max_connections(16),
            options.clone(),
            "aftercare",
        )
        .await
        .unwrap();
        tenancies.push(Arc::new(Tenancy::new(
            Arc::new(shops.registry()),
            Arc::new(shops),
            keys.clone(),
        )));
    }
    let shops: Vec<ShopId> = (0..n_shops)
        .map(|i| ShopId::new(format!("shop{i:05}.myshopify.com")))
        .collect();
    let t = Instant::now();
    let mut secrets = HashMap::new();
    let installs: Vec<_> = futures::stream::iter(shops.iter().cloned())
        .map(|shop| {
            let tenancy = tenancies[0].clone();
            async move {
                let i = tenancy
                    .install(ShopInstall::new(shop.clone(), "sandbox"), Utc::now())
                    .await
                    .unwrap();
                (shop, i.scope.secret(WEBHOOK_SECRET).unwrap().clone())
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    secrets.extend(installs);
    let install_s = t.elapsed().as_secs_f64();
    eprintln!("installed {n_shops} shops in {install_s:.1}s");

    let provider = Arc::new(Provider::default());
    let mut instances = Vec::new();
    for tenancy in &tenancies {
        instances.push(instance(tenancy.clone(), &shops, provider.clone()).await);
    }

    // The workload: the big shop's backlog first, then every shop's orders, round-robin.
    let mut work: Vec<(usize, usize)> = (0..big).map(|o| (0, o)).collect();
    for o in 0..orders {
        for s in 0..n_shops {
            work.push((s, big + o));
        }
    }
    let total = work.len();
    let http = reqwest::Client::new();
    let t = Instant::now();
    let acks: Vec<f64> = futures::stream::iter(work.into_iter().enumerate())
        .map(|(i, (s, o))| {
            let shop = &shops[s];
            let url = format!(
                "{}/shops/{shop}/webhooks/native",
                instances[i % instances.len()].base
            );
            let body = serde_json::json!({
                "type": "unrecognized", "topic": "orders/paid",
                "order": o, "posted_us": Utc::now().timestamp_micros(),
            })
            .to_string()
            .into_bytes();
            let headers = Verifier::new(Scheme::StandardWebhooks, secrets[shop].clone())
                .sign_with_id(&format!("msg_{s}_{o}"), Utc::now().timestamp(), &body);
            let mut req = http.post(url).body(body);
            for (n, v) in headers.iter() {
                req = req.header(n, v);
            }
            async move {
                let t = Instant::now();
                let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                if status != 200 {
                    eprintln!("webhook answered {status}");
                }
                t.elapsed().as_secs_f64() * 1000.0
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let post_s = t.elapsed().as_secs_f64();
    // Wait for every message, within the bound.
    loop {
        let n = provider.sent.lock().unwrap().len();
        if n >= total || started.elapsed() > bound {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_s = t.elapsed().as_secs_f64();
    let sent = provider.sent.lock().unwrap().clone();
    let acks = sorted(acks);
    let e2e = sorted(sent.iter().map(|(_, l)| *l).collect());
    let mut worst: HashMap<&str, f64> = HashMap::new();
    for (shop, l) in &sent {
        let w = worst.entry(shop.as_str()).or_insert(0.0);
        *w = w.max(*l);
    }
    let big_shop = shops[0].to_string();
    let small = sorted(
        worst
            .iter()
            .filter(|(s, _)| **s != big_shop)
            .map(|(_, l)| *l)
            .collect(),
    );
    let finished = sent.len() >= total;
    println!("## shops-load");
    println!(
        "shops {n_shops}, instances {n_instances}, webhooks {total} (big shop backlog {big}, {orders} per shop)"
    );
    println!(
        "install: {install_s:.1} s ({:.0} shops/s)",
        n_shops as f64 / install_s
    );
    println!(
        "webhooks acknowledged: {:.0}/s; ack p50 {:.1} ms, p99 {:.1} ms",
        total as f64 / post_s,
        percentile(&acks, 0.5),
        percentile(&acks, 0.99)
    );
    println!(
        "messages sent: {} of {total} in {all_s:.1} s ({:.0}/s)",
        sent.len(),
        sent.len() as f64 / all_s
    );
    println!(
        "end to end (posted -> sent): p50 {:.0} ms, p99 {:.0} ms",
        percentile(&e2e, 0.5),
        percentile(&e2e, 0.99)
    );
    println!(
        "fairness (small shops' slowest message): median {:.0} ms, max {:.0} ms, max/median {:.2}; big shop's slowest {:.0} ms",
        percentile(&small, 0.5),
        small.last().copied().unwrap_or(0.0),
        small.last().copied().unwrap_or(0.0) / percentile(&small, 0.5).max(1.0),
        worst.get(big_shop.as_str()).copied().unwrap_or(0.0)
    );
    for i in &instances {
        let _ = i.fair.shops().len();
    }
    if finished {
        ExitCode::SUCCESS
    } else {
        eprintln!("the run did not finish within {} s", bound.as_secs());
        ExitCode::FAILURE
    }
}
