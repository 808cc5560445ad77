//! What PostgreSQL adds to the conformance suite: several instances on one database
//! (dispatchers sharing an outbox, migrations racing at start-up, claims skipping rows
//! locked by another instance), schemas of their own, and version checks. Each test runs on
//! a fresh database of a real server (see `support`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::SystemClock;
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OrderId, OutboundMessage, Purpose, Receipt};
use aftercare::store::{Decision, Ledger as _, NewOutboxMessage, Outbox, OutboxStatus};
use aftercare_postgres::{ConnectError, PostgresStore};
use chrono::Utc;
use sqlx::postgres::PgPoolOptions;

/// A channel that records what it was asked to send, and by which instance.
#[derive(Debug)]
struct Recorder {
    instance: &'static str,
    sent: Arc<Mutex<Vec<(&'static str, String)>>>,
}

#[async_trait::async_trait]
impl MessageChannel for Recorder {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    async fn send(&self, _message: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        // A provider round trip takes a moment; meanwhile the other instance claims.
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.sent
            .lock()
            .unwrap()
            .push((self.instance, key.to_owned()));
        Ok(Receipt::new(format!("{}:{key}", self.instance), Utc::now()))
    }
}

fn message(i: usize) -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Sms,
        format!("+1555000{i:04}"),
        Purpose::Transactional,
        "Shipped",
    );
    m.order_id = Some(OrderId::new(format!("o-{i}")));
    m
}

