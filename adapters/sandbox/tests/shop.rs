//! The sandbox shop answers the platform traits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use aftercare::Error;
use aftercare::model::{ChannelKind, ConsentState, CustomerId, OrderId, Purpose, ShipmentStatus};
use aftercare::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use aftercare_sandbox::{Annotation, CarrierScript, FulfillmentSpec, Scenario};
use chrono::Duration;
use futures::StreamExt as _;

#[tokio::test]
async fn order_source_returns_the_placed_order() {
    let (_, shop) = common::shop();
    let customer = shop.customer_by_locale("ar-SA").unwrap();
    let id = shop
        .place_order(customer, &[("ESP-BAR-01", 1), ("CUP-CER-SET4", 2)])
        .unwrap();
    assert!(id > (1u64 << 53), "ids exercise u64 precision");

    let order = shop.order(&OrderId::from(id)).await.unwrap().unwrap();
    assert_eq!(order.id.as_str(), id.to_string());
    assert_eq!(order.number, "#1001");
    assert_eq!(order.customer_id, Some(CustomerId::from(customer)));
    assert_eq!(order.locale.as_deref(), Some("ar-SA"));
    assert_eq!(order.phone.as_deref(), Some("+966501234567"));
    assert_eq!(order.line_items.len(), 2);
    let cups = &order.line_items[1];
    assert_eq!(cups.sku.as_deref(), Some("CUP-CER-SET4"));
    assert_eq!(cups.category.as_deref(), Some("kitchenware"));
    assert_eq!(cups.quantity, 2);
    assert_eq!(cups.product_id.as_ref().unwrap().as_str(), "8820475001105");
    assert_eq!(cups.unit_price.as_ref().unwrap().minor_units, 2_800);
    assert_eq!(
        order.total.as_ref().unwrap().minor_units,
        34_900 + 2 * 2_800
    );
    let addr = order.shipping_address.unwrap();
    assert_eq!(addr.country_code.as_deref(), Some("SA"));
    assert_eq!(addr.city.as_deref(), Some("الرياض"));

    assert!(shop.order(&OrderId::from(id + 1)).await.unwrap().is_none());
    assert!(
        shop.order(&OrderId::new("not-a-number"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        shop.place_order(customer, &[("NOPE", 1)]),
        Err(aftercare_sandbox::SandboxError::UnknownSku(_))
    ));
}

#[tokio::test]
async fn updated_since_streams_changed_orders_oldest_first() {
    let (clock, shop) = common::shop();
    let ids = shop.customer_ids();
    let a = shop.place_order(ids[0], &[("DESC-KIT-01", 1)]).unwrap();
    clock.advance(Duration::hours(1));
    let b = shop.place_order(ids[1], &[("DESC-KIT-01", 1)]).unwrap();
    clock.advance(Duration::hours(1));
    let since = aftercare::clock::Clock::now(&*clock);
    clock.advance(Duration::hours(1));
    shop.mark_paid(a).unwrap(); // a changes after b
    let got: Vec<String> = shop
        .updated_since(since)
        .map(|o| o.unwrap().id.0)
        .collect()
        .await;
    assert_eq!(got, vec![a.to_string()]);
    let all: Vec<String> = shop
        .updated_since(common::start())
        .map(|o| o.unwrap().id.0)
        .collect()
        .await;
    assert_eq!(all, vec![b.to_string(), a.to_string()]);
}

#[tokio::test]
async fn shipments_carry_tracking_and_dated_events() {
    let (_, shop) = common::shop();
    let (_, order, f) = common::shipped_order(&shop, "en-US");
    let oid = OrderId::from(order);
    let before = shop.shipments(&oid).await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].status, ShipmentStatus::Confirmed);
    assert!(before[0].events.is_empty());
    assert_eq!(before[0].carrier.as_deref(), Some("UPS"));
    assert!(before[0].tracking_numbers[0].starts_with("1Z"));

    let mut s = Scenario::new(
        shop.clone(),
        common::sender(),
        f,
        CarrierScript::happy_path(),
    );
    s.run_to_end().unwrap();
    let after = shop.shipments(&oid).await.unwrap();
    let sh = &after[0];
    assert_eq!(sh.status, ShipmentStatus::Delivered);
    let statuses: Vec<_> = sh.events.iter().map(|e| e.status.clone()).collect();
    assert_eq!(
        statuses,
        [
            ShipmentStatus::LabelCreated,
            ShipmentStatus::PickedUp,
            ShipmentStatus::InTransit,
            ShipmentStatus::OutForDelivery,
            ShipmentStatus::Delivered
        ]
    );
    assert!(
        sh.events
            .windows(2)
            .all(|w| w[0].happened_at < w[1].happened_at)
    );
    assert_eq!(sh.line_item_ids.len(), 2);
    assert!(sh.estimated_delivery.is_some());
    assert!(sh.updated_at > sh.created_at);

    assert!(matches!(
        shop.shipments(&OrderId::new("1")).await,
        Err(Error::NotFound { what: "order", .. })
    ));
}

