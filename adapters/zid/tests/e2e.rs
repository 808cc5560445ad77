//! End to end: a Basic-authenticated Zid order webhook over real HTTP into the sdk's
//! router, the SQLite inbox, the processor, the tracking flow reading the order and the
//! customer from the Merchant API stand-in, the dispatcher and an email channel: one
//! tracking message, in Arabic.

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::ChannelKind;
use aftercare::store::Inbox;
use aftercare::token::TokenSigner;
use aftercare::webhook::{RawHeaders, Secret};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;

use crate::common::zid::{State, start};
use crate::common::{MANAGER, REFRESH, api, credentials, fixture, fixture_json, source};

async fn post(url: &str, headers: &RawHeaders, body: &[u8]) -> u16 {
    let mut req = reqwest::Client::new().post(url).body(body.to_vec());
    for (n, v) in headers.iter() {
        req = req.header(n, v);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_basic_authenticated_order_webhook_sends_one_tracking_message_in_arabic() {
    let order = fixture_json("order_indelivery.json");
    let (server, fake) = start(State {
        orders: [("25304285".to_owned(), order.clone())].into(),
        customers: [("2083543".to_owned(), order["customer"].clone())].into(),
        manager: MANAGER.into(),
        refresh: REFRESH.into(),
        ..State::default()
    })
    .await;
    let api = api(&server.uri()).await;
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let clock = Arc::new(ManualClock::new("2026-11-03T07:00:00Z".parse().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let src = Arc::new(source());
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    settings.public_url = "https://example.com/aftercare".into();
    let flow = Arc::new(TrackingFlow::new(
        Arc::new(api.clone()),
        Arc::new(api),
        store.clone(),
        Arc::new(Catalogs::new("متجر العود")),
        Default::default(),
        TokenSigner::new(Secret::from("tracking-key"), "tracking"),
        dyn_clock.clone(),
        settings,
    ));
    let name = "zid-7f3a9c"; // the secret path segment
    let processor = InboxProcessor::new(
        store.clone(),
        Arc::new(Chain::new().then(flow)),
        dyn_clock.clone(),
    )
    .source(name, src.clone());
    let email = Arc::new(RecordingChannel::new(ChannelKind::Email).with_clock(dyn_clock.clone()));
    let dispatcher = Dispatcher::new(store.clone(), dyn_clock.clone())
        .consent_store(store.clone())
        .channel(email.clone());
    let app = WebhookRoutes::new(store.clone(), dyn_clock)
        .source(name, src.clone())
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/{name}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let body = fixture("order_indelivery.json");
    // Delivered by two subscriptions (order.create is conditionless, order.status.update).
    for _ in 0..2 {
        assert_eq!(post(&url, &src.sign_for_test(), &body).await, 200);
    }
    // Another store's credentials, no credentials, and the wrong URL are refused.
    let other = RawHeaders::from_pairs([("Authorization", credentials("3").header_value())]);
    assert_eq!(post(&url, &other, &body).await, 401);
    assert_eq!(post(&url, &RawHeaders::default(), &body).await, 400);
    let guessed = url.replace(name, "zid");
    assert_eq!(post(&guessed, &src.sign_for_test(), &body).await, 404);
    processor.drain().await.unwrap();
    dispatcher.drain().await.unwrap();

    let sent = email.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m.to, "sara@example.com");
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
            .any(|(_, p)| p == "/v1/managers/store/orders/25304285/view"),
        "the order was read from the API"
    );
}
