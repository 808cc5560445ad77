//! Tracking-link sharing end to end: the sandbox shop signs Shopify webhooks, they cross
//! real HTTP into the router, the SQLite inbox, the Shopify decoder, the tracking flow, the
//! outbox and the dispatcher with its policies, and reach the sandbox's recording channels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{
    QuietHoursPolicy, SupersededPolicy, TrackingFlow, TrackingSettings,
};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, ConsentState, OrderId};
use aftercare::store::{ConsentRecord, ConsentStore, Decision, Ledger};
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sandbox::{CarrierScript, Delivery, Sandbox};
use aftercare_shopify::ShopifyWebhooks;
use aftercare_sqlite::SqliteStore;
use chrono::NaiveTime;

const SECRET: &str = "shpss_e2e";

struct World {
    sb: Sandbox,
    flow: Arc<TrackingFlow>,
    clock: Arc<ManualClock>,
    store: SqliteStore,
    processor: InboxProcessor,
    dispatcher: Dispatcher,
    url: String,
}

async fn world(uow: bool, start: &str, quiet: bool) -> World {
    let sb = Sandbox::quiet(Secret::from(SECRET), start.parse().unwrap());
    let clock = sb.clock.clone();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = SqliteStore::open_temporary().await.unwrap();
    let shopify = Arc::new(ShopifyWebhooks::new(Secret::from(SECRET)).for_shop(sb.shop.domain()));
    let flow = Arc::new(TrackingFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        Arc::new(store.clone()),
        Arc::new(Catalogs::new("E2E Shop")),
        Default::default(),
        TokenSigner::new(Secret::from("k"), "tracking"),
        dyn_clock.clone(),
        TrackingSettings::default(),
    ));
    let mut processor = InboxProcessor::new(
        Arc::new(store.clone()),
        Arc::new(Chain::new().then(flow.clone())),
        dyn_clock.clone(),
    )
    .source("shopify", shopify.clone());
    if uow {
        // Each batch as a unit of work: read ahead, staged, committed with its completion.
        processor = processor.unit_of_work(Arc::new(store.clone()));
    }
    let mut dispatcher = Dispatcher::new(Arc::new(store.clone()), dyn_clock.clone())
        .consent_store(Arc::new(store.clone()))
        .policy(Arc::new(SupersededPolicy::new(Arc::new(store.clone()))));
    if quiet {
        dispatcher = dispatcher.policy(Arc::new(QuietHoursPolicy::new(
            NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            chrono_tz::UTC,
        )));
    }
    for ch in sb.channels() {
        dispatcher = dispatcher.channel(ch);
    }
    let app = WebhookRoutes::new(Arc::new(store.clone()), dyn_clock)
        .source("shopify", shopify)
        .into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));
    World {
        sb,
        flow,
        clock,
        store,
        processor,
        dispatcher,
        url,
    }
}

impl World {
    async fn deliver(&self, ds: &[Delivery]) {
        for d in ds {
            assert_eq!(
                self.sb.sender.post(&self.url, d).await.unwrap(),
                200,
                "the webhook is acknowledged"
            );
        }
        self.processor.drain().await.unwrap();
        self.dispatcher.drain().await.unwrap();
    }

