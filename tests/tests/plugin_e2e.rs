//! The store-plugin deployment (`aftercare_examples::plugin`, the `plugin` binary) driven
//! over real HTTP: two shops install through `/install` → Shopify's authorize URL with a
//! `state` cookie → `/auth/callback`; their webhooks arrive on their own routes and become
//! SMS from the app's Twilio account; pages and dashboards answer per shop; the app-level
//! compliance route takes the shop from the signed body and checks it against the registry;
//! the admin view and `/metrics` need the admin key; `app/uninstalled` stops a shop and
//! `shop/redact` erases it while the other goes on. Other tests: the logs of processing and
//! dispatch (every line names its shop); the admin view and metrics showing a refused
//! token, failed webhooks and a provider's refusals on the shop they belong to; the
//! configuration check.
//!
//! Wiremock plays Shopify and Twilio, shaped as their docs show: the OAuth code exchange
//! (<https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant>),
//! GraphQL `webhookSubscriptions` / `webhookSubscriptionCreate`
//! (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate>),
//! the `order` and `customer` queries (the adapter's fixtures `gql_order.json`,
//! `gql_customer.json`, pages named in `adapters/shopify/tests/fixtures/README.md`); the
//! webhook bodies are the adapter's fixtures of the topics' documented payloads; Twilio's
//! Message create answer (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>,
//! twilio-node's fixture as in `adapters/twilio/tests/send.rs`).
//!
//! One file past 800 lines: its tests share the stand-ins, the deployment's configuration
//! and the install and posting helpers, which are most of it; split, each file would carry
//! a copy or a support module longer than the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aftercare::model::ShopId;
use aftercare::store::Inbox as _;
use aftercare::tenancy::{ACCESS_TOKEN, ShopInstall, ShopStatus};
use aftercare::webhook::Secret;
use aftercare_examples::plugin::{Plugin, PluginConfig, check};
use aftercare_shopify::ShopifyWebhooks;
use aftercare_shopify::oauth::sign_query;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const APP_SECRET: &str = "shpss_plugin_app_secret";
const ADMIN_KEY: &str = "admin-key-0123456789abcdef";
const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHOP_A: &str = "alpha.myshopify.com";
const SHOP_B: &str = "bravo.myshopify.com";
const BOUND: Duration = Duration::from_secs(60);
/// An access token Shopify no longer takes.
const EXPIRED_TOKEN: &str = "shpat_expired_000000000000000";
/// The shop whose messages Twilio refuses.
const REFUSED_SHOP: &str = "refused.myshopify.com";

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters/shopify/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A fixture with its `demo.myshopify.com` replaced by `shop`.
fn fixture_for(name: &str, shop: &str) -> Vec<u8> {
    serde_json::to_string(&fixture(name))
        .unwrap()
        .replace("demo.myshopify.com", shop)
        .into_bytes()
}

fn cost() -> Value {
    json!({"cost": {"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1999.0, "restoreRate": 100.0}}})
}

/// Shopify's GraphQL endpoint: webhook subscriptions remembered per access token (i.e. per
/// shop), orders and customers from the fixtures.
/// (topic, uri) subscriptions by access token.
type Subscriptions = HashMap<String, Vec<(String, String)>>;

#[derive(Clone, Default)]
struct Graphql {
    subs: Arc<Mutex<Subscriptions>>,
}

impl Respond for Graphql {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let token = req
            .headers
            .get("x-shopify-access-token")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        if token == EXPIRED_TOKEN {
            // Shopify's answer to a revoked or unknown token
            // (<https://shopify.dev/docs/api/usage/response-codes>: 401 Unauthorized).
            return ResponseTemplate::new(401).set_body_json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}));
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let q = body["query"].as_str().unwrap();
        if q.contains("query AftercareOrder(") {
            let mut order = fixture("gql_order.json");
            order["data"]["order"]["id"] = body["variables"]["id"].clone();
            return ResponseTemplate::new(200).set_body_json(order);
        }
        if q.contains("query AftercareCustomer(") {
            return ResponseTemplate::new(200).set_body_json(fixture("gql_customer.json"));
        }
        let mut all = self.subs.lock().unwrap();
        let subs = all.entry(token).or_default();
        if q.contains("webhookSubscriptionCreate") {
            let topic = body["variables"]["topic"].as_str().unwrap().to_owned();
            let uri = body["variables"]["sub"]["uri"].as_str().unwrap().to_owned();
            subs.push((topic.clone(), uri.clone()));
            return ResponseTemplate::new(200).set_body_json(json!({"data": {"webhookSubscriptionCreate": {"webhookSubscription": {"id": format!("gid://shopify/WebhookSubscription/{}", subs.len()), "topic": topic, "uri": uri}, "userErrors": []}}, "extensions": cost()}));
        }
        if q.contains("webhookSubscriptions") {
            let nodes: Vec<Value> = subs
                .iter()
                .enumerate()
                .map(|(i, (t, u))| json!({"id": format!("gid://shopify/WebhookSubscription/{}", i + 1), "topic": t, "uri": u}))
                .collect();
            return ResponseTemplate::new(200).set_body_json(json!({"data": {"webhookSubscriptions": {"nodes": nodes, "pageInfo": {"hasNextPage": false, "endCursor": null}}}, "extensions": cost()}));
        }
        ResponseTemplate::new(200)
            .set_body_json(json!({"errors": [{"message": "not served by the stand-in"}]}))
    }
}

