//! The storage conformance suite (feature `conformance`): every storage backend runs these
//! checks unchanged, so they all keep the same promises. The platform kit, which every
//! shop-platform adapter runs, is [`platform`].
//!
//! One file (past 800 lines) for the storage checks: they are one list that every backend runs
//! through one macro, and reading them together is how a backend author sees every promise;
//! the platform kit (`conformance/platform.rs`) and uncertain-message checks
//! (`conformance/uncertain.rs`) are separate.
//!
//! In a backend's tests:
//!
//! ```ignore
//! aftercare::storage_conformance_tests!(async { MyStore::open_in_memory().await.unwrap() });
//! ```
//!
//! Each check panics with a message naming the broken promise. They use fixed times in 2026
//! and never sleep, so they are fast and deterministic.
//!
//! One long file: the suite is one list, named in the macro, that every backend runs whole.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod platform;
pub mod retention;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::*;
use crate::store::*;
use crate::webhook::VerifiedWebhook;

mod outbox_batch;
mod processing;
mod uncertain;
mod work;
pub use outbox_batch::*;
pub use processing::*;
pub use uncertain::*;
pub use work::*;

/// Generates one `#[tokio::test]` per conformance check, each on a fresh store made by
/// `$make` (an expression of a future yielding a store).
#[macro_export]
macro_rules! storage_conformance_tests {
    ($make:expr) => {
        $crate::storage_conformance_tests!(@each $make;
            inbox_insert_dedupes, inbox_concurrent_inserts_dedupe, inbox_burst_mixing_known_and_new_keys, inbox_roundtrips_every_field,
            inbox_same_content_under_a_new_key_is_a_duplicate, inbox_same_content_after_the_window_is_stored,
            inbox_concurrent_inserts_of_one_content_store_it_once, inbox_content_deleted_can_be_stored_again,
            inbox_large_bodies_roundtrip, inbox_claim_is_a_lease,
            inbox_complete_and_retry, inbox_dead_letter_and_requeue, inbox_concurrent_claims_are_disjoint,
            inbox_complete_many, inbox_processor_runs_orders_concurrently_in_order, inbox_processor_spreads_orders_over_worker_threads, inbox_processor_with_concurrency_one_takes_one_order_at_a_time, inbox_processor_stopped_mid_batch_leaves_no_handler_running, outbox_enqueue_many_answers_each_and_ledgers, outbox_enqueue_many_in_one_chunk_matches_enqueue, dispatcher_killed_mid_pipeline_leaves_at_most_a_batch, flow_writes_from_many_tasks_answer_each,
            outbox_mark_sent_many_answers_each_and_ledgers, outbox_mark_sent_many_survives_a_crash_between_batches, dispatcher_drains_each_message_once,
            outbox_enqueue_dedupes_and_ledgers, outbox_claims_only_due, outbox_mark_sent_needs_the_claim,
            outbox_expired_sending_is_recovered, outbox_claims_oldest_due_first_across_expired_claims, outbox_reschedule_and_finish, outbox_latest_sent_to, outbox_concurrent_claims_are_disjoint,
            outbox_found_by_provider_id, ledger_keeps_delivery_decisions,
            ledger_records_in_order, consent_latest_and_most_specific, surveys_count_once,
            surveys_keep_late_comments, snapshots_never_go_backwards,
            redact_customer_removes_personal_data, redact_shop_removes_everything,
            expire_keeps_only_recent_personal_data,
            outbox_uncertain_resolutions, outbox_uncertain_listed_by_since, expire_removes_abandoned_messages,
            work_reads_ahead_every_asked_snapshot, work_reads_consent_ahead_as_consent_answers, work_commit_stores_the_writes_with_the_completion,
            work_processor_stages_a_batch_and_commits_it_with_the_completion,
            work_unbatched_keeps_the_same_promises, work_pipeline_reads_the_batch_being_committed,
            work_pipeline_drops_the_next_batch_when_a_commit_fails, work_pipeline_drain_commits_what_was_handled_before_an_error
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $make.await;
                $crate::conformance::$name(::std::sync::Arc::new(store)).await;
            }
        )*
    };
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn t0() -> DateTime<Utc> {
    t("2026-03-01T10:00:00Z")
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn webhook(source: &str, key: &str, body: &[u8]) -> NewInboxEntry {
    let mut v = VerifiedWebhook::new(key);
    v.topic = Some("orders/fulfilled".into());
    v.shop = Some("demo.myshopify.com".into());
    NewInboxEntry::new(source, v, body.to_vec(), t0())
}

/// A body of its own for webhook `key`: distinct webhooks have distinct bodies (the inbox
/// takes the same body under the same source and topic for the same webhook).
fn body_of(key: &str) -> Vec<u8> {
    format!(r#"{{"id":"{key}"}}"#).into_bytes()
}

/// Webhook `key` with a body of its own.
fn keyed(source: &str, key: &str) -> NewInboxEntry {
    webhook(source, key, &body_of(key))
}

fn message(to: &str, order: &str) -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Sms,
        to,
        Purpose::Transactional,
        "Your parcel ships",
    );
    m.order_id = Some(OrderId::new(order));
    m.customer_id = Some(CustomerId::new("c-1"));
    m.shop = Some(ShopId::new("demo.myshopify.com"));
    m
}

const LEASE: Duration = Duration::from_secs(60);

pub async fn inbox_insert_dedupes(s: Arc<dyn Store>) {
    let a = s.insert(webhook("shopify", "evt-1", b"{}")).await.unwrap();
    let b = s
        .insert(webhook("shopify", "evt-1", b"{\"other\":1}"))
        .await
        .unwrap();
    assert!(
        matches!(a, InboxInsert::Inserted(_)),
        "first insert must be new: {a:?}"
    );
    assert_eq!(
        b,
        InboxInsert::Duplicate(a.id()),
        "same source and key must be a duplicate"
    );
    let c = s
        .insert(webhook("woocommerce", "evt-1", b"{}"))
        .await
        .unwrap();
    assert!(
        matches!(c, InboxInsert::Inserted(_)),
        "the key is scoped to its source"
    );
    let e = s.inbox_entry(a.id()).await.unwrap().unwrap();
    assert_eq!(
        e.body, b"{}",
        "a duplicate must not overwrite the stored body"
    );
    let claimed = s.claim(t0(), 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2, "a duplicate is processed once");
}

pub async fn inbox_concurrent_inserts_dedupe(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..60 {
        let s = s.clone();
        // 20 distinct keys, each delivered three times at once.
        tasks.push(tokio::spawn(async move {
            (
                i % 20,
                s.insert(keyed("shopify", &format!("burst-{}", i % 20)))
                    .await
                    .unwrap(),
            )
        }));
    }
    let mut by_key: std::collections::HashMap<i32, Vec<InboxInsert>> =
        std::collections::HashMap::new();
    for t in tasks {
        let (k, r) = t.await.unwrap();
        by_key.entry(k).or_default().push(r);
    }
    assert_eq!(by_key.len(), 20);
    for (k, rs) in by_key {
        let inserted = rs
            .iter()
            .filter(|r| matches!(r, InboxInsert::Inserted(_)))
            .count();
        assert_eq!(inserted, 1, "key {k}: exactly one delivery is new: {rs:?}");
        let ids: HashSet<i64> = rs.iter().map(|r| r.id()).collect();
        assert_eq!(
            ids.len(),
            1,
            "key {k}: every delivery names the same entry: {rs:?}"
        );
    }
    assert_eq!(s.claim(t0(), 100, LEASE).await.unwrap().len(), 20);
}

