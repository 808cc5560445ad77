//! The store-plugin deployment with Nuvemshop stores (`[nuvemshop]`), over real HTTP: two
//! stores install through `/nuvemshop/auth` (each code exchanged, the store the answer names
//! recorded, its webhooks made with its own token to its own route), an expired code records
//! nothing, a fulfilled order of each becomes an SMS to its own customer, a webhook of one
//! store is refused on the other's route, and a store's signed `app/uninstalled` stops it
//! while the other goes on.
//!
//! Wiremock plays Nuvemshop and Twilio, shaped as their docs show: the token endpoint and
//! `/{store_id}/webhooks` as `adapters/nuvemshop/tests/install.rs` names them
//! ("Authentication", `resources/webhook.md`); the order and webhook bodies as the adapter's
//! fixtures (`adapters/nuvemshop/tests/fixtures/README.md` names their pages); Twilio's
//! Message create answer as in `plugin_e2e.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use std::time::{Duration, Instant};

use crate::plugin_support::{self, Twilio};
use aftercare::model::ShopId;
use aftercare::tenancy::ShopStatus;
use aftercare::webhook::Secret;
use aftercare_examples::plugin::{Plugin, PluginConfig, check};
use aftercare_nuvemshop::NuvemshopWebhooks;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const APP_ID: &str = "4815";
const SECRET: &str = "nuvem-app-secret";
const STORE_A: &str = "1001";
const STORE_B: &str = "2002";
const ORDER: u64 = 450789470;
const BOUND: Duration = Duration::from_secs(60);

