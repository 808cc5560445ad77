//! The recording channel records, logs and fails as told.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::ManualClock;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare_sandbox::{ConsoleChannel, Failure, RecordingChannel, SendOutcome};

const ARABIC: &str = "مرحباً نورة، طلبك #1001 في الطريق: https://example.test/t/abc";

fn msg(kind: ChannelKind, to: &str, text: &str) -> OutboundMessage {
    OutboundMessage::new(kind, to, Purpose::Transactional, text)
}

#[tokio::test]
async fn records_every_message_for_each_kind() {
    for kind in ChannelKind::ALL {
        let ch = RecordingChannel::new(kind);
        assert_eq!(ch.kind(), kind);
        let r1 = ch
            .send(&msg(kind, "+966501234567", ARABIC), "k-1")
            .await
            .unwrap();
        let r2 = ch
            .send(&msg(kind, "+905321234567", "Siparişiniz yolda"), "k-2")
            .await
            .unwrap();
        assert_ne!(r1.provider_message_id, r2.provider_message_id);
        let sent = ch.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(
            sent[0].text, ARABIC,
            "right-to-left text kept byte for byte"
        );
        assert_eq!(sent[0].channel, kind);
        assert_eq!(sent[0].idempotency_key, "k-1");
        assert_eq!(sent[0].provider_message_id, r1.provider_message_id);
        assert_eq!(ch.sent_to("+905321234567").len(), 1);
        ch.clear();
        assert!(ch.sent().is_empty() && ch.attempts().is_empty());
    }
}

#[tokio::test]
async fn fails_as_told_then_recovers() {
    let ch = RecordingChannel::new(ChannelKind::Sms);
    ch.fail_next(
        2,
        Failure::Transient {
            retry_after: Some(Duration::from_secs(30)),
        },
    );
    ch.fail_next(1, Failure::permanent());
    ch.fail_next(
        1,
        Failure::Permanent {
            code: Some("21610".into()),
            opted_out: true,
        },
    );
    ch.fail_next(1, Failure::maybe_sent());
    ch.fail_next(1, Failure::TemplateRequired);
    assert_eq!(ch.pending_failures(), 6);
    let m = msg(
        ChannelKind::Sms,
        "+5511987654321",
        "Seu pedido saiu para entrega",
    );

    for _ in 0..2 {
        match ch.send(&m, "k").await {
            Err(SendError::Transient { retry_after, .. }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(30)));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        ch.send(&m, "k").await,
        Err(SendError::Permanent { code: Some(c), opted_out: false, .. }) if c == "21211"
    ));
    assert!(matches!(
        ch.send(&m, "k").await,
        Err(SendError::Permanent {
            opted_out: true,
            ..
        })
    ));
    assert!(matches!(
        ch.send(&m, "k").await,
        Err(SendError::MaybeSent { .. })
    ));
    assert!(matches!(
        ch.send(&m, "k").await,
        Err(SendError::TemplateRequired { .. })
    ));
    assert!(ch.sent().is_empty(), "nothing reached the customer");
    assert!(ch.send(&m, "k").await.is_ok());
    assert_eq!(ch.sent().len(), 1);
    let attempts = ch.attempts();
    assert_eq!(attempts.len(), 7);
    assert!(
        attempts[..6]
            .iter()
            .all(|a| matches!(a.outcome, SendOutcome::Failed(_)))
    );
    assert!(matches!(attempts[6].outcome, SendOutcome::Sent(_)));
    assert_eq!(ch.pending_failures(), 0);
}

#[tokio::test]
async fn maybe_sent_can_have_reached_the_customer() {
    let ch = RecordingChannel::new(ChannelKind::Whatsapp);
    ch.fail_next(1, Failure::MaybeSent { delivered: true });
    let m = msg(ChannelKind::Whatsapp, "+66812345678", "พัสดุของคุณถูกจัดส่งแล้ว");
    assert!(matches!(
        ch.send(&m, "k-th").await,
        Err(SendError::MaybeSent { .. })
    ));
    assert_eq!(
        ch.sent().len(),
        1,
        "the customer got it although the call failed"
    );
    assert_eq!(ch.sent()[0].idempotency_key, "k-th");
}

#[tokio::test]
async fn jsonl_log_and_manual_clock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.jsonl");
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    let ch = ConsoleChannel::new(ChannelKind::Email)
        .jsonl(&path)
        .with_clock(clock.clone());
    let mut m = msg(ChannelKind::Email, "noura@example.sa", ARABIC);
    m.subject = Some("طلبك في الطريق".into());
    m.locale = "ar-SA".into();
    let r = ch.send(&m, "k-1").await.unwrap();
    assert_eq!(r.accepted_at.to_rfc3339(), "2026-03-02T09:00:00+00:00");
    clock.advance(chrono::Duration::minutes(5));
    ch.fail_next(1, Failure::transient());
    assert!(ch.send(&m, "k-2").await.is_err());
    ch.send(
        &msg(ChannelKind::Email, "ayse@example.com.tr", "Teşekkürler"),
        "k-3",
    )
    .await
    .unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "failed sends are not logged as sent");
    assert_eq!(lines[0]["text"], ARABIC);
    assert_eq!(lines[0]["subject"], "طلبك في الطريق");
    assert_eq!(lines[0]["channel"], "email");
    assert_eq!(lines[0]["locale"], "ar-SA");
    assert_eq!(lines[0]["idempotency_key"], "k-1");
    assert_eq!(lines[1]["to"], "ayse@example.com.tr");
    assert_eq!(lines[1]["sent_at"], "2026-03-02T09:05:00Z");
}

#[tokio::test]
async fn unwritable_log_is_a_transient_failure() {
    let dir = tempfile::tempdir().unwrap();
    let ch =
        RecordingChannel::new(ChannelKind::Sms).jsonl(dir.path().join("missing/dir/log.jsonl"));
    let e = ch
        .send(&msg(ChannelKind::Sms, "+12025550143", "hi"), "k")
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Transient { .. }));
    assert!(ch.sent().is_empty());
    assert!(matches!(
        ch.attempts()[0].outcome,
        SendOutcome::Failed(SendError::Transient { .. })
    ));
}
