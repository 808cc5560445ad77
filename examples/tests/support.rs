//! What the real-store tests share: wiremock stand-ins for Shopify's Admin GraphQL API and
//! Twilio's Messages API (payloads from the adapters' fixtures: `adapters/shopify/tests/fixtures`,
//! and twilio-node's "create message" fixture as in `adapters/twilio/tests/send.rs`), the
//! spawned binary, and bounded waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The Admin API path of the configured version.
pub const GQL: &str = "/admin/api/2026-10/graphql.json";
/// The Twilio account of the configs.
pub const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The Shopify app's client secret (webhook signing key) of the configs.
pub const CLIENT_SECRET: &str = "shpss_test_client_secret";
/// How long any wait may last before the test fails (never reached when things work).
pub const BOUND: Duration = Duration::from_secs(60);

/// A Shopify fixture of the adapter's tests.
pub fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/shopify/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// GraphQL `extensions.cost` with plenty of budget left.
pub fn cost() -> Value {
    json!({"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}})
}

/// Twilio's 201 answer to a message create (twilio-node's fixture, as in the adapter's tests).
pub fn twilio_created(to: &str) -> Value {
    json!({
        "account_sid": ACCOUNT, "api_version": "2010-04-01", "body": "x",
        "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "direction": "outbound-api",
        "error_code": null, "error_message": null, "from": "+14155552345",
        "num_segments": "1", "sid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "status": "queued",
        "to": to
    })
}

/// The `[shopify]`, `[storage]`, `[server]` and `[twilio]` sections every real-store config
/// shares: the mocks' URLs, an SQLite file, SMS from the test number; `shopify_extra` is added
/// to `[shopify]`. Tests append their own `[tracking]`, `[survey]`... sections.
pub fn base_config(shopify: &str, twilio: &str, db: &Path, shopify_extra: &str) -> String {
    format!(
        r#"[shopify]
shop = "demo.myshopify.com"
shop_name = "Demo Coffee"
api_version = "2026-10"
access_token = {{ value = "shpat_test_token" }}
client_secrets = [{{ value = "{CLIENT_SECRET}" }}]
tracking_link_key = {{ value = "test-link-key" }}
api_base_url = "{shopify}"
{shopify_extra}

[storage]
sqlite = {{ path = "{db}" }}

[server]
bind = "127.0.0.1:0"
public_url = "https://shop.example/aftercare"

[twilio]
account_sid = "{ACCOUNT}"
auth_token = {{ value = "twilio_auth_token" }}
from = "+14155552345"
channels = ["sms"]
api_base_url = "{twilio}"
"#,
        db = db.display()
    )
}

/// Kills the child when the test ends, however it ends.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The order fixture, under the id asked for.
pub struct OrderById(pub Value);

impl Respond for OrderById {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let mut order = self.0.clone();
        order["data"]["order"]["id"] = body["variables"]["id"].clone();
        ResponseTemplate::new(200).set_body_json(order)
    }
}

/// Shopify answering the order and customer queries from the fixtures.
pub async fn shopify_mock() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("query AftercareOrder("))
        .respond_with(OrderById(fixture("gql_order.json")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("query AftercareCustomer("))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("gql_customer.json")))
        .mount(&server)
        .await;
    server
}

/// Twilio accepting every message create (to `to`).
pub async fn twilio_mock(to: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        )))
        .respond_with(ResponseTemplate::new(201).set_body_json(twilio_created(to)))
        .mount(&server)
        .await;
    server
}

/// Starts `{bin} run --config {cfg}`; returns the child, the address it listens on and the
/// line announcing it.
pub fn spawn_run(bin: &str, cfg: &Path) -> (KillOnDrop, String, String) {
    let mut child = Command::new(bin)
        .args(["run", "--config"])
        .arg(cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let line = rx
        .recv_timeout(BOUND)
        .expect("the server announces its address");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    (child, addr, line)
}

/// Polls `f` every 100 ms until it holds; fails the test after [`BOUND`].
pub async fn wait_until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < BOUND, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the ledger of `order_id` records a send. The dispatcher records it once the
/// provider has answered: after a provider mock has seen the request, and possibly after
/// the inbox entry is done.
pub async fn wait_send_recorded(store: &aftercare_sqlite::SqliteStore, order_id: &str) {
    use aftercare::store::Ledger;
    let order = aftercare::model::OrderId::new(order_id);
    wait_until("the send recorded in the ledger", || async {
        store
            .ledger_for_order(&order)
            .await
            .unwrap()
            .iter()
            .any(|r| r.decision.as_str() == "sent")
    })
    .await;
}

/// Posts `payload` to the stack at `addr` as Shopify would: signed with the configs' client
/// secret, for topic `topic` and delivery id `webhook_id`; the stack must accept it.
pub async fn post_shopify(
    http: &reqwest::Client,
    addr: &str,
    topic: &str,
    webhook_id: &str,
    payload: &Value,
) {
    let body = serde_json::to_vec(payload).unwrap();
    let headers =
        aftercare_shopify::ShopifyWebhooks::new(aftercare::webhook::Secret::from(CLIENT_SECRET))
            .sign_for_test(topic, "demo.myshopify.com", webhook_id, &body);
    let mut req = http
        .post(format!("http://{addr}/webhooks/shopify"))
        .body(body);
    for (k, v) in headers.iter() {
        req = req.header(k, v);
    }
    let status = req.send().await.unwrap().status();
    assert!(status.is_success(), "{status}");
}

/// Posts a Twilio form (an inbound message or a status callback) to the stack at `addr`,
/// signed with the configs' Auth Token for the public webhook URL; the stack must accept it.
pub async fn post_twilio(http: &reqwest::Client, addr: &str, form: &str) {
    let signer = aftercare_twilio::webhook::TwilioWebhook::new(
        "twilio_auth_token",
        "https://shop.example/aftercare/webhooks/twilio",
    );
    let r = http
        .post(format!("http://{addr}/webhooks/twilio"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signer.sign(form.as_bytes()))
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

/// Waits until the outbox message under `key` is sent.
pub async fn wait_sent(store: &aftercare_sqlite::SqliteStore, key: &str, what: &str) {
    use aftercare::store::{Outbox, OutboxStatus};
    wait_until(what, || async {
        store
            .outbox_by_key(key)
            .await
            .ok()
            .flatten()
            .is_some_and(|e| e.status == OutboxStatus::Sent)
    })
    .await;
}

/// Waits until the stack has processed every webhook it acknowledged.
pub async fn wait_inbox_processed(store: &aftercare_sqlite::SqliteStore) {
    wait_until("the inbox to be processed", || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM inbox WHERE status = 'pending'")
            .fetch_one(store.pool())
            .await
            .is_ok_and(|n| n == 0)
    })
    .await;
}
