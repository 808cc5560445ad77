//! Service recovery end to end, on real SQLite and the sandbox shop: a shipment delayed past
//! the threshold gets one apology with one discount code created through the sandbox's
//! discount API (Shopify's rules: a code's name is unique), never twice — not when the
//! answer of the creation is lost (a crash or dropped connection between the platform
//! creating the code and the ledger row), not when the signal comes again; a customer
//! without a marketing opt-in gets the apology without a code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::ManualClock;
use aftercare::flows::recovery::{DiscountOffer, RecoveryFlow, RecoverySettings, Signal};
use aftercare::l10n::Catalogs;
use aftercare::model::{ChannelKind, Consent, ConsentState, OrderId, Purpose, Shipment, ShopId};
use aftercare::platform::discount::DiscountValue;
use aftercare::retention::RetentionStore;
use aftercare::store::{Decision, Ledger, Outbox};
use aftercare::webhook::Secret;
use aftercare_sandbox::{FulfillmentSpec, SandboxDiscounts, SandboxShop};
use aftercare_sqlite::SqliteStore;

struct World {
    store: Arc<SqliteStore>,
    shop: Arc<SandboxShop>,
    clock: Arc<ManualClock>,
    discounts: Arc<SandboxDiscounts>,
    flow: RecoveryFlow,
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let shop = Arc::new(SandboxShop::demo(clock.clone()));
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let discounts = Arc::new(SandboxDiscounts::new());
    let flow = RecoveryFlow::new(
        store.clone(),
        shop.clone(),
        shop.clone(),
        Arc::new(Catalogs::new("Demo Coffee")),
        clock.clone(),
        Secret::from_bytes(b"recovery-test-key".to_vec()),
    )
    .with_discounts(discounts.clone())
    .with_annotator(shop.clone())
    .with_retention(store.clone())
    .with_settings(
        RecoverySettings::default()
            .with_offer(Some(DiscountOffer::new(DiscountValue::Percent(15))))
            .with_channels(vec![ChannelKind::Email]),
    );
    World {
        store,
        shop,
        clock,
        discounts,
        flow,
    }
}

/// An order of the en-US demo customer, shipped with an estimate two days ago.
fn late_shipment(w: &World, customer: u64) -> Shipment {
    let product = w.shop.products()[0].sku.clone();
    let order = w.shop.place_order(customer, &[(&product, 1)]).unwrap();
    let f = w
        .shop
        .fulfill(order, FulfillmentSpec::new("UPS", "1Z999AA10123456784"))
        .unwrap();
    let mut s = w.shop.to_shipment(&w.shop.fulfillment_record(f).unwrap());
    s.estimated_delivery = Some(w.clock.now_utc() - chrono::Duration::days(1));
    s
}

trait Now {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc>;
}
impl Now for ManualClock {
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        aftercare::clock::Clock::now(self)
    }
}

fn us_customer(w: &World) -> u64 {
    w.shop.customer_by_locale("en-US").unwrap()
}

