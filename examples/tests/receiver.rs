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

#[allow(clippy::unwrap_used, clippy::expect_used)]
#[tokio::test]
async fn receives_shopify_with_a_config_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(&cfg, config(&db)).unwrap();
    let stderr = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_receiver"))
        .args(["--quiet", "--bind", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
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
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(BODY);
    let tag = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let resp = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("X-Shopify-Hmac-Sha256", tag)
        .header("X-Shopify-Topic", "orders/fulfilled")
        .header("X-Shopify-Shop-Domain", "receiver-test.myshopify.com")
        .header("X-Shopify-API-Version", "2025-07")
        .header(
            "X-Shopify-Webhook-Id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        )
        .body(BODY)
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

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let until = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < until,
            "the receiver did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert!(status.success(), "exit {status:?}; stderr: {err}");
    assert!(!err.contains("processing failed"), "{err}");
}
