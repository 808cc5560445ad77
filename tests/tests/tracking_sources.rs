//! Carrier-tracking sources end to end: a WooCommerce-shaped shop (no carrier events of its
//! own) ships, the shipment is registered with AfterShip (the sandbox's stand-in of its
//! create-tracking API, over HTTP, through `AfterShipClient`), AfterShip's webhooks (signed
//! as documented) cross the router, the inbox and `TrackingSources` into the tracking and
//! feedback flows; and a Shopify shop whose carrier events arrive both from Shopify and from
//! AfterShip gets one message per milestone.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use aftercare::backoff::RetryPolicy;
use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::feedback::{FeedbackFlow, SurveySettings, meta as survey_meta};
use aftercare::flows::tracking::{SupersededPolicy, TrackingFlow, TrackingSettings};
use aftercare::http::WebhookRoutes;
use aftercare::http::tracking::TrackingPage;
use aftercare::inbox::{EventHandler, InboxProcessor};
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, OrderId, Shipment, ShipmentStatus};
use aftercare::platform::OrderSource;
use aftercare::store::SnapshotStore;
use aftercare::store::{Decision, Ledger};
use aftercare::token::TokenSigner;
use aftercare::tracking_source::{
    Registered, Registration, SourceError, StopReason, TrackingRequest, TrackingSource,
    TrackingSources,
};
use aftercare::webhook::{Secret, WebhookSource};
use aftercare_aftership::{AfterShipClient, AfterShipConfig, AfterShipWebhooks};
use aftercare_examples::platform::{DemoPlatform, DemoShop};
use aftercare_sandbox::tracking::{AfterShipSender, TrackingRegistry, aftership_api_router};
use aftercare_sandbox::{CarrierScript, Delivery, Sandbox, SentMessage};
use aftercare_sqlite::SqliteStore;
use chrono::Duration;

const SHOPIFY_SECRET: &str = "shpss_sources_e2e";
const AFTERSHIP_SECRET: &str = "aftership-webhook-secret-e2e";
const AFTERSHIP_KEY: &str = "asat_e2e_key";

struct World {
    sb: Sandbox,
    clock: Arc<ManualClock>,
    store: SqliteStore,
    demo: DemoShop,
    aftership: AfterShipSender,
    registry: TrackingRegistry,
    sources: Arc<TrackingSources>,
    tracking: Arc<TrackingFlow>,
    processor: InboxProcessor,
    dispatcher: Dispatcher,
    base: String,
}

async fn world(platform: DemoPlatform) -> World {
    let sb = Sandbox::quiet(
        Secret::from(SHOPIFY_SECRET),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    let clock = sb.clock.clone();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = SqliteStore::open_temporary().await.unwrap();
    let shared = Arc::new(store.clone());
    let text = Arc::new(Catalogs::new("Sources Shop"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut tracking_settings = TrackingSettings::default();
    tracking_settings.public_url.clone_from(&base);
    let tracking = Arc::new(TrackingFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        shared.clone(),
        text.clone(),
        Default::default(),
        TokenSigner::new(Secret::from("link-key"), "tracking"),
        dyn_clock.clone(),
        tracking_settings,
    ));
    let mut survey = SurveySettings::default();
    survey.public_url.clone_from(&base);
    let feedback = Arc::new(FeedbackFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        shared.clone(),
        text,
        TokenSigner::new(Secret::from("survey-key"), "survey"),
        dyn_clock.clone(),
        survey,
    ));
    let flows: Arc<dyn EventHandler> = Arc::new(Chain::new().then(tracking.clone()).then(feedback));
    let client = AfterShipClient::new(
        AfterShipConfig::new(AFTERSHIP_KEY)
            .base_url(&format!("{base}/tracking/2026-07"))
            .unwrap()
            .retry(RetryPolicy::new(
                StdDuration::from_millis(5),
                StdDuration::from_millis(20),
                2,
            )),
    )
    .unwrap();
    let sources = Arc::new(
        TrackingSources::new(shared.clone(), dyn_clock.clone(), flows)
            .register_with(Arc::new(client)),
    );
    let demo = DemoShop::new(platform, SHOPIFY_SECRET, sb.shop.domain()).unwrap();
    let hooks: Arc<dyn WebhookSource> =
        Arc::new(AfterShipWebhooks::new(Secret::from(AFTERSHIP_SECRET)));
    let processor = InboxProcessor::new(shared.clone(), sources.clone(), dyn_clock.clone())
        .source(demo.name(), demo.source())
        .source("aftership", hooks.clone());
    let mut dispatcher = Dispatcher::new(shared.clone(), dyn_clock.clone())
        .consent_store(shared.clone())
        .policy(Arc::new(SupersededPolicy::new(shared.clone())));
    for ch in sb.channels() {
        dispatcher = dispatcher.channel(ch);
    }
    let registry = TrackingRegistry::default();
    let app = WebhookRoutes::new(shared, dyn_clock)
        .source(demo.name(), demo.source())
        .source("aftership", hooks)
        .into_router()
        .merge(aftership_api_router(registry.clone(), AFTERSHIP_KEY))
        .merge(
            TrackingPage::new(
                sb.shop.clone(),
                TokenSigner::new(Secret::from("link-key"), "tracking"),
                Arc::new(Catalogs::new("Sources Shop")),
                clock.clone(),
            )
            .shipments_from(Arc::new(store.clone()))
            .into_router(),
        );
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));
    World {
        sb,
        clock,
        store,
        demo,
        aftership: AfterShipSender::new(Secret::from(AFTERSHIP_SECRET)),
        registry,
        sources,
        tracking,
        processor,
        dispatcher,
        base,
    }
}