/// Webhooks arriving together are written together by group-committing stores: every
/// caller still gets its own answer, new or duplicate, naming the right entry.
pub async fn inbox_burst_mixing_known_and_new_keys(s: Arc<dyn Store>) {
    // Ten webhooks stored earlier.
    for i in 0..10 {
        s.insert(keyed("shopify", &format!("old-{i}")))
            .await
            .unwrap();
    }
    // The burst: the ten again, 30 new ones, ten of those twice, and one key that exists
    // under another source (a different webhook).
    let mut keys: Vec<(&'static str, String)> = Vec::new();
    keys.extend((0..10).map(|i| ("shopify", format!("old-{i}"))));
    keys.extend((0..30).map(|i| ("shopify", format!("new-{i}"))));
    keys.extend((0..10).map(|i| ("shopify", format!("new-{i}"))));
    keys.push(("woocommerce", "old-0".to_string()));
    let mut tasks = Vec::new();
    for (source, key) in keys.clone() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let r = s.insert(keyed(source, &key)).await.unwrap();
            (source, key, r)
        }));
    }
    let mut inserted: std::collections::HashMap<(&str, String), usize> =
        std::collections::HashMap::new();
    for t in tasks {
        let (source, key, r) = t.await.unwrap();
        let entry = s.inbox_entry(r.id()).await.unwrap().unwrap();
        assert_eq!(
            (entry.source.as_str(), entry.dedupe_key.as_str()),
            (source, key.as_str()),
            "the answer names this webhook's entry"
        );
        if let InboxInsert::Inserted(_) = r {
            assert!(
                !key.starts_with("old-") || source == "woocommerce",
                "{key} existed"
            );
            *inserted.entry((source, key)).or_default() += 1;
        }
    }
    // Each new key inserted exactly once, whichever copy came first.
    assert_eq!(inserted.len(), 31);
    assert!(inserted.values().all(|n| *n == 1));
    assert_eq!(s.claim(t0(), 100, LEASE).await.unwrap().len(), 41);
}

/// A signed body posted again under a fresh de-duplication id (an unsigned header) is the
/// same webhook: same source, topic and body within the content window.
pub async fn inbox_same_content_under_a_new_key_is_a_duplicate(s: Arc<dyn Store>) {
    let body = br#"{"id":820982911946154508,"fulfillment_status":"fulfilled"}"#;
    let a = s.insert(webhook("shopify", "evt-1", body)).await.unwrap();
    assert!(matches!(a, InboxInsert::Inserted(_)), "{a:?}");
    let mut replay = webhook("shopify", "evt-2", body);
    replay.received_at = t0() + secs(3600);
    replay
        .verified
        .meta
        .insert("api_version".into(), "2026-01".into());
    assert_eq!(
        s.insert(replay).await.unwrap(),
        InboxInsert::Duplicate(a.id()),
        "the same body and topic under a new key within the window is a duplicate"
    );
    let mut late = webhook("shopify", "evt-3", body);
    late.received_at = t0() + secs(72 * 3600);
    assert_eq!(
        s.insert(late).await.unwrap(),
        InboxInsert::Duplicate(a.id()),
        "the default window is 72 hours, its end included"
    );
    let e = s.inbox_entry(a.id()).await.unwrap().unwrap();
    assert_eq!(
        (e.dedupe_key.as_str(), e.received_at, e.meta.len()),
        ("evt-1", t0(), 0),
        "a duplicate changes nothing"
    );
    // Key de-duplication stays as it was: forever, whatever the body.
    let mut same_key = webhook("shopify", "evt-1", b"{\"other\":1}");
    same_key.received_at = t0() + chrono::Duration::days(100);
    assert_eq!(
        s.insert(same_key).await.unwrap(),
        InboxInsert::Duplicate(a.id())
    );

    // Another topic, another source, or a body differing in one byte: another webhook.
    let mut other_topic = webhook("shopify", "evt-4", body);
    other_topic.verified.topic = Some("orders/paid".into());
    let b = s.insert(other_topic).await.unwrap();
    assert!(
        matches!(b, InboxInsert::Inserted(id) if id != a.id()),
        "same body under another topic is stored: {b:?}"
    );
    let mut no_topic = webhook("shopify", "evt-5", body);
    no_topic.verified.topic = None;
    let c = s.insert(no_topic).await.unwrap();
    assert!(matches!(c, InboxInsert::Inserted(_)), "{c:?}");
    let d = s
        .insert(webhook("woocommerce", "evt-6", body))
        .await
        .unwrap();
    assert!(matches!(d, InboxInsert::Inserted(_)), "{d:?}");
    let mut changed = body.to_vec();
    changed.push(b' ');
    let e = s
        .insert(webhook("shopify", "evt-7", &changed))
        .await
        .unwrap();
    assert!(matches!(e, InboxInsert::Inserted(_)), "{e:?}");
    // And each of those is now a duplicate of its own row.
    let mut again = webhook("shopify", "evt-8", body);
    again.verified.topic = Some("orders/paid".into());
    assert_eq!(
        s.insert(again).await.unwrap(),
        InboxInsert::Duplicate(b.id())
    );
    let mut again = webhook("shopify", "evt-9", body);
    again.verified.topic = None;
    assert_eq!(
        s.insert(again).await.unwrap(),
        InboxInsert::Duplicate(c.id())
    );

    let claimed = s.claim(t0() + secs(1), 100, LEASE).await.unwrap();
    let mut keys: Vec<&str> = claimed.iter().map(|e| e.dedupe_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["evt-1", "evt-4", "evt-5", "evt-6", "evt-7"],
        "each webhook is processed once"
    );
}

/// The content window: past it, the same content is stored again (and later copies are
/// duplicates of that newer row); a webhook's window is its own.
pub async fn inbox_same_content_after_the_window_is_stored(s: Arc<dyn Store>) {
    let body = br#"{"id":1,"topic":"window"}"#;
    let a = s
        .insert(webhook("shopify", "w-1", body))
        .await
        .unwrap()
        .id();
    let mut past = webhook("shopify", "w-2", body);
    past.received_at = t0() + secs(72 * 3600 + 1);
    let b = s.insert(past).await.unwrap();
    assert!(
        matches!(b, InboxInsert::Inserted(id) if id > a),
        "the same body after the window is stored: {b:?}"
    );
    let mut next = webhook("shopify", "w-3", body);
    next.received_at = t0() + secs(73 * 3600);
    assert_eq!(
        s.insert(next).await.unwrap(),
        InboxInsert::Duplicate(b.id()),
        "a copy names the latest row of its content"
    );

    // A window of one hour, set on the webhook.
    let hour = Duration::from_secs(3600);
    let body = br#"{"id":2,"topic":"window"}"#;
    let c = s
        .insert(webhook("shopify", "h-1", body).with_content_window(hour))
        .await
        .unwrap()
        .id();
    let mut inside = webhook("shopify", "h-2", body).with_content_window(hour);
    inside.received_at = t0() + secs(3600);
    assert_eq!(s.insert(inside).await.unwrap(), InboxInsert::Duplicate(c));
    let mut outside = webhook("shopify", "h-3", body).with_content_window(hour);
    outside.received_at = t0() + secs(3601);
    let d = s.insert(outside).await.unwrap();
    assert!(
        matches!(d, InboxInsert::Inserted(id) if id > c),
        "one hour and a second later, the one-hour window is over: {d:?}"
    );
    // A copy that arrived earlier than the stored row (another instance's clock) is a
    // duplicate too.
    let mut earlier = webhook("shopify", "h-4", body).with_content_window(hour);
    earlier.received_at = t0() + secs(3000);
    assert_eq!(
        s.insert(earlier).await.unwrap(),
        InboxInsert::Duplicate(d.id())
    );

    let claimed = s.claim(t0() + secs(80 * 3600), 100, LEASE).await.unwrap();
    let mut keys: Vec<&str> = claimed.iter().map(|e| e.dedupe_key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["h-1", "h-3", "w-1", "w-2"]);
}

