//! The simulated carrier: scripted milestones become `fulfillments/update` webhooks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use aftercare::carrier::{self, Detection, LinkSource};
use aftercare::clock::Clock;
use aftercare::model::ShipmentStatus;
use aftercare_sandbox::{CarrierScript, Delivery, Milestone, Scenario, Topic, numbers};
use chrono::{DateTime, Duration, Utc};

fn status(d: &Delivery) -> String {
    d.json()["shipment_status"].as_str().unwrap().to_owned()
}

fn updated_at(d: &Delivery) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(d.json()["updated_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn play(
    locale: &str,
    script: CarrierScript,
) -> (
    Vec<Delivery>,
    std::sync::Arc<aftercare_sandbox::SandboxShop>,
    u64,
) {
    let (_, shop) = common::shop();
    let (_, _, f) = common::shipped_order(&shop, locale);
    let mut s = Scenario::new(shop.clone(), common::sender(), f, script);
    let d = s.run_to_end().unwrap();
    assert!(s.is_done());
    (d, shop, f)
}

#[test]
fn happy_path_emits_each_milestone_once_in_order() {
    let (clock, shop) = common::shop();
    let (_, _, f) = common::shipped_order(&shop, "en-US");
    let mut s = Scenario::new(
        shop.clone(),
        common::sender(),
        f,
        CarrierScript::happy_path(),
    );
    let mut times = Vec::new();
    let mut all = Vec::new();
    while let Some(r) = s.next_step().unwrap() {
        assert_eq!(r.at, clock.now(), "the clock moved to the step");
        assert_eq!(r.deliveries.len(), 1);
        times.push(r.at);
        all.extend(r.deliveries);
    }
    let statuses: Vec<String> = all.iter().map(status).collect();
    assert_eq!(
        statuses,
        [
            "label_printed",
            "carrier_picked_up",
            "in_transit",
            "out_for_delivery",
            "delivered"
        ]
    );
    assert!(all.iter().all(|d| d.topic == Topic::FulfillmentsUpdate));
    assert!(
        all.iter()
            .all(|d| d.header("X-Shopify-Topic") == Some("fulfillments/update"))
    );
    assert_eq!(times[0], common::start());
    assert_eq!(
        *times.last().unwrap() - common::start(),
        Duration::hours(6 + 14 + 24 + 5)
    );
    // updated_at and Triggered-At follow the clock.
    for (d, t) in all.iter().zip(&times) {
        assert_eq!(updated_at(d), *t);
        assert_eq!(d.triggered_at, *t);
    }
    let rec = shop.fulfillment_record(f).unwrap();
    assert_eq!(rec.shipment_status, Some(Milestone::Delivered));
    assert_eq!(rec.events.len(), 5);
    assert!(s.next_step().unwrap().is_none());
}

#[test]
fn every_milestone_maps_to_a_known_sdk_status() {
    let all = [
        (Milestone::Confirmed, ShipmentStatus::Confirmed),
        (Milestone::LabelPrinted, ShipmentStatus::LabelCreated),
        (Milestone::LabelPurchased, ShipmentStatus::LabelCreated),
        (Milestone::CarrierPickedUp, ShipmentStatus::PickedUp),
        (Milestone::InTransit, ShipmentStatus::InTransit),
        (Milestone::Delayed, ShipmentStatus::Delayed),
        (Milestone::OutForDelivery, ShipmentStatus::OutForDelivery),
        (
            Milestone::AttemptedDelivery,
            ShipmentStatus::AttemptedDelivery,
        ),
        (Milestone::ReadyForPickup, ShipmentStatus::ReadyForPickup),
        (Milestone::Delivered, ShipmentStatus::Delivered),
        (Milestone::Failure, ShipmentStatus::Exception),
    ];
    for (m, want) in all {
        assert_eq!(m.status(), want, "{m:?}");
        let s = m.shopify_status();
        assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
    }
}

#[test]
fn delay_exception_and_failed_attempt_scripts() {
    let (d, _, _) = play("tr-TR", CarrierScript::delayed());
    let s: Vec<String> = d.iter().map(status).collect();
    assert_eq!(
        s,
        [
            "label_printed",
            "carrier_picked_up",
            "in_transit",
            "delayed",
            "in_transit",
            "out_for_delivery",
            "delivered"
        ]
    );

    let (d, shop, f) = play("ar-SA", CarrierScript::exception());
    assert_eq!(status(d.last().unwrap()), "failure");
    let sh = shop.to_shipment(&shop.fulfillment_record(f).unwrap());
    assert_eq!(sh.status, ShipmentStatus::Exception);
    assert!(!sh.status.is_final());

    let (d, _, _) = play("th-TH", CarrierScript::failed_attempt_then_redelivery());
    let s: Vec<String> = d.iter().map(status).collect();
    assert_eq!(
        s,
        [
            "label_printed",
            "carrier_picked_up",
            "in_transit",
            "out_for_delivery",
            "attempted_delivery",
            "out_for_delivery",
            "delivered"
        ]
    );
}

#[test]
fn delayed_script_moves_the_estimate() {
    let (_, shop, f) = play("pt-BR", CarrierScript::delayed());
    let rec = shop.fulfillment_record(f).unwrap();
    let delayed = rec
        .events
        .iter()
        .find(|e| e.milestone == Milestone::Delayed)
        .unwrap();
    assert_eq!(
        rec.estimated_delivery_at,
        Some(delayed.happened_at + Duration::days(3))
    );
    let first = rec.events[0].estimated_delivery_at.unwrap();
    assert!(rec.estimated_delivery_at.unwrap() > first);
}

#[test]
fn duplicates_are_exact_copies() {
    let (d, _, _) = play("es-MX", CarrierScript::happy_path().duplicate(2));
    let s: Vec<String> = d.iter().map(status).collect();
    assert_eq!(
        s,
        [
            "label_printed",
            "carrier_picked_up",
            "in_transit",
            "in_transit",
            "out_for_delivery",
            "delivered"
        ]
    );
    assert_eq!(d[2], d[3], "same body, signature, event id and webhook id");
    assert_ne!(d[1].event_id, d[2].event_id);
}

#[test]
fn out_of_order_delivery_carries_the_older_state() {
    // Out for delivery (step 3) arrives after delivered (step 4).
    let (d, _, _) = play("en-US", CarrierScript::happy_path().deliver_late(3, 4));
    let s: Vec<String> = d.iter().map(status).collect();
    assert_eq!(
        s,
        [
            "label_printed",
            "carrier_picked_up",
            "in_transit",
            "delivered",
            "out_for_delivery"
        ]
    );
    assert!(
        updated_at(&d[4]) < updated_at(&d[3]),
        "the late one is older"
    );
    assert!(d[4].triggered_at < d[3].triggered_at);

    // Held across several steps, combined with a duplicate.
    let (d, _, _) = play(
        "en-US",
        CarrierScript::happy_path().deliver_late(1, 3).duplicate(4),
    );
    let s: Vec<String> = d.iter().map(status).collect();
    assert_eq!(
        s,
        [
            "label_printed",
            "in_transit",
            "out_for_delivery",
            "carrier_picked_up",
            "delivered",
            "delivered"
        ]
    );
}

#[test]
fn invalid_late_delivery_is_ignored() {
    let script = CarrierScript::happy_path()
        .deliver_late(3, 1)
        .deliver_late(2, 99);
    let (d, _, _) = play("en-US", script);
    assert_eq!(d.len(), 5);
    assert_eq!(status(&d[4]), "delivered");
}

#[test]
fn fulfillment_events_topic_is_emitted_when_asked() {
    let (_, shop) = common::shop();
    let (_, order, f) = common::shipped_order(&shop, "th-TH");
    let script = CarrierScript::new()
        .step(Duration::hours(1), Milestone::InTransit)
        .message("ถึงศูนย์คัดแยกสินค้า")
        .at("Bangkok", "Thailand");
    let mut s = Scenario::new(shop.clone(), common::sender(), f, script).with_fulfillment_events();
    let d = s.run_to_end().unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].topic, Topic::FulfillmentEventsCreate);
    let ev = d[1].json();
    assert_eq!(ev["status"], "in_transit");
    assert_eq!(ev["message"], "ถึงศูนย์คัดแยกสินค้า");
    assert_eq!(ev["city"], "Bangkok");
    assert_eq!(ev["fulfillment_id"].as_u64(), Some(f));
    assert_eq!(ev["order_id"].as_u64(), Some(order));
    let v = common::verifier(common::SECRET);
    for x in &d {
        assert!(v.verify(&x.raw_headers(), &x.body, shop.now()).is_ok());
    }
}

