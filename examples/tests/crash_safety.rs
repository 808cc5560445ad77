//! Crash safety: a dispatcher process killed mid-dispatch and started again loses no
//! message, and sends twice only messages that were in flight at the kill — each recorded
//! as such in the ledger.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aftercare::model::{ChannelKind, OrderId, OutboundMessage, Purpose};
use aftercare::store::{Ledger, NewOutboxMessage, Outbox, OutboxStatus};
use aftercare_sqlite::SqliteStore;

const MESSAGES: usize = 40;
const CONCURRENCY: usize = 4;

fn lines(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_dispatcher_loses_nothing_and_resends_only_what_was_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let log = dir.path().join("sent.jsonl");
    {
        let store = SqliteStore::open(&db).await.unwrap();
        let now = chrono::Utc::now();
        for i in 0..MESSAGES {
            let mut m = OutboundMessage::new(
                ChannelKind::Sms,
                format!("+1555010{i:04}"),
                Purpose::Transactional,
                format!("message {i}"),
            );
            m.order_id = Some(OrderId::new("crash-order"));
            store
                .enqueue(NewOutboxMessage::new(format!("k{i}"), m, now, "test"), now)
                .await
                .unwrap();
        }
        store.close().await;
    }
    let bin = env!("CARGO_BIN_EXE_tracking-links");
    let args = |lease: &str| {
        vec![
            "dispatch".to_owned(),
            "--db".into(),
            db.display().to_string(),
            "--log".into(),
            log.display().to_string(),
            "--delay-ms".into(),
            "150".into(),
            "--lease-ms".into(),
            lease.into(),
            "--concurrency".into(),
            CONCURRENCY.to_string(),
        ]
    };
    let mut child = Command::new(bin)
        .args(args("1500"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while lines(&log).len() < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first worker never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup at all
    child.wait().unwrap();
    let before_restart = lines(&log).len();
    assert!(before_restart < MESSAGES, "killed mid-dispatch");

    let status = Command::new(bin)
        .args(args("1500"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let sent = lines(&log);
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for l in &sent {
        *per_key
            .entry(l["idempotency_key"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        per_key.len(),
        MESSAGES,
        "no message lost: {} distinct of {MESSAGES}",
        per_key.len()
    );
    let store = SqliteStore::open(&db).await.unwrap();
    assert_eq!(
        store
            .outbox_in(OutboxStatus::Sent, 1000)
            .await
            .unwrap()
            .len(),
        MESSAGES,
        "every message ends sent"
    );
    let ledger = store
        .ledger_for_order(&OrderId::new("crash-order"))
        .await
        .unwrap();
    let resent_keys: Vec<String> = ledger
        .iter()
        .filter(|r| r.reason.contains("in flight when the dispatcher stopped"))
        .filter_map(|r| r.key.clone())
        .collect();
    let twice: Vec<&String> = per_key
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    for k in &twice {
        assert!(
            resent_keys.contains(k),
            "{k} was sent twice but not recorded as in flight at the crash"
        );
    }
    assert!(
        per_key.values().all(|n| *n <= 2),
        "never more than one resend"
    );
    assert!(
        resent_keys.len() <= CONCURRENCY,
        "only the claims in flight at the kill are resent: {resent_keys:?}"
    );
    eprintln!(
        "killed after {before_restart} sends; {} resent after restart, {} delivered twice",
        resent_keys.len(),
        twice.len()
    );
}