fn token_of(store: &str) -> String {
    format!("token-of-{store}")
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/nuvemshop/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

struct StandIns {
    nuvem: MockServer,
    twilio: MockServer,
    sms: Twilio,
}

async fn stand_ins() -> StandIns {
    let nuvem = MockServer::start().await;
    for (store, code, phone) in [
        (STORE_A, "code-a", "+14155550101"),
        (STORE_B, "code-b", "+14155550102"),
    ] {
        Mock::given(method("POST"))
            .and(path("/apps/authorize/token"))
            .and(body_json(json!({
                "client_id": APP_ID, "client_secret": SECRET,
                "grant_type": "authorization_code", "code": code
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token_of(store), "token_type": "bearer",
                "scope": "read_orders,read_customers", "user_id": store
            })))
            .mount(&nuvem)
            .await;
        let bearer = format!("bearer {}", token_of(store));
        Mock::given(method("GET"))
            .and(path(format!("/{store}/webhooks")))
            .and(header("authentication", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .mount(&nuvem)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/{store}/webhooks")))
            .and(header("authentication", bearer.as_str()))
            .respond_with(|req: &Request| {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                ResponseTemplate::new(201).set_body_json(json!({
                    "id": 101, "event": body["event"], "url": body["url"],
                    "created_at": "2026-03-01T12:00:00+0000", "updated_at": "2026-03-01T12:00:00+0000"
                }))
            })
            .mount(&nuvem)
            .await;
        let mut order = fixture("api_order_fulfilled.json");
        order["store_id"] = json!(store.parse::<u64>().unwrap());
        order["billing_phone"] = json!(phone);
        order["customer"]["phone"] = json!(phone);
        let now = chrono::Utc::now().to_rfc3339();
        order["updated_at"] = json!(now);
        Mock::given(method("GET"))
            .and(path(format!("/{store}/orders/{ORDER}")))
            .and(header("authentication", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(order.clone()))
            .mount(&nuvem)
            .await;
        let mut customer = order["customer"].clone();
        customer["phone"] = json!(phone);
        Mock::given(method("GET"))
            .and(path(format!("/{store}/customers/101")))
            .and(header("authentication", bearer.as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(customer))
            .mount(&nuvem)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/apps/authorize/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The authorization code has expired"
        })))
        .mount(&nuvem)
        .await;
    let (twilio, sms) = plugin_support::twilio().await;
    StandIns { nuvem, twilio, sms }
}

fn config(dir: &Path, s: &StandIns) -> PluginConfig {
    plugin_support::config(
        dir,
        &s.twilio.uri(),
        5,
        &format!(
            r#"[nuvemshop]
app_id = "{APP_ID}"
client_secret = {{ value = "{SECRET}" }}
user_agent = "Aftercare (ops@aftercare.example)"
token_url = "{nuvem}/apps/authorize/token"
api_base_url = "{nuvem}""#,
            nuvem = s.nuvem.uri(),
        ),
    )
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// Posts `signer`'s `event` for `id`, signed with the app's secret, to `route`'s webhooks.
async fn post_hook(base: &str, route: &str, signer: &str, event: &str, id: u64) -> u16 {
    let body = serde_json::to_vec(&json!({
        "store_id": signer.parse::<u64>().unwrap(), "event": event, "id": id
    }))
    .unwrap();
    let headers = NuvemshopWebhooks::new(Secret::from(SECRET), APP_ID, signer)
        .sign_delivery_for_test(signer, event, &body);
    let mut req = reqwest::Client::new()
        .post(format!("{base}/shops/{route}/webhooks/nuvemshop"))
        .body(body);
    for (k, v) in headers.iter() {
        req = req.header(k, v);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn status_of(plugin: &Plugin, store: &str) -> Option<ShopStatus> {
    plugin
        .tenancy()
        .record(&ShopId::new(store))
        .await
        .unwrap()
        .map(|r| r.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nuvemshop_stores_install_message_and_uninstall_without_crossing() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &s);
    assert!(check(&cfg).is_empty(), "{:?}", check(&cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let plugin = Plugin::open(cfg).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(plugin.clone().serve(listener, async move {
        let _ = stop_rx.await;
    }));

    // An expired code: refused, nothing recorded.
    assert_eq!(get(&format!("{base}/nuvemshop/auth?code=old")).await.0, 403);
    assert!(plugin.tenancy().records().await.unwrap().is_empty());

    for (store, code) in [(STORE_A, "code-a"), (STORE_B, "code-b")] {
        let (status, page) = get(&format!("{base}/nuvemshop/auth?code={code}")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("dashboard-key"), "{page}");
        assert!(
            page.contains(&format!("/shops/{store}/dashboard")),
            "{page}"
        );
    }
    // Each store's hooks: made with its own token, to its own route.
    let posts: Vec<(String, Value)> = s
        .nuvem
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/webhooks"))
        .map(|r| {
            (
                r.url.path().to_owned(),
                serde_json::from_slice(&r.body).unwrap(),
            )
        })
        .collect();
    for store in [STORE_A, STORE_B] {
        let mine: Vec<_> = posts
            .iter()
            .filter(|(p, _)| *p == format!("/{store}/webhooks"))
            .collect();
        assert_eq!(mine.len(), aftercare_nuvemshop::aftercare_events().len());
        for (_, b) in mine {
            assert_eq!(
                b["url"],
                format!("https://aftercare.example/shops/{store}/webhooks/nuvemshop")
            );
        }
    }

    // Each store's fulfilled order on its own route; a's on b's route is refused.
    assert_eq!(
        post_hook(&base, STORE_A, STORE_A, "order/fulfilled", ORDER).await,
        200
    );
    assert_eq!(
        post_hook(&base, STORE_B, STORE_B, "order/fulfilled", ORDER).await,
        200
    );
    let crossed = post_hook(&base, STORE_B, STORE_A, "order/fulfilled", ORDER).await;
    assert!((400..500).contains(&crossed), "{crossed}");
    let start = Instant::now();
    while s.sms.sent.lock().unwrap().len() < 2 {
        assert!(
            start.elapsed() < BOUND,
            "gave up waiting for one SMS per store"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = s.sms.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for (store, phone) in [(STORE_A, "+14155550101"), (STORE_B, "+14155550102")] {
        let m = sent
            .iter()
            .find(|f| f["To"] == phone)
            .unwrap_or_else(|| panic!("no SMS to {phone}: {sent:?}"));
        let prefix = format!("https://aftercare.example/shops/{store}/");
        assert!(m["Body"].contains(&prefix), "{m:?}");
    }

    // a's `app/uninstalled` on b's route: refused, b untouched; on its own: a stops.
    let gone = post_hook(&base, STORE_B, STORE_A, "app/uninstalled", 4815).await;
    assert!((400..500).contains(&gone), "{gone}");
    assert_eq!(
        post_hook(&base, STORE_A, STORE_A, "app/uninstalled", 4815).await,
        200
    );
    let start = Instant::now();
    while status_of(&plugin, STORE_A).await != Some(ShopStatus::Uninstalled) {
        assert!(start.elapsed() < BOUND, "gave up waiting for a's uninstall");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status_of(&plugin, STORE_B).await,
        Some(ShopStatus::Installed)
    );

    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