#[tokio::test]
async fn a_delay_past_the_threshold_gets_one_apology_with_one_code_even_across_a_crash() {
    let w = world().await;
    let s = late_shipment(&w, us_customer(&w));
    let now = w.clock.now_utc();
    assert_eq!(
        w.flow.signal_of(&s, now),
        None,
        "one day late is below the two-day threshold"
    );
    w.clock.advance(chrono::Duration::days(1));
    let now = w.clock.now_utc();
    assert_eq!(w.flow.signal_of(&s, now), Some(Signal::Delay));

    // The platform creates the code, but the answer is lost: the attempt fails (the inbox
    // would retry it), with nothing enqueued yet.
    w.discounts.lose_next_answers(1);
    let shop = s.shop.clone();
    let err = w
        .flow
        .recover(shop.as_ref(), &s.order_id, Signal::Delay)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(w.discounts.codes().len(), 1);
    assert!(
        w.flow
            .apology_for(shop.as_ref(), &s.order_id)
            .await
            .unwrap()
            .is_none()
    );

    // The retry: the code exists already; one apology carrying it.
    let out = w
        .flow
        .recover(shop.as_ref(), &s.order_id, Signal::Delay)
        .await
        .unwrap();
    let code = out.code.clone().expect("a code is offered");
    assert_eq!(w.discounts.codes().len(), 1, "one code, not two");
    assert!(w.discounts.codes().contains_key(&code));
    let msg = w
        .flow
        .apology_for(shop.as_ref(), &s.order_id)
        .await
        .unwrap()
        .expect("an apology is enqueued");
    assert!(msg.message.text.contains(&code), "{}", msg.message.text);
    assert!(msg.message.text.contains("15%"), "{}", msg.message.text);
    assert_eq!(msg.message.purpose, Purpose::Transactional);

    // Again, and for another signal on the same order: nothing new.
    let again = w
        .flow
        .recover(shop.as_ref(), &s.order_id, Signal::FailedAttempt)
        .await
        .unwrap();
    assert_eq!(again.code.as_deref(), Some(code.as_str()));
    assert!(!again.tagged, "the tag was added once");
    assert_eq!(w.discounts.codes().len(), 1);
    assert_eq!(
        w.discounts.attempts(),
        2,
        "created once, found existing once"
    );
    let key = msg.key.clone();
    let enqueued = w
        .store
        .ledger_for_key(&key)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.decision == Decision::Enqueued)
        .count();
    assert_eq!(enqueued, 1, "one apology in the ledger");
    let rows = w.store.ledger_for_order(&s.order_id).await.unwrap();
    let code_rows: Vec<_> = rows
        .iter()
        .filter(|e| e.key.as_deref().is_some_and(|k| k.ends_with(":code")))
        .collect();
    assert_eq!(code_rows.len(), 1, "{rows:#?}");
    assert!(
        code_rows[0].reason.contains("existed already"),
        "{}",
        code_rows[0].reason
    );
    assert_eq!(
        w.store.outbox_by_key(&key).await.unwrap().map(|e| e.id),
        Some(msg.id)
    );
    // The retention store knows the order had a signal and was recovered.
    let e = w
        .store
        .experience(shop.as_ref(), &s.order_id)
        .await
        .unwrap();
    assert_eq!(e.get("signal").map(String::as_str), Some("yes"));
    assert_eq!(e.get("recovered").map(String::as_str), Some("yes"));
}

#[tokio::test]
async fn a_customer_without_a_marketing_opt_in_gets_the_apology_without_a_code() {
    let w = world().await;
    let c = us_customer(&w);
    w.shop
        .update_customer(c, |c| {
            c.consents.push(Consent::new(
                Purpose::Marketing,
                ChannelKind::Email,
                ConsentState::Denied,
            ));
        })
        .unwrap();
    let s = late_shipment(&w, c);
    let shop: Option<ShopId> = s.shop.clone();
    let out = w
        .flow
        .recover(shop.as_ref(), &s.order_id, Signal::Exception)
        .await
        .unwrap();
    assert_eq!(out.code, None);
    assert_eq!(w.discounts.attempts(), 0, "no code is even created");
    let msg = w
        .flow
        .apology_for(shop.as_ref(), &s.order_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!msg.message.text.contains("SORRY-"), "{}", msg.message.text);
    assert!(msg.message.text.contains("sorry"), "{}", msg.message.text);
    let reason = w
        .store
        .ledger_for_key(&msg.key)
        .await
        .unwrap()
        .first()
        .unwrap()
        .reason
        .clone();
    assert!(reason.contains("no marketing opt-in"), "{reason}");
}

