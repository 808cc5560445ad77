//! The wired-up demo world.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use aftercare::carrier::{self, LinkSource};
use aftercare::channel::MessageChannel;
use aftercare::clock::Clock;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::webhook::Secret;
use aftercare_sandbox::{CarrierScript, Sandbox, SandboxError, SandboxShop, Topic};
use chrono::{Duration, FixedOffset};

#[test]
fn ship_sends_the_order_webhooks_for_every_locale() {
    let sb = Sandbox::quiet(Secret::from(common::SECRET), common::start());
    let v = common::verifier(common::SECRET);
    for locale in ["ar-SA", "tr-TR", "th-TH", "pt-BR", "es-MX", "en-US"] {
        let s = sb.ship(locale).unwrap();
        let topics: Vec<Topic> = s.deliveries.iter().map(|d| d.topic).collect();
        assert_eq!(
            topics,
            [
                Topic::OrdersCreate,
                Topic::OrdersPaid,
                Topic::FulfillmentsCreate,
                Topic::OrdersFulfilled
            ]
        );
        for d in &s.deliveries {
            assert!(v.verify(&d.raw_headers(), &d.body, sb.clock.now()).is_ok());
        }
        let created = s.deliveries[0].json();
        assert_eq!(created["financial_status"], "pending");
        assert!(created["fulfillment_status"].is_null());
        assert!(created["fulfillments"].as_array().unwrap().is_empty());
        let fulfilled = s.deliveries[3].json();
        assert_eq!(fulfilled["financial_status"], "paid");
        assert_eq!(fulfilled["fulfillment_status"], "fulfilled");
        assert_eq!(fulfilled["customer_locale"], locale);
        assert!(s.deliveries[0].triggered_at < s.deliveries[2].triggered_at);
    }
}

#[test]
fn the_platform_url_is_given_for_some_carriers_and_built_for_others() {
    let sb = Sandbox::quiet(Secret::from(common::SECRET), common::start());
    for (locale, want) in [
        ("en-US", LinkSource::Platform),
        ("pt-BR", LinkSource::Platform),
        ("es-MX", LinkSource::Platform),
        ("ar-SA", LinkSource::CarrierTemplate),
        ("tr-TR", LinkSource::CarrierTemplate),
        ("th-TH", LinkSource::CarrierTemplate),
    ] {
        let s = sb.ship(locale).unwrap();
        let f = s.deliveries[2].json();
        let link = carrier::tracking_link(
            f["tracking_url"].as_str(),
            f["tracking_company"].as_str(),
            f["tracking_number"].as_str().unwrap(),
        );
        assert_eq!(link.source, want, "{locale}");
        let url = link.url.unwrap();
        assert!(url.starts_with("https://"), "{url}");
        assert!(
            url.contains(f["tracking_number"].as_str().unwrap()),
            "{url}"
        );
    }
}

#[test]
fn scenario_from_the_sandbox_runs_on_its_clock() {
    let sb = Sandbox::quiet(Secret::from(common::SECRET), common::start());
    let s = sb.ship("th-TH").unwrap();
    let before = sb.clock.now();
    let d = sb
        .scenario(
            s.fulfillment,
            CarrierScript::failed_attempt_then_redelivery(),
        )
        .run_to_end()
        .unwrap();
    assert_eq!(d.len(), 7);
    assert_eq!(
        sb.clock.now() - before,
        Duration::hours(6 + 14 + 24 + 5 + 19 + 4)
    );
    assert!(matches!(
        sb.ship("fr-FR"),
        Err(SandboxError::UnknownLocale(_))
    ));
}

#[tokio::test]
async fn channels_share_the_manual_clock() {
    let sb = Sandbox::quiet(Secret::from(common::SECRET), common::start());
    assert_eq!(sb.channels().len(), 3);
    for kind in ChannelKind::ALL {
        assert_eq!(sb.channel(kind).kind(), kind);
    }
    sb.clock.advance(Duration::days(2));
    let m = OutboundMessage::new(
        ChannelKind::Sms,
        "+905321234567",
        Purpose::Feedback,
        "Nasıldı?",
    );
    let r = sb.sms.send(&m, "k").await.unwrap();
    assert_eq!(r.accepted_at, common::start() + Duration::days(2));
    assert_eq!(sb.channel(ChannelKind::Sms).sent().len(), 1);
    assert!(sb.whatsapp.sent().is_empty());
}

#[test]
fn timestamps_are_written_in_the_shop_offset() {
    let clock = std::sync::Arc::new(aftercare::clock::ManualClock::new(common::start()));
    let shop = SandboxShop::demo(clock).with_utc_offset(FixedOffset::west_opt(4 * 3600).unwrap());
    let c = shop.customer_ids()[0];
    let o = shop.place_order(c, &[("DESC-KIT-01", 1)]).unwrap();
    let v = common::sender()
        .order(&shop, Topic::OrdersCreate, o)
        .unwrap()
        .json();
    assert_eq!(v["created_at"], "2026-03-02T05:00:00-04:00");
}
