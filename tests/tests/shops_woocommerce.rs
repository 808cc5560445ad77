//! The store-plugin deployment with WooCommerce stores (`[woocommerce]`), over real HTTP:
//! two sites install through `wc-auth` (`/woocommerce/install` → the store's authorize URL
//! with our signed `user_id`; the keys posted to `/woocommerce/callback`; each site's
//! webhooks made with its own keys to its own route; the dashboard key shown once on
//! `/woocommerce/return`), a tracking update of each becomes an SMS to its own customer, a
//! webhook of one site is refused on the other's route, and a keys post with a forged or
//! expired `user_id` records nothing.
//!
//! Wiremock plays both sites' REST API and Twilio, shaped as their docs show: the keys post
//! as `WC_Auth::create_keys` sends it (WooCommerce REST API docs, "Authentication →
//! Auto generating API keys using our Application Authentication Endpoint": `key_id`,
//! `user_id`, `consumer_key`, `consumer_secret`, `key_permissions`); `/wc/v3/webhooks` as
//! the docs' "Webhooks" (list, create); the order, its Shipment Tracking items and the
//! customer as the adapter's fixtures (`adapters/woocommerce/tests/fixtures/README.md`
//! names their pages); Twilio's Message create answer as in `plugin_e2e.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::plugin_support::{self, Twilio};
use aftercare::model::ShopId;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_examples::plugin::{Plugin, PluginConfig, check};
use aftercare_woocommerce::WooWebhooks;
use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const INSTALL_KEY: &str = "woo-install-key-0123456789abcdef0123";
const SITE_A: &str = "https://shop-a.example/";
const SITE_B: &str = "https://shop-b.example/";
const BOUND: Duration = Duration::from_secs(60);

fn keys_of(site: &str) -> (String, String) {
    let tag = if site == SITE_A { "a" } else { "b" };
    (format!("ck_site_{tag}"), format!("cs_site_{tag}"))
}

fn basic(site: &str) -> String {
    let (k, s) = keys_of(site);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{k}:{s}"))
    )
}

fn enc(site: &str) -> String {
    url::form_urlencoded::byte_serialize(site.as_bytes()).collect()
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/woocommerce/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Webhooks created: (Authorization used, body).
#[derive(Clone, Default)]
struct Hooks(Arc<Mutex<Vec<(String, Value)>>>);

impl Respond for Hooks {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        // Keys the sites did not issue: `woocommerce_rest_cannot_view` / 401.
        if auth != basic(SITE_A) && auth != basic(SITE_B) {
            return ResponseTemplate::new(401).set_body_json(json!({
                "code": "woocommerce_rest_authentication_error",
                "message": "Invalid signature - provided signature does not match.",
                "data": {"status": 401}
            }));
        }
        if req.method.as_str() == "GET" {
            return ResponseTemplate::new(200).set_body_json(json!([]));
        }
        let mut body: Value = serde_json::from_slice(&req.body).unwrap();
        let mut all = self.0.lock().unwrap();
        all.push((auth, body.clone()));
        body["id"] = json!(140 + all.len());
        body["date_created"] = json!("2016-05-15T23:17:52");
        ResponseTemplate::new(201).set_body_json(body)
    }
}

/// Order 723 of the fixtures on `site` (its `_links`), shipped now, its customer's phone
/// `phone`.
fn order(site: &str, phone: &str) -> Value {
    let text = serde_json::to_string(&fixture("order_updated_tracking.json")).unwrap();
    let mut o: Value = serde_json::from_str(&text.replace("https://example.com/", site)).unwrap();
    let now = chrono::Utc::now();
    o["billing"]["phone"] = json!(phone);
    o["date_modified_gmt"] = json!(now.format("%Y-%m-%dT%H:%M:%S").to_string());
    for m in o["meta_data"].as_array_mut().unwrap() {
        if m["key"] == "_wc_shipment_tracking_items" {
            m["value"][0]["date_shipped"] = json!(now.timestamp().to_string());
        }
    }
    o
}

