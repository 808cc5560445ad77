//! A late-delivery complaint by email reply, end to end on the feedback world (sandbox
//! shop, real SQLite, the sandbox helpdesk): the order came two days after its first
//! estimate; the customer's reply "it came two days late" opens exactly one ticket with the
//! lateness (and is not re-asked for a score); the same reply processed again changes
//! nothing; a second reply, the score, a "HELP" and a reply after the survey closed (on a
//! solved ticket, which it reopens) are notes on that ticket, never a new one.

use aftercare::clock::Clock as _;
use aftercare::helpdesk::TicketStatus;
use aftercare::model::{ChannelKind, InboundMessage, OrderId};
use aftercare::store::{Decision, Ledger};
use aftercare_sandbox::CarrierScript;
use chrono::Duration;

use crate::feedback_e2e::{customer_of, world};

#[tokio::test]
async fn a_late_delivery_complaint_opens_one_ticket_and_later_replies_are_notes() {
    let w = world(vec![ChannelKind::Email]).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::delayed()).await;
    let order = shipped.order;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    assert_eq!(w.survey_sent(order, "after_delivery").len(), 1);
    let (email, _) = customer_of(&w, &shipped);

    // The complaint, as an email reply: no score, one ticket.
    let complaint = InboundMessage::new(
        ChannelKind::Email,
        &email,
        "replies@parse.shop.example",
        "It came two days late, not happy",
        w.clock.now(),
    );
    assert_eq!(w.feedback.on_reply(&complaint).await.unwrap(), None);
    w.advance(Duration::minutes(1)).await;
    let t = w.desk.tickets();
    assert_eq!(t.len(), 1, "{t:#?}");
    assert!(
        t[0].subject.starts_with("Late delivery of order"),
        "{}",
        t[0].subject
    );
    assert_eq!(t[0].requester.as_deref(), Some(email.as_str()));
    assert!(
        t[0].tags.contains(&"late_delivery".to_owned()),
        "{:?}",
        t[0].tags
    );
    assert!(t[0].urgent);
    let first = &t[0].notes[0];
    assert!(
        first.contains("Customer wrote: It came two days late"),
        "{first}"
    );
    assert!(first.contains("day(s) late (estimated"), "{first}");
    assert!(first.contains("Customer's language: en-US"), "{first}");
    assert!(
        w.survey_sent(order, "reask").is_empty(),
        "a complaint is not asked for a number"
    );
    let ledger = w
        .store
        .ledger_for_order(&OrderId::new(order.to_string()))
        .await
        .unwrap();
    assert!(ledger.iter().any(|r| {
        r.decision == Decision::Sent
            && r.reason
                .contains("opened ticket 1 for a late-delivery complaint")
    }));

    // The same message again (the inbox retrying it): nothing new.
    assert_eq!(w.feedback.on_reply(&complaint).await.unwrap(), None);
    assert_eq!(w.desk.tickets()[0].notes.len(), 1);

    // A second complaint, then the score: notes on the same ticket.
    w.advance(Duration::hours(1)).await;
    w.reply(
        ChannelKind::Email,
        &email,
        "still waiting for an answer",
        None,
    )
    .await;
    w.advance(Duration::hours(1)).await;
    assert_eq!(
        w.reply(ChannelKind::Email, &email, "2", None).await,
        Some(2)
    );
    let t = w.desk.tickets();
    assert_eq!(t.len(), 1, "{t:#?}");
    assert_eq!(t[0].notes.len(), 3, "{:#?}", t[0].notes);
    assert!(t[0].notes[1].contains("still waiting"));
    assert!(t[0].notes[2].contains("Survey answer: NPS 2/10"));
    assert!(t[0].tags.contains(&"detractor".to_owned()));

    // "HELP": a note with the lateness on the same ticket.
    w.advance(Duration::hours(1)).await;
    let help = InboundMessage::new(ChannelKind::Email, &email, "r@x", "HELP", w.clock.now());
    w.tickets.on_help(&help).await.unwrap();
    let t = w.desk.tickets();
    assert_eq!(t.len(), 1);
    assert!(
        t[0].notes[3].contains("Help request by email: HELP"),
        "{}",
        t[0].notes[3]
    );

    // Support solves it; weeks later, after the survey closed, the customer writes again:
    // the solved ticket is reopened by the note, not replaced.
    w.desk.set_status(&t[0].id, TicketStatus::Solved);
    w.advance(Duration::days(40)).await;
    w.reply(
        ChannelKind::Email,
        &email,
        "and the next order was late too",
        None,
    )
    .await;
    let t = w.desk.tickets();
    assert_eq!(t.len(), 1, "{t:#?}");
    assert_eq!(t[0].notes.len(), 5, "{:#?}", t[0].notes);
    assert_eq!(t[0].status, TicketStatus::Open);
}

#[tokio::test]
async fn a_complaint_about_an_order_that_came_on_time_is_only_a_reply() {
    let w = world(vec![ChannelKind::Email]).await;
    let (shipped, delivered) = w.ship("en-US", CarrierScript::happy_path()).await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let (email, _) = customer_of(&w, &shipped);
    assert_eq!(
        w.reply(ChannelKind::Email, &email, "why so late?", None)
            .await,
        None
    );
    assert!(w.desk.tickets().is_empty());
    assert_eq!(w.survey_sent(shipped.order, "reask").len(), 1);
}