/// The same body arriving at once under many keys (a replay racing the original, or one
/// event delivered to several subscriptions) is stored exactly once.
pub async fn inbox_concurrent_inserts_of_one_content_store_it_once(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..60 {
        let s = s.clone();
        // Six bodies, each under ten keys, each key twice.
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"order":{}}}"#, i % 6);
            let key = format!("race-{}", i % 30);
            (
                i % 6,
                s.insert(webhook("shopify", &key, body.as_bytes()))
                    .await
                    .unwrap(),
            )
        }));
    }
    let mut by_body: std::collections::HashMap<i32, Vec<InboxInsert>> =
        std::collections::HashMap::new();
    for t in tasks {
        let (b, r) = t.await.unwrap();
        by_body.entry(b).or_default().push(r);
    }
    assert_eq!(by_body.len(), 6);
    for (b, rs) in by_body {
        let inserted = rs
            .iter()
            .filter(|r| matches!(r, InboxInsert::Inserted(_)))
            .count();
        assert_eq!(inserted, 1, "body {b}: stored once: {rs:?}");
        let ids: HashSet<i64> = rs.iter().map(|r| r.id()).collect();
        assert_eq!(ids.len(), 1, "body {b}: every copy names one entry: {rs:?}");
    }
    assert_eq!(s.claim(t0(), 100, LEASE).await.unwrap().len(), 6);
}

/// Content whose row was deleted (retention, customer or shop redaction) no longer makes a
/// copy a duplicate.
pub async fn inbox_content_deleted_can_be_stored_again(s: Arc<dyn Store>) {
    // Retention: a processed entry older than the cutoff goes.
    let body = br#"{"id":10}"#;
    let a = s
        .insert(webhook("shopify", "x-1", body))
        .await
        .unwrap()
        .id();
    s.complete(a, t0()).await.unwrap();
    assert_eq!(s.expire(t0() + secs(1)).await.unwrap().inbox_deleted, 1);
    let mut copy = webhook("shopify", "x-2", body);
    copy.received_at = t0() + secs(60);
    let b = s.insert(copy).await.unwrap();
    assert!(
        matches!(b, InboxInsert::Inserted(id) if id > a),
        "retention deleted the first: {b:?}"
    );

    // Customer redaction.
    let body = br#"{"email":"jane.doe@example.com","id":11}"#;
    let c = s
        .insert(webhook("shopify", "y-1", body))
        .await
        .unwrap()
        .id();
    let report = s
        .redact_customer(&CustomerRedaction::new(
            Some(ShopId::new("demo.myshopify.com")),
            None,
            vec!["jane.doe@example.com".into()],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(report.inbox_deleted, 1);
    let d = s.insert(webhook("shopify", "y-2", body)).await.unwrap();
    assert!(
        matches!(d, InboxInsert::Inserted(id) if id > c),
        "redaction deleted the first: {d:?}"
    );
    assert_eq!(
        s.insert(webhook("shopify", "y-3", body)).await.unwrap(),
        InboxInsert::Duplicate(d.id()),
        "and the new row counts"
    );

    // Shop redaction.
    let body = br#"{"id":12}"#;
    let mut w = webhook("shopify", "z-1", body);
    w.verified.shop = Some("gone.myshopify.com".into());
    let e = s.insert(w).await.unwrap().id();
    s.redact_shop(&ShopId::new("gone.myshopify.com"))
        .await
        .unwrap();
    let f = s.insert(webhook("shopify", "z-2", body)).await.unwrap();
    assert!(
        matches!(f, InboxInsert::Inserted(id) if id > e),
        "shop redaction deleted the first: {f:?}"
    );
}

pub async fn inbox_roundtrips_every_field(s: Arc<dyn Store>) {
    let mut w = webhook("shopify", "evt-rt", &[0xff, 0x00, b'{', 0x80]);
    w.verified.occurred_at = Some(t("2026-02-28T23:59:59Z"));
    w.verified
        .meta
        .insert("api_version".into(), "2026-01".into());
    let id = s.insert(w).await.unwrap().id();
    let e = s.inbox_entry(id).await.unwrap().expect("entry stored");
    assert_eq!(e.source, "shopify");
    assert_eq!(e.dedupe_key, "evt-rt");
    assert_eq!(e.topic.as_deref(), Some("orders/fulfilled"));
    assert_eq!(e.shop.as_deref(), Some("demo.myshopify.com"));
    assert_eq!(e.occurred_at, Some(t("2026-02-28T23:59:59Z")));
    assert_eq!(
        e.meta.get("api_version").map(String::as_str),
        Some("2026-01")
    );
    assert_eq!(
        e.body,
        vec![0xff, 0x00, b'{', 0x80],
        "the body is stored byte for byte"
    );
    assert_eq!(e.received_at, t0());
    assert_eq!(e.status, InboxStatus::Pending);
    assert_eq!(e.attempts, 0);
    assert!(s.inbox_entry(id + 1000).await.unwrap().is_none());
}

pub async fn inbox_claim_is_a_lease(s: Arc<dyn Store>) {
    let id = s
        .insert(webhook("shopify", "evt-l", b"{}"))
        .await
        .unwrap()
        .id();
    let first = s.claim(t0(), 10, LEASE).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].id, id);
    assert_eq!(first[0].attempts, 1, "a claim counts as an attempt");
    assert!(
        s.claim(t0() + secs(30), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "claimed work is hidden during the lease"
    );
    let again = s.claim(t0() + secs(61), 10, LEASE).await.unwrap();
    assert_eq!(
        again.len(),
        1,
        "work whose lease ran out (a crashed worker) is claimed again"
    );
    assert_eq!(again[0].attempts, 2);
}

pub async fn inbox_complete_and_retry(s: Arc<dyn Store>) {
    let a = s.insert(keyed("shopify", "evt-a")).await.unwrap().id();
    let b = s.insert(keyed("shopify", "evt-b")).await.unwrap().id();
    assert_eq!(s.claim(t0(), 10, LEASE).await.unwrap().len(), 2);
    s.complete(a, t0()).await.unwrap();
    s.retry_at(b, t0() + secs(600), "platform API returned 503")
        .await
        .unwrap();
    assert!(
        s.claim(t0() + secs(599), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry time"
    );
    let later = s.claim(t0() + secs(600), 10, LEASE).await.unwrap();
    assert_eq!(
        later.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![b],
        "a completed entry is never claimed again"
    );
    assert_eq!(
        later[0].last_error.as_deref(),
        Some("platform API returned 503")
    );
    assert_eq!(later[0].attempts, 2);
    assert_eq!(
        s.inbox_entry(a).await.unwrap().unwrap().status,
        InboxStatus::Done
    );
}

pub async fn inbox_dead_letter_and_requeue(s: Arc<dyn Store>) {
    let id = s
        .insert(webhook("shopify", "evt-d", b"not json"))
        .await
        .unwrap()
        .id();
    s.claim(t0(), 10, LEASE).await.unwrap();
    s.dead_letter(id, "could not decode: expected value")
        .await
        .unwrap();
    assert!(
        s.claim(t0() + secs(3600), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "dead letters are not claimed"
    );
    let dead = s.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].status, InboxStatus::Dead);
    assert_eq!(
        dead[0].last_error.as_deref(),
        Some("could not decode: expected value")
    );
    assert!(s.requeue(id, t0() + secs(10)).await.unwrap());
    assert!(
        !s.requeue(id, t0() + secs(10)).await.unwrap(),
        "only a dead entry can be requeued"
    );
    assert_eq!(s.claim(t0() + secs(10), 10, LEASE).await.unwrap().len(), 1);
}

pub async fn inbox_concurrent_claims_are_disjoint(s: Arc<dyn Store>) {
    for i in 0..40 {
        s.insert(keyed("shopify", &format!("evt-c{i}")))
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let got = s.claim(t0(), 3, LEASE).await.unwrap();
                if got.is_empty() {
                    break;
                }
                ids.extend(got.into_iter().map(|e| e.id));
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 40, "every entry claimed exactly once");
    assert_eq!(
        unique.len(),
        40,
        "no entry claimed twice by concurrent workers"
    );
}

pub async fn outbox_enqueue_dedupes_and_ledgers(s: Arc<dyn Store>) {
    let key = "tracking:1001:f-1:shipped:sms";
    let a = s
        .enqueue(
            NewOutboxMessage::new(
                key,
                message("+15555550100", "1001"),
                t0(),
                "shipment created",
            ),
            t0(),
        )
        .await
        .unwrap();
    let b = s
        .enqueue(
            NewOutboxMessage::new(
                key,
                message("+15555550100", "1001"),
                t0(),
                "repeated webhook",
            ),
            t0() + secs(5),
        )
        .await
        .unwrap();
    assert!(matches!(a, Enqueue::New(_)));
    assert_eq!(
        b,
        Enqueue::Duplicate(a.id()),
        "one message per idempotency key"
    );
    let rows = s.ledger_for_key(key).await.unwrap();
    assert_eq!(
        rows.len(),
        2,
        "enqueue and duplicate are both ledgered: {rows:?}"
    );
    assert_eq!(rows[0].decision, Decision::Enqueued);
    assert_eq!(rows[0].reason, "shipment created");
    assert_eq!(rows[1].decision, Decision::Skipped);
    assert!(
        rows[1].reason.contains("repeated webhook"),
        "the duplicate's reason is kept: {}",
        rows[1].reason
    );
    assert_eq!(rows[0].order_id, Some(OrderId::new("1001")));
    assert_eq!(rows[0].channel, Some(ChannelKind::Sms));
    let e = s.outbox_by_key(key).await.unwrap().unwrap();
    assert_eq!(
        e.message,
        message("+15555550100", "1001"),
        "the message round-trips"
    );
    assert_eq!(e.status, OutboxStatus::Pending);
}

pub async fn outbox_claims_only_due(s: Arc<dyn Store>) {
    s.enqueue(
        NewOutboxMessage::new("k-now", message("+1", "1"), t0(), "r"),
        t0(),
    )
    .await
    .unwrap();
    s.enqueue(
        NewOutboxMessage::new("k-later", message("+1", "1"), t0() + secs(3600), "r"),
        t0(),
    )
    .await
    .unwrap();
    let got = s.claim_due(t0(), 10, LEASE).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].entry.key, "k-now");
    assert_eq!(got[0].attempt, 1);
    assert!(!got[0].recovered);
    assert_eq!(got[0].entry.status, OutboxStatus::Sending);
    let r = Receipt::new("SM1", t0());
    assert!(
        s.mark_sent(got[0].entry.id, got[0].attempt, &r, t0(), "sent")
            .await
            .unwrap()
    );
    let later = s.claim_due(t0() + secs(3600), 10, LEASE).await.unwrap();
    assert_eq!(
        later
            .iter()
            .map(|c| c.entry.key.as_str())
            .collect::<Vec<_>>(),
        vec!["k-later"]
    );
}