/// Mounts `GET /wp-json/{rest}` answering `body`, only with `site`'s own keys.
async fn get_ok(server: &MockServer, site: &str, rest: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("/wp-json/{rest}")))
        .and(header("authorization", basic(site).as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

struct StandIns {
    woo: MockServer,
    hooks: Hooks,
    twilio: MockServer,
    sms: Twilio,
}

async fn stand_ins() -> StandIns {
    let woo = MockServer::start().await;
    let hooks = Hooks::default();
    Mock::given(path("/wp-json/wc/v3/webhooks"))
        .respond_with(hooks.clone())
        .mount(&woo)
        .await;
    for (site, phone) in [(SITE_A, "+14155550101"), (SITE_B, "+14155550102")] {
        let o = order(site, phone);
        let items = o["meta_data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == "_wc_shipment_tracking_items")
            .unwrap()["value"]
            .clone();
        get_ok(&woo, site, "wc/v3/orders/723", o).await;
        get_ok(
            &woo,
            site,
            "wc-shipment-tracking/v3/orders/723/shipment-trackings",
            items,
        )
        .await;
        let mut c = fixture("customer_updated.json");
        c["id"] = json!(26);
        c["billing"]["phone"] = json!(phone);
        get_ok(&woo, site, "wc/v3/customers/26", c).await;
    }
    let (twilio, sms) = plugin_support::twilio().await;
    StandIns {
        woo,
        hooks,
        twilio,
        sms,
    }
}

fn config(dir: &Path, s: &StandIns) -> PluginConfig {
    plugin_support::config(
        dir,
        &s.twilio.uri(),
        7,
        &format!(
            r#"[woocommerce]
install_key = {{ value = "{INSTALL_KEY}" }}
api_base_url = "{woo}""#,
            woo = s.woo.uri(),
        ),
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts an install of `site`: the `user_id` of the authorize URL it redirects to.
async fn begin(base: &str, site: &str) -> String {
    let r = client()
        .get(format!("{base}/woocommerce/install?site={}", enc(site)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(
        loc.as_str()
            .starts_with(&format!("{site}wc-auth/v1/authorize?"))
    );
    let q: HashMap<String, String> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "read_write");
    assert_eq!(
        q["callback_url"],
        "https://aftercare.example/woocommerce/callback"
    );
    q["user_id"].clone()
}

/// The keys post as the store sends it; returns the status.
async fn post_keys(base: &str, user_id: &str, site: &str) -> u16 {
    let (key, secret) = keys_of(site);
    client()
        .post(format!("{base}/woocommerce/callback"))
        .json(&json!({
            "key_id": 1, "user_id": user_id, "consumer_key": key,
            "consumer_secret": secret, "key_permissions": "read_write"
        }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The webhook secret `site`'s install gave its hooks.
fn hook_secret(s: &StandIns, site: &str) -> String {
    let hooks = s.hooks.0.lock().unwrap();
    let mine: Vec<_> = hooks.iter().filter(|(a, _)| *a == basic(site)).collect();
    assert_eq!(
        mine.len(),
        aftercare_woocommerce::install::INSTALL_TOPICS.len()
    );
    for (_, h) in &mine {
        assert_eq!(
            h["delivery_url"],
            format!(
                "https://aftercare.example/shops/{}/webhooks/woocommerce",
                enc(site)
            )
        );
    }
    mine[0].1["secret"].as_str().unwrap().to_owned()
}

/// Posts `signer`'s `order.updated` (signed with `secret`) to `route`'s webhook route.
async fn post_order(base: &str, route: &str, signer: &str, secret: &str, phone: &str) -> u16 {
    let body = serde_json::to_vec(&order(signer, phone)).unwrap();
    let headers = WooWebhooks::new(signer, Secret::from(secret.to_owned()))
        .unwrap()
        .sign_as("order.updated", signer, "15", &body);
    let mut req = client()
        .post(format!("{base}/shops/{}/webhooks/woocommerce", enc(route)))
        .body(body);
    for (k, v) in headers.iter() {
        req = req.header(k, v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_woocommerce_sites_install_and_message_without_crossing() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &s);
    assert!(check(&cfg).is_empty(), "{:?}", check(&cfg));
    // `WC_Auth` posts keys to https only; a short install key is refused.
    let mut bad = cfg.clone();
    bad.server.public_url = "http://aftercare.example".into();
    bad.woocommerce.as_mut().unwrap().install_key = aftercare::config::SecretRef::Inline {
        value: "short".into(),
    };
    let problems = check(&bad).join("\n");
    assert!(problems.contains("woocommerce.install_key"), "{problems}");
    assert!(problems.contains("woocommerce/callback"), "{problems}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let plugin = Plugin::open(cfg).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(plugin.clone().serve(listener, async move {
        let _ = stop_rx.await;
    }));

    // Keys posted with a forged `user_id`, or one of ours that expired: nothing recorded,
    // no call made with the keys.
    let expired = TokenSigner::new(Secret::from(INSTALL_KEY), "woocommerce-install").sign(
        &json!({"site": SITE_A}),
        chrono::Utc::now() - chrono::Duration::minutes(1),
    );
    let forged = TokenSigner::new(Secret::from("guessed-key"), "woocommerce-install").sign(
        &json!({"site": SITE_A}),
        chrono::Utc::now() + chrono::Duration::minutes(30),
    );
    for bad in [expired.as_str(), forged.as_str(), "1"] {
        assert_eq!(post_keys(&base, bad, SITE_A).await, 403, "{bad}");
    }
    assert!(plugin.tenancy().records().await.unwrap().is_empty());
    assert!(s.hooks.0.lock().unwrap().is_empty());

    // Both sites install; each one's dashboard key is shown once on the return page.
    let mut dash_keys = Vec::new();
    for site in [SITE_A, SITE_B] {
        let user_id = begin(&base, site).await;
        assert_eq!(post_keys(&base, &user_id, site).await, 200);
        let back = format!(
            "{base}/woocommerce/return?success=1&user_id={}",
            enc(&user_id)
        );
        let page = client()
            .get(&back)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let key = page
            .split("<code id=\"dashboard-key\">")
            .nth(1)
            .and_then(|r| r.split("</code>").next())
            .unwrap_or_else(|| panic!("no dashboard key in {page}"))
            .to_owned();
        let again = client()
            .get(&back)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!again.contains(&key));
        dash_keys.push(key);
    }
    let secret_a = hook_secret(&s, SITE_A);
    let secret_b = hook_secret(&s, SITE_B);
    assert_ne!(secret_a, secret_b);

    // Each site's order update on its own route; site a's (its own secret) on b's route is
    // refused before storing.
    let (phone_a, phone_b) = ("+14155550101", "+14155550102");
    assert_eq!(
        post_order(&base, SITE_A, SITE_A, &secret_a, phone_a).await,
        200
    );
    assert_eq!(
        post_order(&base, SITE_B, SITE_B, &secret_b, phone_b).await,
        200
    );
    let crossed = post_order(&base, SITE_B, SITE_A, &secret_a, phone_a).await;
    assert!((400..500).contains(&crossed), "{crossed}");
    let sms = s.sms.clone();
    let start = Instant::now();
    while sms.sent.lock().unwrap().len() < 2 {
        assert!(
            start.elapsed() < BOUND,
            "gave up waiting for one SMS per site"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = sms.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for (site, phone) in [(SITE_A, phone_a), (SITE_B, phone_b)] {
        let m = sent
            .iter()
            .find(|f| f["To"] == phone)
            .unwrap_or_else(|| panic!("no SMS to {phone}: {sent:?}"));
        let prefix = format!("https://aftercare.example/shops/{}/", enc(site));
        assert!(m["Body"].contains(&prefix), "{m:?}");
    }

    // Dashboards: each site's key opens its own only.
    let dash = |site: &str| format!("{base}/shops/{}/dashboard", enc(site));
    let open = |site: &str, key: &str| {
        let (url, auth) = (dash(site), format!("Bearer {key}"));
        async move {
            client()
                .get(url)
                .header("authorization", auth)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(open(SITE_A, &dash_keys[0]).await, 200);
    assert_eq!(open(SITE_B, &dash_keys[0]).await, 401);
    assert_eq!(open(SITE_A, &dash_keys[1]).await, 401);
    assert!(
        plugin
            .tenancy()
            .record(&ShopId::new(SITE_A))
            .await
            .unwrap()
            .is_some()
    );

    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}
