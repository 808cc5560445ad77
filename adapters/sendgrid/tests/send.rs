//! Sending through the v3 Mail Send API against a stand-in shaped as its reference page
//! (twilio.com/docs/sendgrid/api-reference/mail-send/mail-send: Bearer key, JSON body with
//! `personalizations`, `from`, `subject`, `content`; `202 Accepted` with `X-Message-Id`;
//! errors as `{"errors": [{"message", "field"}]}`).

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::webhook::Secret;
use aftercare_sendgrid::SendGridChannel;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn channel(server: &MockServer) -> SendGridChannel {
    SendGridChannel::new(Secret::from("SG.test-key"), "shop@shop.example")
        .unwrap()
        .base_url(server.uri())
        .reply_to("replies@parse.shop.example")
}

fn message() -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Email,
        "layla@example.com",
        Purpose::Feedback,
        "How did we do?",
    );
    m.subject = Some("Your order #1001".into());
    m
}

#[tokio::test]
async fn sends_with_the_key_as_a_custom_arg_and_keeps_the_message_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mail/send"))
        .and(header("authorization", "Bearer SG.test-key"))
        .and(body_partial_json(json!({
            "personalizations": [{"to": [{"email": "layla@example.com"}], "custom_args": {"aftercare_key": "survey:inv-1:after_delivery"}}],
            "from": {"email": "shop@shop.example"},
            "reply_to": {"email": "replies@parse.shop.example"},
            "subject": "Your order #1001",
            "content": [{"type": "text/plain", "value": "How did we do?"}]
        })))
        .respond_with(ResponseTemplate::new(202).insert_header("X-Message-Id", "W5rNx1tQRsK2fO0dA9oJ7g"))
        .expect(1)
        .mount(&server)
        .await;
    let r = channel(&server)
        .send(&message(), "survey:inv-1:after_delivery")
        .await
        .unwrap();
    assert_eq!(r.provider_message_id, "W5rNx1tQRsK2fO0dA9oJ7g");
}

#[tokio::test]
async fn throttling_and_5xx_are_transient_and_4xx_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{"message": "The from address does not match a verified Sender Identity.", "field": "from", "help": null}]
        })))
        .mount(&server)
        .await;
    let c = channel(&server);
    match c.send(&message(), "k").await.unwrap_err() {
        SendError::Transient { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)))
        }
        e => panic!("{e:?}"),
    }
    assert!(matches!(
        c.send(&message(), "k").await.unwrap_err(),
        SendError::Transient { .. }
    ));
    match c.send(&message(), "k").await.unwrap_err() {
        SendError::Permanent { reason, .. } => {
            assert!(reason.contains("verified Sender Identity"), "{reason}")
        }
        e => panic!("{e:?}"),
    }
}
