//! Conformance checks of the resolution of uncertain messages (`Outbox::uncertain_before`,
//! `Outbox::resolve_uncertain`): every transition writes its ledger row with it, happens
//! once, and only from `uncertain`.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{LEASE, message, secs, t0};
use crate::model::*;
use crate::store::*;

/// Enqueues a message due at `at` and ends its first attempt as uncertain at `at + 10 s`.
async fn uncertain(s: &Arc<dyn Store>, key: &str, order: &str, at: DateTime<Utc>) -> i64 {
    let id = s
        .enqueue(
            NewOutboxMessage::new(key, message("+15550100", order), at, "r"),
            at,
        )
        .await
        .unwrap()
        .id();
    let claimed = s.claim_due(at, 1, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1, "exactly the new message is due");
    assert_eq!(claimed[0].entry.id, id);
    assert!(
        s.finish(
            id,
            claimed[0].attempt,
            OutboxStatus::Uncertain,
            "timed out after the request was written",
            at + secs(10)
        )
        .await
        .unwrap()
    );
    id
}

fn decisions(rows: &[LedgerEntry]) -> Vec<Decision> {
    rows.iter().map(|r| r.decision).collect()
}

pub async fn outbox_uncertain_resolutions(s: Arc<dyn Store>) {
    let sent = uncertain(&s, "u-sent", "71", t0()).await;
    let resend = uncertain(&s, "u-resend", "72", t0() + secs(1)).await;
    let gone = uncertain(&s, "u-gone", "73", t0() + secs(2)).await;
    let later = t0() + secs(3600);

    let receipt = Receipt::new("SM-found", t0() + secs(5));
    assert!(
        s.resolve_uncertain(sent, &Resolution::Sent(receipt.clone()), "found it", later)
            .await
            .unwrap()
    );
    assert!(
        s.resolve_uncertain(
            resend,
            &Resolution::Resend(later),
            "transactional: resend",
            later
        )
        .await
        .unwrap()
    );
    assert!(
        s.resolve_uncertain(gone, &Resolution::Abandon, "feedback: not twice", later)
            .await
            .unwrap()
    );

    let e = s.outbox_entry(sent).await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt, Some(receipt));
    assert_eq!(
        s.outbox_by_provider_id("SM-found")
            .await
            .unwrap()
            .map(|e| e.id),
        Some(sent),
        "a reconciled message is found by its provider id (for later delivery reports)"
    );
    let e = s.outbox_entry(resend).await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Pending);
    assert_eq!(e.due_at, later);
    let e = s.outbox_entry(gone).await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Abandoned);
    assert_eq!(e.last_error.as_deref(), Some("feedback: not twice"));
    assert_eq!(
        s.outbox_in(OutboxStatus::Abandoned, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Each transition has its ledger row, with the reason, at `now`.
    for (key, d, reason) in [
        ("u-sent", Decision::Reconciled, "found it"),
        ("u-resend", Decision::Resending, "transactional: resend"),
        ("u-gone", Decision::Abandoned, "feedback: not twice"),
    ] {
        let rows = s.ledger_for_key(key).await.unwrap();
        assert_eq!(
            decisions(&rows),
            vec![Decision::Enqueued, Decision::Uncertain, d],
            "{key}"
        );
        let last = rows.last().unwrap();
        assert_eq!(last.reason, reason);
        assert_eq!(last.at, later);
        assert_eq!(last.channel, Some(ChannelKind::Sms));
        assert!(
            last.order_id.is_some(),
            "the row carries the message's order"
        );
    }

    // Only from `uncertain`, and only once: a second resolution changes nothing and writes
    // no row.
    for (id, key) in [(sent, "u-sent"), (resend, "u-resend"), (gone, "u-gone")] {
        for r in [
            Resolution::Abandon,
            Resolution::Resend(later),
            Resolution::Sent(Receipt::new("SM-other", later)),
        ] {
            assert!(
                !s.resolve_uncertain(id, &r, "again", later).await.unwrap(),
                "{key} is no longer uncertain"
            );
        }
        assert_eq!(s.ledger_for_key(key).await.unwrap().len(), 3, "{key}");
    }
    assert!(
        !s.resolve_uncertain(9_999_999, &Resolution::Abandon, "none", later)
            .await
            .unwrap()
    );

    // The resent message is claimed again when due, as an ordinary attempt.
    assert!(
        s.claim_due(later - secs(1), 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.claim_due(later, 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].entry.id, resend);
    assert_eq!(again[0].attempt, 2);
    assert!(!again[0].recovered);
    assert!(
        s.mark_sent(
            resend,
            2,
            &Receipt::new("SM-again", later),
            later,
            "sent again"
        )
        .await
        .unwrap()
    );
    assert_eq!(
        decisions(&s.ledger_for_key("u-resend").await.unwrap()),
        vec![
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Resending,
            Decision::Sent
        ]
    );
}

pub async fn outbox_uncertain_listed_by_since(s: Arc<dyn Store>) {
    let a = uncertain(&s, "l-a", "81", t0()).await; // uncertain at t0 + 10 s
    let b = uncertain(&s, "l-b", "82", t0() + secs(100)).await; // at t0 + 110 s
    let _pending = s
        .enqueue(
            NewOutboxMessage::new("l-p", message("+15550100", "83"), t0() + secs(9000), "r"),
            t0(),
        )
        .await
        .unwrap();
    let listed = |v: Vec<UncertainEntry>| -> Vec<(i64, DateTime<Utc>)> {
        v.into_iter().map(|u| (u.entry.id, u.since)).collect()
    };
    assert_eq!(
        listed(s.uncertain_before(t0() + secs(10), 10).await.unwrap()),
        vec![],
        "strictly before"
    );
    assert_eq!(
        listed(s.uncertain_before(t0() + secs(50), 10).await.unwrap()),
        vec![(a, t0() + secs(10))]
    );
    let both = s.uncertain_before(t0() + secs(500), 10).await.unwrap();
    assert_eq!(
        listed(both.clone()),
        vec![(a, t0() + secs(10)), (b, t0() + secs(110))],
        "longest uncertain first"
    );
    assert!(
        both.iter()
            .all(|u| u.entry.status == OutboxStatus::Uncertain)
    );
    assert_eq!(both[0].entry.key, "l-a");
    assert_eq!(
        listed(s.uncertain_before(t0() + secs(500), 1).await.unwrap()),
        vec![(a, t0() + secs(10))],
        "the limit holds"
    );

    // Resent, then uncertain again: since is the latest time.
    let t1 = t0() + secs(1000);
    assert!(
        s.resolve_uncertain(a, &Resolution::Resend(t1), "resend", t1)
            .await
            .unwrap()
    );
    assert_eq!(
        listed(s.uncertain_before(t0() + secs(5000), 10).await.unwrap()),
        vec![(b, t0() + secs(110))],
        "a resolved message is not listed"
    );
    let c = s.claim_due(t1, 10, LEASE).await.unwrap();
    assert_eq!(c.len(), 1);
    assert!(
        s.finish(
            a,
            c[0].attempt,
            OutboxStatus::Uncertain,
            "timeout again",
            t1 + secs(20)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        listed(s.uncertain_before(t0() + secs(5000), 10).await.unwrap()),
        vec![(b, t0() + secs(110)), (a, t1 + secs(20))]
    );
}

pub async fn expire_removes_abandoned_messages(s: Arc<dyn Store>) {
    let old = t0() - secs(400 * 86_400);
    let id = uncertain(&s, "x-old", "91", old).await;
    assert!(
        s.resolve_uncertain(id, &Resolution::Abandon, "not twice", old + secs(3600))
            .await
            .unwrap()
    );
    let recent = uncertain(&s, "x-new", "92", t0()).await;
    assert!(
        s.resolve_uncertain(recent, &Resolution::Abandon, "not twice", t0() + secs(3600))
            .await
            .unwrap()
    );
    let r = s.expire(t0() - secs(365 * 86_400)).await.unwrap();
    assert_eq!(
        r.outbox_deleted, 1,
        "an abandoned message is finished: {r:?}"
    );
    assert!(s.outbox_entry(id).await.unwrap().is_none());
    assert!(s.outbox_entry(recent).await.unwrap().is_some());
}