impl World {
    async fn settle(&self) {
        self.processor.drain().await.unwrap();
        self.dispatcher.drain().await.unwrap();
    }

    /// The shop's own webhooks, as its platform sends them (WooCommerce: none for the carrier).
    async fn shop_sends(&self, ds: &[Delivery]) {
        let url = format!("{}/webhooks/{}", self.base, self.demo.name());
        for d in self.demo.translate(&self.sb.shop, ds.to_vec()) {
            assert_eq!(self.sb.sender.post(&url, &d).await.unwrap(), 200);
        }
    }

    /// AfterShip's webhooks for the carrier updates among `ds`.
    async fn aftership_sends(&self, ds: &[Delivery]) {
        let url = format!("{}/webhooks/aftership", self.base);
        for d in ds
            .iter()
            .filter_map(|d| self.aftership.translate(&self.sb.shop, d))
        {
            assert_eq!(self.sb.sender.post(&url, &d).await.unwrap(), 200);
        }
    }

    fn sent(&self, order: u64) -> Vec<SentMessage> {
        [ChannelKind::Whatsapp, ChannelKind::Sms, ChannelKind::Email]
            .into_iter()
            .flat_map(|k| self.sb.channel(k).sent())
            .filter(|m| m.message.order_id == Some(OrderId::new(order.to_string())))
            .collect()
    }

    fn milestones(&self, order: u64) -> Vec<String> {
        self.sent(order)
            .iter()
            .filter_map(|m| m.message.meta.get("milestone").cloned())
            .collect()
    }

    fn surveys(&self, order: u64) -> usize {
        self.sent(order)
            .iter()
            .filter(|m| {
                m.message.meta.get(survey_meta::ROLE).map(String::as_str) == Some("after_delivery")
            })
            .count()
    }

