//! The real-store mode against wiremock standing in for Shopify's Admin GraphQL API and
//! Twilio's Messages API (payloads from the adapters' fixtures, `adapters/shopify/tests/fixtures`
//! and `adapters/twilio/tests/send.rs`):
//!
//! - `run --config`: the binary, spawned with a temporary config and SQLite file, receives a
//!   signed `fulfillments/create` webhook over real HTTP (twice: a redelivery) and sends one
//!   SMS through Twilio with the tracking link.
//! - `backfill`: orders served over several pages; a dry run lists what would be sent and
//!   sends nothing; `--send` enqueues each once, and a second `--send` adds nothing; the
//!   same on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// A private PostgreSQL server and a fresh database per test (the adapter's own test support).
use crate::pg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aftercare::store::{Ledger, Outbox, OutboxStatus};
use aftercare::webhook::Secret;
use aftercare_shopify::ShopifyWebhooks;
use aftercare_sqlite::SqliteStore;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::{
    ACCOUNT, BOUND, CLIENT_SECRET, GQL, KillOnDrop, base_config, cost, fixture, post_shopify,
    post_twilio, shopify_mock, wait_inbox_processed, wait_until,
};

const BIN: &str = env!("CARGO_BIN_EXE_tracking-links");

async fn twilio_mock() -> wiremock::MockServer {
    crate::support::twilio_mock("+905321234567").await
}

fn config(shopify: &str, twilio: &str, db: &Path) -> String {
    config_with(shopify, twilio, db, "")
}