#[tokio::test]
async fn an_unknown_order_is_skipped_with_its_reason() {
    let w = world().await;
    let id = OrderId::from("404");
    let out = w.flow.recover(None, &id, Signal::Complaint).await.unwrap();
    assert_eq!(out.apology, None);
    let rows = w.store.ledger_for_order(&id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].reason.contains("not found"), "{}", rows[0].reason);
}

/// Issue 18: recovery runs in a stack. A shipment with a carrier exception, arriving as
/// Shopify webhooks through `Stack::builder(...).recovery(...)`, gets one apology with a
/// code made through the platform's discounts; the same webhooks again change nothing. A
/// stack asked for an offer without the platform's discount codes is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stack_runs_recovery_on_webhooks_once_per_order() {
    use aftercare::stack::{PlatformParts, Stack};
    use aftercare_sandbox::{CarrierScript, Sandbox};

    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-02T12:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let discounts = Arc::new(SandboxDiscounts::new());
    let source = Arc::new(
        aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")).for_shop(sb.shop.domain()),
    );
    let settings = RecoverySettings::default()
        .with_offer(Some(DiscountOffer::new(DiscountValue::Percent(10))))
        .with_channels(vec![ChannelKind::Email]);
    let builder = |parts: PlatformParts| {
        Stack::builder(store.clone())
            .platform(parts)
            .channel(sb.channel(ChannelKind::Email).clone())
            .shop_name("Shop")
            .public_url("https://shop.example")
            .link_key(Secret::from("k"))
            .clock(sb.clock.clone())
            .recovery(settings.clone(), Secret::from("code-key"))
            .recovery_retention(store.clone())
    };
    let refused = builder(PlatformParts::new(
        "shopify",
        source.clone(),
        sb.shop.clone(),
    ))
    .build()
    .expect_err("an offer needs discount codes")
    .to_string();
    assert!(refused.contains(".discounts("), "{refused}");

    let stack = builder(
        PlatformParts::new("shopify", source, sb.shop.clone())
            .annotator(sb.shop.clone())
            .discounts(discounts.clone()),
    )
    .build()
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(aftercare::http::serve(
        listener,
        stack.router(),
        aftercare::http::ServeOptions::default(),
    ));
    let shipped = sb.ship("en-US").unwrap();
    let mut sent = shipped.deliveries.clone();
    let mut scenario = sb
        .scenario(shipped.fulfillment, CarrierScript::exception())
        .with_fulfillment_events();
    while let Some(step) = scenario.next_step().unwrap() {
        sent.extend(step.deliveries);
    }
    for d in &sent {
        assert_eq!(sb.sender.post(&url, d).await.unwrap(), 200);
    }
    stack.processor().drain().await.unwrap();
    let order = OrderId::new(shipped.order.to_string());
    let shop = aftercare::platform::OrderSource::order(&*sb.shop, &order)
        .await
        .unwrap()
        .unwrap()
        .shop;
    let key = format!(
        "recovery:{}:{}:apology",
        shop.as_ref().map_or("", ShopId::as_str),
        order.as_str()
    );
    let apology = store
        .outbox_by_key(&key)
        .await
        .unwrap()
        .expect("an apology");
    let code = apology.message.meta.get("discount_code").cloned().unwrap();
    assert!(
        apology.message.text.contains(&code),
        "{}",
        apology.message.text
    );
    assert_eq!(discounts.codes().len(), 1);
    assert!(discounts.codes().contains_key(&code));
    let e = store.experience(shop.as_ref(), &order).await.unwrap();
    assert_eq!(e.get("recovered").map(String::as_str), Some("yes"));

    // The same webhooks again (a platform's retries): nothing new.
    for d in &sent {
        assert_eq!(sb.sender.post(&url, d).await.unwrap(), 200);
    }
    stack.processor().drain().await.unwrap();
    assert_eq!(discounts.codes().len(), 1);
    assert_eq!(discounts.attempts(), 1, "no second creation was even tried");
}