pub async fn outbox_mark_sent_needs_the_claim(s: Arc<dyn Store>) {
    let id = s
        .enqueue(
            NewOutboxMessage::new("k-s", message("+1", "7"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap()
        .id();
    let c = s.claim_due(t0(), 10, LEASE).await.unwrap().remove(0);
    let receipt = Receipt::new("SM123", t0() + secs(1));
    assert!(
        !s.mark_sent(id, c.attempt + 1, &receipt, t0(), "sent")
            .await
            .unwrap(),
        "a wrong claim changes nothing"
    );
    assert!(
        s.mark_sent(
            id,
            c.attempt,
            &receipt,
            t0() + secs(1),
            "sent on sms as SM123"
        )
        .await
        .unwrap()
    );
    assert!(
        !s.mark_sent(id, c.attempt, &receipt, t0() + secs(2), "again")
            .await
            .unwrap(),
        "a sent message stays sent"
    );
    let e = s.outbox_entry(id).await.unwrap().unwrap();
    assert_eq!(e.status, OutboxStatus::Sent);
    assert_eq!(e.receipt, Some(receipt));
    assert!(
        s.claim_due(t0() + secs(86_400), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "sent is final"
    );
    let rows = s.ledger_for_order(&OrderId::new("7")).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.decision).collect::<Vec<_>>(),
        vec![Decision::Enqueued, Decision::Sent]
    );
    assert_eq!(rows[1].reason, "sent on sms as SM123");
}

pub async fn outbox_expired_sending_is_recovered(s: Arc<dyn Store>) {
    let id = s
        .enqueue(
            NewOutboxMessage::new("k-crash", message("+1", "9"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap()
        .id();
    let first = s.claim_due(t0(), 10, LEASE).await.unwrap().remove(0);
    // The dispatcher dies here, with the request maybe in flight.
    assert!(
        s.claim_due(t0() + secs(59), 10, LEASE)
            .await
            .unwrap()
            .is_empty(),
        "not while the lease holds"
    );
    let again = s.claim_due(t0() + secs(61), 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(
        again[0].recovered,
        "a message found sending under an expired claim is flagged as recovered"
    );
    assert_eq!(again[0].attempt, first.attempt + 1);
    let r = Receipt::new("SM-late", t0());
    assert!(
        !s.mark_sent(id, first.attempt, &r, t0() + secs(62), "late")
            .await
            .unwrap(),
        "the old claim is void"
    );
    assert!(
        s.mark_sent(id, again[0].attempt, &r, t0() + secs(62), "resent")
            .await
            .unwrap()
    );
}

pub async fn outbox_claims_oldest_due_first_across_expired_claims(s: Arc<dyn Store>) {
    for (key, due) in [("k-a", 0), ("k-b", 10), ("k-c", 20), ("k-d", 30)] {
        s.enqueue(
            NewOutboxMessage::new(key, message("+1", "11"), t0() + secs(due), "r"),
            t0(),
        )
        .await
        .unwrap();
    }
    let keys = |v: &[Claimed]| v.iter().map(|c| c.entry.key.clone()).collect::<Vec<_>>();
    let first = s.claim_due(t0() + secs(30), 1, LEASE).await.unwrap();
    assert_eq!(keys(&first), vec!["k-a"]);
    // k-a's claim has expired: it is due since t0, before k-b, and comes first.
    let next = s.claim_due(t0() + secs(100), 2, LEASE).await.unwrap();
    assert_eq!(keys(&next), vec!["k-a", "k-b"]);
    assert!(next[0].recovered && !next[1].recovered);
    let rest = s.claim_due(t0() + secs(100), 10, LEASE).await.unwrap();
    assert_eq!(keys(&rest), vec!["k-c", "k-d"]);
}

pub async fn outbox_reschedule_and_finish(s: Arc<dyn Store>) {
    let a = s
        .enqueue(
            NewOutboxMessage::new("k-q", message("+1", "5"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap()
        .id();
    let b = s
        .enqueue(
            NewOutboxMessage::new("k-x", message("+2", "5"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap()
        .id();
    let c = s
        .enqueue(
            NewOutboxMessage::new("k-u", message("+3", "5"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap()
        .id();
    let claimed = s.claim_due(t0(), 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let att = |id: i64| claimed.iter().find(|c| c.entry.id == id).unwrap().attempt;
    let morning = t0() + secs(10 * 3600);
    assert!(
        s.reschedule(
            a,
            att(a),
            morning,
            Decision::Deferred,
            "quiet hours until 08:00 local",
            t0()
        )
        .await
        .unwrap()
    );
    assert!(
        s.finish(b, att(b), OutboxStatus::Skipped, "no consent", t0())
            .await
            .unwrap()
    );
    assert!(
        s.finish(
            c,
            att(c),
            OutboxStatus::Uncertain,
            "timeout after write",
            t0()
        )
        .await
        .unwrap()
    );
    assert!(
        s.claim_due(morning - secs(1), 10, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let next = s.claim_due(morning, 10, LEASE).await.unwrap();
    assert_eq!(
        next.len(),
        1,
        "only the deferred one comes back; skipped and uncertain are final"
    );
    assert_eq!(next[0].entry.id, a);
    assert_eq!(
        s.outbox_entry(b).await.unwrap().unwrap().status,
        OutboxStatus::Skipped
    );
    assert_eq!(
        s.outbox_entry(c)
            .await
            .unwrap()
            .unwrap()
            .last_error
            .as_deref(),
        Some("timeout after write")
    );
    assert_eq!(
        s.outbox_in(OutboxStatus::Uncertain, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let rows = s.ledger_for_order(&OrderId::new("5")).await.unwrap();
    let decisions: Vec<_> = rows.iter().map(|r| r.decision).collect();
    for d in [Decision::Deferred, Decision::Skipped, Decision::Uncertain] {
        assert!(
            decisions.contains(&d),
            "{d:?} must be ledgered: {decisions:?}"
        );
    }
}

pub async fn outbox_latest_sent_to(s: Arc<dyn Store>) {
    for (key, to, order) in [
        ("survey:a:invite", "+1555", "1"),
        ("survey:b:invite", "+1555", "2"),
        ("tracking:x", "+1555", "3"),
        ("survey_c", "+1555", "4"),
        ("survey:d:invite", "+1666", "5"),
    ] {
        s.enqueue(
            NewOutboxMessage::new(key, message(to, order), t0(), "r"),
            t0(),
        )
        .await
        .unwrap();
    }
    assert!(
        s.latest_sent_to(ChannelKind::Sms, "+1555", "survey:")
            .await
            .unwrap()
            .is_none(),
        "nothing sent yet"
    );
    let claimed = s.claim_due(t0(), 10, LEASE).await.unwrap();
    for (i, c) in claimed.iter().enumerate() {
        let r = Receipt::new(format!("SM{i}"), t0() + secs(i as i64));
        s.mark_sent(c.entry.id, c.attempt, &r, t0() + secs(i as i64), "sent")
            .await
            .unwrap();
    }
    let got = s
        .latest_sent_to(ChannelKind::Sms, "+1555", "survey:")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got.key, "survey:b:invite",
        "the newest matching message to that address"
    );
    assert!(
        s.latest_sent_to(ChannelKind::Email, "+1555", "survey:")
            .await
            .unwrap()
            .is_none(),
        "per channel"
    );
    assert_eq!(
        s.latest_sent_to(ChannelKind::Sms, "+1555", "survey_")
            .await
            .unwrap()
            .unwrap()
            .key,
        "survey_c",
        "the prefix is literal, `_` is no wildcard"
    );
    assert_eq!(
        s.latest_sent_to(ChannelKind::Sms, "+1666", "survey:")
            .await
            .unwrap()
            .unwrap()
            .key,
        "survey:d:invite"
    );
}

pub async fn outbox_concurrent_claims_are_disjoint(s: Arc<dyn Store>) {
    for i in 0..40 {
        s.enqueue(
            NewOutboxMessage::new(format!("k-{i}"), message("+1", "c"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let got = s.claim_due(t0(), 3, LEASE).await.unwrap();
                if got.is_empty() {
                    break;
                }
                ids.extend(got.into_iter().map(|c| c.entry.id));
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(
        (all.len(), unique.len()),
        (40, 40),
        "each message claimed by exactly one dispatcher"
    );
}

pub async fn ledger_records_in_order(s: Arc<dyn Store>) {
    let mut e = LedgerEntry::new(
        t0(),
        Decision::Skipped,
        "customer has no phone and no email",
    );
    e.order_id = Some(OrderId::new("42"));
    s.record(e.clone()).await.unwrap();
    let mut e2 = LedgerEntry::new(t0() + secs(1), Decision::Skipped, "superseded by delivered");
    e2.order_id = Some(OrderId::new("42"));
    e2.channel = Some(ChannelKind::Whatsapp);
    s.record(e2.clone()).await.unwrap();
    let rows = s.ledger_for_order(&OrderId::new("42")).await.unwrap();
    assert_eq!(rows, vec![e, e2]);
    assert!(
        s.ledger_for_order(&OrderId::new("43"))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn consent_latest_and_most_specific(s: Arc<dyn Store>) {
    let phone = "+905321234567";
    assert!(
        s.consent(ChannelKind::Sms, phone, Purpose::Feedback)
            .await
            .unwrap()
            .is_none()
    );
    s.set_consent(ConsentRecord::new(
        ChannelKind::Sms,
        phone,
        Some(Purpose::Feedback),
        ConsentState::Granted,
        "checkout",
        t0(),
    ))
    .await
    .unwrap();
    let got = s
        .consent(ChannelKind::Sms, phone, Purpose::Feedback)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.state, ConsentState::Granted);
    // A STOP reply: every purpose on this channel.
    s.set_consent(ConsentRecord::new(
        ChannelKind::Sms,
        phone,
        None,
        ConsentState::Denied,
        "reply:STOP",
        t0() + secs(60),
    ))
    .await
    .unwrap();
    for p in [
        Purpose::Feedback,
        Purpose::Transactional,
        Purpose::Marketing,
    ] {
        let got = s
            .consent(ChannelKind::Sms, phone, p)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            got.state,
            ConsentState::Denied,
            "a later opt-out of everything wins for {p:?}"
        );
        assert_eq!(got.source, "reply:STOP");
    }
    assert!(
        s.consent(ChannelKind::Whatsapp, phone, Purpose::Feedback)
            .await
            .unwrap()
            .is_none(),
        "consent is per channel"
    );
    // START again.
    s.set_consent(ConsentRecord::new(
        ChannelKind::Sms,
        phone,
        None,
        ConsentState::Granted,
        "reply:START",
        t0() + secs(120),
    ))
    .await
    .unwrap();
    assert_eq!(
        s.consent(ChannelKind::Sms, phone, Purpose::Marketing)
            .await
            .unwrap()
            .unwrap()
            .state,
        ConsentState::Granted
    );
    s.set_consent(ConsentRecord::new(
        ChannelKind::Email,
        "Jane@Example.com",
        None,
        ConsentState::Denied,
        "one-click",
        t0(),
    ))
    .await
    .unwrap();
    assert_eq!(
        s.consent(ChannelKind::Email, " jane@example.com", Purpose::Feedback)
            .await
            .unwrap()
            .unwrap()
            .state,
        ConsentState::Denied,
        "addresses match case-insensitively"
    );
}

fn invitation(id: &str, order: &str) -> Invitation {
    Invitation {
        id: id.into(),
        kind: SurveyKind::Nps,
        shop: Some(ShopId::new("demo.myshopify.com")),
        order_id: OrderId::new(order),
        customer_id: Some(CustomerId::new("c-1")),
        channel: ChannelKind::Email,
        locale: "ar".into(),
        sent_at: t0(),
        closes_at: t0() + secs(14 * 86_400),
    }
}

fn response(inv: &str, order: &str, score: u8, at: DateTime<Utc>) -> SurveyResponse {
    SurveyResponse {
        invitation_id: inv.into(),
        kind: SurveyKind::Nps,
        order_id: OrderId::new(order),
        customer_id: Some(CustomerId::new("c-1")),
        score,
        comment: Some("التوصيل كان سريعًا".into()),
        via: "web".into(),
        answered_at: at,
    }
}

pub async fn surveys_count_once(s: Arc<dyn Store>) {
    assert!(s.save_invitation(&invitation("inv-1", "1")).await.unwrap());
    assert!(
        !s.save_invitation(&invitation("inv-1", "1")).await.unwrap(),
        "an invitation id is unique"
    );
    assert_eq!(
        s.invitation("inv-1").await.unwrap(),
        Some(invitation("inv-1", "1"))
    );
    assert!(s.invitation("nope").await.unwrap().is_none());
    assert!(
        s.record_response(&response("inv-1", "1", 9, t0() + secs(10)))
            .await
            .unwrap()
    );
    assert!(
        !s.record_response(&response("inv-1", "1", 2, t0() + secs(11)))
            .await
            .unwrap(),
        "a double submission counts once"
    );
    assert_eq!(
        s.response("inv-1").await.unwrap(),
        Some(response("inv-1", "1", 9, t0() + secs(10)))
    );
    assert!(s.response("inv-2").await.unwrap().is_none());
    s.save_invitation(&invitation("inv-2", "2")).await.unwrap();
    s.record_response(&response("inv-2", "2", 3, t0() + secs(20)))
        .await
        .unwrap();
    let all = s.responses_between(t0(), t0() + secs(21)).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.score).collect::<Vec<_>>(),
        vec![9, 3],
        "the first answer stands, oldest first"
    );
    assert_eq!(all[0], response("inv-1", "1", 9, t0() + secs(10)));
    assert_eq!(
        s.responses_between(t0(), t0() + secs(20))
            .await
            .unwrap()
            .len(),
        1,
        "the end is exclusive"
    );
}

pub async fn surveys_keep_late_comments(s: Arc<dyn Store>) {
    s.save_invitation(&invitation("inv-c", "1")).await.unwrap();
    assert!(s.comments("inv-c").await.unwrap().is_empty());
    s.add_comment("inv-c", "وصل متأخرًا", t0() + secs(20))
        .await
        .unwrap();
    s.add_comment("inv-c", "late but fine", t0() + secs(10))
        .await
        .unwrap();
    s.add_comment("inv-c", "late but fine", t0() + secs(10))
        .await
        .unwrap();
    s.add_comment("inv-other", "x", t0()).await.unwrap();
    assert_eq!(
        s.comments("inv-c").await.unwrap(),
        vec![
            SurveyComment::new(t0() + secs(10), "late but fine"),
            SurveyComment::new(t0() + secs(20), "وصل متأخرًا"),
        ],
        "comments are kept oldest first, the same one once"
    );
    assert!(
        s.response("inv-c").await.unwrap().is_none(),
        "a comment is not an answer"
    );
}

fn snap(kind: &str, id: &str, version: DateTime<Utc>, status: &str) -> Snapshot {
    Snapshot {
        kind: kind.into(),
        shop: Some(ShopId::new("demo.myshopify.com")),
        id: id.into(),
        version,
        data: serde_json::json!({ "status": status }),
    }
}

pub async fn snapshots_never_go_backwards(s: Arc<dyn Store>) {
    assert!(s.snapshot("shipment", "f-1").await.unwrap().is_none());
    assert!(
        s.put_if_newer(&snap("shipment", "f-1", t0() + secs(10), "in_transit"))
            .await
            .unwrap()
    );
    assert!(
        !s.put_if_newer(&snap("shipment", "f-1", t0(), "label_created"))
            .await
            .unwrap(),
        "an older state is refused"
    );
    assert_eq!(
        s.snapshot("shipment", "f-1").await.unwrap().unwrap().data["status"],
        "in_transit"
    );
    assert!(
        s.put_if_newer(&snap("shipment", "f-1", t0() + secs(10), "in_transit"))
            .await
            .unwrap(),
        "the same version is accepted (idempotent)"
    );
    assert!(
        s.put_if_newer(&snap("shipment", "f-1", t0() + secs(20), "delivered"))
            .await
            .unwrap()
    );
    let got = s.snapshot("shipment", "f-1").await.unwrap().unwrap();
    assert_eq!(got, snap("shipment", "f-1", t0() + secs(20), "delivered"));
    assert!(
        s.snapshot("order", "f-1").await.unwrap().is_none(),
        "kinds are separate"
    );
}

/// Large bodies, repetitive (which a backend may compress) or not, come back byte for byte
/// from every read, and customer redaction finds an address deep inside one.
pub async fn inbox_large_bodies_roundtrip(s: Arc<dyn Store>) {
    let mut json = String::from(r#"{"line_items":["#);
    for i in 0..2000 {
        json.push_str(&format!(r#"{{"id":{i},"title":"Espresso cup","qty":1}},"#));
    }
    json.push_str(r#"{"email":"jane.doe@example.com"}]}"#);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let noise: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[3]
        })
        .collect();
    let big = s
        .insert(webhook("shopify", "e-big", json.as_bytes()))
        .await
        .unwrap()
        .id();
    let rnd = s
        .insert(webhook("shopify", "e-noise", &noise))
        .await
        .unwrap()
        .id();
    assert_eq!(
        s.inbox_entry(big).await.unwrap().unwrap().body,
        json.as_bytes()
    );
    assert_eq!(s.inbox_entry(rnd).await.unwrap().unwrap().body, noise);
    let claimed = s.claim(t0(), 10, Duration::from_secs(60)).await.unwrap();
    let mut bodies: Vec<(i64, Vec<u8>)> = claimed.into_iter().map(|e| (e.id, e.body)).collect();
    bodies.sort();
    assert_eq!(bodies, vec![(big, json.clone().into_bytes()), (rnd, noise)]);
    let report = s
        .redact_customer(&CustomerRedaction::new(
            Some(ShopId::new("demo.myshopify.com")),
            None,
            vec!["jane.doe@example.com".into()],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(report.inbox_deleted, 1);
    assert!(s.inbox_entry(big).await.unwrap().is_none());
    assert!(s.inbox_entry(rnd).await.unwrap().is_some());
}

pub async fn redact_customer_removes_personal_data(s: Arc<dyn Store>) {
    let email = "jane.doe@example.com";
    let keep = s
        .insert(webhook(
            "shopify",
            "e-other",
            br#"{"email":"someone@else.example"}"#,
        ))
        .await
        .unwrap()
        .id();
    let gone = s
        .insert(webhook(
            "shopify",
            "e-jane",
            br#"{"email":"jane.doe@example.com","id":1}"#,
        ))
        .await
        .unwrap()
        .id();
    let mut m = message(email, "1");
    m.channel = ChannelKind::Email;
    let mid = s
        .enqueue(NewOutboxMessage::new("k-jane", m, t0(), "r"), t0())
        .await
        .unwrap()
        .id();
    let mut m2 = message("+15550001", "2");
    m2.customer_id = Some(CustomerId::new("c-2"));
    let other = s
        .enqueue(NewOutboxMessage::new("k-other", m2, t0(), "r"), t0())
        .await
        .unwrap()
        .id();
    s.save_invitation(&invitation("inv-j", "1")).await.unwrap();
    s.record_response(&response("inv-j", "1", 4, t0()))
        .await
        .unwrap();
    s.add_comment("inv-j", "jane's late reply", t0())
        .await
        .unwrap();
    let mut other_inv = invitation("inv-o", "2");
    other_inv.customer_id = Some(CustomerId::new("c-2"));
    s.save_invitation(&other_inv).await.unwrap();
    s.add_comment("inv-o", "another customer's reply", t0())
        .await
        .unwrap();
    s.set_consent(ConsentRecord::new(
        ChannelKind::Email,
        email,
        Some(Purpose::Feedback),
        ConsentState::Granted,
        "checkout",
        t0(),
    ))
    .await
    .unwrap();
    s.set_consent(ConsentRecord::new(
        ChannelKind::Sms,
        "+15550009",
        None,
        ConsentState::Denied,
        "reply:STOP",
        t0(),
    ))
    .await
    .unwrap();
    s.put_if_newer(&snap("customer", "c-1", t0(), "x"))
        .await
        .unwrap();
    s.put_if_newer(&snap("customer-orders", "c-1", t0(), "x"))
        .await
        .unwrap();
    s.put_if_newer(&snap("order", "1", t0(), "x"))
        .await
        .unwrap();
    s.put_if_newer(&snap("order", "2", t0(), "x"))
        .await
        .unwrap();
    // What the flows keep about an order's shipments: the shipment (its data names the
    // order), the order's list of shipments, and the human order number's mapping.
    for (order, shipment, number) in [("1", "f-1", "#1001"), ("2", "f-2", "#1002")] {
        let mut sh = snap("shipment", shipment, t0(), "in_transit");
        sh.data =
            serde_json::json!({ "id": shipment, "order_id": order, "tracking_numbers": ["1Z999"] });
        s.put_if_newer(&sh).await.unwrap();
        let mut list = snap("order-shipments", order, t0(), "x");
        list.data = serde_json::json!([shipment]);
        s.put_if_newer(&list).await.unwrap();
        let mut num = snap("order-number", number, t0(), "x");
        num.data = serde_json::json!(order);
        s.put_if_newer(&num).await.unwrap();
    }

    let req = CustomerRedaction {
        shop: Some(ShopId::new("demo.myshopify.com")),
        customer_id: Some(CustomerId::new("c-1")),
        addresses: vec![email.into(), "+15550009".into()],
        orders: vec![OrderId::new("1")],
    };
    let report = s.redact_customer(&req).await.unwrap();

    assert!(
        s.inbox_entry(gone).await.unwrap().is_none(),
        "a webhook naming the customer is erased"
    );
    assert!(
        s.inbox_entry(keep).await.unwrap().is_some(),
        "other customers' webhooks stay"
    );
    assert!(
        s.outbox_entry(mid).await.unwrap().is_none(),
        "messages to the customer are erased"
    );
    assert!(s.outbox_entry(other).await.unwrap().is_some());
    let r = s.responses_between(t0(), t0() + secs(1)).await.unwrap();
    assert_eq!(r.len(), 1, "the score stays for the statistics");
    assert_eq!(r[0].score, 4);
    assert_eq!(r[0].customer_id, None, "the person is gone");
    assert_eq!(r[0].comment, None, "the comment is gone");
    assert_eq!(
        s.invitation("inv-j").await.unwrap().unwrap().customer_id,
        None
    );
    assert!(
        s.consent(ChannelKind::Email, email, Purpose::Feedback)
            .await
            .unwrap()
            .is_none(),
        "grants are erased"
    );
    assert_eq!(
        s.consent(ChannelKind::Sms, "+15550009", Purpose::Feedback)
            .await
            .unwrap()
            .unwrap()
            .state,
        ConsentState::Denied,
        "an opt-out survives erasure (hashed) so it stays honoured"
    );
    assert_eq!(report.inbox_deleted, 1);
    assert_eq!(report.outbox_deleted, 1);
    assert_eq!(report.responses_anonymised, 1);
    assert_eq!(report.consents_deleted, 1);
    assert!(
        s.snapshot("customer", "c-1").await.unwrap().is_none(),
        "the customer's snapshot is erased"
    );
    assert!(
        s.snapshot("order", "1").await.unwrap().is_none(),
        "the named orders' snapshots are erased"
    );
    assert!(s.snapshot("order", "2").await.unwrap().is_some());
    assert!(
        s.snapshot("customer-orders", "c-1")
            .await
            .unwrap()
            .is_none(),
        "the customer's order list is erased"
    );
    for (kind, id) in [
        ("shipment", "f-1"),
        ("order-shipments", "1"),
        ("order-number", "#1001"),
    ] {
        assert!(
            s.snapshot(kind, id).await.unwrap().is_none(),
            "the named order's {kind} snapshot is erased"
        );
    }
    for (kind, id) in [
        ("shipment", "f-2"),
        ("order-shipments", "2"),
        ("order-number", "#1002"),
    ] {
        assert!(
            s.snapshot(kind, id).await.unwrap().is_some(),
            "another order's {kind} snapshot stays"
        );
    }
    assert_eq!(report.snapshots_deleted, 6);
    assert!(
        s.comments("inv-j").await.unwrap().is_empty(),
        "the customer's late comments are erased"
    );
    assert_eq!(
        s.comments("inv-o").await.unwrap().len(),
        1,
        "other customers' comments stay"
    );
    assert_eq!(report.comments_deleted, 1);
}

pub async fn redact_shop_removes_everything(s: Arc<dyn Store>) {
    let a = s.insert(keyed("shopify", "e-1")).await.unwrap().id();
    let mut other = keyed("shopify", "e-2");
    other.verified.shop = Some("other.myshopify.com".into());
    let b = s.insert(other).await.unwrap().id();
    let m = s
        .enqueue(
            NewOutboxMessage::new("k-1", message("+1", "1"), t0(), "r"),
            t0(),
        )
        .await
        .unwrap()
        .id();
    s.save_invitation(&invitation("inv-s", "1")).await.unwrap();
    s.record_response(&response("inv-s", "1", 10, t0()))
        .await
        .unwrap();
    s.add_comment("inv-s", "late", t0()).await.unwrap();
    s.put_if_newer(&snap("order", "1", t0(), "x"))
        .await
        .unwrap();
    let report = s
        .redact_shop(&ShopId::new("demo.myshopify.com"))
        .await
        .unwrap();
    assert!(s.snapshot("order", "1").await.unwrap().is_none());
    assert!(s.inbox_entry(a).await.unwrap().is_none());
    assert!(
        s.inbox_entry(b).await.unwrap().is_some(),
        "another shop's data stays"
    );
    assert!(s.outbox_entry(m).await.unwrap().is_none());
    assert!(s.invitation("inv-s").await.unwrap().is_none());
    assert!(
        s.responses_between(t0(), t0() + secs(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.ledger_for_order(&OrderId::new("1"))
            .await
            .unwrap()
            .is_empty(),
        "the ledger of that shop goes too"
    );
    assert_eq!(report.inbox_deleted, 1);
    assert_eq!(report.outbox_deleted, 1);
    assert!(
        s.comments("inv-s").await.unwrap().is_empty(),
        "the shop's comments go too"
    );
    assert_eq!(report.comments_deleted, 1);
}

/// An outbox message created at `at`, claimed and ended in `status` (or left pending).
pub async fn outbox_found_by_provider_id(s: Arc<dyn Store>) {
    let sent = finished(&s, "k-sent", t0(), OutboxStatus::Sent).await;
    finished(&s, "k-other", t0(), OutboxStatus::Sent).await;
    let pending = finished(&s, "k-pending", t0(), OutboxStatus::Pending).await;
    let found = s.outbox_by_provider_id("p-k-sent").await.unwrap().unwrap();
    assert_eq!(found.id, sent, "the message the provider's id names");
    assert_eq!(found.key, "k-sent");
    assert_eq!(
        found.receipt.map(|r| r.provider_message_id).as_deref(),
        Some("p-k-sent")
    );
    assert!(
        s.outbox_by_provider_id("p-unknown")
            .await
            .unwrap()
            .is_none(),
        "an id no message has"
    );
    assert!(s.outbox_by_provider_id("").await.unwrap().is_none());
    assert!(
        s.outbox_entry(pending)
            .await
            .unwrap()
            .unwrap()
            .receipt
            .is_none(),
        "a message not sent has no provider id"
    );
}

pub async fn ledger_keeps_delivery_decisions(s: Arc<dyn Store>) {
    for (i, d) in [Decision::Delivered, Decision::Undelivered]
        .into_iter()
        .enumerate()
    {
        let mut e = LedgerEntry::new(t0() + secs(i as i64), d, format!("report {i}"));
        e.key = Some("k-report".into());
        s.record(e).await.unwrap();
    }
    let rows = s.ledger_for_key("k-report").await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.decision).collect::<Vec<_>>(),
        vec![Decision::Delivered, Decision::Undelivered],
        "delivery decisions are stored and read back"
    );
}

async fn finished(s: &Arc<dyn Store>, key: &str, at: DateTime<Utc>, status: OutboxStatus) -> i64 {
    let id = s
        .enqueue(
            NewOutboxMessage::new(key, message("+15550100", "9"), at, "r"),
            at,
        )
        .await
        .unwrap()
        .id();
    if status == OutboxStatus::Pending {
        return id;
    }
    let claimed = s.claim_due(at, 1, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1, "exactly the new message is due");
    let c = &claimed[0];
    assert_eq!(c.entry.id, id);
    let ok = if status == OutboxStatus::Sent {
        s.mark_sent(
            id,
            c.attempt,
            &Receipt::new(format!("p-{key}"), at),
            at,
            "ok",
        )
        .await
        .unwrap()
    } else {
        s.finish(id, c.attempt, status, "ended", at).await.unwrap()
    };
    assert!(ok);
    id
}

pub async fn expire_keeps_only_recent_personal_data(s: Arc<dyn Store>) {
    let before = t0() + secs(1_000);
    let old = before - secs(1);
    let new = before;

    // Inbox: processed entries received before the cutoff go, the rest stays.
    let mut inbox = Vec::new();
    for (key, at, end) in [
        ("old-done", old, "done"),
        ("old-dead", old, "dead"),
        ("old-pending", old, "pending"),
        ("new-done", new, "done"),
    ] {
        let body = format!(r#"{{"email":"jane.doe@example.com","id":"{key}"}}"#);
        let mut w = webhook("shopify", key, body.as_bytes());
        w.received_at = at;
        let id = s.insert(w).await.unwrap().id();
        match end {
            "done" => s.complete(id, at).await.unwrap(),
            "dead" => s.dead_letter(id, "poison").await.unwrap(),
            _ => {}
        }
        inbox.push((key, id));
    }

    // Outbox: finished messages created before the cutoff go, their ledger rows stay.
    let old_sent = finished(&s, "old-sent", old, OutboxStatus::Sent).await;
    let old_skipped = finished(&s, "old-skipped", old, OutboxStatus::Skipped).await;
    let old_dead = finished(&s, "old-dead", old, OutboxStatus::Dead).await;
    let old_uncertain = finished(&s, "old-uncertain", old, OutboxStatus::Uncertain).await;
    let new_sent = finished(&s, "new-sent", new, OutboxStatus::Sent).await;
    let old_pending = finished(&s, "old-pending", old, OutboxStatus::Pending).await;

    // Surveys: answers and invitations before the cutoff lose the person.
    let mut inv_old = invitation("inv-old", "1");
    inv_old.sent_at = old;
    let mut inv_new = invitation("inv-new", "2");
    inv_new.sent_at = new;
    s.save_invitation(&inv_old).await.unwrap();
    s.save_invitation(&inv_new).await.unwrap();
    s.record_response(&response("inv-old", "1", 3, old))
        .await
        .unwrap();
    s.record_response(&response("inv-new", "2", 10, new))
        .await
        .unwrap();
    s.add_comment("inv-old", "old late reply", old)
        .await
        .unwrap();
    s.add_comment("inv-old", "new late reply", new)
        .await
        .unwrap();

    // Consent: an old opt-out stays honoured.
    s.set_consent(ConsentRecord::new(
        ChannelKind::Sms,
        "+15550100",
        None,
        ConsentState::Denied,
        "reply:STOP",
        old - secs(100_000),
    ))
    .await
    .unwrap();

    // Snapshots: personal state last changed before the cutoff goes; survey facts (no
    // person in them, the report's breakdowns) stay.
    for (kind, id, at) in [
        ("shipment", "f-old", old),
        ("customer-orders", "c-old", old),
        ("order-number", "#1", old),
        ("shipment", "f-new", new),
        (crate::flows::feedback::FACTS_SNAPSHOT, "inv-old", old),
    ] {
        s.put_if_newer(&snap(kind, id, at, "x")).await.unwrap();
    }

    let report = s.expire(before).await.unwrap();

    for (kind, id, kept) in [
        ("shipment", "f-old", false),
        ("customer-orders", "c-old", false),
        ("order-number", "#1", false),
        ("shipment", "f-new", true),
        (crate::flows::feedback::FACTS_SNAPSHOT, "inv-old", true),
    ] {
        assert_eq!(
            s.snapshot(kind, id).await.unwrap().is_some(),
            kept,
            "{kind} snapshot {id}: deleted when older than the cutoff, unless survey facts"
        );
    }
    for (key, id) in &inbox {
        let kept = s.inbox_entry(*id).await.unwrap().is_some();
        let expected = matches!(*key, "old-pending" | "new-done");
        assert_eq!(
            kept, expected,
            "inbox entry {key}: processed entries received before the cutoff are deleted, others kept"
        );
    }
    for id in [old_sent, old_skipped, old_dead, old_uncertain] {
        assert!(
            s.outbox_entry(id).await.unwrap().is_none(),
            "a finished message created before the cutoff is deleted"
        );
    }
    assert!(
        s.outbox_entry(old_pending).await.unwrap().is_some(),
        "a message still pending stays, however old"
    );
    assert!(
        s.outbox_entry(new_sent).await.unwrap().is_some(),
        "a message created at the cutoff stays"
    );
    let rows = s.ledger_for_key("old-sent").await.unwrap();
    assert_eq!(rows.len(), 2, "the ledger rows of a deleted message stay");
    assert!(
        rows.iter().all(|r| r.customer_id.is_none()),
        "but lose the customer id"
    );
    assert_eq!(rows[1].decision, Decision::Sent);
    let rows = s.ledger_for_key("new-sent").await.unwrap();
    assert!(
        rows.iter()
            .all(|r| r.customer_id == Some(CustomerId::new("c-1"))),
        "recent ledger rows keep the customer id"
    );

    let r = s.response("inv-old").await.unwrap().unwrap();
    assert_eq!((r.kind, r.score), (SurveyKind::Nps, 3), "the score stays");
    assert_eq!(r.customer_id, None, "an old answer loses the person");
    assert_eq!(r.comment, None, "and the comment");
    assert_eq!(
        s.response("inv-new").await.unwrap().unwrap(),
        response("inv-new", "2", 10, new),
        "an answer at the cutoff is untouched"
    );
    assert_eq!(
        s.invitation("inv-old").await.unwrap().unwrap().customer_id,
        None
    );
    assert_eq!(s.invitation("inv-new").await.unwrap().unwrap(), inv_new);
    assert_eq!(
        s.comments("inv-old").await.unwrap(),
        vec![SurveyComment::new(new, "new late reply")],
        "old comments are deleted, recent ones kept"
    );
    assert_eq!(
        s.consent(ChannelKind::Sms, "+15550100", Purpose::Feedback)
            .await
            .unwrap()
            .unwrap()
            .state,
        ConsentState::Denied,
        "an old opt-out stays honoured"
    );

    assert_eq!(report.inbox_deleted, 2);
    assert_eq!(report.outbox_deleted, 4);
    assert_eq!(report.responses_anonymised, 1);
    assert_eq!(report.invitations_anonymised, 1);
    assert_eq!(report.comments_deleted, 1);
    assert_eq!(report.consents_deleted, 0);
    assert_eq!(report.snapshots_deleted, 3);

    let again = s.expire(before).await.unwrap();
    assert_eq!(
        again,
        RedactionReport::default(),
        "a second run changes nothing"
    );
}