#[test]
fn generated_tracking_numbers_are_detected_as_their_carrier() {
    for code in [
        "ups",
        "usps",
        "fedex",
        "dhl_express",
        "canada_post",
        "royal_mail",
        "correios",
        "thailand_post",
        "spl",
        "ptt",
        "emirates_post",
        "japan_post",
        "china_post",
        "australia_post",
    ] {
        for seq in [0u64, 1, 7, 42, 123_456, 9_999_999] {
            let n = numbers::for_carrier(code, seq);
            match carrier::detect(&n) {
                Detection::Unique(c) => assert_eq!(c.code, code, "{n}"),
                other => panic!("{n} ({code}): {other:?}"),
            }
        }
    }
}

#[test]
fn demo_customers_carriers_have_tracking_links() {
    let (_, shop) = common::shop();
    for id in shop.customer_ids() {
        let c = shop.customer_record(id).unwrap();
        let code = c.preferred_carrier.unwrap();
        let carrier = carrier::by_code(&code).unwrap();
        let n = numbers::for_carrier(&code, 5);
        let link = carrier::tracking_link(None, Some(carrier.name), &n);
        assert_eq!(link.source, LinkSource::CarrierTemplate, "{code}");
        assert!(link.url.unwrap().contains(&n), "{code}");
    }
    let spec =
        aftercare_sandbox::FulfillmentSpec::new("Yurtiçi Kargo", "100000000042").with_carrier_url();
    assert_eq!(
        spec.url.as_deref(),
        Some("https://www.yurticikargo.com/tr/online-servisler/gonderi-sorgula?code=100000000042")
    );
}
