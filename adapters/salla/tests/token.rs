//! The token lifecycle through the Salla client: refresh once under concurrency with the
//! new refresh token stored (in real SQLite) before use, a refresh after a `401`, a
//! revoked app stopping cleanly, and the app events that install and revoke tokens.

use std::sync::Arc;
use std::time::Duration;

use aftercare::model::OrderId;
use aftercare::platform::OrderSource;
use aftercare::platform::thin::Hydrator;
use aftercare::platform::token::{SnapshotTokens, TokenCipher, TokenSet, TokenStore};
use aftercare::store::InboxEntry;
use aftercare::webhook::{WebhookRequest, WebhookSource};
use aftercare_salla::{SallaApi, SallaHydrator};
use aftercare_sqlite::SqliteStore;
use serde_json::json;

use crate::common::salla::{FakeSalla, State, order_as, start};
use crate::common::{ACCESS, MERCHANT, REFRESH, client, fixture_json, holder, source};

async fn stand_in(revoked: bool) -> (wiremock::MockServer, FakeSalla) {
    start(State {
        orders: [("1001".to_owned(), order_as("1001", chrono::Utc::now()))].into(),
        access: ACCESS.into(),
        refresh: REFRESH.into(),
        revoked,
        refresh_delay: Duration::from_millis(100),
        ..State::default()
    })
    .await
}

fn expired() -> TokenSet {
    TokenSet::new(
        "expired-access",
        Some(REFRESH.into()),
        Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_and_the_new_refresh_token_is_stored_first() {
    let (server, fake) = stand_in(false).await;
    let base = server.uri();
    let sqlite = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let tokens: Arc<dyn TokenStore> = Arc::new(SnapshotTokens::new(sqlite.clone()));
    let cipher = TokenCipher::generate();
    let h = holder(&base, tokens.clone(), cipher.clone());
    h.install(expired()).await.unwrap();
    let api = Arc::new(SallaApi::new(client(&base, h), MERCHANT.into(), "ar"));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move { api.order(&OrderId::from("1001")).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    assert_eq!(fake.state().refreshes, 1, "one refresh for eight callers");
    // A restarted process reads the new set from SQLite: no second refresh (refresh-0 is
    // spent; using it again would be refused).
    let again = holder(&base, tokens, cipher);
    let api = SallaApi::new(client(&base, again.clone()), MERCHANT.into(), "ar");
    assert!(api.order(&OrderId::from("1001")).await.unwrap().is_some());
    assert_eq!(fake.state().refreshes, 1);
    assert_eq!(again.access_token().await.unwrap().expose(), "access-1");
    // The row holds only sealed text.
    let row = aftercare::store::SnapshotStore::snapshot(
        sqlite.as_ref(),
        aftercare::platform::token::SNAPSHOT_KIND,
        &format!("salla:{MERCHANT}"),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!row.data.to_string().contains("refresh-1"));
}

#[tokio::test]
async fn a_refused_access_token_is_refreshed_once_and_the_call_repeated() {
    let (server, fake) = stand_in(false).await;
    let base = server.uri();
    let h = holder(
        &base,
        Arc::new(aftercare::platform::token::MemoryTokens::new()),
        TokenCipher::generate(),
    );
    // Valid by its expiry, but Salla no longer accepts it (revoked by a newer one).
    h.install(TokenSet::new("stale", Some(REFRESH.into()), None))
        .await
        .unwrap();
    let api = SallaApi::new(client(&base, h), MERCHANT.into(), "ar");
    assert!(api.order(&OrderId::from("1001")).await.unwrap().is_some());
    assert_eq!(fake.state().refreshes, 1);
}

#[tokio::test]
async fn a_revoked_app_stops_cleanly_with_a_clear_reason() {
    let (server, fake) = stand_in(true).await;
    let base = server.uri();
    let h = holder(
        &base,
        Arc::new(aftercare::platform::token::MemoryTokens::new()),
        TokenCipher::generate(),
    );
    h.install(expired()).await.unwrap();
    let api = SallaApi::new(client(&base, h), MERCHANT.into(), "ar");
    for _ in 0..3 {
        let e = api.order(&OrderId::from("1001")).await.unwrap_err();
        assert!(!e.is_retryable(), "{e}");
        assert!(e.to_string().contains("revoked"), "{e}");
        assert!(e.to_string().contains("invalid_grant"), "{e}");
    }
    let s = fake.state();
    assert_eq!(s.refreshes, 1, "no retry storm at the token endpoint");
    assert!(
        !s.seen.iter().any(|(_, p)| p.starts_with("/admin/")),
        "no API call without a token"
    );
}

fn entry(body: &[u8]) -> InboxEntry {
    let src = source();
    let v = src
        .verify(&WebhookRequest::new(
            &src.sign_for_test(body),
            body,
            chrono::Utc::now(),
        ))
        .unwrap();
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::from_verified(1, "salla", v, body.to_vec(), now);
        entry.attempts = 1;
        entry
    }
}

#[tokio::test]
async fn authorize_installs_the_tokens_and_uninstall_revokes_them() {
    let (server, fake) = stand_in(false).await;
    let base = server.uri();
    let h = holder(
        &base,
        Arc::new(aftercare::platform::token::MemoryTokens::new()),
        TokenCipher::generate(),
    );
    let hydrator = SallaHydrator::new(Arc::new(source()), h.clone());
    let mut auth = fixture_json("app_store_authorize.json");
    auth["data"]["expires"] = json!((chrono::Utc::now() + chrono::Duration::days(14)).timestamp());
    let events = hydrator
        .hydrate(&entry(&serde_json::to_vec(&auth).unwrap()))
        .await
        .unwrap();
    assert!(events.is_empty());
    assert_eq!(
        h.access_token().await.unwrap().expose(),
        auth["data"]["access_token"].as_str().unwrap()
    );
    // Another store's tokens are refused.
    auth["merchant"] = json!(987654321);
    assert!(
        hydrator
            .hydrate(&entry(&serde_json::to_vec(&auth).unwrap()))
            .await
            .is_err()
    );
    let events = hydrator
        .hydrate(&entry(&crate::common::fixture("app_uninstalled.json")))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let e = h.access_token().await.unwrap_err();
    assert!(e.to_string().contains("uninstalled"), "{e}");
    assert_eq!(fake.state().refreshes, 0);
}
