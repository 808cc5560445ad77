//! The store-plugin deployment with BigCommerce stores (`[bigcommerce]`), over real HTTP:
//! two stores install through `/bigcommerce/auth` (the code exchanged, each store's hooks
//! subscribed with its own token to its own route), a shipment callback of each becomes an
//! SMS, dashboards open with their own key only, a callback signed for one store is refused
//! on the other's route, forged and other-store `signed_payload_jwt`s are refused, a signed
//! `/bigcommerce/uninstall` stops one store while the other goes on, and the erasure
//! schedule then erases it.
//!
//! Wiremock plays BigCommerce and Twilio, shaped as their docs show: the token endpoint as
//! "Single-Click App OAuth Flow" (developer.bigcommerce.com `/api-docs/apps/guide/auth`,
//! "Example response: Create an access_token"); `/v3/hooks` as `webhooks.v3.yml`; the
//! order, products, shipments, shipping addresses and customers as the adapter's fixtures
//! (`adapters/bigcommerce/tests/fixtures/README.md` names their pages), the customer's
//! phone set to an E.164 number; callback JWT claims as "Handling Single-Click App
//! Callbacks" (`/api-docs/apps/guide/callbacks`, "Working with payload claims"); Twilio's
//! Message create answer as in `plugin_e2e.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::plugin_support::{self, Twilio};
use aftercare::model::ShopId;
use aftercare::store::Inbox as _;
use aftercare::tenancy::ShopStatus;
use aftercare::webhook::Secret;
use aftercare_bigcommerce::BigCommerceWebhooks;
use aftercare_examples::plugin::{Plugin, PluginConfig, check};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CLIENT_ID: &str = "bc-plugin-client-id";
const CLIENT_SECRET: &str = "t3sqhdtvtn2ma6zydivx0wz8zl7fn0q4";
const STORE_A: &str = "alpha01";
const STORE_B: &str = "bravo02";
const HOOKS_BASE: &str = "https://hooks.aftercare.example";
const BOUND: Duration = Duration::from_secs(60);

fn token_of(store: &str) -> String {
    format!("token-of-{store}")
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/bigcommerce/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A callback JWT as BigCommerce signs it (HS256 with `secret`), the docs' claims for
/// `store`, valid now.
fn jwt(store: &str, secret: &str, aud: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "aud": aud, "iss": "bc", "iat": now, "nbf": now - 5, "exp": now + 86_400,
        "jti": "c5f0bcf5-a504-4ae6-8dcc-0e40eaa5a070", "sub": format!("stores/{store}"),
        "user": {"id": 9128, "email": "user@mybigcommerce.com"},
        "owner": {"id": 9128, "email": "user@mybigcommerce.com"}, "url": "/"
    });
    let h = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"HS256"}"#);
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{h}.{c}").as_bytes());
    format!(
        "{h}.{c}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// Hooks created, by the store path they were created under: (token used, body).
type Created = Arc<Mutex<Vec<(String, String, Value)>>>;

#[derive(Clone, Default)]
struct Hooks(Created);

impl Respond for Hooks {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let store = req.url.path().split('/').nth(2).unwrap_or("").to_owned();
        let token = req
            .headers
            .get("x-auth-token")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        if req.method.as_str() == "GET" {
            return ResponseTemplate::new(200).set_body_json(json!({
                "data": [],
                "meta": {"pagination": {"total": 0, "count": 0, "per_page": 250, "current_page": 1, "total_pages": 1, "links": {}}}
            }));
        }
        let mut body: Value = serde_json::from_slice(&req.body).unwrap();
        self.0
            .lock()
            .unwrap()
            .push((store.clone(), token, body.clone()));
        body["id"] = json!(18048287);
        body["client_id"] = json!(CLIENT_ID);
        body["store_hash"] = json!(store);
        body["created_at"] = json!(1561488106);
        body["updated_at"] = json!(1561488106);
        ResponseTemplate::new(200).set_body_json(json!({"data": body, "meta": {}}))
    }
}

