//! Deliveries to a real HTTP receiver that verifies them with the sdk's Standard Webhooks
//! verifier.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::webhook::{RawHeaders, Scheme, Secret, Verifier};
use aftercare_webhook_out::WebhookOut;
use axum::http::{HeaderMap, StatusCode};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Default)]
struct Seen {
    ids: Vec<String>,
    verified: Vec<bool>,
    status: Vec<u16>,
}

async fn receiver(replies: Vec<u16>) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    let replies = Arc::new(Mutex::new(replies));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            let replies = replies.clone();
            async move {
                let v = Verifier::new(
                    Scheme::StandardWebhooks,
                    Secret::from_standard_webhooks(SECRET).unwrap(),
                );
                let raw = RawHeaders::from(&headers);
                let ok = v.verify(&raw, &body, chrono::Utc::now()).is_ok();
                let status = {
                    let mut r = replies.lock().unwrap();
                    if r.is_empty() { 200 } else { r.remove(0) }
                };
                let mut g = s.lock().unwrap();
                g.ids
                    .push(raw.get_str("webhook-id").unwrap_or_default().to_owned());
                g.verified.push(ok);
                g.status.push(status);
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("retry-after", "7")],
                    "",
                )
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    (format!("http://{addr}/hook"), seen)
}

fn alert(url: &str) -> OutboundMessage {
    OutboundMessage::new(
        ChannelKind::Webhook,
        url,
        Purpose::Transactional,
        r#"{"type":"survey.detractor","data":{"score":2}}"#,
    )
}

#[tokio::test]
async fn signed_deliveries_verify_and_retries_keep_their_id() {
    let (url, seen) = receiver(vec![503]).await;
    let ch = WebhookOut::new(Secret::from_standard_webhooks(SECRET).unwrap()).unwrap();
    let first = ch
        .send(&alert(&url), "followup:1001-nps:webhook")
        .await
        .unwrap_err();
    match first {
        SendError::Transient { retry_after, .. } => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)))
        }
        other => panic!("503 is transient: {other:?}"),
    }
    let receipt = ch
        .send(&alert(&url), "followup:1001-nps:webhook")
        .await
        .unwrap();
    let g = seen.lock().unwrap();
    assert_eq!(
        g.verified,
        vec![true, true],
        "the receiver verifies both deliveries"
    );
    assert_eq!(g.ids[0], g.ids[1], "a retry carries the same webhook-id");
    assert_eq!(receipt.provider_message_id, g.ids[1]);
}

#[tokio::test]
async fn errors_map_to_their_class() {
    let (url, _) = receiver(vec![410, 400, 429]).await;
    let ch = WebhookOut::new(Secret::from_standard_webhooks(SECRET).unwrap()).unwrap();
    assert!(
        matches!(
            ch.send(&alert(&url), "k1").await,
            Err(SendError::Permanent { .. })
        ),
        "410 Gone"
    );
    assert!(
        matches!(
            ch.send(&alert(&url), "k2").await,
            Err(SendError::Permanent { .. })
        ),
        "400"
    );
    assert!(
        matches!(
            ch.send(&alert(&url), "k3").await,
            Err(SendError::Transient { .. })
        ),
        "429"
    );
    let refused = ch.send(&alert("http://127.0.0.1:9/hook"), "k4").await;
    assert!(
        matches!(refused, Err(SendError::Transient { .. })),
        "connection refused: not sent, retry: {refused:?}"
    );
    assert!(matches!(
        ch.send(&alert("file:///etc/passwd"), "k5").await,
        Err(SendError::Permanent { .. })
    ));
}