async fn two_stores() -> (PostgresStore, PostgresStore) {
    let opts = support::fresh_database().await;
    let a = PostgresStore::connect_with(PgPoolOptions::new().max_connections(5), opts.clone());
    let b = PostgresStore::connect_with(PgPoolOptions::new().max_connections(5), opts);
    let (a, b) = tokio::join!(a, b);
    (a.unwrap(), b.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_send_each_message_exactly_once() {
    let (a, b) = two_stores().await;
    let due = Utc::now() - chrono::Duration::seconds(1);
    for i in 0..200 {
        a.enqueue(
            NewOutboxMessage::new(format!("m-{i}"), message(i), due, "test"),
            due,
        )
        .await
        .unwrap();
    }
    let sent = Arc::new(Mutex::new(Vec::new()));
    let dispatcher = |store: PostgresStore, instance| {
        Dispatcher::new(Arc::new(store), Arc::new(SystemClock))
            .channel(Arc::new(Recorder {
                instance,
                sent: sent.clone(),
            }))
            .batch(10, 4)
    };
    let (da, db) = (dispatcher(a.clone(), "a"), dispatcher(b.clone(), "b"));
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { da.drain().await }),
        tokio::spawn(async move { db.drain().await })
    );
    let (ra, rb) = (ra.unwrap().unwrap(), rb.unwrap().unwrap());
    assert_eq!(ra.sent + rb.sent, 200, "every message sent: {ra:?} {rb:?}");
    assert_eq!(
        (ra.lost, rb.lost),
        (0, 0),
        "SKIP LOCKED claims never overlap, so no claim is lost"
    );
    assert!(
        ra.sent > 0 && rb.sent > 0,
        "both instances took part: a {} b {}",
        ra.sent,
        rb.sent
    );

    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 200, "the channel was called once per message");
    let by_key: HashMap<&str, &str> = sent.iter().map(|(i, k)| (k.as_str(), *i)).collect();
    assert_eq!(by_key.len(), 200, "no message was sent twice");

    let stored = b.outbox_in(OutboxStatus::Sent, 1000).await.unwrap();
    assert_eq!(stored.len(), 200);
    for e in &stored {
        let instance = by_key[e.key.as_str()];
        assert_eq!(
            e.receipt.as_ref().unwrap().provider_message_id,
            format!("{instance}:{}", e.key),
            "the receipt of the instance that sent it is stored"
        );
        let rows = a.ledger_for_key(&e.key).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.decision).collect::<Vec<_>>(),
            vec![Decision::Enqueued, Decision::Sent],
            "{}: one enqueue and one send in the ledger",
            e.key
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_migrate_once() {
    let opts = support::fresh_database().await;
    let starts = (0..6).map(|_| {
        let opts = opts.clone();
        tokio::spawn(async move {
            PostgresStore::connect_with(PgPoolOptions::new().max_connections(2), opts).await
        })
    });
    let mut stores = Vec::new();
    for s in starts {
        stores.push(
            s.await
                .unwrap()
                .expect("every instance starts while the others migrate"),
        );
    }
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT version FROM aftercare_schema_version ORDER BY version")
            .fetch_all(stores[0].pool())
            .await
            .unwrap();
    assert_eq!(
        versions,
        vec![1, 2, 3, 4, 5],
        "each version is applied once"
    );
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
         AND table_name IN ('inbox', 'outbox', 'ledger', 'consent', 'invitations', 'responses', 'snapshots')",
    )
    .fetch_one(stores[0].pool())
    .await
    .unwrap();
    assert_eq!(tables, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_skip_rows_locked_by_another_instance() {
    let (a, b) = two_stores().await;
    let due = Utc::now() - chrono::Duration::seconds(1);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            a.enqueue(
                NewOutboxMessage::new(format!("k-{i}"), message(i), due, "r"),
                due,
            )
            .await
            .unwrap()
            .id(),
        );
    }
    // Another instance is in the middle of claiming the oldest message.
    let mut tx = a.pool().begin().await.unwrap();
    sqlx::query("SELECT id FROM outbox WHERE id = $1 FOR UPDATE")
        .bind(ids[0])
        .execute(&mut *tx)
        .await
        .unwrap();
    let claim = b.claim_due(Utc::now(), 10, Duration::from_secs(60));
    // A claim that waited for the lock would hang until the transaction ends.
    let got = tokio::time::timeout(Duration::from_secs(30), claim)
        .await
        .expect("a claim does not wait for rows locked elsewhere")
        .unwrap();
    assert_eq!(
        got.iter().map(|c| c.entry.id).collect::<Vec<_>>(),
        vec![ids[1], ids[2]]
    );
    tx.rollback().await.unwrap();
    let rest = b
        .claim_due(Utc::now(), 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|c| c.entry.id).collect::<Vec<_>>(),
        vec![ids[0]],
        "released rows are claimed next"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_keep_stores_apart() {
    let opts = support::fresh_database().await;
    let pool = || PgPoolOptions::new().max_connections(3);
    let t1 = PostgresStore::connect_in_schema(pool(), opts.clone(), "tenant_one")
        .await
        .unwrap();
    let t2 = PostgresStore::connect_in_schema(pool(), opts.clone(), "tenant_two")
        .await
        .unwrap();
    let now = Utc::now();
    t1.enqueue(NewOutboxMessage::new("k", message(1), now, "r"), now)
        .await
        .unwrap();
    assert_eq!(
        t1.outbox_in(OutboxStatus::Pending, 10).await.unwrap().len(),
        1
    );
    assert!(
        t2.outbox_in(OutboxStatus::Pending, 10)
            .await
            .unwrap()
            .is_empty(),
        "another schema sees nothing"
    );
    assert!(t2.outbox_by_key("k").await.unwrap().is_none());
    let schemas: HashSet<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'outbox'",
    )
    .fetch_all(t1.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(
        schemas,
        HashSet::from(["tenant_one".to_owned(), "tenant_two".to_owned()])
    );
    // Reconnecting to an existing schema finds its data and migrates nothing.
    let again = PostgresStore::connect_in_schema(pool(), opts.clone(), "tenant_one")
        .await
        .unwrap();
    assert!(again.outbox_by_key("k").await.unwrap().is_some());
    let err = PostgresStore::connect_in_schema(pool(), opts, "Tenant; DROP TABLE outbox")
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::SchemaName(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let opts = support::fresh_database().await;
    let store = PostgresStore::connect_with(PgPoolOptions::new().max_connections(1), opts.clone())
        .await
        .unwrap();
    sqlx::query("INSERT INTO aftercare_schema_version (version) VALUES (99)")
        .execute(store.pool())
        .await
        .unwrap();
    let err = PostgresStore::connect_with(PgPoolOptions::new().max_connections(1), opts)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ConnectError::TooNew {
                found: 99,
                known: 5
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("upgrade aftercare-postgres"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_server_says_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let opts = sqlx::postgres::PgConnectOptions::new()
        .socket(dir.path())
        .database("none");
    let err = PostgresStore::connect_with(
        PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5)),
        opts,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ConnectError::Connect(_)), "{err}");
    assert!(
        err.to_string().contains("check that the server runs"),
        "{err}"
    );
    let err = PostgresStore::connect("postgres://localhost:port/db")
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Url(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_inbox() {
    use aftercare::store::{Inbox as _, NewInboxEntry};
    use aftercare::webhook::VerifiedWebhook;
    let (a, b) = two_stores().await;
    let now = Utc::now();
    for i in 0..100 {
        let store = if i % 2 == 0 { &a } else { &b };
        let body = format!("{{\"id\":{i}}}").into_bytes();
        store
            .insert(NewInboxEntry::new(
                "shopify",
                VerifiedWebhook::new(format!("evt-{i}")),
                body,
                now,
            ))
            .await
            .unwrap();
    }
    // The same deliveries again, through the other instance: all duplicates.
    for i in 0..100 {
        let store = if i % 2 == 0 { &b } else { &a };
        let r = store
            .insert(NewInboxEntry::new(
                "shopify",
                VerifiedWebhook::new(format!("evt-{i}")),
                vec![],
                now,
            ))
            .await
            .unwrap();
        assert!(
            matches!(r, aftercare::store::InboxInsert::Duplicate(_)),
            "evt-{i}: {r:?}"
        );
    }
    let work = |store: PostgresStore| {
        tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let got = store.claim(now, 4, Duration::from_secs(60)).await.unwrap();
                if got.is_empty() {
                    return ids;
                }
                for e in got {
                    store.complete(e.id, now).await.unwrap();
                    ids.push(e.id);
                }
            }
        })
    };
    let (ia, ib) = tokio::join!(work(a.clone()), work(b.clone()));
    let (ia, ib) = (ia.unwrap(), ib.unwrap());
    let all: HashSet<i64> = ia.iter().chain(&ib).copied().collect();
    assert_eq!(ia.len() + ib.len(), 100, "each webhook processed once");
    assert_eq!(all.len(), 100);
    assert!(
        a.claim(
            now + chrono::Duration::hours(1),
            10,
            Duration::from_secs(60)
        )
        .await
        .unwrap()
        .is_empty()
    );
}

