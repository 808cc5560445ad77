//! Installing on a WooCommerce store through the application authentication endpoint: the
//! authorize URL as the REST API docs show it ("Auto generating API keys using our
//! Application Authentication Endpoint": `app_name`, `scope`, `user_id`, `return_url`,
//! `callback_url`), the keys posted as `WC_Auth::create_keys` builds them, and a stand-in
//! of `/wp-json/wc/v3/webhooks` shaped as the REST API docs' "Webhooks" section (create,
//! list, update; `401 woocommerce_rest_authentication_error` for keys the site did not
//! issue).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Keyring, MemoryRegistry, Tenancy, WEBHOOK_SECRET};
use aftercare::webhook::Secret;
use aftercare_woocommerce::install::{CONSUMER_SECRET, INSTALL_TOPICS, WooInstaller};
use base64::Engine as _;
use chrono::{TimeZone as _, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SITE: &str = "https://shop.example/";
const CK: &str = "ck_0123456789abcdef0123456789abcdef01234567";
const CS: &str = "cs_0123456789abcdef0123456789abcdef01234567";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

static DIRS: AtomicU32 = AtomicU32::new(0);

fn tenancy() -> Arc<Tenancy> {
    let dir = std::env::temp_dir().join(format!(
        "aftercare-woo-install-{}-{}",
        std::process::id(),
        DIRS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Arc::new(Tenancy::new(
        Arc::new(MemoryRegistry::default()),
        Arc::new(aftercare_sqlite::SqliteShops::new(dir).unwrap()),
        Keyring::new("k1", &[8u8; 32]).unwrap(),
    ))
}

fn installer(t: Arc<Tenancy>, server: &MockServer) -> WooInstaller {
    WooInstaller::new(
        t,
        "Aftercare",
        Secret::from("install-signing-key-0123456789abcdef"),
        "https://aftercare.example/woocommerce/keys",
        "https://aftercare.example/woocommerce/done",
        "https://aftercare.example",
    )
    .api_base(server.uri().parse().unwrap())
}

/// The webhooks route for the keys `CK`/`CS` only (HTTP Basic, as the adapter sends them).
async fn webhooks_api(server: &MockServer) {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CK}:{CS}"))
    );
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/webhooks"))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/wp-json/wc/v3/webhooks"))
        .and(header("authorization", basic.as_str()))
        .respond_with(|req: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(201).set_body_json(json!({
                "id": 142, "name": body["name"], "status": "active", "topic": body["topic"],
                "resource": "order", "event": "created", "hooks": ["woocommerce_new_order"],
                "delivery_url": body["delivery_url"], "date_created": "2026-03-01T12:00:00",
                "date_created_gmt": "2026-03-01T12:00:00", "date_modified": null,
                "date_modified_gmt": null
            }))
        })
        .mount(server)
        .await;
    Mock::given(path("/wp-json/wc/v3/webhooks"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": "woocommerce_rest_authentication_error",
            "message": "Consumer key is invalid.",
            "data": {"status": 401}
        })))
        .mount(server)
        .await;
}

fn user_id_of(url: &url::Url) -> String {
    url.query_pairs()
        .find(|(k, _)| k == "user_id")
        .unwrap()
        .1
        .into_owned()
}

fn keys(user_id: &str, ck: &str, perms: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "key_id": 1, "user_id": user_id, "consumer_key": ck,
        "consumer_secret": CS, "key_permissions": perms
    }))
    .unwrap()
}

#[tokio::test]
async fn the_authorize_url_carries_the_documented_parameters() {
    let server = MockServer::start().await;
    let inst = installer(tenancy(), &server);
    let url = inst.begin("https://shop.example", now()).unwrap();
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        "https://shop.example/wc-auth/v1/authorize"
    );
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["app_name"], "Aftercare");
    assert_eq!(q["scope"], "read_write");
    assert_eq!(
        q["return_url"],
        "https://aftercare.example/woocommerce/done"
    );
    assert_eq!(
        q["callback_url"],
        "https://aftercare.example/woocommerce/keys"
    );
    // Two installs never share a user_id.
    assert_ne!(q["user_id"], user_id_of(&inst.begin(SITE, now()).unwrap()));
}

#[tokio::test]
async fn the_posted_keys_install_the_store_bound_by_our_user_id() {
    let server = MockServer::start().await;
    webhooks_api(&server).await;
    let t = tenancy();
    let inst = installer(t.clone(), &server);
    let user_id = user_id_of(&inst.begin(SITE, now()).unwrap());
    let done = inst
        .complete(
            &keys(&user_id, CK, "read_write"),
            now() + chrono::Duration::minutes(5),
        )
        .await
        .unwrap();
    let shop = ShopId::new(SITE);
    assert_eq!(done.installed.scope.shop(), &shop);
    assert_eq!(done.created.len(), INSTALL_TOPICS.len());
    let scope = t.scope(&shop).await.unwrap();
    assert_eq!(scope.secret(ACCESS_TOKEN).unwrap().expose(), CK.as_bytes());
    assert_eq!(
        scope.secret(CONSUMER_SECRET).unwrap().expose(),
        CS.as_bytes()
    );
    // Every hook carries the secret recorded for the shop and goes to its own route.
    let secret =
        String::from_utf8(scope.secret(WEBHOOK_SECRET).unwrap().expose().to_vec()).unwrap();
    let posts: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(posts.len(), INSTALL_TOPICS.len());
    for p in &posts {
        assert_eq!(p["secret"], secret.as_str());
        assert_eq!(
            p["delivery_url"],
            "https://aftercare.example/shops/https%3A%2F%2Fshop.example%2F/webhooks/woocommerce"
        );
    }
    // Sealed at rest.
    let record = serde_json::to_string(&t.record(&shop).await.unwrap().unwrap()).unwrap();
    assert!(!record.contains(CK) && !record.contains(CS) && !record.contains(&secret));
}

#[tokio::test]
async fn forged_expired_or_weak_posts_record_nothing() {
    let server = MockServer::start().await;
    webhooks_api(&server).await;
    let t = tenancy();
    let inst = installer(t.clone(), &server);
    let user_id = user_id_of(&inst.begin(SITE, now()).unwrap());
    // A user_id we never issued (or another deployment's).
    let other = WooInstaller::new(
        t.clone(),
        "Aftercare",
        Secret::from("another-deployments-key-0123456789"),
        "https://x.example/k",
        "https://x.example/d",
        "https://x.example",
    );
    let foreign = user_id_of(&other.begin(SITE, now()).unwrap());
    for (body, when) in [
        (keys(&foreign, CK, "read_write"), now()),
        (keys("123", CK, "read_write"), now()),
        // Ours, but past the install window.
        (
            keys(&user_id, CK, "read_write"),
            now() + chrono::Duration::hours(2),
        ),
        // Read-only keys.
        (keys(&user_id, CK, "read"), now()),
        // Keys the site did not issue: the webhooks route refuses them.
        (keys(&user_id, "ck_forged", "read_write"), now()),
    ] {
        assert!(inst.complete(&body, when).await.is_err());
    }
    assert!(t.records().await.unwrap().is_empty());
    assert!(inst.complete(b"not json", now()).await.is_err());
}
