//! The sandbox helpdesk behaves as the ticket flow expects of a desk: found by external id
//! (newest first), notes and tags merged, a solved ticket reopened by a note, a closed one
//! refusing it, `429` on demand.

use aftercare::helpdesk::{
    Helpdesk, HelpdeskError, NewTicket, Note, OrderContext, Requester, TicketStatus,
};
use aftercare_sandbox::SandboxHelpdesk;

fn new_ticket(external: &str) -> NewTicket {
    let mut r = Requester::default();
    r.email = Some("layla@example.com".into());
    let mut t = NewTicket::new(
        external,
        "NPS 2/10 on order #1001",
        "Survey answer: NPS 2/10",
        r,
        OrderContext::new("1001"),
    );
    t.tags = vec!["aftercare_0a1b2c3d".into(), "detractor".into()];
    t
}

#[tokio::test]
async fn tickets_notes_tags_and_states() {
    let desk = SandboxHelpdesk::new();
    assert_eq!(desk.find_ticket("aftercare-1001").await.unwrap(), None);
    let t = desk
        .create_ticket(&new_ticket("aftercare-1001"))
        .await
        .unwrap();
    let found = desk.find_ticket("aftercare-1001").await.unwrap().unwrap();
    assert_eq!(found.id, t.id);
    desk.add_note(
        &t,
        &Note::new("second", vec!["late_delivery".into(), "detractor".into()]),
    )
    .await
    .unwrap();
    let kept = &desk.tickets()[0];
    assert_eq!(kept.notes, vec!["Survey answer: NPS 2/10", "second"]);
    assert_eq!(
        kept.tags,
        vec!["aftercare_0a1b2c3d", "detractor", "late_delivery"]
    );
    assert_eq!(kept.requester.as_deref(), Some("layla@example.com"));

    desk.set_status(&t.id, TicketStatus::Solved);
    desk.add_note(&t, &Note::new("reopens", vec![]))
        .await
        .unwrap();
    assert_eq!(desk.tickets()[0].status, TicketStatus::Open);
    desk.set_status(&t.id, TicketStatus::Closed);
    assert_eq!(
        desk.add_note(&t, &Note::new("refused", vec![])).await,
        Err(HelpdeskError::Closed(t.id.clone()))
    );
    // A follow-up ticket with the same external id is the one found from then on.
    let t2 = desk
        .create_ticket(&new_ticket("aftercare-1001"))
        .await
        .unwrap();
    assert_eq!(
        desk.find_ticket("aftercare-1001")
            .await
            .unwrap()
            .unwrap()
            .id,
        t2.id
    );
}

#[tokio::test]
async fn throttling_on_demand_is_a_retryable_429() {
    let desk = SandboxHelpdesk::new();
    desk.throttle_next(1);
    let e = desk.create_ticket(&new_ticket("x")).await.unwrap_err();
    assert!(e.is_retryable());
    assert!(matches!(e, HelpdeskError::RateLimited { .. }));
    assert!(desk.tickets().is_empty());
    desk.create_ticket(&new_ticket("x")).await.unwrap();
    assert_eq!(desk.calls(), 2);
    assert_eq!(desk.tickets().len(), 1);
}
