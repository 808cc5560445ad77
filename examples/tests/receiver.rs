//! The `receiver` binary with `--config`: a signed Shopify webhook is stored, processed, and
//! SIGTERM stops the process cleanly (issue 20).

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

const BODY: &[u8] =
    include_bytes!("../../adapters/shopify/benches/fixtures/shopify_order_fulfilled.json");
const SECRET: &str = "receiver-test-client-secret";

fn config(db: &std::path::Path) -> String {
    format!(
        r#"[shop]
platform = "shopify"

[shopify]
shop = "receiver-test.myshopify.com"
access_token = {{ value = "shpat_test" }}
client_secrets = [{{ value = "{SECRET}" }}]
tracking_link_key = {{ value = "receiver-test-tracking-link-key-0123456789" }}

[smtp]
host = "smtp.example.com"
port = 587
tls = "starttls"
username = "orders@shop.example"
password = {{ value = "unused" }}
from = "Test <orders@shop.example>"

[tracking]
channels = ["email"]

[storage]
sqlite = {{ path = {db:?} }}

[server]
bind = "127.0.0.1:0"
public_url = "http://127.0.0.1"
"#
    )
}

/// Starts the receiver on `cfg` (its errors to `stderr`, `extra` options added) and returns
/// it with its Shopify route's URL. What it prints afterwards is read on a thread of its own,
/// so a full pipe never blocks it.
#[allow(clippy::unwrap_used, clippy::expect_used)]
fn start(
    cfg: &std::path::Path,
    stderr: &std::path::Path,
    extra: &[&str],
) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_receiver"))
        .args(["--quiet", "--bind", "127.0.0.1:0"])
        .args(extra)
        .arg("--config")
        .arg(cfg)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap();
    // "Aftercare webhook receiver on http://127.0.0.1:PORT/webhooks/shopify"
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the receiver printed its routes")
            .unwrap();
        if let Some(u) = line
            .split_whitespace()
            .find(|w| w.ends_with("/webhooks/shopify"))
        {
            break u.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, url)
}

/// [`start`] on a configuration written into `dir` for a fresh SQLite file there; also
/// returns that file's path and the receiver's stderr file.
#[allow(clippy::unwrap_used)]
fn start_in(
    dir: &std::path::Path,
    extra: &[&str],
) -> (
    std::process::Child,
    String,
    std::path::PathBuf,
    std::path::PathBuf,
) {
    let db = dir.join("r.db");
    let cfg = dir.join("shop.toml");
    std::fs::write(&cfg, config(&db)).unwrap();
    let stderr = dir.join("stderr");
    let (child, url) = start(&cfg, &stderr, extra);
    (child, url, db, stderr)
}

/// An `orders/fulfilled` webhook with `body`, signed as Shopify signs it, with its id.
#[allow(clippy::unwrap_used)]
fn signed(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    webhook_id: &str,
) -> reqwest::RequestBuilder {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let tag = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    client
        .post(url)
        .header("content-type", "application/json")
        .header("X-Shopify-Hmac-Sha256", tag)
        .header("X-Shopify-Topic", "orders/fulfilled")
        .header("X-Shopify-Shop-Domain", "receiver-test.myshopify.com")
        .header("X-Shopify-API-Version", "2025-07")
        .header("X-Shopify-Webhook-Id", webhook_id)
        .body(body)
}

/// Sends SIGTERM to the receiver and waits (up to 30 s) for it to exit.
#[allow(clippy::unwrap_used)]
fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < until,
            "the receiver did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
#[tokio::test]
async fn receives_shopify_with_a_config_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, db, stderr) = start_in(dir.path(), &[]);
    let resp = signed(
        &reqwest::Client::new(),
        &url,
        BODY.to_vec(),
        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );

    // Processed: the entry is done.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
        .await
        .unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM inbox WHERE source = 'shopify'")
                .fetch_optional(&pool)
                .await
                .unwrap();
        if status.as_deref() == Some("done") {
            break;
        }
        assert!(Instant::now() < until, "not processed: {status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pool.close().await;

    let status = terminate(&mut child);
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert!(status.success(), "exit {status:?}; stderr: {err}");
    assert!(!err.contains("processing failed"), "{err}");
}

/// A stop in the middle of a stream of webhooks (SIGTERM while they still arrive): every
/// acknowledged webhook is stored, and every entry is done or was never claimed; none is
/// left claimed. Processing is pipelined (a batch is committed while the next is handled),
/// so the stop commits the batch handled last. This handler (printing) keeps up with the
/// stream, so a batch is rarely waiting at the stop here: the conformance check
/// `work_pipeline_reads_the_batch_being_committed` is the one that fails without the flush.
#[allow(clippy::unwrap_used, clippy::expect_used)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_mid_stream_leaves_no_entry_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, db, stderr) = start_in(dir.path(), &["--batch", "16"]);
    let order: serde_json::Value = serde_json::from_slice(BODY).unwrap();
    let client = reqwest::Client::new();
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..8u64 {
        let (client, url, order, acked) =
            (client.clone(), url.clone(), order.clone(), acked.clone());
        tasks.spawn(async move {
            for n in (lane..).step_by(8) {
                // Its own order id (the same body twice would be a duplicate), named alike
                // in both places Shopify names it.
                let mut o = order.clone();
                o["id"] = serde_json::json!(9_000_000 + n);
                o["admin_graphql_api_id"] =
                    serde_json::json!(format!("gid://shopify/Order/{}", 9_000_000 + n));
                let body = serde_json::to_vec(&o).unwrap();
                let sent = signed(&client, &url, body, &format!("stop-mid-stream-{n}"))
                    .send()
                    .await;
                // Refused or cut off once the stop began.
                match sent {
                    Ok(r) if r.status() == 200 => {
                        acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        });
    }
    // Stopped while webhooks still arrive and processing works through them.
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 400 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let status = terminate(&mut child);
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let acked = acked.load(std::sync::atomic::Ordering::SeqCst);
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert!(status.success(), "exit {status:?}; stderr: {err}");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
        .await
        .unwrap();
    // A claim counts an attempt and hides the entry; a done entry is `done`.
    let (stored, done, claimed): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'done'),
                count(*) FILTER (WHERE status = 'pending' AND attempts > 0)
         FROM inbox WHERE source = 'shopify'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert!(
        stored >= acked as i64,
        "every acknowledged webhook is stored: {stored} < {acked}"
    );
    assert_eq!(claimed, 0, "{done} done; claimed and left: {claimed}");
    let dead: i64 = {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let n = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE status = 'dead'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    };
    assert_eq!(dead, 0, "every webhook decodes");
    assert!(done > 0, "processing ran before the stop; stderr: {err}");
}
