//! Two shops on one deployment, end to end: Shopify install (OAuth callback HMAC, `state`
//! bound to the browser's cookie, code exchange, webhook subscriptions through the Admin
//! API stand-in) → webhooks on each shop's own route → messages → uninstall → erasure; with
//! an attempt to cross shops at every door (webhooks, tracking links, dashboards, another
//! shop's signing secret, a header naming another shop, a forged or replayed callback).
//!
//! Wiremock plays Shopify, shaped as its docs show: the code exchange
//! (<https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant>)
//! and the GraphQL `webhookSubscriptions` / `webhookSubscriptionCreate`
//! (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionCreate>).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aftercare::clock::Clock as _;
use aftercare::http::dashboard::Dashboard;
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, ShopId};
use aftercare::stack::{PlatformParts, Stack};
use aftercare::store::{Inbox as _, Outbox as _, OutboxStatus};
use aftercare::tenancy::{
    ACCESS_TOKEN, Keyring, Lifecycle, ShopRegistry as _, ShopRoutes, ShopScope, ShopStatus,
    Tenancy, WEBHOOK_SECRET,
};
use aftercare::webhook::{NativeSource, Scheme, Secret, Verifier};
use aftercare_examples::feedback::StoreReport;
use aftercare_sandbox::Sandbox;
use aftercare_shopify::oauth::sign_query;
use aftercare_shopify::{
    OAuthApp, OAuthRejection, ShopifyError, ShopifyInstaller, ShopifyWebhooks,
};
use aftercare_sqlite::{SqliteRegistry, SqliteShops};
use chrono::Utc;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const APP_SECRET: &str = "app-client-secret";
const SHOP_A: &str = "alpha.myshopify.com";
const SHOP_B: &str = "bravo.myshopify.com";
const GQL_PATH: &str = "/admin/api/2026-10/graphql.json";

/// Shopify's GraphQL endpoint for webhook subscriptions: lists and creates, remembering
/// (topic, uri) per access token, i.e. per shop.
#[derive(Default)]
struct Subscriptions {
    by_token: Mutex<HashMap<String, Vec<(String, String)>>>,
}

fn cost() -> Value {
    json!({"cost": {"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1999.0, "restoreRate": 100.0}}})
}

impl Respond for Subscriptions {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let token = req
            .headers
            .get("x-shopify-access-token")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let q = body["query"].as_str().unwrap();
        let mut all = self.by_token.lock().unwrap();
        let subs = all.entry(token).or_default();
        if q.contains("webhookSubscriptionCreate") {
            let topic = body["variables"]["topic"].as_str().unwrap().to_owned();
            let uri = body["variables"]["sub"]["uri"].as_str().unwrap().to_owned();
            subs.push((topic.clone(), uri.clone()));
            return ResponseTemplate::new(200).set_body_json(json!({"data": {"webhookSubscriptionCreate": {"webhookSubscription": {"id": format!("gid://shopify/WebhookSubscription/{}", subs.len()), "topic": topic, "uri": uri}, "userErrors": []}}, "extensions": cost()}));
        }
        let nodes: Vec<Value> = subs
            .iter()
            .enumerate()
            .map(|(i, (t, u))| json!({"id": format!("gid://shopify/WebhookSubscription/{}", i + 1), "topic": t, "uri": u}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"data": {"webhookSubscriptions": {"nodes": nodes, "pageInfo": {"hasNextPage": false, "endCursor": null}}}, "extensions": cost()}))
    }
}

async fn shopify_stand_in() -> (MockServer, Arc<Subscriptions>) {
    let server = MockServer::start().await;
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
            .mount(&server)
            .await;
    }
    let subs = Arc::new(Subscriptions::default());
    struct Shared(Arc<Subscriptions>);
    impl Respond for Shared {
        fn respond(&self, r: &Request) -> ResponseTemplate {
            self.0.respond(r)
        }
    }
    Mock::given(method("POST"))
        .and(path(GQL_PATH))
        .respond_with(Shared(subs.clone()))
        .mount(&server)
        .await;
    (server, subs)
}