/// Twilio's Messages API: every create recorded (form fields), answered as documented.
#[derive(Clone, Default)]
struct Twilio {
    sent: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Respond for Twilio {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if form
            .get("StatusCallback")
            .is_some_and(|u| u.contains(REFUSED_SHOP))
        {
            // Twilio's error body (<https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions>),
            // error 21211 "Invalid 'To' Phone Number".
            return ResponseTemplate::new(400).set_body_json(json!({
                "code": 21211, "message": "The 'To' number is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400
            }));
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(form.clone());
        ResponseTemplate::new(201).set_body_json(json!({
            "account_sid": ACCOUNT, "api_version": "2010-04-01", "body": form.get("Body"),
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "direction": "outbound-api",
            "error_code": null, "error_message": null, "from": form.get("From"),
            "num_segments": "1", "sid": format!("SM{:032x}", sent.len()), "status": "queued",
            "to": form.get("To")
        }))
    }
}

struct StandIns {
    shopify: MockServer,
    graphql: Graphql,
    twilio: MockServer,
    sms: Twilio,
}

async fn stand_ins() -> StandIns {
    let shopify = MockServer::start().await;
    for (code, token) in [
        ("code-alpha", "shpat_alpha_0000000000000000"),
        ("code-bravo", "shpat_bravo_0000000000000000"),
    ] {
        Mock::given(method("POST"))
            .and(path("/admin/oauth/access_token"))
            .and(wiremock::matchers::body_partial_json(json!({"code": code})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token,
                "scope": "read_orders,write_orders,read_customers,read_fulfillments"
            })))
            .mount(&shopify)
            .await;
    }
    let graphql = Graphql::default();
    Mock::given(method("POST"))
        .and(path_regex(r"^/admin/api/[0-9-]+/graphql\.json$"))
        .respond_with(graphql.clone())
        .mount(&shopify)
        .await;
    let twilio = MockServer::start().await;
    let sms = Twilio::default();
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        )))
        .respond_with(sms.clone())
        .mount(&twilio)
        .await;
    StandIns {
        shopify,
        graphql,
        twilio,
        sms,
    }
}