/// The same bodies posted at once to two instances under different keys (a replay racing
/// the original): each is stored once, and both instances name the same row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_with_the_same_bodies_under_fresh_keys_store_each_once() {
    use aftercare::store::{Inbox as _, InboxInsert, NewInboxEntry};
    use aftercare::webhook::VerifiedWebhook;
    let (a, b) = two_stores().await;
    let now = Utc::now();
    let send = |store: PostgresStore, prefix: &'static str| {
        tokio::spawn(async move {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..200 {
                let s = store.clone();
                set.spawn(async move {
                    let mut v = VerifiedWebhook::new(format!("{prefix}-{i}"));
                    v.topic = Some("orders/paid".into());
                    let body = format!(r#"{{"order":{i}}}"#).into_bytes();
                    (
                        i,
                        s.insert(NewInboxEntry::new("shopify", v, body, now))
                            .await
                            .unwrap(),
                    )
                });
            }
            let mut answers = set.join_all().await;
            answers.sort_by_key(|(i, _)| *i);
            answers
        })
    };
    let (from_a, from_b) = tokio::join!(send(a.clone(), "a"), send(b.clone(), "b"));
    let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
    for ((i, x), (_, y)) in from_a.iter().zip(&from_b) {
        assert_eq!(x.id(), y.id(), "order {i}: both instances name one row");
        let inserted = [x, y]
            .iter()
            .filter(|r| matches!(r, InboxInsert::Inserted(_)))
            .count();
        assert_eq!(
            inserted, 1,
            "order {i}: stored by one instance: {x:?} {y:?}"
        );
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox")
        .fetch_one(a.pool())
        .await
        .unwrap();
    assert_eq!(rows, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_in_every_script_round_trip_and_nul_is_refused() {
    let store = support::fresh_store().await;
    let now = Utc::now();
    for (i, text) in [
        "طلبك في الطريق 📦",
        "Siparişiniz yolda",
        "พัสดุของคุณกำลังจัดส่ง",
        "Seu pedido está a caminho",
    ]
    .into_iter()
    .enumerate()
    {
        let mut m = message(i);
        m.text = text.into();
        store
            .enqueue(
                NewOutboxMessage::new(format!("u-{i}"), m.clone(), now, "r"),
                now,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .outbox_by_key(&format!("u-{i}"))
                .await
                .unwrap()
                .unwrap()
                .message,
            m
        );
    }
    let mut m = message(9);
    m.text = "a\u{0}b".into();
    let err = store
        .enqueue(NewOutboxMessage::new("nul", m, now, "r"), now)
        .await
        .unwrap_err();
    assert!(matches!(err, aftercare::Error::Storage { .. }), "{err}");
    assert!(
        store.outbox_by_key("nul").await.unwrap().is_none(),
        "nothing half-written"
    );
    assert!(
        store.ledger_for_key("nul").await.unwrap().is_empty(),
        "no ledger row without its message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refused_webhook_does_not_fail_the_burst_it_arrived_in() {
    use aftercare::store::{Inbox as _, InboxInsert, NewInboxEntry};
    use aftercare::webhook::VerifiedWebhook;
    let store = support::fresh_store().await;
    let now = Utc::now();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = store.clone();
        let mut v = VerifiedWebhook::new(format!("burst-{i}"));
        if i == 17 {
            // jsonb cannot hold U+0000: PostgreSQL refuses this entry.
            v.meta.insert("x".into(), "a\u{0}b".into());
        }
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"id":{i}}}"#).into_bytes();
            s.insert(NewInboxEntry::new("shopify", v, body, now)).await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    for (i, r) in results.iter().enumerate() {
        if i == 17 {
            assert!(matches!(r, Err(aftercare::Error::Storage { .. })), "{r:?}");
        } else {
            assert!(
                matches!(r, Ok(InboxInsert::Inserted(_))),
                "burst-{i}: {r:?}"
            );
        }
    }
    assert_eq!(
        store
            .claim(now, 100, Duration::from_secs(60))
            .await
            .unwrap()
            .len(),
        39
    );
}

/// The compression of `table.column`: `l` for LZ4, empty for the server's default (pglz).
async fn compression(store: &PostgresStore, table: &str, column: &str) -> String {
    sqlx::query_scalar(
        "SELECT attcompression::text FROM pg_attribute
         WHERE attrelid = to_regclass($1) AND attname = $2",
    )
    .bind(table)
    .bind(column)
    .fetch_one(store.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_values_are_compressed_with_lz4_where_the_server_offers_it() {
    let opts = support::fresh_database().await;
    let store = PostgresStore::connect_with(PgPoolOptions::new().max_connections(2), opts.clone())
        .await
        .unwrap();
    let offered: Option<bool> = sqlx::query_scalar(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'",
    )
    .fetch_optional(store.pool())
    .await
    .unwrap();
    // The servers the tests start (Debian's, the official images) are built with LZ4; one
    // without it keeps pglz, which this test then checks instead.
    let want = if offered == Some(true) { "l" } else { "" };
    let columns = [
        ("inbox", "body"),
        ("outbox", "message"),
        ("snapshots", "data"),
    ];
    for (t, c) in columns {
        assert_eq!(compression(&store, t, c).await, want, "{t}.{c}");
    }
    // A database migrated before LZ4 was preferred gets it at the next start.
    for (t, c) in columns {
        sqlx::query(&format!(
            "ALTER TABLE {t} ALTER COLUMN {c} SET COMPRESSION default"
        ))
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(compression(&store, t, c).await, "", "{t}.{c} reset");
    }
    // A message stored with pglz reads back after the switch.
    let body = "Shipped: ".to_owned() + &"the tracking page and the setup guide. ".repeat(200);
    let mut m = message(1);
    m.text = body.clone();
    let now = Utc::now();
    store
        .enqueue(NewOutboxMessage::new("before", m.clone(), now, "r"), now)
        .await
        .unwrap();
    let again = PostgresStore::connect_with(PgPoolOptions::new().max_connections(2), opts)
        .await
        .unwrap();
    for (t, c) in columns {
        assert_eq!(
            compression(&again, t, c).await,
            want,
            "{t}.{c} after restart"
        );
    }
    again
        .enqueue(NewOutboxMessage::new("after", m, now, "r"), now)
        .await
        .unwrap();
    for key in ["before", "after"] {
        let e = again.outbox_by_key(key).await.unwrap().unwrap();
        assert_eq!(e.message.text, body, "{key}");
    }
    if want == "l" {
        let methods: Vec<Option<String>> =
            sqlx::query_scalar("SELECT pg_column_compression(message) FROM outbox ORDER BY id")
                .fetch_all(again.pool())
                .await
                .unwrap();
        assert_eq!(
            methods,
            vec![Some("pglz".to_owned()), Some("lz4".to_owned())],
            "the value stored before keeps pglz, the new one is LZ4"
        );
    }
}