/// Issue 18, the ticket action: a signal opens one support ticket for the order through the
/// helpdesk; the signal again, another signal, and a restart that lost the ledger (the
/// desk answered, the ledger row was never written) add nothing: the desk's ticket is
/// found by its external id and carries the incident's marker tag.
#[tokio::test]
async fn the_ticket_action_opens_one_ticket_per_order_even_across_a_crash() {
    use aftercare::flows::tickets::TicketFlow;
    use aftercare_sandbox::SandboxHelpdesk;

    let w = world().await;
    let desk = SandboxHelpdesk::new();
    let with_desk = |store: Arc<SqliteStore>| {
        RecoveryFlow::new(
            store.clone(),
            w.shop.clone(),
            w.shop.clone(),
            Arc::new(Catalogs::new("Demo Coffee")),
            w.clock.clone(),
            Secret::from_bytes(b"recovery-test-key".to_vec()),
        )
        .with_tickets(Arc::new(TicketFlow::new(
            Arc::new(desk.clone()),
            store,
            w.clock.clone(),
        )))
        .with_settings(
            RecoverySettings::default()
                .with_ticket(true)
                .with_tag(None)
                .with_channels(vec![ChannelKind::Email]),
        )
    };
    let flow = with_desk(w.store.clone());
    let s = late_shipment(&w, us_customer(&w));
    let shop = s.shop.clone();
    let out = flow
        .recover(shop.as_ref(), &s.order_id, Signal::Exception)
        .await
        .unwrap();
    let id = out.ticket.clone().expect("a ticket is opened");
    let t = desk.tickets();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id, id);
    assert!(
        t[0].subject
            .starts_with("Service recovery (exception) for order"),
        "{}",
        t[0].subject
    );
    assert!(t[0].requester.is_some(), "the customer is the requester");
    assert!(
        t[0].notes[0].contains("Service recovery"),
        "{}",
        t[0].notes[0]
    );

    for signal in [Signal::Exception, Signal::Delay] {
        let again = flow
            .recover(shop.as_ref(), &s.order_id, signal)
            .await
            .unwrap();
        assert_eq!(again.ticket, None, "done before");
    }
    // A restart over a store that lost the ledger row: the desk's ticket is found.
    let lost = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let after = with_desk(lost)
        .recover(shop.as_ref(), &s.order_id, Signal::Delay)
        .await
        .unwrap();
    assert_eq!(after.ticket, None);
    let t = desk.tickets();
    assert_eq!(t.len(), 1, "{t:#?}");
    assert_eq!(t[0].notes.len(), 1, "{:#?}", t[0].notes);
    let rows = w.store.ledger_for_order(&s.order_id).await.unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r
                .key
                .as_deref()
                .is_some_and(|k| k.starts_with("ticket:recovery:")))
            .count(),
        1,
        "{rows:#?}"
    );
}

/// A stack asked for recovery's ticket without a helpdesk is refused at `build`.
#[tokio::test]
async fn a_recovery_ticket_without_a_helpdesk_is_refused() {
    use aftercare::stack::{PlatformParts, Stack};
    use aftercare_sandbox::Sandbox;

    let sb = Sandbox::quiet(Secret::from("s"), "2026-03-02T12:00:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let source = Arc::new(
        aftercare_shopify::ShopifyWebhooks::new(Secret::from("s")).for_shop(sb.shop.domain()),
    );
    let refused = Stack::builder(store.clone())
        .platform(PlatformParts::new("shopify", source, sb.shop.clone()).annotator(sb.shop.clone()))
        .channel(sb.channel(ChannelKind::Email).clone())
        .shop_name("Shop")
        .public_url("https://shop.example")
        .link_key(Secret::from("k"))
        .clock(sb.clock.clone())
        .recovery(
            RecoverySettings::default().with_ticket(true),
            Secret::from("code-key"),
        )
        .build()
        .expect_err("a ticket needs a desk")
        .to_string();
    assert!(refused.contains(".helpdesk("), "{refused}");
}