/// Mounts `GET /stores/{store}/{rest}` answering `body`, only with the store's own token.
async fn get_ok(server: &MockServer, store: &str, rest: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/stores/{store}/{rest}")))
        .and(header("x-auth-token", token_of(store).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// The store's API for order 250 (shipped) with its shipment 6 and customer 11, whose
/// phone is `phone`.
async fn store_api(server: &MockServer, store: &str, phone: &str) {
    let mut order = fixture("api_order.json");
    order["id"] = json!(250);
    order["status_id"] = json!(2);
    order["billing_address"]["phone"] = json!(phone);
    get_ok(server, store, "v2/orders/250", order).await;
    let mut products = fixture("api_order_products.json");
    for p in products.as_array_mut().unwrap() {
        p["order_id"] = json!(250);
    }
    get_ok(server, store, "v2/orders/250/products", products).await;
    let mut shipments = fixture("api_order_shipments.json");
    for s in shipments.as_array_mut().unwrap() {
        s["order_id"] = json!(250);
    }
    get_ok(
        server,
        store,
        "v2/orders/250/shipments/6",
        shipments[0].clone(),
    )
    .await;
    get_ok(server, store, "v2/orders/250/shipments", shipments).await;
    get_ok(
        server,
        store,
        "v2/orders/250/shipping_addresses",
        fixture("api_order_shipping_addresses.json"),
    )
    .await;
    let mut customers = fixture("api_customers.json");
    customers["data"][0]["id"] = json!(11);
    customers["data"][0]["phone"] = json!(phone);
    customers["data"][0]["date_modified"] = json!("2026-03-01T10:00:00Z");
    Mock::given(method("GET"))
        .and(path(format!("/stores/{store}/v3/customers")))
        .and(query_param("id:in", "11"))
        .and(header("x-auth-token", token_of(store).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(customers))
        .mount(server)
        .await;
}

struct StandIns {
    bc: MockServer,
    hooks: Hooks,
    twilio: MockServer,
    sms: Twilio,
}

async fn stand_ins() -> StandIns {
    let bc = MockServer::start().await;
    for (store, code) in [(STORE_A, "code-a"), (STORE_B, "code-b")] {
        Mock::given(method("POST"))
            .and(path("/oauth2/token"))
            .and(wiremock::matchers::body_json(json!({
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "code": code,
                "context": format!("stores/{store}"),
                "scope": "store_v2_orders store_v2_customers_read_only",
                "grant_type": "authorization_code",
                "redirect_uri": "https://aftercare.example/bigcommerce/auth",
            })))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token_of(store),
                "scope": "store_v2_orders store_v2_customers_read_only",
                "user": {"id": 24654, "username": "merchant@example.com", "email": "merchant@example.com"},
                "context": format!("stores/{store}"),
                "account_uuid": "12345678-90ab-cdef-1234-567890abcdef"
            })))
            .mount(&bc)
            .await;
    }
    let hooks = Hooks::default();
    Mock::given(wiremock::matchers::path_regex(
        r"^/stores/[a-z0-9]+/v3/hooks$",
    ))
    .respond_with(hooks.clone())
    .mount(&bc)
    .await;
    store_api(&bc, STORE_A, "+14155550101").await;
    store_api(&bc, STORE_B, "+14155550102").await;
    let (twilio, sms) = plugin_support::twilio().await;
    StandIns {
        bc,
        hooks,
        twilio,
        sms,
    }
}

fn config(dir: &Path, s: &StandIns) -> PluginConfig {
    plugin_support::config(
        dir,
        &s.twilio.uri(),
        9,
        &format!(
            r#"[bigcommerce]
client_id = "{CLIENT_ID}"
client_secret = {{ value = "{CLIENT_SECRET}" }}
webhook_base_url = "{HOOKS_BASE}"
token_url = "{bc}/oauth2/token"
api_base_url = "{bc}""#,
            bc = s.bc.uri(),
        ),
    )
}

async fn wait_until<F, Fut>(what: &str, mut f: F)
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