    async fn ledger(&self, order: u64) -> Vec<(Decision, String)> {
        self.store
            .ledger_for_order(&OrderId::new(order.to_string()))
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.decision, e.reason))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_woocommerce_order_gets_the_whole_story_from_aftership() {
    let w = world(DemoPlatform::Woocommerce).await;
    let shipped = w.sb.ship("en-US").unwrap();
    w.shop_sends(&shipped.deliveries).await;
    w.settle().await;
    assert_eq!(w.milestones(shipped.order), ["shipped"]);
    // Registered once, over HTTP, with the order and the carrier's slug.
    let regs = w.registry.registered();
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0].1.as_deref(), Some("ups"));
    assert_eq!(
        regs[0].2.as_deref(),
        Some(shipped.order.to_string().as_str())
    );

    let mut scenario = w.sb.scenario(
        shipped.fulfillment,
        CarrierScript::failed_attempt_then_redelivery().duplicate(3),
    );
    let mut delivered_at = None;
    while let Some(step) = scenario.next_step().unwrap() {
        // WooCommerce says nothing of the carrier; AfterShip does (a step twice: a retry).
        w.shop_sends(&step.deliveries).await;
        w.aftership_sends(&step.deliveries).await;
        w.settle().await;
        delivered_at = Some(step.at);
    }
    assert_eq!(
        w.milestones(shipped.order),
        [
            "shipped",
            "out_for_delivery",
            "attempted_delivery",
            "delivered"
        ],
        "one message per milestone; the second out-for-delivery is not news"
    );
    // The carrier's own words are in the failed-attempt message.
    let attempt = w
        .sent(shipped.order)
        .into_iter()
        .find(|m| m.message.meta.get("milestone").map(String::as_str) == Some("attempted_delivery"))
        .unwrap();
    assert!(
        attempt.text.contains("recipient not available"),
        "{}",
        attempt.text
    );
    // The ledger says who reported each milestone.
    let ledger = w.ledger(shipped.order).await;
    assert!(
        ledger.iter().any(|(d, r)| *d == Decision::Enqueued
            && r.contains("reached delivered (reported by aftership)")),
        "{ledger:#?}"
    );
    // Tracking stopped on delivery.
    let number = regs[0].0.clone();
    let reg = w
        .sources
        .registration("aftership", &number)
        .await
        .unwrap()
        .unwrap();
    assert!(reg.stopped.is_some(), "{reg:?}");
    // The survey follows AfterShip's delivery, on the usual schedule.
    let due = delivered_at.unwrap() + Duration::days(3);
    w.clock.advance(due - w.clock.now() - Duration::minutes(1));
    w.settle().await;
    assert_eq!(w.surveys(shipped.order), 0);
    w.clock.advance(Duration::minutes(2));
    w.settle().await;
    assert_eq!(w.surveys(shipped.order), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_milestone_from_shopify_and_from_aftership_is_one_message() {
    let w = world(DemoPlatform::Shopify).await;
    let shipped = w.sb.ship("en-US").unwrap();
    w.shop_sends(&shipped.deliveries).await;
    w.settle().await;
    let mut scenario =
        w.sb.scenario(shipped.fulfillment, CarrierScript::happy_path());
    let mut flip = false;
    while let Some(step) = scenario.next_step().unwrap() {
        // Both report every step, in either order.
        if flip {
            w.aftership_sends(&step.deliveries).await;
            w.shop_sends(&step.deliveries).await;
        } else {
            w.shop_sends(&step.deliveries).await;
            w.aftership_sends(&step.deliveries).await;
        }
        flip = !flip;
        w.settle().await;
    }
    assert_eq!(
        w.milestones(shipped.order),
        ["shipped", "out_for_delivery", "delivered"]
    );
}

/// A source that is over its quota once, then registers; counts its calls.
#[derive(Default)]
struct Flaky(std::sync::Mutex<u32>);

#[async_trait::async_trait]
impl TrackingSource for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }
    async fn register(&self, _: &TrackingRequest) -> Result<Registered, SourceError> {
        let mut n = self.0.lock().unwrap();
        *n += 1;
        if *n == 1 {
            return Err(SourceError::Quota {
                retry_after: Some(StdDuration::from_secs(600)),
                message: "monthly quota used up".into(),
            });
        }
        Ok(Registered::new(Some("t1".into())))
    }
    async fn stop(&self, _: &Registration, _: &StopReason) -> Result<(), SourceError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_quota_error_backs_registrations_off_and_the_inbox_retries_them_once() {
    let clock = Arc::new(ManualClock::new("2026-03-02T06:00:00Z".parse().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = SqliteStore::open_temporary().await.unwrap();
    let flaky = Arc::new(Flaky::default());
    let sources = TrackingSources::new(Arc::new(store.clone()), dyn_clock, Arc::new(Chain::new()))
        .register_with(flaky.clone());
    let mut s = Shipment::new("f1", "o1", ShipmentStatus::InTransit);
    s.tracking_numbers = vec!["1Z5R89390357567127".into()];
    let mut entry =
        aftercare::store::InboxEntry::new(1, "woocommerce", "k", b"{}".to_vec(), clock.now());
    entry.attempts = 1;
    let ev = || {
        vec![aftercare::model::PlatformEvent::ShipmentCreated {
            shipment: s.clone(),
        }]
    };
    // Over quota: the entry is to be retried, the ledger says why and until when.
    assert!(sources.handle(&entry, ev()).await.is_err());
    let rows = store.ledger_for_order(&OrderId::new("o1")).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.decision == Decision::Deferred && r.reason.contains("quota")),
        "{rows:?}"
    );
    // A retry before the pause ends does not call the source again.
    clock.advance(Duration::minutes(5));
    assert!(sources.handle(&entry, ev()).await.is_err());
    assert_eq!(*flaky.0.lock().unwrap(), 1);
    // After it, the registration goes through, once however often the entry comes back.
    clock.advance(Duration::minutes(6));
    sources.handle(&entry, ev()).await.unwrap();
    sources.handle(&entry, ev()).await.unwrap();
    assert_eq!(*flaky.0.lock().unwrap(), 2);
    let reg = sources
        .registration("flaky", "1Z5R89390357567127")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reg.registered.reference.as_deref(), Some("t1"));
    // Sixty days on, the sweep stops it.
    clock.advance(Duration::days(61));
    assert_eq!(sources.sweep().await.unwrap(), 1);
    assert_eq!(sources.sweep().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_shop_never_takes_the_shipment_backwards() {
    let w = world(DemoPlatform::Shopify).await;
    let shipped = w.sb.ship("en-US").unwrap();
    w.shop_sends(&shipped.deliveries).await;
    w.settle().await;
    let mut scenario =
        w.sb.scenario(shipped.fulfillment, CarrierScript::happy_path());
    let mut ofd = None;
    // Only AfterShip reports the carrier's steps...
    while let Some(step) = scenario.next_step().unwrap() {
        if step.milestone == aftercare_sandbox::Milestone::OutForDelivery {
            ofd = step.deliveries.first().cloned();
        }
        w.aftership_sends(&step.deliveries).await;
        w.settle().await;
    }
    // ...and Shopify's "out for delivery" comes in late, stamped after the delivery.
    let mut body = ofd.unwrap().json();
    body["updated_at"] = (w.clock.now() + Duration::minutes(30)).to_rfc3339().into();
    let late = w.sb.sender.sign(
        aftercare_sandbox::Topic::FulfillmentsUpdate,
        w.sb.shop.domain(),
        serde_json::to_vec(&body).unwrap(),
        w.clock.now(),
    );
    assert_eq!(
        w.sb.sender
            .post(&format!("{}/webhooks/shopify", w.base), &late)
            .await
            .unwrap(),
        200
    );
    w.settle().await;
    let snap = w
        .store
        .snapshot("shipment", &shipped.fulfillment.to_string())
        .await
        .unwrap()
        .unwrap();
    let s: Shipment = serde_json::from_value(snap.data).unwrap();
    assert_eq!(
        s.status,
        ShipmentStatus::Delivered,
        "the history went backwards"
    );
    assert_eq!(
        w.milestones(shipped.order),
        ["shipped", "out_for_delivery", "delivered"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_page_shows_the_carriers_words_and_the_pickup_point() {
    let w = world(DemoPlatform::Woocommerce).await;
    let shipped = w.sb.ship("en-US").unwrap();
    w.shop_sends(&shipped.deliveries).await;
    w.settle().await;
    let script = CarrierScript::new()
        .step(Duration::zero(), aftercare_sandbox::Milestone::InTransit)
        .step(Duration::hours(20), aftercare_sandbox::Milestone::Delayed)
        .step(
            Duration::days(1),
            aftercare_sandbox::Milestone::ReadyForPickup,
        );
    let mut scenario = w.sb.scenario(shipped.fulfillment, script);
    while let Some(step) = scenario.next_step().unwrap() {
        w.aftership_sends(&step.deliveries).await;
        w.settle().await;
    }
    // WooCommerce names the shipment its own way; the page is for that shipment.
    let number = w.registry.registered()[0].0.clone();
    let reg = w
        .sources
        .registration("aftership", &number)
        .await
        .unwrap()
        .unwrap();
    let id = OrderId::new(shipped.order.to_string());
    let order = w.sb.shop.order(&id).await.unwrap().unwrap();
    let shipment = Shipment::new(
        reg.request.shipment_id.clone(),
        id,
        ShipmentStatus::InTransit,
    );
    let page = reqwest::get(w.tracking.page_url(&order, &shipment))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Delayed: severe weather in the area"),
        "{page}"
    );
    assert!(page.contains("Pickup point"), "{page}");
    assert!(page.contains("Service point"), "{page}");
    // The messages say it too: the delay's reason, and where to collect the parcel.
    let texts: Vec<String> = w.sent(shipped.order).into_iter().map(|m| m.text).collect();
    assert!(
        texts.iter().any(|t| t.contains("severe weather")),
        "{texts:#?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("Service point")),
        "{texts:#?}"
    );
}
