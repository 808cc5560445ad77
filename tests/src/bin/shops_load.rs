//! `cargo xtask shops-load [--shops N] [--orders N] [--big N] [--instances N] [--processes N]
//! [--seconds N]`: the bounded multi-shop load run on PostgreSQL.
//!
//! With `--processes N` the instances are N separate processes (this binary again, with
//! `--child`), each with its own pool, server, processors and `FairDispatcher`, claiming
//! from the same schemas with `SKIP LOCKED`; they send through an HTTP provider in this
//! process, which records every message's key: the run reports whether any was sent twice.
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

/// The provider every shop sends through: when each message arrived, per shop, under which
/// key.
#[derive(Debug, Default)]
struct Provider {
    sent: Mutex<Vec<(String, f64, String)>>,
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
        self.0
            .sent
            .lock()
            .unwrap()
            .push((shop, latency_ms, key.to_owned()));
        Ok(Receipt::new(key, Utc::now()))
    }
}

/// A child process's channel: each send posted to the parent's recording provider.
#[derive(Debug)]
struct HttpProvider {
    http: reqwest::Client,
    url: String,
}

#[async_trait]
impl MessageChannel for HttpProvider {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }
    async fn send(&self, m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let shop = m.shop.as_ref().map(|s| s.to_string()).unwrap_or_default();
        let body = serde_json::json!({"shop": shop, "key": key, "posted_us": m.text});
        match self.http.post(&self.url).json(&body).send().await {
            Ok(r) if r.status().is_success() => Ok(Receipt::new(key, Utc::now())),
            Ok(r) => Err(SendError::Transient {
                retry_after: None,
                reason: format!("provider answered {}", r.status()),
            }),
            Err(e) => Err(SendError::MaybeSent {
                reason: e.to_string(),
            }),
        }
    }
}

/// The parent's side of [`HttpProvider`]: records what the children send.
async fn provider_server(provider: Arc<Provider>) -> String {
    use axum::routing::post;
    let app = axum::Router::new()
        .route(
            "/send",
            post(
                |axum::extract::State(p): axum::extract::State<Arc<Provider>>,
                 axum::Json(v): axum::Json<serde_json::Value>| async move {
                    let posted: i64 = v["posted_us"]
                        .as_str()
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(0);
                    let latency_ms = (Utc::now().timestamp_micros() - posted) as f64 / 1000.0;
                    p.sent.lock().unwrap().push((
                        v["shop"].as_str().unwrap_or("").to_owned(),
                        latency_ms,
                        v["key"].as_str().unwrap_or("").to_owned(),
                    ));
                    "ok"
                },
            ),
        )
        .with_state(provider);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        ServeOptions::default(),
    ));
    url
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