fn callback(shop: &str, code: &str, state: &str) -> String {
    let ts = Utc::now().timestamp().to_string();
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

/// One shop's parts as the deployment builds them from its scope.
struct Built {
    stack: Arc<Stack>,
}

struct World {
    tenancy: Arc<Tenancy>,
    installer: ShopifyInstaller,
    sandboxes: HashMap<String, Arc<Sandbox>>,
    built: Arc<Mutex<HashMap<ShopId, Built>>>,
    base: String,
    subs: Arc<Subscriptions>,
    shops: Arc<SqliteShops>,
    _dir: tempfile::TempDir,
    _shopify: MockServer,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let shops = Arc::new(SqliteShops::new(dir.path().join("shops")).unwrap());
    let registry = SqliteRegistry::open(dir.path().join("registry.db"))
        .await
        .unwrap();
    let tenancy = Arc::new(Tenancy::new(
        Arc::new(registry),
        shops.clone(),
        Keyring::new("k1", &[42; 32]).unwrap(),
    ));
    let start = "2026-03-02T10:00:00Z".parse().unwrap();
    let sandboxes: HashMap<String, Arc<Sandbox>> = [SHOP_A, SHOP_B]
        .into_iter()
        .map(|d| {
            (
                d.to_owned(),
                Arc::new(Sandbox::shop_at(d, Secret::from(APP_SECRET), start)),
            )
        })
        .collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let built: Arc<Mutex<HashMap<ShopId, Built>>> = Arc::default();
    let routes = {
        let (sandboxes, built, base, tenancy) = (
            sandboxes.clone(),
            built.clone(),
            base.clone(),
            tenancy.clone(),
        );
        ShopRoutes::new(tenancy.clone(), move |scope: &ShopScope| {
            let sb = sandboxes
                .get(scope.shop().as_str())
                .expect("a simulated shop")
                .clone();
            let public = format!("{base}/shops/{}", scope.shop());
            // The shop's own source: the app secret (Shopify signs with it), bound to this
            // shop's domain; and Aftercare's native events under the shop's own secret.
            let shopify = Arc::new(
                ShopifyWebhooks::new(Secret::from(APP_SECRET)).for_shop(scope.shop().as_str()),
            );
            let native = Arc::new(
                NativeSource::with_verifier(Verifier::new(
                    Scheme::StandardWebhooks,
                    scope.secret(WEBHOOK_SECRET).unwrap().clone(),
                ))
                .for_shop(scope.shop().clone()),
            );
            let stack = Stack::builder(scope.store())
                .platform(PlatformParts::new("shopify", shopify, sb.shop.clone()))
                .source("native", native)
                .handler(Arc::new(Lifecycle::new(
                    tenancy.clone(),
                    scope.shop().clone(),
                    sb.clock.clone(),
                )))
                .channel(sb.channel(ChannelKind::Email).clone())
                .shop_name(scope.shop().as_str())
                .public_url(public)
                .link_key(scope.link_key())
                .without_quiet_hours()
                .clock(sb.clock.clone())
                .build()?;
            let router = stack.router().merge(
                Dashboard::new(
                    Arc::new(StoreReport(scope.store())),
                    Arc::new(Catalogs::new(scope.shop().as_str())),
                    scope.dashboard_key(),
                    "en",
                )
                .into_router(),
            );
            built.lock().unwrap().insert(
                scope.shop().clone(),
                Built {
                    stack: Arc::new(stack),
                },
            );
            Ok(router)
        })
    };
    tokio::spawn(aftercare::http::serve(
        listener,
        routes.into_router(),
        aftercare::http::ServeOptions::default(),
    ));
    let (shopify, subs) = shopify_stand_in().await;
    let installer = ShopifyInstaller::new(
        OAuthApp::new("client-id", APP_SECRET),
        tenancy.clone(),
        format!("{base}/auth/callback"),
        base.clone(),
    )
    .api_base(url::Url::parse(&shopify.uri()).unwrap());
    World {
        tenancy,
        installer,
        sandboxes,
        built,
        base,
        subs,
        shops,
        _dir: dir,
        _shopify: shopify,
    }
}

impl World {
    async fn install(&self, shop: &str, code: &str) -> ShopScope {
        let start = self.installer.begin(shop).unwrap();
        assert!(
            start
                .url
                .as_str()
                .contains(&format!("state={}", start.state))
        );
        let done = self
            .installer
            .complete(
                &callback(shop, code, &start.state),
                Some(&start.state),
                Utc::now(),
            )
            .await
            .unwrap();
        done.installed.scope
    }

    fn stack(&self, shop: &str) -> Arc<Stack> {
        self.built.lock().unwrap()[&ShopId::new(shop)].stack.clone()
    }

    fn url(&self, shop: &str, rest: &str) -> String {
        format!("{}/shops/{shop}/{rest}", self.base)
    }
}

async fn get(url: &str, bearer: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new().get(url);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    req.send().await.unwrap().status().as_u16()
}

fn tracking_link(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.contains("/t/"))
        .unwrap_or_else(|| panic!("no tracking link in {text}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shops_install_receive_send_uninstall_and_erase_without_crossing() {
    let w = world().await;

    // A forged callback, a callback without the browser's `state`, a replay of another
    // browser's `state`: nothing is recorded.
    let start = w.installer.begin(SHOP_A).unwrap();
    let forged = callback(SHOP_A, "code-alpha", &start.state).replace(SHOP_A, "evil.myshopify.com");
    assert!(matches!(
        w.installer
            .complete(&forged, Some(&start.state), Utc::now())
            .await,
        Err(ShopifyError::OAuth(OAuthRejection::Mismatch))
    ));
    for cookie in [None, Some("another-browsers-state"), Some("")] {
        assert!(matches!(
            w.installer
                .complete(
                    &callback(SHOP_A, "code-alpha", &start.state),
                    cookie,
                    Utc::now()
                )
                .await,
            Err(ShopifyError::OAuth(OAuthRejection::StateMismatch))
        ));
    }
    assert!(w.installer.begin("evil.com").is_err());
    assert!(w.tenancy.installed().await.unwrap().is_empty());

    // Install both shops.
    let a = w.install(SHOP_A, "code-alpha").await;
    let b = w.install(SHOP_B, "code-bravo").await;
    assert_eq!(
        a.secret(ACCESS_TOKEN).unwrap().expose(),
        b"shpat_alpha_0000000000000000"
    );
    assert_eq!(
        b.secret(ACCESS_TOKEN).unwrap().expose(),
        b"shpat_bravo_0000000000000000"
    );
    // Each shop's webhooks were subscribed with its own token, to its own route.
    {
        let subs = w.subs.by_token.lock().unwrap();
        for (token, shop) in [
            ("shpat_alpha_0000000000000000", SHOP_A),
            ("shpat_bravo_0000000000000000", SHOP_B),
        ] {
            let mine = &subs[token];
            assert!(mine.iter().any(|(t, _)| t == "APP_UNINSTALLED"));
            assert!(mine.iter().any(|(t, _)| t == "ORDERS_FULFILLED"));
            assert!(
                mine.iter()
                    .all(|(_, u)| *u == w.installer.webhook_uri(shop)),
                "{mine:?}"
            );
        }
    }

    // Webhooks: each shop's shipment through its own route.
    let sa = w.sandboxes[SHOP_A].clone();
    let sb = w.sandboxes[SHOP_B].clone();
    let shipped_a = sa.ship("en-US").unwrap();
    let shipped_b = sb.ship("en-US").unwrap();
    for d in &shipped_a.deliveries {
        assert_eq!(
            sa.sender
                .post(&w.url(SHOP_A, "webhooks/shopify"), d)
                .await
                .unwrap(),
            200
        );
    }
    // Shop a's webhooks posted to shop b's route: the header names another shop, refused
    // before storing.
    for d in &shipped_a.deliveries {
        assert_eq!(
            sa.sender
                .post(&w.url(SHOP_B, "webhooks/shopify"), d)
                .await
                .unwrap(),
            403
        );
    }
    for d in &shipped_b.deliveries {
        assert_eq!(
            sb.sender
                .post(&w.url(SHOP_B, "webhooks/shopify"), d)
                .await
                .unwrap(),
            200
        );
    }
    // A native event signed with shop a's secret, sent to shop b: refused (401); to a: stored.
    let body = br#"{"type":"app_uninstalled","shop":"alpha.myshopify.com"}"#.to_vec();
    let signed = |secret: &Secret| {
        Verifier::new(Scheme::StandardWebhooks, secret.clone())
            .sign_with_id("msg_cross_1", sb.clock.now().timestamp(), &body)
            .iter()
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect::<Vec<(String, String)>>()
    };
    let post_native = |shop: &str, headers: Vec<(String, String)>| {
        let mut req = reqwest::Client::new()
            .post(w.url(shop, "webhooks/native"))
            .body(body.clone());
        for (n, v) in headers {
            req = req.header(n, v);
        }
        req.send()
    };
    let a_signed = signed(a.secret(WEBHOOK_SECRET).unwrap());
    assert_eq!(
        post_native(SHOP_B, a_signed)
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    // Signed with b's own secret but naming shop a: stored, and never acted on (dead
    // letter), so shop b stays installed and shop a is untouched.
    let b_signed = signed(b.secret(WEBHOOK_SECRET).unwrap());
    assert_eq!(
        post_native(SHOP_B, b_signed)
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );

    // Process and send, each shop with its own stack.
    for shop in [SHOP_A, SHOP_B] {
        let stack = w.stack(shop);
        stack.processor().drain().await.unwrap();
        stack.dispatcher().drain().await.unwrap();
    }
    // Shop b's inbox holds only webhooks naming shop b (the refused ones were never
    // stored), plus the native event naming shop a, dead-lettered unread.
    let b_store = b.store();
    let mut stored = 0;
    for id in 1..200 {
        if let Some(e) = b_store.inbox_entry(id).await.unwrap() {
            stored += 1;
            if e.source == "shopify" {
                assert_eq!(e.shop.as_deref(), Some(SHOP_B), "{e:?}");
            }
        }
    }
    assert_eq!(stored, shipped_b.deliveries.len() + 1);
    let dead = b_store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].source, "native");
    // Per-shop health shows it on shop b only.
    let health_a = aftercare::tenancy::ShopHealth::of(&a).await.unwrap();
    let health_b = aftercare::tenancy::ShopHealth::of(&b).await.unwrap();
    assert_eq!(
        (health_a.webhook_dead_letters, health_b.webhook_dead_letters),
        (0, 1)
    );
    let text = aftercare::tenancy::prometheus(&[
        (a.shop().clone(), health_a),
        (b.shop().clone(), health_b),
    ]);
    assert!(text.contains(&format!(
        "aftercare_shop_webhook_dead_letters{{shop=\"{SHOP_B}\"}} 1"
    )));
    assert!(text.contains(&format!(
        "aftercare_shop_webhook_dead_letters{{shop=\"{SHOP_A}\"}} 0"
    )));
    assert!(w.tenancy.scope(&ShopId::new(SHOP_B)).await.is_ok());
    assert!(w.tenancy.scope(&ShopId::new(SHOP_A)).await.is_ok());
    let a_mail = sa.email.sent();
    let b_mail = sb.email.sent();
    assert!(!a_mail.is_empty() && !b_mail.is_empty());
    // Each shop's messages link to its own pages, under its own name.
    let link_a = tracking_link(&a_mail[0].text);
    let link_b = tracking_link(&b_mail[0].text);
    assert!(link_a.starts_with(&w.url(SHOP_A, "t/")), "{link_a}");
    assert!(link_b.starts_with(&w.url(SHOP_B, "t/")), "{link_b}");
    assert!(a_mail.iter().all(|m| !m.text.contains(SHOP_B)));
    assert_eq!(get(&link_a, None).await, 200);
    // Shop a's link token presented at shop b: refused.
    let token_a = link_a.rsplit("/t/").next().unwrap();
    let crossed = w.url(SHOP_B, &format!("t/{token_a}"));
    assert_ne!(get(&crossed, None).await, 200, "{crossed}");

    // Dashboards: each shop's key opens its own only.
    let key_a = String::from_utf8(a.dashboard_key().expose().to_vec()).unwrap();
    let key_b = String::from_utf8(b.dashboard_key().expose().to_vec()).unwrap();
    assert_ne!(key_a, key_b);
    assert_eq!(get(&w.url(SHOP_A, "dashboard"), Some(&key_a)).await, 200);
    assert_eq!(get(&w.url(SHOP_B, "dashboard"), Some(&key_b)).await, 200);
    assert_eq!(get(&w.url(SHOP_B, "dashboard"), Some(&key_a)).await, 401);
    assert_eq!(get(&w.url(SHOP_A, "dashboard"), Some(&key_b)).await, 401);
    // A shop not installed has no routes at all.
    assert_eq!(
        get(&w.url("charlie.myshopify.com", "dashboard"), Some(&key_a)).await,
        404
    );

    // `shop/redact` while installed: held.
    assert!(!w.installer.shop_redact(&ShopId::new(SHOP_A)).await.unwrap());

    // Uninstall shop a through its own `app/uninstalled` webhook.
    let bye = sa.sender.app_uninstalled(&sa.shop);
    assert_eq!(
        sa.sender
            .post(&w.url(SHOP_A, "webhooks/shopify"), &bye)
            .await
            .unwrap(),
        200
    );
    w.stack(SHOP_A).processor().drain().await.unwrap();
    let record = w
        .tenancy
        .record(&ShopId::new(SHOP_A))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ShopStatus::Uninstalled);
    assert!(!record.secrets.contains_key(ACCESS_TOKEN));
    // Its work stops: no routes, no scope; shop b goes on.
    assert_eq!(get(&w.url(SHOP_A, "dashboard"), Some(&key_a)).await, 404);
    assert_eq!(get(&link_a, None).await, 404);
    assert!(w.tenancy.scope(&ShopId::new(SHOP_A)).await.is_err());
    assert_eq!(get(&w.url(SHOP_B, "dashboard"), Some(&key_b)).await, 200);

    // `shop/redact` (48 hours later): shop a's data is gone, shop b's is whole.
    let file_a = w.shops.path_of(&ShopId::new(SHOP_A));
    assert!(file_a.exists());
    assert!(w.installer.shop_redact(&ShopId::new(SHOP_A)).await.unwrap());
    assert!(!file_a.exists());
    let record = w
        .tenancy
        .record(&ShopId::new(SHOP_A))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ShopStatus::Erased);
    assert!(record.secrets.is_empty());
    assert!(w.shops.path_of(&ShopId::new(SHOP_B)).exists());
    let b_sent = b_store.outbox_in(OutboxStatus::Sent, 100).await.unwrap();
    assert_eq!(b_sent.len(), b_mail.len());
    assert_eq!(get(&link_b, None).await, 200);
    // The registry in the database holds no secret in clear.
    let dump = std::fs::read(w._dir.path().join("registry.db")).unwrap();
    let wal = std::fs::read(w._dir.path().join("registry.db-wal")).unwrap_or_default();
    for secret in [
        key_b.as_bytes(),
        b"shpat_bravo_0000000000000000".as_slice(),
        b"shpat_alpha",
    ] {
        assert!(!contains(&dump, secret) && !contains(&wal, secret));
    }
    let reg = SqliteRegistry::open(w._dir.path().join("registry.db"))
        .await
        .unwrap();
    assert_eq!(reg.list().await.unwrap().len(), 2);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