#[tokio::test]
async fn customers_have_locale_zone_phone_and_consent() {
    let (_, shop) = common::shop();
    let want = [
        ("ar-SA", "+966501234567", "Asia/Riyadh", "نورة"),
        ("tr-TR", "+905321234567", "Europe/Istanbul", "Ayşe"),
        ("th-TH", "+66812345678", "Asia/Bangkok", "สมชาย"),
        ("pt-BR", "+5511987654321", "America/Sao_Paulo", "João"),
        ("es-MX", "+525512345678", "America/Mexico_City", "María"),
        ("en-US", "+12025550143", "America/New_York", "Emily"),
    ];
    for (locale, phone, tz, first) in want {
        let id = shop.customer_by_locale(locale).unwrap();
        let c = shop.customer(&CustomerId::from(id)).await.unwrap().unwrap();
        assert_eq!(c.locale.as_deref(), Some(locale));
        assert_eq!(c.phone.as_deref(), Some(phone));
        assert!(phone.starts_with('+') && phone[1..].chars().all(|d| d.is_ascii_digit()));
        assert_eq!(c.time_zone.as_deref(), Some(tz));
        assert_eq!(c.first_name.as_deref(), Some(first));
        assert_eq!(
            c.consent(Purpose::Transactional, ChannelKind::Whatsapp),
            ConsentState::Granted
        );
    }
    let tr = shop.customer_by_locale("tr-TR").unwrap();
    let c = shop.customer(&CustomerId::from(tr)).await.unwrap().unwrap();
    assert_eq!(
        c.consent(Purpose::Transactional, ChannelKind::Sms),
        ConsentState::Denied
    );
    assert!(
        shop.customer(&CustomerId::new("42"))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn annotations_are_recorded_and_applied() {
    let (_, shop) = common::shop();
    let (customer, order, _) = common::shipped_order(&shop, "pt-BR");
    let oid = OrderId::from(order);
    let tags = vec!["aftercare:detractor".to_owned(), "nps:3".to_owned()];
    shop.add_order_tags(&oid, &tags).await.unwrap();
    shop.add_order_tags(&oid, &tags[..1]).await.unwrap();
    shop.append_order_note(&oid, "NPS 3: a máquina chegou amassada")
        .await
        .unwrap();
    shop.append_order_note(&oid, "Support alerted")
        .await
        .unwrap();
    shop.set_order_metafield(&oid, "aftercare", "nps", "3")
        .await
        .unwrap();
    shop.add_customer_tags(&CustomerId::from(customer), &["vip".to_owned()])
        .await
        .unwrap();

    let rec = shop.order_record(order).unwrap();
    assert_eq!(rec.tags, tags, "a tag added twice appears once");
    assert_eq!(
        rec.note.as_deref(),
        Some("NPS 3: a máquina chegou amassada\nSupport alerted")
    );
    assert_eq!(
        rec.metafields
            .get(&("aftercare".to_owned(), "nps".to_owned()))
            .map(String::as_str),
        Some("3")
    );
    assert_eq!(shop.customer_record(customer).unwrap().tags, ["vip"]);
    let ann = shop.annotations();
    assert_eq!(ann.len(), 6);
    assert_eq!(
        ann[0],
        Annotation::OrderTags {
            order: oid.clone(),
            tags: tags.clone()
        }
    );
    assert!(
        matches!(&ann[4], Annotation::OrderMetafield { namespace, key, value, .. }
        if namespace == "aftercare" && key == "nps" && value == "3")
    );

    let missing = OrderId::from(order + 99);
    assert!(matches!(
        shop.add_order_tags(&missing, &tags).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        shop.annotations().len(),
        6,
        "failed writes are not recorded"
    );
}

#[tokio::test]
async fn injected_failures_are_platform_errors() {
    let (_, shop) = common::shop();
    let id = shop.customer_ids()[0];
    let order = shop.place_order(id, &[("DESC-KIT-01", 1)]).unwrap();
    shop.fail_next_calls(2, true);
    let e = shop.order(&OrderId::from(order)).await.unwrap_err();
    assert!(e.is_retryable());
    assert!(matches!(
        e,
        Error::Platform {
            status: Some(503),
            ..
        }
    ));
    let mut stream = shop.updated_since(common::start());
    assert!(stream.next().await.unwrap().is_err());
    drop(stream);
    assert!(shop.order(&OrderId::from(order)).await.unwrap().is_some());

    shop.fail_next_calls(1, false);
    let e = shop
        .append_order_note(&OrderId::from(order), "x")
        .await
        .unwrap_err();
    assert!(!e.is_retryable());
    assert!(shop.annotations().is_empty());
}

#[tokio::test]
async fn partial_fulfillment_ships_only_the_chosen_lines() {
    let (_, shop) = common::shop();
    let id = shop.customer_ids()[0];
    let order = shop
        .place_order(id, &[("ESP-BAR-01", 1), ("DESC-KIT-01", 1)])
        .unwrap();
    let first_line = shop.order_record(order).unwrap().line_items[0].id;
    let f = shop
        .fulfill(
            order,
            FulfillmentSpec::new("SMSA Express", "290000000001").lines(&[first_line]),
        )
        .unwrap();
    let sh = shop.shipments(&OrderId::from(order)).await.unwrap();
    assert_eq!(sh[0].id.as_str(), f.to_string());
    assert_eq!(sh[0].line_item_ids, [first_line.to_string()]);
}
