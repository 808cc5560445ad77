//! Sending through the Email API against a stand-in shaped as its reference page
//! (postmarkapp.com/developer/api/email-api, "Send a single email": `X-Postmark-Server-Token`,
//! JSON `From`, `To`, `Subject`, `TextBody`, `MessageStream`, `Metadata`; `200 {"To",
//! "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}`; errors as
//! postmarkapp.com/developer/api/overview#error-codes: `422 {"ErrorCode": 406, ...}`).

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::webhook::Secret;
use aftercare_postmark::PostmarkChannel;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn channel(server: &MockServer) -> PostmarkChannel {
    PostmarkChannel::new(
        Secret::from("server-token-1"),
        "Demo Shop <shop@shop.example>",
    )
    .unwrap()
    .base_url(server.uri())
    .reply_to("replies@inbound.shop.example")
}

fn message() -> OutboundMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Email,
        "layla@example.com",
        Purpose::Feedback,
        "How did we do?",
    );
    m.subject = Some("Your order #1001".into());
    m.meta.insert(
        "list_unsubscribe".into(),
        "https://shop.example/u/abc".into(),
    );
    m
}

#[tokio::test]
async fn sends_with_the_key_in_metadata_and_keeps_the_message_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/email"))
        .and(header("X-Postmark-Server-Token", "server-token-1"))
        .and(header("accept", "application/json"))
        .and(body_partial_json(json!({
            "From": "Demo Shop <shop@shop.example>",
            "To": "layla@example.com",
            "Subject": "Your order #1001",
            "TextBody": "How did we do?",
            "ReplyTo": "replies@inbound.shop.example",
            "MessageStream": "outbound",
            "Metadata": {"aftercare_key": "survey:inv-1:after_delivery"},
            "Headers": [
                {"Name": "List-Unsubscribe", "Value": "<https://shop.example/u/abc>"},
                {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}
            ]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "To": "layla@example.com",
            "SubmittedAt": "2014-02-17T07:25:01.4178645-05:00",
            "MessageID": "0a129aee-e1cd-480d-b08d-4f48548ff48d",
            "ErrorCode": 0,
            "Message": "OK"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let r = channel(&server)
        .send(&message(), "survey:inv-1:after_delivery")
        .await
        .unwrap();
    assert_eq!(
        r.provider_message_id,
        "0a129aee-e1cd-480d-b08d-4f48548ff48d"
    );
}

#[tokio::test]
async fn throttling_and_5xx_are_transient_and_422_permanent_with_its_code() {
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
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive. Found inactive addresses: layla@example.com. Inactive recipients are ones that have generated a hard bounce or a spam complaint."
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
        SendError::Permanent { code, reason, .. } => {
            assert_eq!(code.as_deref(), Some("406"));
            assert!(reason.contains("inactive"), "{reason}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn an_empty_token_is_refused_and_debug_hides_it() {
    assert!(PostmarkChannel::new(Secret::from(""), "shop@shop.example").is_err());
    let c = PostmarkChannel::new(Secret::from("server-token-1"), "shop@shop.example").unwrap();
    assert!(!format!("{c:?}").contains("server-token-1"));
}
