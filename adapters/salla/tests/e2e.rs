//! End to end: a signed Salla webhook over real HTTP into the sdk's router, the SQLite
//! inbox, the processor with the Salla source and hydrator (tokens from
//! `app.store.authorize`), the tracking flow reading the order and customer from the API
//! stand-in, the dispatcher and an email channel: one tracking message, in Arabic.

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::ChannelKind;
use aftercare::platform::token::{SnapshotTokens, TokenCipher};
use aftercare::store::Inbox;
use aftercare::token::TokenSigner;
use aftercare::webhook::{RawHeaders, Secret};
use aftercare_salla::{SOURCE_NAME, SallaApi, SallaHydrator};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use serde_json::json;

use crate::common::salla::{State, start};
use crate::common::{MERCHANT, client, fixture, fixture_json, holder, source};

async fn post(url: &str, headers: &RawHeaders, body: &[u8]) -> u16 {
    let mut req = reqwest::Client::new().post(url).body(body.to_vec());
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_order_webhook_sends_one_tracking_message_in_arabic() {
    let order = fixture_json("order_created.json")["data"].clone();
    let mut customer = order["customer"].clone();
    customer["updated_at"] = json!("2026-11-01 09:00:00");
    let (server, fake) = start(State {
        orders: [("251729613".to_owned(), order)].into(),
        customers: [("1227534533".to_owned(), customer)].into(),
        access: "KGsnBcNNkR2AgHnrd0U9lCIjrUiukF_-Fb8OjRiEcog.NuZv_mJaB46jA2OHaxxxx".into(),
        refresh: "unused".into(),
        ..State::default()
    })
    .await;
    let base = server.uri();
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new("2026-11-02T08:00:00Z".parse().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let src = Arc::new(source());
    let tokens = holder(
        &base,
        Arc::new(SnapshotTokens::new(store.clone())),
        TokenCipher::generate(),
    );
    let api = SallaApi::new(client(&base, tokens.clone()), MERCHANT.into(), "ar");
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    settings.public_url = "https://example.com/aftercare".into();
    let flow = Arc::new(TrackingFlow::new(
        Arc::new(api.clone()),
        Arc::new(api),
        store.clone(),
        Arc::new(Catalogs::new("متجر المثال")),
        Default::default(),
        TokenSigner::new(Secret::from("tracking-key"), "tracking"),
        dyn_clock.clone(),
        settings,
    ));
    let processor = InboxProcessor::new(
        store.clone(),
        Arc::new(Chain::new().then(flow)),
        dyn_clock.clone(),
    )
    .source(SOURCE_NAME, src.clone())
    .hydrator(
        SOURCE_NAME,
        Arc::new(SallaHydrator::new(src.clone(), tokens)),
    );
    let email = Arc::new(RecordingChannel::new(ChannelKind::Email).with_clock(dyn_clock.clone()));
    let dispatcher = Dispatcher::new(store.clone(), dyn_clock.clone())
        .consent_store(store.clone())
        .channel(email.clone());

    let app = WebhookRoutes::new(store.clone(), dyn_clock)
        .source(SOURCE_NAME, src.clone())
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/webhooks/{SOURCE_NAME}",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The store authorizes the app: its tokens arrive by webhook.
    let mut auth = fixture_json("app_store_authorize.json");
    auth["data"]["expires"] = json!((chrono::Utc::now() + chrono::Duration::days(14)).timestamp());
    let auth = serde_json::to_vec(&auth).unwrap();
    assert_eq!(post(&url, &src.sign_for_test(&auth), &auth).await, 200);

    // The order ships; Salla retries it (same bytes), and a forged copy is refused.
    let body = fixture("order_created.json");
    for _ in 0..2 {
        assert_eq!(post(&url, &src.sign_for_test(&body), &body).await, 200);
    }
    let forged = RawHeaders::from_pairs([("X-Salla-Signature", "00".repeat(32))]);
    assert_eq!(post(&url, &forged, &body).await, 401);
    processor.drain().await.unwrap();
    dispatcher.drain().await.unwrap();

    let sent = email.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m.to, "ahmed@example.com");
    assert!(m.locale.starts_with("ar"), "{}", m.locale);
    assert!(
        m.text
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)),
        "Arabic text: {}",
        m.text
    );
    // Every channel links to the shop's own tracking page (it shows the carrier's link).
    assert!(
        m.text
            .lines()
            .any(|l| l.starts_with("http") && l.contains("/t/")),
        "{}",
        m.text
    );
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    assert!(
        fake.state()
            .seen
            .iter()
            .any(|(_, p)| p == "/admin/v2/orders/251729613"),
        "the order was read with the token the authorize event brought"
    );
}