fn config(public: &str, dir: &Path, s: &StandIns) -> PluginConfig {
    let keys = format!(
        "k1:{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [9u8; 32])
    );
    PluginConfig::parse(&format!(
        r#"
shop_keys = {{ value = "{keys}" }}

[server]
bind = "127.0.0.1:0"
public_url = "{public}"

[shopify]
client_id = "plugin-client-id"
client_secret = {{ value = "{APP_SECRET}" }}
api_base_url = "{shopify}"

[storage]
sqlite_dir = "{dir}"

[admin]
key = {{ value = "{ADMIN_KEY}" }}

[twilio]
account_sid = "{ACCOUNT}"
auth_token = {{ value = "twilio_auth_token" }}
from = "+14155552345"
api_base_url = "{twilio}"

[messages]
quiet_hours_off = true
"#,
        shopify = s.shopify.uri(),
        twilio = s.twilio.uri(),
        dir = dir.display(),
    ))
    .unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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

/// Installs `shop` through the deployment's own pages, as a merchant's browser would;
/// returns the dashboard key the page shows.
async fn install(base: &str, shop: &str, code: &str) -> String {
    let http = no_redirects();
    let r = http
        .get(format!("{base}/install?shop={shop}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("https://{shop}/admin/oauth/authorize?")),
        "{location}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let url = url::Url::parse(&location).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(redirect, format!("{base}/auth/callback"));
    assert!(cookie.starts_with(&format!("aftercare_install_state={state};")));
    let query = callback(shop, code, &state);
    // Without the browser's cookie, or with another browser's: refused, nothing recorded.
    for other in [None, Some("aftercare_install_state=someone-elses")] {
        let mut req = http.get(format!("{base}/auth/callback?{query}"));
        if let Some(c) = other {
            req = req.header("cookie", c);
        }
        assert_eq!(req.send().await.unwrap().status().as_u16(), 403);
    }
    let r = http
        .get(format!("{base}/auth/callback?{query}"))
        .header("cookie", format!("aftercare_install_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    page.split("<code id=\"dashboard-key\">")
        .nth(1)
        .and_then(|r| r.split("</code>").next())
        .unwrap_or_else(|| panic!("no dashboard key in {page}"))
        .to_owned()
}

fn callback(shop: &str, code: &str, state: &str) -> String {
    let ts = chrono::Utc::now().timestamp().to_string();
    sign_query(
        APP_SECRET.as_bytes(),
        &[
            ("code", code),
            ("shop", shop),
            ("state", state),
            ("timestamp", &ts),
        ],
    )
}

/// Posts `body` as Shopify would (signed with the app's secret, `header_shop` in
/// `X-Shopify-Shop-Domain`) to `url`; returns the status.
async fn post_shopify(url: &str, topic: &str, header_shop: &str, id: &str, body: &[u8]) -> u16 {
    let headers =
        ShopifyWebhooks::new(Secret::from(APP_SECRET)).sign_for_test(topic, header_shop, id, body);
    let mut req = reqwest::Client::new().post(url).body(body.to_vec());
    for (k, v) in headers.iter() {
        req = req.header(k, v);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn get(url: &str, auth: Option<&str>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// The topics of the entries in `shop`'s inbox.
async fn inbox_topics(plugin: &Plugin, shop: &str) -> Vec<String> {
    let store = plugin
        .tenancy()
        .scope(&ShopId::new(shop))
        .await
        .unwrap()
        .store();
    let mut topics = Vec::new();
    for id in 1..100 {
        if let Some(e) = store.inbox_entry(id).await.unwrap() {
            topics.push(e.topic.unwrap_or_default());
        }
    }
    topics
}

async fn status_of(plugin: &Plugin, shop: &str) -> Option<ShopStatus> {
    plugin
        .tenancy()
        .record(&ShopId::new(shop))
        .await
        .unwrap()
        .map(|r| r.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_serves_two_shops_from_install_to_erasure_without_crossing() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let plugin = Plugin::open(config(&base, dir.path(), &s)).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(plugin.clone().serve(listener, async move {
        let _ = stop_rx.await;
    }));

    // Install: the state cookie binds the callback to the browser that began it.
    let key_a = install(&base, SHOP_A, "code-alpha").await;
    assert_eq!(plugin.tenancy().installed().await.unwrap().len(), 1);
    let key_b = install(&base, SHOP_B, "code-bravo").await;
    assert_ne!(key_a, key_b);
    // Each shop's webhooks were subscribed with its own token, to its own route.
    {
        let subs = s.graphql.subs.lock().unwrap();
        for (token, shop) in [
            ("shpat_alpha_0000000000000000", SHOP_A),
            ("shpat_bravo_0000000000000000", SHOP_B),
        ] {
            let mine = &subs[token];
            assert!(mine.iter().any(|(t, _)| t == "APP_UNINSTALLED"));
            let route = format!("{base}/shops/{shop}/webhooks/shopify");
            assert!(mine.iter().all(|(_, u)| *u == route), "{mine:?}");
        }
    }

    // A carrier-scanned fulfillment for each shop, on its own route; shop a's on b's route
    // is refused before storing (the header names another shop).
    let mut shipped = fixture("fulfillments_create.json");
    shipped["shipment_status"] = json!("in_transit");
    let body = serde_json::to_vec(&shipped).unwrap();
    let route = |shop: &str| format!("{base}/shops/{shop}/webhooks/shopify");
    assert_eq!(
        post_shopify(
            &route(SHOP_A),
            "fulfillments/create",
            SHOP_A,
            "wh-a-1",
            &body
        )
        .await,
        200
    );
    assert_eq!(
        post_shopify(
            &route(SHOP_B),
            "fulfillments/create",
            SHOP_A,
            "wh-a-2",
            &body
        )
        .await,
        403
    );
    assert_eq!(
        post_shopify(
            &route(SHOP_B),
            "fulfillments/create",
            SHOP_B,
            "wh-b-1",
            &body
        )
        .await,
        200
    );
    let sms = s.sms.clone();
    wait_until("one SMS per shop", || async {
        sms.sent.lock().unwrap().len() >= 2
    })
    .await;
    let sent = sms.sent.lock().unwrap().clone();
    let link_of = |shop: &str| -> String {
        let prefix = format!("{base}/shops/{shop}/");
        sent.iter()
            .filter_map(|f| f.get("Body"))
            .flat_map(|b| b.split_whitespace())
            .find(|w| w.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no link of {shop} in {sent:?}"))
            .to_owned()
    };
    let (link_a, link_b) = (link_of(SHOP_A), link_of(SHOP_B));
    assert!(sent.iter().all(|f| f["From"] == "+14155552345"));
    // Status callbacks come back to the sending shop's own route.
    assert!(
        sent.iter()
            .any(|f| f["StatusCallback"] == format!("{base}/shops/{SHOP_A}/webhooks/twilio"))
    );
    assert_eq!(get(&link_a, None).await.0, 200);
    assert_eq!(get(&link_b, None).await.0, 200);
    // Shop a's link token presented at shop b: refused.
    let crossed = link_a.replace(SHOP_A, SHOP_B);
    assert_ne!(get(&crossed, None).await.0, 200, "{crossed}");

    // Dashboards: each shop's key opens its own only.
    let dash = |shop: &str| format!("{base}/shops/{shop}/dashboard");
    let bearer = |k: &str| format!("Bearer {k}");
    assert_eq!(get(&dash(SHOP_A), Some(&bearer(&key_a))).await.0, 200);
    assert_eq!(get(&dash(SHOP_B), Some(&bearer(&key_b))).await.0, 200);
    assert_eq!(get(&dash(SHOP_B), Some(&bearer(&key_a))).await.0, 401);
    assert_eq!(get(&dash(SHOP_A), Some(&bearer(&key_b))).await.0, 401);

    // The admin view and metrics: the admin key only (a shop's key is not it).
    let admin = format!("{base}/admin");
    let metrics = format!("{base}/metrics");
    for wrong in [
        None,
        Some(bearer(&key_a)),
        Some(bearer("admin-key-0123456789abcdeF")),
    ] {
        assert_eq!(get(&admin, wrong.as_deref()).await.0, 401);
        assert_eq!(get(&metrics, wrong.as_deref()).await.0, 401);
    }
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("operator:{ADMIN_KEY}")
        )
    );
    let (status, page) = get(&admin, Some(&basic)).await;
    assert_eq!(status, 200);
    assert!(page.contains(SHOP_A) && page.contains(SHOP_B), "{page}");
    assert!(!page.contains("<script"));
    assert!(page.contains("<th scope=\"col\">Backlog (messages waiting)</th>"));
    let (status, text) = get(&metrics, Some(&bearer(ADMIN_KEY))).await;
    assert_eq!(status, 200);
    assert!(
        text.contains("aftercare_shops{state=\"installed\"} 2\n"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "aftercare_shop_access_token_present{{shop=\"{SHOP_A}\"}} 1\n"
    )));
    assert!(text.contains(&format!(
        "aftercare_shop_provider_errors{{shop=\"{SHOP_B}\"}} 0\n"
    )));

    // Compliance webhooks on the app-level route: the shop comes from the signed body.
    let compliance = format!("{base}/webhooks/shopify/compliance");
    let redact_a = fixture_for("customers_redact.json", SHOP_A);
    // The header names shop b, the signed body shop a: refused, stored nowhere.
    assert_eq!(
        post_shopify(&compliance, "customers/redact", SHOP_B, "c-1", &redact_a).await,
        400
    );
    // A bad signature: 401, as Shopify requires.
    let forged = reqwest::Client::new()
        .post(&compliance)
        .header("X-Shopify-Topic", "customers/redact")
        .header("X-Shopify-Shop-Domain", SHOP_A)
        .header("X-Shopify-Hmac-Sha256", "bm90IGEgc2lnbmF0dXJl")
        .header("X-Shopify-API-Version", "2026-10")
        .header("X-Shopify-Webhook-Id", "c-2")
        .body(redact_a.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    // A shop this deployment never installed: acknowledged, nothing recorded.
    let charlie = "charlie.myshopify.com";
    assert_eq!(
        post_shopify(
            &compliance,
            "customers/redact",
            charlie,
            "c-3",
            &fixture_for("customers_redact.json", charlie)
        )
        .await,
        200
    );
    assert_eq!(status_of(&plugin, charlie).await, None);
    // Shop a's own request: stored in shop a's inbox only.
    assert_eq!(
        post_shopify(&compliance, "customers/redact", SHOP_A, "c-4", &redact_a).await,
        200
    );
    assert!(
        inbox_topics(&plugin, SHOP_A)
            .await
            .contains(&"customers/redact".to_owned())
    );
    assert!(
        !inbox_topics(&plugin, SHOP_B)
            .await
            .contains(&"customers/redact".to_owned())
    );
    // `shop/redact` while installed: held, the shop stays installed.
    let shop_redact_a = fixture_for("shop_redact.json", SHOP_A);
    assert_eq!(
        post_shopify(&compliance, "shop/redact", SHOP_A, "c-5", &shop_redact_a).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        status_of(&plugin, SHOP_A).await,
        Some(ShopStatus::Installed)
    );

    // Uninstall shop a through its own `app/uninstalled` webhook.
    let bye = fixture_for("app_uninstalled.json", SHOP_A);
    assert_eq!(
        post_shopify(&route(SHOP_A), "app/uninstalled", SHOP_A, "wh-a-bye", &bye).await,
        200
    );
    let p = plugin.clone();
    wait_until("shop a to be uninstalled", || {
        let p = p.clone();
        async move { status_of(&p, SHOP_A).await == Some(ShopStatus::Uninstalled) }
    })
    .await;
    // Its work stops: no routes, no processing or dispatch turns; shop b goes on.
    let p = plugin.clone();
    wait_until("shop a's work to stop", || {
        let p = p.clone();
        async move {
            let running: Vec<String> = p
                .runtimes()
                .iter()
                .map(|r| r.scope.shop().to_string())
                .collect();
            running == [SHOP_B]
        }
    })
    .await;
    assert_eq!(plugin.fair().shops(), [ShopId::new(SHOP_B)]);
    assert_eq!(get(&dash(SHOP_A), Some(&bearer(&key_a))).await.0, 404);
    assert_eq!(get(&link_a, None).await.0, 404);
    assert_eq!(get(&dash(SHOP_B), Some(&bearer(&key_b))).await.0, 200);
    // `shop/redact` (48 hours later): shop a's data is erased, shop b's is whole.
    let file_a = dir.path().join("shops").join(format!(
        "shop-{}.db",
        SHOP_A
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    assert!(file_a.exists());
    assert_eq!(
        post_shopify(&compliance, "shop/redact", SHOP_A, "c-6", &shop_redact_a).await,
        200
    );
    assert_eq!(status_of(&plugin, SHOP_A).await, Some(ShopStatus::Erased));
    assert!(!file_a.exists());
    assert_eq!(get(&link_b, None).await.0, 200);
    let (_, text) = get(&metrics, Some(&bearer(ADMIN_KEY))).await;
    assert!(
        text.contains("aftercare_shops{state=\"erased\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains(&format!("shop=\"{SHOP_A}\"")), "{text}");

    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
}

/// The log lines written while `f` runs (every level), with their spans' fields.
async fn logs_of<F: std::future::Future<Output = ()>>(f: F) -> String {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    f.await;
    drop(guard);
    String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_log_line_of_processing_and_dispatch_names_its_shop() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let plugin = Plugin::open(config("https://plugin.example", dir.path(), &s))
        .await
        .unwrap();
    for (shop, token) in [
        (SHOP_A, "shpat_alpha_0000000000000000"),
        (SHOP_B, "shpat_bravo_0000000000000000"),
    ] {
        plugin
            .tenancy()
            .install(
                ShopInstall::new(ShopId::new(shop), "shopify")
                    .secret(ACCESS_TOKEN, Secret::from(token)),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
    let router = plugin.router();
    let post = |shop: &'static str, topic: &'static str, body: Vec<u8>| {
        let router = router.clone();
        async move {
            let headers = ShopifyWebhooks::new(Secret::from(APP_SECRET)).sign_for_test(
                topic,
                shop,
                &format!("{shop}-{topic}"),
                &body,
            );
            let mut req = axum::http::Request::post(format!("/shops/{shop}/webhooks/shopify"));
            for (k, v) in headers.iter() {
                req = req.header(k, v);
            }
            let r =
                tower::ServiceExt::oneshot(router, req.body(axum::body::Body::from(body)).unwrap())
                    .await
                    .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    let mut shipped = fixture("fulfillments_create.json");
    shipped["shipment_status"] = json!("in_transit");
    // Shop a's fulfillment becomes an SMS; shop b's body is not a fulfillment: dead letter.
    post(
        SHOP_A,
        "fulfillments/create",
        serde_json::to_vec(&shipped).unwrap(),
    )
    .await;
    post(SHOP_B, "fulfillments/create", br#"{"id": 1}"#.to_vec()).await;
    plugin.sync().await.unwrap();
    let logs = logs_of(async {
        for _ in 0..3 {
            plugin.process_round().await;
        }
        for _ in 0..3 {
            plugin.fair().round().await.unwrap();
        }
    })
    .await;
    assert_eq!(s.sms.sent.lock().unwrap().len(), 1, "{logs}");
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    // The work logged (so the check below checks something) ...
    assert!(
        lines
            .iter()
            .any(|l| l.contains("dead-lettered")
                && l.contains(&format!("inbox_batch{{shop={SHOP_B}}}"))),
        "{logs}"
    );
    assert!(
        lines.iter().any(|l| l.contains("Twilio accepted a message")
            && l.contains(&format!("dispatch_turn{{shop={SHOP_A}}}"))),
        "{logs}"
    );
    // ... and every line of it names the shop it is about.
    for l in &lines {
        assert!(
            l.contains("{shop=alpha.myshopify.com}") || l.contains("{shop=bravo.myshopify.com}"),
            "a log line without its shop: {l}"
        );
    }
}

#[test]
fn check_config_reports_every_problem() {
    let cfg = PluginConfig::parse(
        r#"
shop_keys = { value = "not a keyring" }
[server]
bind = "nowhere"
public_url = "ftp://x"
[shopify]
client_id = ""
client_secret = { env = "AFTERCARE_TEST_SURELY_UNSET_VARIABLE" }
[storage]
[admin]
key = { value = "short" }
[twilio]
account_sid = "ACx"
auth_token = { value = "t" }
from = "4155550100"
per_sender_per_second = 0
"#,
    )
    .unwrap();
    let problems = check(&cfg).join("\n");
    for needle in [
        "shopify.client_secret",
        "AFTERCARE_TEST_SURELY_UNSET_VARIABLE",
        "admin.key: at least 16 bytes",
        "shop_keys:",
        "storage: set exactly one",
        "server.public_url",
        "server.bind",
        "twilio.from",
        "twilio.per_sender_per_second",
        "shopify.client_id",
    ] {
        assert!(
            problems.contains(needle),
            "{needle} missing from:\n{problems}"
        );
    }
}

#[test]
fn the_example_file_parses() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/plugin.example.toml"),
    )
    .unwrap();
    let cfg = PluginConfig::parse(&text).unwrap();
    assert_eq!(cfg.server.bind, "127.0.0.1:8080");
    // Its secrets come from the environment: unset here, each is named.
    let problems = check(&cfg).join("\n");
    assert!(problems.contains("SHOPIFY_CLIENT_SECRET"), "{problems}");
    assert!(problems.contains("AFTERCARE_ADMIN_KEY"), "{problems}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_view_shows_a_refused_token_failed_webhooks_and_provider_errors_per_shop() {
    let s = stand_ins().await;
    let dir = tempfile::tempdir().unwrap();
    let plugin = Plugin::open(config("https://plugin.example", dir.path(), &s))
        .await
        .unwrap();
    let expired = "expired.myshopify.com";
    for (shop, token) in [
        (expired, EXPIRED_TOKEN),
        (REFUSED_SHOP, "shpat_refused_0000000000000000"),
        (SHOP_A, "shpat_alpha_0000000000000000"),
    ] {
        plugin
            .tenancy()
            .install(
                ShopInstall::new(ShopId::new(shop), "shopify")
                    .secret(ACCESS_TOKEN, Secret::from(token)),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
    let router = plugin.router();
    let mut shipped = fixture("fulfillments_create.json");
    shipped["shipment_status"] = json!("in_transit");
    let body = serde_json::to_vec(&shipped).unwrap();
    for shop in [expired, REFUSED_SHOP, SHOP_A] {
        let headers = ShopifyWebhooks::new(Secret::from(APP_SECRET)).sign_for_test(
            "fulfillments/create",
            shop,
            &format!("{shop}-1"),
            &body,
        );
        let mut req = axum::http::Request::post(format!("/shops/{shop}/webhooks/shopify"));
        for (k, v) in headers.iter() {
            req = req.header(k, v);
        }
        let r = tower::ServiceExt::oneshot(
            router.clone(),
            req.body(axum::body::Body::from(body.clone())).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    plugin.sync().await.unwrap();
    for _ in 0..2 {
        plugin.process_round().await;
        plugin.fair().round().await.unwrap();
    }
    let get = |uri: &str| {
        let req = axum::http::Request::get(uri)
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let router = router.clone();
        async move {
            let r = tower::ServiceExt::oneshot(router, req).await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            String::from_utf8(b.to_vec()).unwrap()
        }
    };
    let text = get("/metrics").await;
    let value = |name: &str, shop: &str| -> u32 {
        let prefix = format!("{name}{{shop=\"{shop}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
            .parse()
            .unwrap()
    };
    // Shopify refused the token: shown, and its webhook failed (to be retried).
    assert_eq!(value("aftercare_shop_token_rejected", expired), 1, "{text}");
    assert!(
        value("aftercare_shop_webhook_failures", expired) >= 1,
        "{text}"
    );
    assert_eq!(value("aftercare_shop_messages_pending", expired), 0);
    // Twilio refused the message: a provider error and a dead message, on that shop only.
    assert_eq!(
        value("aftercare_shop_provider_errors", REFUSED_SHOP),
        1,
        "{text}"
    );
    assert_eq!(
        value("aftercare_shop_messages_dead", REFUSED_SHOP),
        1,
        "{text}"
    );
    assert_eq!(value("aftercare_shop_token_rejected", REFUSED_SHOP), 0);
    // The healthy shop shows nothing wrong.
    for name in [
        "aftercare_shop_token_rejected",
        "aftercare_shop_webhook_failures",
        "aftercare_shop_provider_errors",
        "aftercare_shop_messages_dead",
        "aftercare_shop_webhook_dead_letters",
    ] {
        assert_eq!(value(name, SHOP_A), 0, "{name}: {text}");
    }
    assert_eq!(s.sms.sent.lock().unwrap().len(), 1);
    let page = get("/admin").await;
    let row = |shop: &str| -> String {
        page.split("<tr>")
            .find(|r| r.contains(&format!("<th scope=\"row\">{shop}</th>")))
            .unwrap_or_else(|| panic!("no row for {shop} in {page}"))
            .to_owned()
    };
    assert!(row(expired).contains("needs attention"), "{page}");
    assert!(row(REFUSED_SHOP).contains("needs attention"), "{page}");
    assert!(!row(SHOP_A).contains("needs attention"), "{page}");
}
