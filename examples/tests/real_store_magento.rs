//! `run --config` with `[shop] platform = "magento"`: the binary, spawned with a temporary
//! config and SQLite file, finds a shipped order by catch-up polling (Magento's main
//! source) from the Magento REST API (wiremock shaped as the adapter's fixtures,
//! `adapters/magento/tests/fixtures/README.md` names each documentation page), sends the
//! "shipped" SMS through Twilio in the store view's language, and takes Adobe Commerce
//! webhooks at `/webhooks/magento` (signed with the configured public key's pair; others
//! refused), without sending the same message twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use aftercare::store::Ledger;
use aftercare_magento::{CommerceWebhooks, TestSigner};
use aftercare_sqlite::SqliteStore;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{ACCOUNT, twilio_mock, wait_inbox_processed, wait_send_recorded, wait_until};

const BIN: &str = env!("CARGO_BIN_EXE_tracking-links");
const PHONE: &str = "+34612345678";

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/magento/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Order 42 (store view 2, `es_ES`), its billing phone in E.164 so the SMS can go out.
fn order_42() -> Value {
    let mut o = fixture("order.json");
    o["billing_address"]["telephone"] = json!(PHONE);
    o
}

/// The REST API with a bearer token: the order list (order 42, whatever the filter), the
/// order, its shipment with the UPS track, the customer and the store views.
async fn magento_mock() -> MockServer {
    let server = MockServer::start().await;
    let get = |p: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path(p.to_owned()))
            .and(header("authorization", "Bearer magento-admin-token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    let mut customer = fixture("customer_3.json");
    customer["addresses"][0]["telephone"] = json!(PHONE);
    for m in [
        get(
            "/rest/V1/orders",
            json!({ "items": [order_42()], "search_criteria": {}, "total_count": 1 }),
        ),
        get("/rest/V1/orders/42", order_42()),
        get("/rest/V1/shipments", fixture("shipments_42.json")),
        get("/rest/V1/customers/3", customer),
        get("/rest/V1/store/storeConfigs", fixture("store_configs.json")),
    ] {
        m.mount(&server).await;
    }
    server
}

fn config(magento: &str, twilio: &str, db: &Path, public_key: &str) -> String {
    format!(
        r#"[shop]
platform = "magento"

[magento]
base_url = "https://shop.example/"
shop_name = "Demo Coffee"
bearer_token = {{ value = "magento-admin-token" }}
webhook_public_keys = ["""
{public_key}"""]
tracking_link_key = {{ value = "test-link-key" }}
api_base_url = "{magento}/"

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
async fn a_magento_store_is_polled_and_its_signed_webhooks_send_nothing_twice() {
    let store_key = TestSigner::generate(1024).unwrap();
    let magento = magento_mock().await;
    let twilio = twilio_mock(PHONE).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("aftercare.db");
    let cfg = dir.path().join("shop.toml");
    std::fs::write(
        &cfg,
        config(&magento.uri(), &twilio.uri(), &db, store_key.public_pem()),
    )
    .unwrap();
    let (_child, addr, line) = crate::support::spawn_run(BIN, &cfg);
    assert!(
        line.contains("(magento)") && line.contains("webhooks at /webhooks/magento"),
        "{line}"
    );

    // Catch-up polling finds the shipped order: one SMS, in Spanish, naming the number.
    let sms = || async {
        twilio
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| {
                let b = String::from_utf8_lossy(&r.body);
                b.contains("To=%2B34612345678")
                    && b.contains("1Z5R89390357567127")
                    && b.contains("Buenas+noticias")
            })
            .count()
    };
    wait_until("the shipped SMS", || async { sms().await == 1 }).await;

    // Adobe Commerce calls the track hook: a forged or another instance's call is refused,
    // the store's own is answered as Commerce expects, and sends nothing new.
    let body = serde_json::to_vec(&fixture("webhook_track_save_after.json")).unwrap();
    let http = reqwest::Client::new();
    let post = |key: TestSigner| {
        let headers = CommerceWebhooks::sign_with(&key, &body);
        let mut req = http
            .post(format!("http://{addr}/webhooks/magento"))
            .body(body.clone());
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        }
    };
    assert_eq!(post(TestSigner::generate(1024).unwrap()).await.0, 401);
    assert_eq!(
        post(store_key).await,
        (200, r#"{"op":"success"}"#.to_owned())
    );
    let store = SqliteStore::open(&db).await.unwrap();
    wait_inbox_processed(&store).await;
    wait_send_recorded(&store, "42").await;
    let rows = store
        .ledger_for_order(&aftercare::model::OrderId::new("42"))
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.decision.as_str() == "sent")
            .count(),
        1,
        "{rows:?}"
    );
    assert_eq!(sms().await, 1);
    store.close().await;
}
