//! `run --config` with `[shop] platform = "woocommerce"`: the binary, spawned with a
//! temporary config and SQLite file, takes WooCommerce's webhooks at `/webhooks/woocommerce`
//! (signed with the configured webhook secret, from the configured site; others refused),
//! reads the order from the WooCommerce REST API (wiremock shaped as the adapter's fixtures,
//! `adapters/woocommerce/tests/fixtures/README.md` names each documentation page), sends the
//! "shipped" SMS through Twilio, and polls for missed orders (catch-up, on by default).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use aftercare::webhook::Secret;
use aftercare_sqlite::SqliteStore;
use aftercare_woocommerce::WooWebhooks;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{ACCOUNT, twilio_mock, wait_inbox_processed, wait_send_recorded, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_tracking-links");
/// The site of the documentation's examples (the fixtures' `_links`).
const SITE: &str = "https://example.com/";
const WEBHOOK_SECRET: &str = "woo_webhook_secret";

fn woo_fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/woocommerce/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Order 723 ("List all orders", with the Shipment Tracking meta), its billing phone in
/// E.164 so the SMS can go out.
fn order_723() -> Value {
    let mut order = woo_fixture("order_updated_tracking.json");
    order["billing"]["phone"] = json!("+5521987654321");
    order
}

/// The WooCommerce REST API: order 723, its customer (the "Retrieve a customer" example as
/// customer 26), its tracking items, and an empty order list for the catch-up poller.
async fn woo_mock() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/orders"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-WP-Total", "0")
                .insert_header("X-WP-TotalPages", "0")
                .set_body_json(json!([])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/orders/723"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_723()))
        .mount(&server)
        .await;
    let mut customer = woo_fixture("customer_updated.json");
    customer["id"] = json!(26);
    customer["billing"]["phone"] = json!("+5521987654321");
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/customers/26"))
        .respond_with(ResponseTemplate::new(200).set_body_json(customer))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/wp-json/wc-shipment-tracking/v3/orders/723/shipment-trackings",
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(woo_fixture("tracking_items_723.json")),
        )
        .mount(&server)
        .await;
    server
}

fn config(woo: &str, twilio: &str, db: &Path) -> String {
    format!(
        r#"[shop]
platform = "woocommerce"

[woocommerce]
site = "{SITE}"
shop_name = "Demo Coffee"
consumer_key = {{ value = "ck_test" }}
consumer_secret = {{ value = "cs_test" }}
webhook_secrets = [{{ value = "{WEBHOOK_SECRET}" }}]
tracking_link_key = {{ value = "test-link-key" }}
api_base_url = "{woo}/"

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

[tracking]
# These tests check what is sent, at any hour; quiet hours are on unless turned off.
quiet_hours = {{ off = true }}
channels = ["sms"]
"#,
        db = db.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woocommerce_shop_takes_its_signed_webhooks_and_sends_the_shipped_sms() {
    let woo = woo_mock().await;
    let twilio = twilio_mock("+5521987654321").await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(&cfg, config(&woo.uri(), &twilio.uri(), &db)).unwrap();
    let (_child, addr, line) = crate::support::spawn_run(BIN, &cfg);
    assert!(
        line.contains("(woocommerce)") && line.contains("webhooks at /webhooks/woocommerce"),
        "{line}"
    );

    let body = serde_json::to_vec(&order_723()).unwrap();
    let http = reqwest::Client::new();
    let post = |signer: WooWebhooks, source: &'static str| {
        let headers = signer.sign_as("order.updated", source, "42", &body);
        let mut req = http
            .post(format!("http://{addr}/webhooks/woocommerce"))
            .body(body.clone());
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        async move { req.send().await.unwrap().status() }
    };
    // Signed with another secret, or from another site: refused.
    let forged = WooWebhooks::new(SITE, Secret::from("not the secret")).unwrap();
    assert!(post(forged, SITE).await.is_client_error());
    let ours = || WooWebhooks::new(SITE, Secret::from(WEBHOOK_SECRET)).unwrap();
    assert!(
        post(ours(), "https://other.example/")
            .await
            .is_client_error()
    );
    // Signed as WooCommerce signs it, from the configured site: accepted.
    let status = post(ours(), SITE).await;
    assert!(status.is_success(), "{status}");

    let store = SqliteStore::open(&db).await.unwrap();
    wait_inbox_processed(&store).await;
    wait_until("the shipped SMS", || async {
        twilio
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .any(|r| {
                // In Portuguese (the order's WPML language), naming the carrier and number.
                let b = String::from_utf8_lossy(&r.body);
                b.contains("To=%2B5521987654321")
                    && b.contains("Correios")
                    && b.contains("AA123456789BR")
                    && b.contains("Boa+not%C3%ADcia")
            })
    })
    .await;
    wait_send_recorded(&store, "723").await;
    // Catch-up polling is on by default: the poller has listed the site's orders.
    wait_until("the catch-up poll", || async {
        woo.received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .any(|r| r.url.path() == "/wp-json/wc/v3/orders")
    })
    .await;
    store.close().await;
}
