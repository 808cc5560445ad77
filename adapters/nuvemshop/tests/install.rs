//! Installing on a Nuvemshop store: the code exchange against a stand-in of
//! `https://www.tiendanube.com/apps/authorize/token` shaped as the API documentation's
//! "Authentication" page (dev.nuvemshop.com.br/en/docs/erp-guide/authentication: the request
//! body `client_id`, `client_secret`, `grant_type`, `code` as its curl example; the answer's
//! token and `user_id`, the store's id, as it describes them — the answer's exact example
//! and the `error` body of an expired code are not in the copy read here, so they are
//! shaped as OAuth 2 answers), and `/{store_id}/webhooks` as `resources/webhook.md` shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, Keyring, MemoryRegistry, Tenancy};
use aftercare::webhook::Secret;
use aftercare_nuvemshop::aftercare_events;
use aftercare_nuvemshop::install::NuvemshopInstaller;
use chrono::{TimeZone as _, Utc};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

static DIRS: AtomicU32 = AtomicU32::new(0);

fn tenancy() -> Arc<Tenancy> {
    let dir = std::env::temp_dir().join(format!(
        "aftercare-nuvem-install-{}-{}",
        std::process::id(),
        DIRS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    Arc::new(Tenancy::new(
        Arc::new(MemoryRegistry::default()),
        Arc::new(aftercare_sqlite::SqliteShops::new(dir).unwrap()),
        Keyring::new("k1", &[4u8; 32]).unwrap(),
    ))
}

async fn stand_in() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/apps/authorize/token"))
        .and(body_json(json!({
            "client_id": "123", "client_secret": "abcdef",
            "grant_type": "authorization_code", "code": "xyz"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "61181d08b5a3e4f3f4c1ef2e2d2ef6d1b7d2b0d4",
            "token_type": "bearer",
            "scope": "read_orders,write_orders",
            "user_id": "123456"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/apps/authorize/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The authorization code has expired"
        })))
        .mount(&server)
        .await;
    let bearer = "bearer 61181d08b5a3e4f3f4c1ef2e2d2ef6d1b7d2b0d4";
    Mock::given(method("GET"))
        .and(path("/123456/webhooks"))
        .and(header("authentication", bearer))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/123456/webhooks"))
        .and(header("authentication", bearer))
        .respond_with(|req: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            ResponseTemplate::new(201).set_body_json(json!({
                "id": 101, "event": body["event"], "url": body["url"],
                "created_at": "2026-03-01T12:00:00+0000", "updated_at": "2026-03-01T12:00:00+0000"
            }))
        })
        .mount(&server)
        .await;
    server
}

fn installer(t: Arc<Tenancy>, server: &MockServer) -> NuvemshopInstaller {
    NuvemshopInstaller::new(
        t,
        "123",
        Secret::from("abcdef"),
        "Aftercare (ops@aftercare.example)",
        "https://aftercare.example",
    )
    .token_url(format!("{}/apps/authorize/token", server.uri()))
    .api_base(server.uri().parse().unwrap())
}

#[tokio::test]
async fn the_code_installs_the_store_the_answer_names() {
    let server = stand_in().await;
    let t = tenancy();
    let done = installer(t.clone(), &server)
        .complete("xyz", Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap())
        .await
        .unwrap();
    let shop = ShopId::new("123456");
    assert_eq!(done.installed.scope.shop(), &shop);
    assert_eq!(
        done.installed.scope.secret(ACCESS_TOKEN).unwrap().expose(),
        b"61181d08b5a3e4f3f4c1ef2e2d2ef6d1b7d2b0d4"
    );
    let record = serde_json::to_string(&t.record(&shop).await.unwrap().unwrap()).unwrap();
    assert!(!record.contains("61181d08b5a3e4f3f4c1ef2e2d2ef6d1b7d2b0d4"));
    let posts: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/webhooks"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(posts.len(), aftercare_events().len());
    assert!(posts.iter().any(|p| p["event"] == "app/uninstalled"));
    for p in &posts {
        assert_eq!(
            p["url"],
            "https://aftercare.example/shops/123456/webhooks/nuvemshop"
        );
    }
    assert_eq!(done.hooks.created.len(), aftercare_events().len());
}

#[tokio::test]
async fn an_expired_or_missing_code_records_nothing() {
    let server = stand_in().await;
    let t = tenancy();
    let inst = installer(t.clone(), &server);
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let err = inst.complete("expired", now).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    assert!(inst.complete("", now).await.is_err());
    assert!(t.records().await.unwrap().is_empty());
}
