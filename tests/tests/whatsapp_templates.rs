//! WhatsApp templates are fixed text approved by Meta, without selectors: a missing first
//! name, carrier or tracking number must not reach one as an empty parameter ("Hi ,", and
//! the Cloud API refuses an empty `text` parameter). A shipment without a carrier name
//! crosses the whole pipeline (sandbox Shopify webhooks → HTTP → inbox → tracking flow →
//! dispatcher → the sandbox's WhatsApp channel) and its template carries the customer's
//! language's wording for each missing value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{RenderRequest, Renderer, TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::ChannelKind;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sandbox::{FulfillmentSpec, Sandbox, Topic};
use aftercare_shopify::ShopifyWebhooks;
use aftercare_sqlite::SqliteStore;

const SECRET: &str = "shpss_wa";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_never_gets_an_empty_parameter() {
    let sb = Sandbox::quiet(
        Secret::from(SECRET),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    let clock: Arc<dyn Clock> = sb.clock.clone();
    let store = SqliteStore::open_temporary().await.unwrap();
    let catalogs = Arc::new(Catalogs::new("WA Shop"));
    let shopify = Arc::new(ShopifyWebhooks::new(Secret::from(SECRET)).for_shop(sb.shop.domain()));
    let flow = Arc::new(TrackingFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        Arc::new(store.clone()),
        catalogs.clone(),
        Default::default(),
        TokenSigner::new(Secret::from("k"), "tracking"),
        clock.clone(),
        TrackingSettings::default(),
    ));
    let processor = InboxProcessor::new(
        Arc::new(store.clone()),
        Arc::new(Chain::new().then(flow)),
        clock.clone(),
    )
    .source("shopify", shopify.clone());
    let mut dispatcher = Dispatcher::new(Arc::new(store.clone()), clock.clone())
        .consent_store(Arc::new(store.clone()));
    for ch in sb.channels() {
        dispatcher = dispatcher.channel(ch);
    }
    let app = WebhookRoutes::new(Arc::new(store.clone()), clock.clone())
        .source("shopify", shopify)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));

    // The Arabic demo customer prefers WhatsApp.
    let customer = sb.shop.customer_by_locale("ar-SA").unwrap();
    let order = sb.shop.place_order(customer, &[("ESP-BAR-01", 1)]).unwrap();
    let mut deliveries = vec![
        sb.sender
            .order(&sb.shop, Topic::OrdersCreate, order)
            .unwrap(),
    ];
    sb.clock.advance(chrono::Duration::minutes(1));
    sb.shop.mark_paid(order).unwrap();
    deliveries.push(sb.sender.order(&sb.shop, Topic::OrdersPaid, order).unwrap());
    sb.clock.advance(chrono::Duration::hours(20));
    // A tracking number without a carrier name (a merchant's own courier).
    let mut spec = FulfillmentSpec::default();
    spec.number = Some("LOCAL-4471".to_owned());
    let fulfillment = sb.shop.fulfill(order, spec).unwrap();
    deliveries.push(
        sb.sender
            .fulfillment(&sb.shop, Topic::FulfillmentsCreate, fulfillment)
            .unwrap(),
    );
    deliveries.push(
        sb.sender
            .order(&sb.shop, Topic::OrdersFulfilled, order)
            .unwrap(),
    );
    for d in &deliveries {
        assert_eq!(sb.sender.post(&url, d).await.unwrap(), 200);
    }
    processor.drain().await.unwrap();
    dispatcher.drain().await.unwrap();

    let sent = sb.channel(ChannelKind::Whatsapp).sent();
    let ledger = aftercare::store::Ledger::ledger_for_order(
        &store,
        &aftercare::model::OrderId::new(order.to_string()),
    )
    .await
    .unwrap();
    let dead = aftercare::store::Inbox::dead_letters(&store, 10)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "the shipped message: {ledger:#?} {dead:#?}");
    let t = sent[0].message.template.as_ref().expect("a template");
    assert_eq!(t.body_params.len(), 4, "{t:?}");
    assert!(
        t.body_params.iter().all(|p| !p.trim().is_empty()),
        "no empty parameter: {:?}",
        t.body_params
    );
    let wording = |id: &str| {
        catalogs
            .render(&RenderRequest::new(
                "ar",
                ChannelKind::Whatsapp,
                id,
                Default::default(),
            ))
            .unwrap()
            .text
    };
    assert_eq!(t.body_params[2], wording("whatsapp-no-carrier"), "{t:?}");
    assert_eq!(t.body_params[3], "LOCAL-4471");
    assert_eq!(t.body_params[2], "شركة الشحن");
}
