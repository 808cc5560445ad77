//! Issue 18: a complaint reply reaches service recovery, end to end on the feedback world
//! (sandbox shop, real SQLite, the sandbox helpdesk): the survey's email reply "my parcel
//! is late" gets one apology in the customer's language, never twice — not when the inbox
//! processes the reply again, not on a second complaint, not after the survey closed; with
//! the ticket action, the order gets one support ticket with recovery's note on it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aftercare::clock::Clock as _;
use aftercare::flows::recovery::RecoverySettings;
use aftercare::model::{ChannelKind, InboundMessage, OrderId};
use aftercare::store::{Decision, Ledger};
use aftercare_sandbox::{CarrierScript, SentMessage};
use chrono::Duration;

use crate::feedback_e2e::{World, customer_of, world_with};

/// The apologies the customer got (recovery's messages, on any channel).
fn apologies(w: &World, order: u64) -> Vec<SentMessage> {
    [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Whatsapp]
        .into_iter()
        .flat_map(|k| w.sb.channel(k).sent())
        .filter(|m| {
            m.message.order_id == Some(OrderId::new(order.to_string()))
                && m.message.meta.contains_key("recovery_signal")
        })
        .collect()
}

fn settings() -> RecoverySettings {
    RecoverySettings::default()
        .with_channels(vec![ChannelKind::Email])
        .with_tag(None)
}

#[tokio::test]
async fn a_complaint_reply_gets_one_apology_never_twice() {
    let w = world_with(vec![ChannelKind::Email], Some(settings())).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::happy_path()).await;
    let order = shipped.order;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(order, "after_delivery").len(), 1);
    assert!(apologies(&w, order).is_empty(), "no signal yet");
    let (email, _) = customer_of(&w, &shipped);

    let complaint = InboundMessage::new(
        ChannelKind::Email,
        &email,
        "replies@parse.shop.example",
        "my parcel is late",
        w.clock.now(),
    );
    assert_eq!(w.feedback.on_reply(&complaint).await.unwrap(), None);
    w.advance(Duration::minutes(1)).await;
    let sent = apologies(&w, order);
    assert_eq!(sent.len(), 1, "one apology: {sent:#?}");
    assert_eq!(sent[0].message.to, email);
    assert_eq!(
        sent[0]
            .message
            .meta
            .get("recovery_signal")
            .map(String::as_str),
        Some("complaint")
    );
    assert!(
        w.survey_sent(order, "reask").is_empty(),
        "a complaint is not asked for a number"
    );

    // The same reply again (the inbox retrying it), a second complaint, a score with a
    // complaint, and a complaint after the survey closed: still one apology.
    assert_eq!(w.feedback.on_reply(&complaint).await.unwrap(), None);
    w.advance(Duration::hours(1)).await;
    w.reply(
        ChannelKind::Email,
        &email,
        "still waiting, where is my order?",
        None,
    )
    .await;
    w.advance(Duration::hours(1)).await;
    assert_eq!(
        w.reply(ChannelKind::Email, &email, "3, it was late", None)
            .await,
        Some(3)
    );
    w.advance(Duration::days(40)).await;
    w.reply(ChannelKind::Email, &email, "the parcel was delayed", None)
        .await;
    assert_eq!(apologies(&w, order).len(), 1);
    let rows = w
        .store
        .ledger_for_order(&OrderId::new(order.to_string()))
        .await
        .unwrap();
    let enqueued = rows
        .iter()
        .filter(|r| {
            r.decision == Decision::Enqueued
                && r.key.as_deref().is_some_and(|k| k.ends_with(":apology"))
        })
        .count();
    assert_eq!(enqueued, 1, "{rows:#?}");
}

#[tokio::test]
async fn a_reply_that_is_no_complaint_gets_no_apology() {
    let w = world_with(vec![ChannelKind::Email], Some(settings())).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::happy_path()).await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let (email, _) = customer_of(&w, &shipped);
    w.reply(ChannelKind::Email, &email, "the chocolate was lovely", None)
        .await;
    assert!(apologies(&w, shipped.order).is_empty());
    assert_eq!(w.survey_sent(shipped.order, "reask").len(), 1);
}

#[tokio::test]
async fn with_the_ticket_action_a_complaint_makes_one_ticket_with_recovery_on_it() {
    let w = world_with(vec![ChannelKind::Email], Some(settings().with_ticket(true))).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::delayed()).await;
    let order = shipped.order;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let (email, _) = customer_of(&w, &shipped);
    let complaint = InboundMessage::new(
        ChannelKind::Email,
        &email,
        "replies@parse.shop.example",
        "my parcel is late",
        w.clock.now(),
    );
    w.feedback.on_reply(&complaint).await.unwrap();
    w.feedback.on_reply(&complaint).await.unwrap();
    w.advance(Duration::hours(1)).await;
    w.reply(ChannelKind::Email, &email, "still waiting", None)
        .await;
    let t = w.desk.tickets();
    assert_eq!(t.len(), 1, "one ticket per order: {t:#?}");
    assert!(
        t[0].tags.contains(&"service_recovery".to_owned()),
        "{:?}",
        t[0].tags
    );
    let recovery_notes = t[0]
        .notes
        .iter()
        .filter(|n| n.contains("Service recovery"))
        .count();
    assert_eq!(recovery_notes, 1, "{:#?}", t[0].notes);
    assert!(
        t[0].notes
            .iter()
            .any(|n| n.contains("Complaint: the delivery was late")),
        "the complaint itself is on the same ticket: {:#?}",
        t[0].notes
    );
    assert_eq!(apologies(&w, order).len(), 1);
}