async fn get(url: &str, auth: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// Installs `store` through `/bigcommerce/auth` as the merchant's browser would; returns
/// the dashboard key the page shows.
async fn install(base: &str, store: &str, code: &str) -> String {
    let (status, page) = get(
        &format!(
            "{base}/bigcommerce/auth?account_uuid=12345678-90ab-cdef-1234-567890abcdef&code={code}&context=stores%2F{store}&scope=store_v2_orders+store_v2_customers_read_only"
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    page.split("<code id=\"dashboard-key\">")
        .nth(1)
        .and_then(|r| r.split("</code>").next())
        .unwrap_or_else(|| panic!("no dashboard key in {page}"))
        .to_owned()
}

/// Posts store `signer`'s `store/shipment/created` for shipment 6 of order 250, signed as
/// BigCommerce signs it, to `store`'s route; returns the status.
async fn post_shipment(base: &str, route_store: &str, signer: &str, id: &str) -> u16 {
    let mut body = fixture("store_shipment_created.json");
    body["data"]["id"] = json!(6);
    body["data"]["orderId"] = json!(250);
    body["producer"] = json!(format!("stores/{signer}"));
    let body = serde_json::to_vec(&body).unwrap();
    let headers = BigCommerceWebhooks::new(Secret::from(CLIENT_SECRET), signer)
        .sign_delivery_for_test(
            id,
            chrono::Utc::now(),
            signer,
            "store/shipment/created",
            &body,
        );
    let mut req = reqwest::Client::new()
        .post(format!("{base}/shops/{route_store}/webhooks/bigcommerce"))
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

async fn inbox_len(plugin: &Plugin, store: &str) -> usize {
    let s = plugin
        .tenancy()
        .scope(&ShopId::new(store))
        .await
        .unwrap()
        .store();
    let mut n = 0;
    for id in 1..50 {
        if s.inbox_entry(id).await.unwrap().is_some() {
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bigcommerce_stores_from_install_to_erasure_without_crossing() {
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

    // A callback naming a store with no code BigCommerce knows: refused, nothing recorded.
    let (status, _) = get(
        &format!("{base}/bigcommerce/auth?code=stolen&context=stores%2F{STORE_A}&scope=store_v2_orders+store_v2_customers_read_only"),
        None,
    )
    .await;
    assert_eq!(status, 502);
    assert!(plugin.tenancy().records().await.unwrap().is_empty());

    let key_a = install(&base, STORE_A, "code-a").await;
    let key_b = install(&base, STORE_B, "code-b").await;
    assert_ne!(key_a, key_b);
    // Each store's hooks: made with its own token, under its own path, to its own route.
    {
        let created = s.hooks.0.lock().unwrap();
        for store in [STORE_A, STORE_B] {
            let mine: Vec<_> = created.iter().filter(|(st, _, _)| st == store).collect();
            assert_eq!(mine.len(), aftercare_bigcommerce::AFTERCARE_SCOPES.len());
            for (_, token, body) in mine {
                assert_eq!(*token, token_of(store));
                assert_eq!(
                    body["destination"],
                    format!("{HOOKS_BASE}/shops/{store}/webhooks/bigcommerce")
                );
            }
        }
    }

    // Load: each store's signed payload opens its own page; forged, another app's, or an
    // expired-looking one is refused.
    let (status, page) = get(
        &format!(
            "{base}/bigcommerce/load?signed_payload_jwt={}",
            jwt(STORE_A, CLIENT_SECRET, CLIENT_ID)
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/shops/{STORE_A}/dashboard")));
    assert!(!page.contains(STORE_B));
    for bad in [
        jwt(STORE_A, "guessed-secret", CLIENT_ID),
        jwt(STORE_A, CLIENT_SECRET, "another-app"),
        "not.a.jwt".to_owned(),
    ] {
        let (status, _) = get(
            &format!("{base}/bigcommerce/load?signed_payload_jwt={bad}"),
            None,
        )
        .await;
        assert_eq!(status, 403);
    }

    // A shipment callback for each store on its own route; store a's on b's route is
    // refused before storing.
    assert_eq!(post_shipment(&base, STORE_A, STORE_A, "msg_a_1").await, 200);
    assert_eq!(post_shipment(&base, STORE_B, STORE_B, "msg_b_1").await, 200);
    let crossed = post_shipment(&base, STORE_B, STORE_A, "msg_a_2").await;
    assert!((400..500).contains(&crossed), "{crossed}");
    let sms = s.sms.clone();
    wait_until("one SMS per store", || async {
        sms.sent.lock().unwrap().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = sms.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    // Each store's customer got its own store's message, linking to its own pages.
    for (store, phone) in [(STORE_A, "+14155550101"), (STORE_B, "+14155550102")] {
        let m = sent
            .iter()
            .find(|f| f["To"] == phone)
            .unwrap_or_else(|| panic!("no SMS to {phone}: {sent:?}"));
        let prefix = format!("https://aftercare.example/shops/{store}/");
        assert!(m["Body"].contains(&prefix), "{m:?}");
        assert!(m["Body"].contains("EJ958083578US"), "{m:?}");
        assert_eq!(
            m["StatusCallback"],
            format!("https://aftercare.example/shops/{store}/webhooks/twilio")
        );
    }
    assert_eq!(inbox_len(&plugin, STORE_A).await, 1);
    assert_eq!(inbox_len(&plugin, STORE_B).await, 1);

    // Dashboards: each store's key opens its own only.
    let dash = |store: &str| format!("{base}/shops/{store}/dashboard");
    let bearer = |k: &str| format!("Bearer {k}");
    assert_eq!(get(&dash(STORE_A), Some(&bearer(&key_a))).await.0, 200);
    assert_eq!(get(&dash(STORE_B), Some(&bearer(&key_a))).await.0, 401);
    assert_eq!(get(&dash(STORE_A), Some(&bearer(&key_b))).await.0, 401);

    // Uninstall: a forged payload for a, or one signed for another app, changes nothing.
    for bad in [
        jwt(STORE_A, "guessed-secret", CLIENT_ID),
        jwt(STORE_A, CLIENT_SECRET, "another-app"),
    ] {
        let (status, _) = get(
            &format!("{base}/bigcommerce/uninstall?signed_payload_jwt={bad}"),
            None,
        )
        .await;
        assert_eq!(status, 403);
    }
    assert_eq!(
        status_of(&plugin, STORE_A).await,
        Some(ShopStatus::Installed)
    );
    // Store a's own signed uninstall: a stops at once, b goes on.
    let (status, _) = get(
        &format!(
            "{base}/bigcommerce/uninstall?signed_payload_jwt={}",
            jwt(STORE_A, CLIENT_SECRET, CLIENT_ID)
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        status_of(&plugin, STORE_A).await,
        Some(ShopStatus::Uninstalled)
    );
    assert_eq!(
        status_of(&plugin, STORE_B).await,
        Some(ShopStatus::Installed)
    );
    let running: Vec<String> = plugin
        .runtimes()
        .iter()
        .map(|r| r.scope.shop().to_string())
        .collect();
    assert_eq!(running, [STORE_B]);
    assert_eq!(plugin.fair().shops(), [ShopId::new(STORE_B)]);
    assert_eq!(get(&dash(STORE_A), Some(&bearer(&key_a))).await.0, 404);
    assert_ne!(post_shipment(&base, STORE_A, STORE_A, "msg_a_3").await, 200);
    assert_eq!(get(&dash(STORE_B), Some(&bearer(&key_b))).await.0, 200);
    // Loading the uninstalled store: refused.
    let (status, _) = get(
        &format!(
            "{base}/bigcommerce/load?signed_payload_jwt={}",
            jwt(STORE_A, CLIENT_SECRET, CLIENT_ID)
        ),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // The erasure schedule (48 hours after the uninstall): a's data erased, b's whole.
    let file_of = |store: &str| {
        dir.path().join("shops").join(format!(
            "shop-{}.db",
            store
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ))
    };
    assert!(file_of(STORE_A).exists());
    let soon = chrono::Utc::now() + chrono::Duration::hours(47);
    assert!(plugin.tenancy().erase_due(soon).await.unwrap().is_empty());
    let later = chrono::Utc::now() + chrono::Duration::hours(49);
    assert_eq!(
        plugin.tenancy().erase_due(later).await.unwrap(),
        [ShopId::new(STORE_A)]
    );
    assert_eq!(status_of(&plugin, STORE_A).await, Some(ShopStatus::Erased));
    assert!(!file_of(STORE_A).exists());
    assert!(file_of(STORE_B).exists());
    assert_eq!(inbox_len(&plugin, STORE_B).await, 1);

    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