    /// The milestones sent on a channel, in order.
    fn sent(&self, kind: ChannelKind) -> Vec<String> {
        self.sb
            .channel(kind)
            .sent()
            .iter()
            .map(|m| m.message.meta.get("milestone").cloned().unwrap_or_default())
            .collect()
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

async fn duplicates_and_out_of_order_milestones_produce_exactly_the_right_messages(uow: bool) {
    // Riyadh daytime throughout, no quiet hours: only dedupe and ordering matter.
    let w = world(uow, "2026-03-02T06:00:00Z", false).await;
    let shipped = w.sb.ship("ar-SA").unwrap();
    w.deliver(&shipped.deliveries).await;
    assert_eq!(
        w.sent(ChannelKind::Whatsapp),
        vec!["shipped"],
        "the tracking link goes out when the order ships"
    );
    // Step 2 (in transit) is delivered twice; step 3 (out for delivery) arrives after step 4.
    let mut scenario = w.sb.scenario(
        shipped.fulfillment,
        CarrierScript::failed_attempt_then_redelivery()
            .duplicate(2)
            .deliver_late(3, 4),
    );
    while let Some(step) = scenario.next_step().unwrap() {
        w.deliver(&step.deliveries).await;
    }
    assert_eq!(
        w.sent(ChannelKind::Whatsapp),
        vec![
            "shipped",
            "attempted_delivery",
            "out_for_delivery",
            "delivered"
        ],
        "each milestone once; the late out-for-delivery is not sent, the redelivery is"
    );
    assert!(
        w.sent(ChannelKind::Sms).is_empty() && w.sent(ChannelKind::Email).is_empty(),
        "one channel: the preferred one"
    );
    let texts: Vec<String> =
        w.sb.channel(ChannelKind::Whatsapp)
            .sent()
            .iter()
            .map(|m| m.text.clone())
            .collect();
    assert!(
        texts[0].contains("تم شحن طلبك"),
        "Arabic text: {}",
        texts[0]
    );
    assert!(
        texts[0].lines().any(|l| l.contains("/t/")),
        "the shop's tracking page link: {}",
        texts[0]
    );
    let ledger = w.ledger(shipped.order).await;
    assert!(
        ledger
            .iter()
            .any(|(d, r)| *d == Decision::Skipped && r.contains("arrived out of order")),
        "{ledger:?}"
    );
    assert_eq!(
        ledger
            .iter()
            .filter(|(d, _)| *d == Decision::Enqueued)
            .count(),
        4,
        "repeated scans and the duplicate delivery enqueue nothing more: {ledger:?}"
    );
    // The same webhooks again change nothing.
    w.deliver(&shipped.deliveries).await;
    assert_eq!(w.sent(ChannelKind::Whatsapp).len(), 4);
}

async fn quiet_hours_defer_and_later_send_and_a_superseded_milestone_is_skipped(uow: bool) {
    // 18:00 UTC = 21:00 in Riyadh: quiet until 08:00 local (05:00 UTC).
    let w = world(uow, "2026-03-02T17:00:00Z", true).await;
    let shipped = w.sb.ship("ar-SA").unwrap(); // ships 20 h later: 13:01 UTC, 16:01 local
    w.deliver(&shipped.deliveries).await;
    assert_eq!(
        w.sent(ChannelKind::Whatsapp),
        vec!["shipped"],
        "daytime: sent at once"
    );
    w.clock.set("2026-03-03T19:30:00Z".parse().unwrap()); // 22:30 local
    let fulfillment = shipped.fulfillment;
    let mut s = w.sb.scenario(
        fulfillment,
        CarrierScript::new().step(
            chrono::Duration::zero(),
            aftercare_sandbox::Milestone::OutForDelivery,
        ),
    );
    w.deliver(&s.next_step().unwrap().unwrap().deliveries).await;
    assert_eq!(
        w.sent(ChannelKind::Whatsapp).len(),
        1,
        "out for delivery at 22:30 local waits"
    );
    let ledger = w.ledger(shipped.order).await;
    assert!(
        ledger
            .iter()
            .any(|(d, r)| *d == Decision::Deferred && r.contains("quiet hours in Asia/Riyadh")),
        "{ledger:?}"
    );
    w.clock.set("2026-03-04T05:00:00Z".parse().unwrap()); // 08:00 local
    w.dispatcher.drain().await.unwrap();
    assert_eq!(
        w.sent(ChannelKind::Whatsapp),
        vec!["shipped", "out_for_delivery"],
        "deferred, not dropped"
    );

    // Another order: out for delivery at night, delivered before the morning.
    let w2 = world(uow, "2026-03-02T14:00:00Z", true).await; // ships at 13:01 local
    let shipped = w2.sb.ship("ar-SA").unwrap();
    w2.deliver(&shipped.deliveries).await;
    w2.clock.set("2026-03-03T20:00:00Z".parse().unwrap()); // 23:00 local
    let mut s = w2.sb.scenario(
        shipped.fulfillment,
        CarrierScript::new()
            .step(
                chrono::Duration::zero(),
                aftercare_sandbox::Milestone::OutForDelivery,
            )
            .step(
                chrono::Duration::hours(1),
                aftercare_sandbox::Milestone::Delivered,
            ),
    );
    while let Some(step) = s.next_step().unwrap() {
        w2.deliver(&step.deliveries).await;
    }
    w2.clock.set("2026-03-04T05:00:00Z".parse().unwrap());
    w2.dispatcher.drain().await.unwrap();
    assert_eq!(
        w2.sent(ChannelKind::Whatsapp),
        vec!["shipped", "delivered"],
        "the stale out-for-delivery is not sent"
    );
    let ledger = w2.ledger(shipped.order).await;
    assert!(
        ledger
            .iter()
            .any(|(d, r)| *d == Decision::Skipped && r.contains("superseded")),
        "{ledger:?}"
    );
}

async fn opt_outs_are_respected_with_fallback_and_a_reason(uow: bool) {
    let w = world(uow, "2026-03-02T06:00:00Z", false).await;
    let customer = w.sb.shop.customer_by_locale("tr-TR").unwrap();
    let phone = w.sb.shop.customer_record(customer).unwrap().phone.unwrap();
    // The customer replied STOP on WhatsApp: every purpose, that channel.
    w.store
        .set_consent(ConsentRecord::new(
            ChannelKind::Whatsapp,
            &phone,
            None,
            ConsentState::Denied,
            "reply:DUR",
            w.clock.now(),
        ))
        .await
        .unwrap();
    let shipped = w.sb.ship("tr-TR").unwrap();
    w.deliver(&shipped.deliveries).await;
    assert!(
        w.sent(ChannelKind::Whatsapp).is_empty(),
        "no WhatsApp after STOP"
    );
    assert!(
        w.sent(ChannelKind::Sms).is_empty(),
        "the sandbox's Turkish customer refused SMS at checkout"
    );
    assert_eq!(
        w.sent(ChannelKind::Email),
        vec!["shipped"],
        "falls back to email"
    );
    let mail = &w.sb.channel(ChannelKind::Email).sent()[0];
    assert!(
        mail.subject.as_deref().unwrap_or_default().contains("#"),
        "email has a subject: {:?}",
        mail.subject
    );
    assert!(
        mail.message
            .html
            .as_deref()
            .unwrap_or_default()
            .contains("dir=\"ltr\""),
        "HTML part with links kept left to right"
    );

    // Everything refused: nothing sent, and the ledger says why.
    let email = w.sb.shop.customer_record(customer).unwrap().email.unwrap();
    w.store
        .set_consent(ConsentRecord::new(
            ChannelKind::Email,
            &email,
            None,
            ConsentState::Denied,
            "one-click",
            w.clock.now(),
        ))
        .await
        .unwrap();
    let again = w.sb.ship("tr-TR").unwrap();
    w.deliver(&again.deliveries).await;
    assert_eq!(w.sent(ChannelKind::Email).len(), 1, "nothing new");
    let ledger = w.ledger(again.order).await;
    assert!(
        ledger.iter().any(|(d, r)| *d == Decision::Skipped
            && r.contains("no channel can reach the customer")
            && r.contains("whatsapp: the customer opted out")),
        "{ledger:?}"
    );
}

async fn a_milestone_reported_undelivered_falls_back_to_the_next_channel_once(uow: bool) {
    use aftercare::flows::delivery::{DeliveryReports, ReportOutcome};
    use aftercare::flows::tracking::{Milestone, milestone_key};
    use aftercare::model::{DeliveryStatus, ShipmentId};
    use aftercare::store::Outbox;

    let w = world(uow, "2026-03-02T06:00:00Z", false).await;
    let shipped = w.sb.ship("ar-SA").unwrap();
    w.deliver(&shipped.deliveries).await;
    assert_eq!(w.sent(ChannelKind::Whatsapp), vec!["shipped"]);
    let order = OrderId::new(shipped.order.to_string());
    let shipment = ShipmentId::new(shipped.fulfillment.to_string());
    let key = |ch| milestone_key(&order, &shipment, Milestone::Shipped, ch);
    let reports = DeliveryReports::new(Arc::new(w.store.clone()));
    // The provider accepted each message, then reports it failed: Meta's 131026 (message
    // undeliverable), then the SMS carrier's 30003 (unreachable handset), then a bounce.
    let fail = |code: &str| DeliveryStatus::Failed {
        code: Some(code.into()),
    };
    let report = |ch, code: &'static str| {
        let store = w.store.clone();
        let reports = &reports;
        let key = key(ch);
        let at = w.clock.now();
        async move {
            let sent = store.outbox_by_key(&key).await.unwrap().unwrap();
            let id = sent.receipt.unwrap().provider_message_id;
            reports.record(&id, &fail(code), at).await.unwrap()
        }
    };

    let ReportOutcome::Recorded {
        decision: Decision::Undelivered,
        message,
    } = report(ChannelKind::Whatsapp, "131026").await
    else {
        panic!("the failure is recorded");
    };
    w.flow.on_undelivered(&message).await.unwrap();
    w.dispatcher.drain().await.unwrap();
    assert_eq!(
        w.sent(ChannelKind::Sms),
        vec!["shipped"],
        "the tracking link goes by SMS instead"
    );

    // The same report again (a provider retry, an inbox redelivery): it carries the message
    // again, and a second fallback call changes nothing.
    let again = report(ChannelKind::Whatsapp, "131026").await;
    let ReportOutcome::AlreadyRecorded {
        decision: Decision::Undelivered,
        message: same,
    } = again
    else {
        panic!("a duplicate report is not written twice: {again:?}");
    };
    assert_eq!(same.key, message.key);
    w.flow.on_undelivered(&same).await.unwrap();
    w.flow.on_undelivered(&message).await.unwrap();
    w.dispatcher.drain().await.unwrap();
    assert_eq!(
        w.sent(ChannelKind::Sms).len(),
        1,
        "one fallback per failure"
    );
    assert!(
        w.sent(ChannelKind::Email).is_empty(),
        "and no further channel while the SMS is not reported failed"
    );

    // The SMS fails too: email, the last channel. Then nothing is left.
    let ReportOutcome::Recorded { message, .. } = report(ChannelKind::Sms, "30003").await else {
        panic!("the SMS failure is recorded");
    };
    w.flow.on_undelivered(&message).await.unwrap();
    w.dispatcher.drain().await.unwrap();
    assert_eq!(w.sent(ChannelKind::Email), vec!["shipped"]);
    let ReportOutcome::Recorded { message, .. } = report(ChannelKind::Email, "5.1.1").await else {
        panic!("the bounce is recorded");
    };
    w.flow.on_undelivered(&message).await.unwrap();
    w.dispatcher.drain().await.unwrap();
    assert_eq!(
        w.sent(ChannelKind::Whatsapp).len() + w.sent(ChannelKind::Sms).len(),
        2,
        "no channel is tried twice"
    );

    let ledger = w.ledger(shipped.order).await;
    let has = |d: Decision, text: &str| ledger.iter().any(|(x, r)| *x == d && r.contains(text));
    assert!(has(Decision::Undelivered, "(error 131026)"), "{ledger:#?}");
    for text in [
        "fallback: whatsapp could not deliver shipped",
        "fallback: sms could not deliver shipped",
    ] {
        assert!(has(Decision::Enqueued, text), "{text}: {ledger:#?}");
    }
    assert!(
        has(
            Decision::Skipped,
            "could not be delivered by email and no other channel is left"
        ),
        "{ledger:#?}"
    );
}

/// The state of the order's (only) shipment as the shop reports it.
async fn shop_shipment(w: &World, order: u64) -> aftercare::model::Shipment {
    use aftercare::platform::OrderSource as _;
    w.sb.shop
        .shipments(&OrderId::new(order.to_string()))
        .await
        .unwrap()
        .remove(0)
}

/// Issue #15, item 2: a "delayed" webhook that leaves the estimate out must not lose the
/// date an earlier state had (the page shows it), and the date is the customer's day
/// (Istanbul, UTC+3), as on the page.
async fn a_delay_message_keeps_the_known_estimate_in_the_customers_time_zone(uow: bool) {
    use aftercare::model::ShipmentStatus;
    let w = world(uow, "2026-03-02T09:00:00Z", false).await;
    let shipped = w.sb.ship("tr-TR").unwrap();
    w.deliver(&shipped.deliveries).await;
    let base = shop_shipment(&w, shipped.order).await;
    // In transit with an estimate: 22:00 UTC on 13 March is 01:00 on 14 March in Istanbul.
    let mut moving = base.clone();
    moving.status = ShipmentStatus::InTransit;
    moving.estimated_delivery = Some("2026-03-13T22:00:00Z".parse().unwrap());
    let at = base.updated_at.or(base.created_at).unwrap();
    moving.updated_at = Some(at + chrono::Duration::hours(1));
    w.flow.on_shipment(&moving).await.unwrap();
    // Delayed, from a webhook that carries no estimate and no carrier.
    let mut late = base.clone();
    late.status = ShipmentStatus::Delayed;
    late.estimated_delivery = None;
    late.carrier = None;
    late.updated_at = Some(at + chrono::Duration::hours(2));
    w.flow.on_shipment(&late).await.unwrap();
    w.dispatcher.drain().await.unwrap();
    let delayed: Vec<String> = ChannelKind::ALL
        .iter()
        .flat_map(|k| w.sb.channel(*k).sent())
        .filter(|m| m.message.meta.get("milestone").map(String::as_str) == Some("delayed"))
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(
        delayed.len(),
        1,
        "{delayed:?} {:?}",
        w.ledger(shipped.order).await
    );
    assert!(
        delayed[0].contains("14 Mart 2026"),
        "the estimate, in Istanbul's day: {}",
        delayed[0]
    );
    assert!(!delayed[0].contains(": ."), "{}", delayed[0]);
}

/// Issue #15, item 4: every channel links to the shop's tracking page, even when the
/// carrier's link is known; the page shows that carrier link. With `short_links`, SMS and
/// WhatsApp carry a 16-character id the page resolves.
async fn messages_link_to_the_shops_tracking_page_which_shows_the_carrier_link(uow: bool) {
    use aftercare::flows::tracking::MessageLink;
    use aftercare::http::tracking::TrackingPage;
    for (short, link) in [
        (false, MessageLink::TrackingPage),
        (true, MessageLink::TrackingPage),
        (false, MessageLink::Carrier),
    ] {
        let w = world(uow, "2026-03-02T09:00:00Z", false).await;
        let mut settings = TrackingSettings::default();
        settings.public_url = "https://shop.example.com".into();
        settings.short_links = short;
        settings.message_link = link;
        let signer = TokenSigner::new(Secret::from("k"), "tracking");
        let clock: Arc<dyn Clock> = w.clock.clone();
        let flow = TrackingFlow::new(
            w.sb.shop.clone(),
            w.sb.shop.clone(),
            Arc::new(w.store.clone()),
            Arc::new(Catalogs::new("E2E Shop")),
            Default::default(),
            signer.clone(),
            clock.clone(),
            settings,
        );
        let shipped = w.sb.ship("es-MX").unwrap();
        w.deliver(&shipped.deliveries).await;
        let mut s = shop_shipment(&w, shipped.order).await;
        let carrier_link = aftercare::carrier::tracking_link(
            s.tracking_urls.first().map(String::as_str),
            s.carrier.as_deref(),
            s.tracking_numbers.first().map_or("", String::as_str),
        )
        .url
        .expect("the sandbox's carriers have links");
        s.status = aftercare::model::ShipmentStatus::OutForDelivery;
        s.updated_at = Some(s.updated_at.or(s.created_at).unwrap() + chrono::Duration::hours(1));
        flow.on_shipment(&s).await.unwrap();
        w.dispatcher.drain().await.unwrap();
        let sent: Vec<_> = ChannelKind::ALL
            .iter()
            .flat_map(|k| w.sb.channel(*k).sent())
            .filter(|m| {
                m.message.meta.get("milestone").map(String::as_str) == Some("out_for_delivery")
            })
            .collect();
        assert_eq!(sent.len(), 1);
        let text = &sent[0].text;
        let url = text
            .lines()
            .find(|l| l.starts_with("https://"))
            .unwrap_or_else(|| panic!("a link on its own line: {text}"))
            .to_owned();
        if link == MessageLink::Carrier {
            assert_eq!(url, carrier_link, "the carrier's page");
            continue;
        }
        assert!(
            url.starts_with("https://shop.example.com/t/"),
            "{:?} links the shop's page: {text}",
            sent[0].message.channel
        );
        let segment = url.rsplit('/').next().unwrap();
        if short && sent[0].message.channel != ChannelKind::Email {
            assert_eq!(segment.len(), 16, "a short id: {url}");
        }
        let page = TrackingPage::new(
            w.sb.shop.clone(),
            signer,
            Arc::new(Catalogs::new("E2E Shop")),
            clock,
        )
        .short_links(Arc::new(w.store.clone()))
        .into_router();
        let res = tower::ServiceExt::oneshot(
            page,
            axum::http::Request::get(format!("/t/{segment}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 200);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains(&format!(
                "href=\"{}\"",
                aftercare::html::escape(&carrier_link)
            )),
            "the page shows the carrier's link: {body}"
        );
    }
}

/// Every scenario twice: entries processed one at a time with their writes going straight to
/// the store, and each claimed batch as a unit of work (issue 20): the messages, the ledger
/// and the pages must not tell the two apart.
macro_rules! both_ways {
    ($($name:ident),* $(,)?) => {
        mod one_by_one {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(false).await
                }
            )*
        }
        mod unit_of_work {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(true).await
                }
            )*
        }
    };
}

both_ways!(
    duplicates_and_out_of_order_milestones_produce_exactly_the_right_messages,
    quiet_hours_defer_and_later_send_and_a_superseded_milestone_is_skipped,
    opt_outs_are_respected_with_fallback_and_a_reason,
    a_milestone_reported_undelivered_falls_back_to_the_next_channel_once,
    a_delay_message_keeps_the_known_estimate_in_the_customers_time_zone,
    messages_link_to_the_shops_tracking_page_which_shows_the_carrier_link,
);