async fn instance(
    tenancy: Arc<Tenancy>,
    shops: &[ShopId],
    channel: Arc<dyn MessageChannel>,
) -> Instance {
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
                .channel(channel.clone())
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

async fn tenancy_on(options: sqlx::postgres::PgConnectOptions) -> Arc<Tenancy> {
    let shops = PostgresShops::connect(
        PgPoolOptions::new().max_connections(16),
        options,
        "aftercare",
    )
    .await
    .unwrap();
    Arc::new(Tenancy::new(
        Arc::new(shops.registry()),
        Arc::new(shops),
        Keyring::new("k1", &[7; 32]).unwrap(),
    ))
}

fn text_arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The database of the run, as the children reach it: the variable's server, or the
/// private server's socket.
fn child_options(args: &[String]) -> sqlx::postgres::PgConnectOptions {
    use std::str::FromStr as _;
    let db = text_arg(args, "--pg-db").unwrap();
    match std::env::var("AFTERCARE_TEST_POSTGRES_URL") {
        Ok(url) => sqlx::postgres::PgConnectOptions::from_str(&url)
            .unwrap()
            .database(db),
        Err(_) => sqlx::postgres::PgConnectOptions::new()
            .socket(text_arg(args, "--pg-socket").unwrap())
            .port(text_arg(args, "--pg-port").unwrap().parse().unwrap())
            .username(text_arg(args, "--pg-user").unwrap())
            .database(db),
    }
}

/// `--child`: one instance of the deployment in its own process, serving every installed
/// shop, sending through the parent's provider; prints its address, runs until its
/// standard input closes.
async fn child(args: &[String]) -> ExitCode {
    let tenancy = tenancy_on(child_options(args)).await;
    let shops = tenancy.installed().await.unwrap();
    let channel = Arc::new(HttpProvider {
        http: reqwest::Client::new(),
        url: text_arg(args, "--provider").unwrap().to_owned(),
    });
    let inst = instance(tenancy, &shops, channel).await;
    println!("listening {}", inst.base);
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await;
    ExitCode::SUCCESS
}

/// Kills the child processes when the run ends, however it ends.
struct Children(Vec<std::process::Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            drop(c.stdin.take());
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--child") {
        return child(&args).await;
    }
    let n_shops = arg(&args, "--shops", 1000) as usize;
    let orders = arg(&args, "--orders", 5) as usize;
    let big = arg(&args, "--big", 2000) as usize;
    let n_processes = arg(&args, "--processes", 0) as usize;
    let n_instances = if n_processes > 0 {
        n_processes
    } else {
        arg(&args, "--instances", 2).max(1) as usize
    };
    let bound = Duration::from_secs(arg(&args, "--seconds", 600));
    let started = Instant::now();

    let options = support::fresh_database().await;
    let mut tenancies = Vec::new();
    for _ in 0..(if n_processes > 0 { 1 } else { n_instances }) {
        tenancies.push(tenancy_on(options.clone()).await);
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
    let mut bases = Vec::new();
    let mut children = Children(Vec::new());
    let mut instances = Vec::new();
    if n_processes > 0 {
        let url = provider_server(provider.clone()).await;
        let exe = std::env::current_exe().unwrap();
        for _ in 0..n_processes {
            let mut cmd = std::process::Command::new(&exe);
            cmd.args(["--child", "--provider", &url]);
            cmd.args(["--pg-db", options.get_database().unwrap()]);
            cmd.args(["--pg-port", &options.get_port().to_string()]);
            cmd.args(["--pg-user", options.get_username()]);
            if let Some(sock) = options.get_socket() {
                cmd.arg("--pg-socket").arg(sock);
            }
            let mut c = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let out = c.stdout.take().unwrap();
            children.0.push(c);
            let line = tokio::task::spawn_blocking(move || {
                use std::io::BufRead as _;
                let mut line = String::new();
                std::io::BufReader::new(out).read_line(&mut line).unwrap();
                line
            })
            .await
            .unwrap();
            bases.push(line.trim().trim_start_matches("listening ").to_owned());
        }
        eprintln!("{n_processes} instance processes: {bases:?}");
    } else {
        for tenancy in &tenancies {
            let i = instance(
                tenancy.clone(),
                &shops,
                Arc::new(Recording(provider.clone())),
            )
            .await;
            bases.push(i.base.clone());
            instances.push(i);
        }
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
    let retries = std::sync::atomic::AtomicUsize::new(0);
    let t = Instant::now();
    let acks: Vec<f64> = futures::stream::iter(work.into_iter().enumerate())
        .map(|(i, (s, o))| {
            let shop = &shops[s];
            let url = format!("{}/shops/{shop}/webhooks/native", bases[i % bases.len()]);
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
            let retries = &retries;
            async move {
                let t = Instant::now();
                // A sender retries what was not acknowledged (a kept-alive connection the
                // server closed as the request went out fails without an answer); the
                // same delivery again is de-duplicated by the inbox.
                for attempt in 0..3 {
                    let Some(r) = req.try_clone() else { break };
                    match r.send().await {
                        Ok(r) if r.status().as_u16() == 200 => break,
                        Ok(r) => eprintln!("webhook answered {}", r.status()),
                        Err(e) => eprintln!("webhook not answered (attempt {}): {e}", attempt + 1),
                    }
                    retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
        let n = provider
            .sent
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, k)| k.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len();
        if n >= total || started.elapsed() > bound {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_s = t.elapsed().as_secs_f64();
    let sent = provider.sent.lock().unwrap().clone();
    let acks = sorted(acks);
    let e2e = sorted(sent.iter().map(|(_, l, _)| *l).collect());
    let mut times: HashMap<&str, usize> = HashMap::new();
    for (_, _, key) in &sent {
        *times.entry(key.as_str()).or_insert(0) += 1;
    }
    let twice = times.values().filter(|n| **n > 1).count();
    let mut worst: HashMap<&str, f64> = HashMap::new();
    for (shop, l, _) in &sent {
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
    let finished = times.len() >= total;
    println!("## shops-load");
    println!(
        "shops {n_shops}, instances {n_instances} ({}), webhooks {total} (big shop backlog {big}, {orders} per shop)",
        if n_processes > 0 {
            "separate processes"
        } else {
            "in this process"
        }
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
        "webhooks sent again after no answer or a non-200: {}",
        retries.load(std::sync::atomic::Ordering::Relaxed)
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
    println!(
        "sent twice: {twice} message(s) ({} distinct keys of {} sends)",
        times.len(),
        sent.len()
    );
    for i in &instances {
        let _ = i.fair.shops().len();
    }
    drop(children);
    if finished && twice == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "the run did not finish within {} s, or a message was sent twice",
            bound.as_secs()
        );
        ExitCode::FAILURE
    }
}
