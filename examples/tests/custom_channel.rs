//! `examples/custom_channel.rs`, a channel of one's own, classifies what its provider answers
//! the way the dispatcher needs: an id on success, a refusal, a retry after the provider's
//! wait, and "may have been sent" when the request may have reached it.
use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[allow(dead_code)]
#[path = "../examples/custom_channel.rs"]
mod example;

fn message() -> OutboundMessage {
    OutboundMessage::new(
        ChannelKind::Sms,
        "+905551234567",
        Purpose::Transactional,
        "Your order has shipped.",
    )
}

async fn answer(status: u16, body: serde_json::Value, header: Option<(&str, &str)>) -> MockServer {
    let server = MockServer::start().await;
    let mut r = ResponseTemplate::new(status).set_body_json(body);
    if let Some((k, v)) = header {
        r = r.insert_header(k, v);
    }
    Mock::given(method("POST"))
        .and(path("/send"))
        .and(body_partial_json(serde_json::json!({"key": "k-1"})))
        .respond_with(r)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_custom_channel_tells_the_dispatcher_what_happened() {
    let ok = answer(200, serde_json::json!({"id": "msg-9"}), None).await;
    let ch = example::ChatWebhook::new(format!("{}/send", ok.uri())).unwrap();
    assert_eq!(ch.kind(), ChannelKind::Sms);
    let r = ch.send(&message(), "k-1").await.unwrap();
    assert_eq!(r.provider_message_id, "msg-9");

    let throttled = answer(429, serde_json::json!({}), Some(("retry-after", "7"))).await;
    let ch = example::ChatWebhook::new(format!("{}/send", throttled.uri())).unwrap();
    match ch.send(&message(), "k-1").await {
        Err(SendError::Transient { retry_after, .. }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)));
        }
        other => panic!("429 is a retry after the wait: {other:?}"),
    }

    let broken = answer(502, serde_json::json!({}), None).await;
    let ch = example::ChatWebhook::new(format!("{}/send", broken.uri())).unwrap();
    assert!(matches!(
        ch.send(&message(), "k-1").await,
        Err(SendError::MaybeSent { .. })
    ));

    let refused = answer(400, serde_json::json!({"error": "bad number"}), None).await;
    let ch = example::ChatWebhook::new(format!("{}/send", refused.uri())).unwrap();
    assert!(matches!(
        ch.send(&message(), "k-1").await,
        Err(SendError::Permanent { .. })
    ));

    // Nothing listens: it never left, so a retry is safe.
    let ch = example::ChatWebhook::new("http://127.0.0.1:9/send").unwrap();
    assert!(matches!(
        ch.send(&message(), "k-1").await,
        Err(SendError::Transient { .. })
    ));
}