fn config_with(shopify: &str, twilio: &str, db: &Path, shopify_extra: &str) -> String {
    base_config(shopify, twilio, db, shopify_extra)
        + "\n[tracking]\nchannels = [\"sms\"]\nquiet_hours = { off = true }\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_fulfillment_webhook_sends_one_sms_with_the_tracking_link() {
    let shopify = shopify_mock().await;
    let twilio = twilio_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(&cfg, config(&shopify.uri(), &twilio.uri(), &db)).unwrap();

    let (child, addr) = spawn_run(&cfg);

    // A carrier-scanned fulfillment, as Shopify sends it (fixture with a carrier status).
    let mut payload = fixture("fulfillments_create.json");
    payload["shipment_status"] = json!("in_transit");
    let body = serde_json::to_vec(&payload).unwrap();
    let signer = ShopifyWebhooks::new(Secret::from(CLIENT_SECRET));
    let headers = signer.sign_for_test(
        "fulfillments/create",
        "demo.myshopify.com",
        "b54557e4-0001",
        &body,
    );
    let http = reqwest::Client::new();
    let post = || {
        let mut req = http
            .post(format!("http://{addr}/webhooks/shopify"))
            .body(body.clone());
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        req.send()
    };
    assert!(post().await.unwrap().status().is_success());
    // Shopify redelivers the same webhook: acknowledged, not acted on twice.
    assert!(post().await.unwrap().status().is_success());
    // A forged one is refused.
    let forged = http
        .post(format!("http://{addr}/webhooks/shopify"))
        .header("X-Shopify-Topic", "fulfillments/create")
        .header("X-Shopify-Hmac-Sha256", "bm90IGEgc2lnbmF0dXJl")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    // Wait for the dispatcher to record the send.
    let store = SqliteStore::open(&db).await.unwrap();
    wait_until("the message to be sent", || async {
        store
            .outbox_in(OutboxStatus::Sent, 10)
            .await
            .is_ok_and(|v| !v.is_empty())
    })
    .await;

    // Twilio reports the delivery to the StatusCallback URL it was given, signed with the
    // Auth Token; shaped as Twilio documents the callback ("Track the Message Status of
    // Outbound Messages": MessageSid, MessageStatus, SmsSid, SmsStatus, AccountSid, From,
    // To, ApiVersion). Sent twice (Twilio retries), and one for a message we never sent.
    let signer = aftercare_twilio::webhook::TwilioWebhook::new(
        "twilio_auth_token",
        "https://shop.example/aftercare/webhooks/twilio",
    );
    let callback = |sid: &str, status: &str| {
        format!(
            "AccountSid={ACCOUNT}&ApiVersion=2010-04-01&From=%2B14155552345&MessageSid={sid}&MessageStatus={status}&SmsSid={sid}&SmsStatus={status}&To=%2B905321234567"
        )
    };
    for form in [
        callback("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sent"),
        callback("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "delivered"),
        callback("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "delivered"),
        callback("SMcccccccccccccccccccccccccccccccc", "undelivered"),
    ] {
        let r = http
            .post(format!("http://{addr}/webhooks/twilio"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signer.sign(form.as_bytes()))
            .body(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    // A validly signed callback of another Twilio account is refused: the stack checks the
    // configured `account_sid`.
    let foreign = callback("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "read")
        .replace(ACCOUNT, "ACffffffffffffffffffffffffffffffff");
    let r = http
        .post(format!("http://{addr}/webhooks/twilio"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", signer.sign(foreign.as_bytes()))
        .body(foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let key = "tracking:820982911946154508:123456:shipped:sms";
    wait_until("the delivery report in the ledger", || async {
        store.ledger_for_key(key).await.is_ok_and(|rows| {
            rows.iter()
                .any(|r| r.decision == aftercare::store::Decision::Delivered)
        })
    })
    .await;
    // Let the processor finish the rest of the inbox before stopping.
    wait_inbox_processed(&store).await;
    drop(child);
    let rows = store.ledger_for_key(key).await.unwrap();
    let delivered: Vec<_> = rows
        .iter()
        .filter(|r| r.decision == aftercare::store::Decision::Delivered)
        .collect();
    assert_eq!(
        delivered.len(),
        1,
        "one delivery row however often Twilio reports it: {rows:?}"
    );
    assert_eq!(delivered[0].reason, "the provider reports it delivered");
    assert!(
        !rows
            .iter()
            .any(|r| r.decision == aftercare::store::Decision::Undelivered),
        "a report about another message changes nothing here"
    );

    let sent = store.outbox_in(OutboxStatus::Sent, 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].key,
        "tracking:820982911946154508:123456:shipped:sms"
    );
    let calls = twilio.received_requests().await.unwrap();
    assert_eq!(calls.len(), 1, "one Twilio API call");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&calls[0].body)
        .into_owned()
        .collect();
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // The customer's phone (from the customer record), from the configured number.
    assert_eq!(field("To"), "+905321234567");
    assert_eq!(
        field("StatusCallback"),
        "https://shop.example/aftercare/webhooks/twilio",
        "delivery reports come back to the webhook route"
    );
    assert_eq!(field("From"), "+14155552345");
    // The tracking link: the shop's own tracking page (which shows the carrier URL Shopify
    // gave), as a short link: 16 characters after `/t/`.
    let body = field("Body");
    let link = body
        .lines()
        .find(|l| l.starts_with("https://shop.example/aftercare/t/"))
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(
        link.len(),
        "https://shop.example/aftercare/t/".len() + 16,
        "{body}"
    );
    assert!(!body.contains("ups.com"), "{body}");
    store.close().await;
}

/// Serves `total` orders in pages following `after` cursors; the order at index 3 is
/// cancelled.
struct OrderPages {
    total: usize,
    calls: AtomicUsize,
}

const FIRST_ORDER: u64 = 5_000_000_000;

impl Respond for OrderPages {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let v = &body["variables"];
        let first = v["first"].as_u64().unwrap() as usize;
        let start = v["after"]
            .as_str()
            .map(|c| c.trim_start_matches("cursor-").parse::<usize>().unwrap())
            .unwrap_or(0);
        let end = (start + first).min(self.total);
        let nodes: Vec<Value> = (start..end)
            .map(|i| {
                json!({
                    "id": format!("gid://shopify/Order/{}", FIRST_ORDER + i as u64),
                    "name": format!("#{}", 1001 + i),
                    "email": "jon@example.com",
                    "phone": null,
                    "customerLocale": "en",
                    "createdAt": "2026-03-01T10:00:00Z",
                    "updatedAt": "2026-03-02T10:00:00Z",
                    "cancelledAt": if i == 3 { json!("2026-03-02T11:00:00Z") } else { Value::Null },
                    "tags": [],
                    "customer": {"id": "gid://shopify/Customer/115310627314723954"},
                    "lineItems": {"nodes": []}
                })
            })
            .collect();
        let more = end < self.total;
        ResponseTemplate::new(200).set_body_json(json!({
            "data": {"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": more,
                "endCursor": if more { Some(format!("cursor-{end}")) } else { None }}}},
            "extensions": cost()
        }))
    }
}

/// Each order has one fulfillment in transit and one only confirmed (no message); the
/// cancelled order's are not even read.
struct Shipments;

impl Respond for Shipments {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let id = body["variables"]["id"].as_str().unwrap().to_owned();
        let n = id.rsplit('/').next().unwrap().to_owned();
        ResponseTemplate::new(200).set_body_json(json!({
            "data": {"order": {"id": id, "fulfillments": [
                {"id": format!("gid://shopify/Fulfillment/{n}1"), "status": "SUCCESS",
                 "displayStatus": "IN_TRANSIT", "createdAt": "2026-03-02T09:00:00Z",
                 "updatedAt": "2026-03-02T10:00:00Z", "estimatedDeliveryAt": null,
                 "trackingInfo": [{"company": "UPS", "number": format!("1Z{n}"), "url": null}],
                 "events": {"nodes": []}, "fulfillmentLineItems": {"nodes": []}},
                {"id": format!("gid://shopify/Fulfillment/{n}2"), "status": "SUCCESS",
                 "displayStatus": "FULFILLED", "createdAt": "2026-03-02T09:00:00Z",
                 "updatedAt": "2026-03-02T10:00:00Z", "estimatedDeliveryAt": null,
                 "trackingInfo": [], "events": {"nodes": []}, "fulfillmentLineItems": {"nodes": []}}
            ]}},
            "extensions": cost()
        }))
    }
}

fn backfill(cfg: &PathBuf, extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["backfill", "--since", "2026-03-01", "--config"])
        .arg(cfg)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_lists_then_enqueues_shipments_in_flight_once() {
    let shopify = shopify_mock().await;
    let pages = Arc::new(OrderPages {
        total: 12,
        calls: AtomicUsize::new(0),
    });
    struct Shared(Arc<OrderPages>);
    impl Respond for Shared {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            self.0.respond(req)
        }
    }
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("query AftercareOrders("))
        .and(body_string_contains("updated_at:>='2026-03-01T00:00:00Z'"))
        .respond_with(Shared(pages.clone()))
        .mount(&shopify)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("query AftercareShipments("))
        .respond_with(Shipments)
        .mount(&shopify)
        .await;
    let twilio = twilio_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(
        &cfg,
        config_with(&shopify.uri(), &twilio.uri(), &db, "page_size = 5"),
    )
    .unwrap();

    // Dry run (the default): lists, sends and enqueues nothing.
    let (ok, out, err) = backfill(&cfg, &[]);
    assert!(ok, "{err}");
    // Output is not a terminal: no progress bar.
    assert!(
        !err.contains("to send") && !out.contains("to send"),
        "{err}"
    );
    assert_eq!(pages.calls.load(Ordering::SeqCst), 3, "three pages of 5");
    let listed: Vec<&str> = out.lines().filter(|l| l.contains(" shipped ")).collect();
    assert_eq!(
        listed.len(),
        11,
        "every order but the cancelled one:\n{out}"
    );
    assert!(
        listed[0].contains("#1001  shipment 50000000001  shipped  sms  +905••••••567"),
        "{}",
        listed[0]
    );
    assert!(!out.contains("#1004 "), "the cancelled order is left out");
    assert!(!out.contains("+905321234567"), "recipients are masked");
    assert!(
        out.contains(
            "12 orders, 22 shipments, 11 at an enabled milestone, 0 unreachable, 0 already"
        ),
        "{out}"
    );
    let store = SqliteStore::open(&db).await.unwrap();
    assert!(
        store
            .outbox_in(OutboxStatus::Pending, 1000)
            .await
            .unwrap()
            .is_empty()
    );
    store.close().await;

    // --send: each shipment through the tracking flow, once.
    let (ok, out, err) = backfill(&cfg, &["--send"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().filter(|l| l.ends_with("enqueued")).count(), 11);
    let store = SqliteStore::open(&db).await.unwrap();
    let pending = store.outbox_in(OutboxStatus::Pending, 1000).await.unwrap();
    assert_eq!(pending.len(), 11);
    assert!(pending.iter().all(|m| m.message.to == "+905321234567"));
    store.close().await;

    // A dry run now sees them in the outbox.
    let (ok, out, err) = backfill(&cfg, &["--dry-run"]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines()
            .filter(|l| l.ends_with("+905••••••567  (already pending)"))
            .count(),
        11,
        "{out}"
    );
    assert!(
        out.contains("0 unreachable, 11 already in the outbox"),
        "{out}"
    );

    // Again: nothing new.
    let (ok, _, err) = backfill(&cfg, &["--send"]);
    assert!(ok, "{err}");
    let store = SqliteStore::open(&db).await.unwrap();
    assert_eq!(
        store
            .outbox_in(OutboxStatus::Pending, 1000)
            .await
            .unwrap()
            .len(),
        11
    );
    store.close().await;
    // Backfill never sends by itself.
    assert!(twilio.received_requests().await.unwrap().is_empty());
}

/// Starts `run --config` and returns the child and the address it listens on.
fn spawn_run(cfg: &Path) -> (KillOnDrop, String) {
    let (child, addr, _) = crate::support::spawn_run(BIN, cfg);
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_channel_configured_serves_whatsapp_webhooks_and_tracking_pages() {
    let shopify = shopify_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    let text = format!(
        r#"{}
[whatsapp_cloud]
phone_number_id = "106540352242922"
access_token = {{ value = "EAAG-token" }}
app_secret = {{ value = "meta-app-secret" }}
verify_token = {{ value = "verify-me" }}
api_base_url = "http://127.0.0.1:9"

[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "Demo Coffee <orders@shop.example>"

[rate_limits]
email_per_second = 2.0
"#,
        config(&shopify.uri(), "http://127.0.0.1:9", &db).replace(
            "[tracking]\nchannels = [\"sms\"]",
            "[tracking]\nchannels = [\"whatsapp\", \"sms\", \"email\"]"
        )
    );
    std::fs::write(&cfg, &text).unwrap();
    let (child, addr) = spawn_run(&cfg);
    let http = reqwest::Client::new();

    // Meta's verification handshake, then a signed status webhook, on the same path.
    let r = http
        .get(format!(
            "http://{addr}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = http
        .get(format!(
            "http://{addr}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let status = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
            "statuses": [{"id": "wamid.A", "status": "delivered", "timestamp": "1750263774", "recipient_id": "16505551234"}]
        }}]}]
    }))
    .unwrap();
    let signer = aftercare_whatsapp_cloud::webhook::WhatsAppCloudWebhook::new(Secret::from(
        "meta-app-secret",
    ));
    let mut req = http
        .post(format!("http://{addr}/webhooks/whatsapp"))
        .body(status.clone());
    for (k, v) in signer.sign(&status).iter() {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status().as_u16(), 200);
    let unsigned = http
        .post(format!("http://{addr}/webhooks/whatsapp"))
        .header("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64)))
        .body(status.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    // A validly signed body for another phone number of the app is refused: the stack checks
    // the configured `phone_number_id`.
    let foreign = String::from_utf8(status.clone())
        .unwrap()
        .replace("106540352242922", "199999999999999")
        .into_bytes();
    let mut req = http
        .post(format!("http://{addr}/webhooks/whatsapp"))
        .body(foreign.clone());
    for (k, v) in signer.sign(&foreign).iter() {
        req = req.header(k, v);
    }
    assert_eq!(req.send().await.unwrap().status().as_u16(), 403);

    // A tracking page with a forged token is refused, not served.
    let r = http
        .get(format!("http://{addr}/t/not-a-token"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());

    // Ctrl-C (SIGINT) stops it cleanly: loops end, the server drains, exit code 0.
    let mut child = child;
    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < BOUND, "gave up waiting for the exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_reply_opts_the_customer_out_of_tracking_messages() {
    use aftercare::model::{ChannelKind, ConsentState, OrderId, Purpose};
    use aftercare::store::{ConsentStore, Decision, Ledger};

    let shopify = shopify_mock().await;
    let twilio = twilio_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(&cfg, config(&shopify.uri(), &twilio.uri(), &db)).unwrap();
    let (_child, addr) = spawn_run(&cfg);
    let http = reqwest::Client::new();

    // The customer texts STOP: Twilio posts it, signed for the public URL.
    let form = format!(
        "MessageSid=SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&AccountSid={ACCOUNT}&From=%2B905321234567&To=%2B14155552345&Body=STOP"
    );
    post_twilio(&http, &addr, &form).await;
    let forged = http
        .post(format!("http://{addr}/webhooks/twilio"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    let store = SqliteStore::open(&db).await.unwrap();
    wait_until("the opt-out to be recorded", || async {
        store
            .consent(ChannelKind::Sms, "+905321234567", Purpose::Transactional)
            .await
            .ok()
            .flatten()
            .is_some_and(|c| c.state == ConsentState::Denied)
    })
    .await;

    // Then the parcel ships: no tracking SMS, and the ledger says why.
    let mut payload = fixture("fulfillments_create.json");
    payload["shipment_status"] = json!("in_transit");
    post_shopify(
        &http,
        &addr,
        "fulfillments/create",
        "b54557e4-0002",
        &payload,
    )
    .await;
    let order = OrderId::new("820982911946154508");
    wait_until("the tracking flow's decision", || async {
        store
            .ledger_for_order(&order)
            .await
            .is_ok_and(|rows| rows.iter().any(|r| r.decision == Decision::Skipped))
    })
    .await;
    let rows = store.ledger_for_order(&order).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.decision == Decision::Skipped
                && r.reason.contains("sms: the customer opted out")),
        "{rows:?}"
    );
    assert!(
        store
            .outbox_by_key("tracking:820982911946154508:123456:shipped:sms")
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_on_postgres_enqueues_once() {
    let shopify = shopify_mock().await;
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("query AftercareOrders("))
        .respond_with(OrderPages {
            total: 12,
            calls: AtomicUsize::new(0),
        })
        .mount(&shopify)
        .await;
    Mock::given(method("POST"))
        .and(path(GQL))
        .and(body_string_contains("query AftercareShipments("))
        .respond_with(Shipments)
        .mount(&shopify)
        .await;
    let opts = pg::fresh_database().await;
    let url = format!(
        "postgres://{}@localhost:{}/{}?host={}",
        opts.get_username(),
        opts.get_port(),
        opts.get_database().unwrap(),
        opts.get_socket().unwrap().display()
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    let cfg = dir.path().join("shop.toml");
    let text = config_with(&shopify.uri(), "http://127.0.0.1:9", &db, "page_size = 5").replace(
        &format!("sqlite = {{ path = \"{}\" }}", db.display()),
        &format!("postgres = {{ url = {{ value = \"{url}\" }} }}"),
    );
    assert!(text.contains("postgres = "));
    std::fs::write(&cfg, text).unwrap();
    for _ in 0..2 {
        let (ok, out, err) = backfill(&cfg, &["--send"]);
        assert!(ok, "{err}");
        assert_eq!(out.lines().filter(|l| l.ends_with("enqueued")).count(), 11);
    }
    assert!(!db.exists(), "SQLite was not used");
    let store = aftercare_postgres::PostgresStore::connect_with(
        sqlx::postgres::PgPoolOptions::new().max_connections(2),
        opts,
    )
    .await
    .unwrap();
    let pending = store.outbox_in(OutboxStatus::Pending, 1000).await.unwrap();
    assert_eq!(pending.len(), 11);
    store.close().await;
}
