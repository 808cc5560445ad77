//! SNS subscription messages, shaped as AWS's "HTTP/HTTPS subscription confirmation JSON
//! format" and "HTTP/HTTPS unsubscribe confirmation JSON format" pages show them, signed
//! with the test certificate: verified like notifications, then confirmed by a GET of the
//! `SubscribeURL` only on an Amazon SNS host. The GET goes to a stand-in answering as
//! the ConfirmSubscription API reference shows (`ConfirmSubscriptionResponse` XML).

use aftercare::store::InboxEntry;
use aftercare::webhook::Rejection;
use aftercare_ses::{SnsSubscriptions, SubscriptionOutcome, subscribe_url_allowed};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::sns::{CERT_URL, TOPIC, sign, source, verify};

const TOKEN: &str = "2336412f37fb687f5d51e6e2425dacbba9fc09e9d9ec2d06e4b3a9e2c7d0e5b0";

fn subscribe_url() -> String {
    format!(
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={TOKEN}"
    )
}

fn message(kind: &str, url: &str) -> Value {
    let mut m = json!({
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": TOKEN,
        "TopicArn": TOPIC,
        "Message": format!("You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message."),
        "SubscribeURL": url,
        "Timestamp": "2026-12-07T02:00:01.000Z",
        "SignatureVersion": "2",
        "SigningCertURL": CERT_URL
    });
    sign(&mut m);
    m
}

fn entry(m: &Value) -> InboxEntry {
    let now = chrono::Utc::now();
    {
        let mut entry = InboxEntry::new(
            1,
            "ses",
            "sns:165545c9",
            serde_json::to_vec(m).unwrap(),
            now,
        );
        entry.topic = m["Type"].as_str().map(str::to_owned);
        entry.meta = Default::default();
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry
    }
}

async fn stand_in(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .and(query_param("Action", "ConfirmSubscription"))
        .and(query_param("Token", TOKEN))
        .and(query_param("TopicArn", TOPIC))
        .respond_with(ResponseTemplate::new(status).set_body_string(
            "<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-west-2:123456789012:ses-events:c9135db0-26c4-47ec-8998-413945fb5a96</SubscriptionArn></ConfirmSubscriptionResult><ResponseMetadata><RequestId>075ecce8-8dac-11e1-bf80-f781d96e9307</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>",
        ))
        .mount(&server)
        .await;
    server
}

fn routed(server: &MockServer) -> SnsSubscriptions {
    SnsSubscriptions::new().route_to(url::Url::parse(&server.uri()).unwrap())
}

#[tokio::test]
async fn a_verified_confirmation_on_an_amazon_host_is_confirmed() {
    let m = message("SubscriptionConfirmation", &subscribe_url());
    let v = verify(&source(), &m).unwrap();
    assert_eq!(v.topic.as_deref(), Some("SubscriptionConfirmation"));
    let server = stand_in(200).await;
    assert_eq!(
        routed(&server).handle(&entry(&m)).await.unwrap(),
        SubscriptionOutcome::Confirmed {
            topic: TOPIC.into()
        }
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_subscribe_url_off_amazon_is_refused_and_nothing_is_fetched() {
    let server = stand_in(200).await;
    for url in [
        "https://evil.example/?Action=ConfirmSubscription&Token=x",
        "http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=x",
        "https://sns.us-west-2.amazonaws.com.evil.example/?Action=ConfirmSubscription",
        "https://user@sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.us-west-2.amazonaws.com:8443/?Action=ConfirmSubscription",
        "https://sqs.us-west-2.amazonaws.com/?Action=ConfirmSubscription",
        "not a url",
    ] {
        assert!(!subscribe_url_allowed(url), "{url}");
        // Signed validly (defence in depth: the signature alone is not enough).
        let m = message("SubscriptionConfirmation", url);
        let e = routed(&server).handle(&entry(&m)).await.unwrap_err();
        assert!(!e.is_retryable(), "{url}: {e}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(subscribe_url_allowed(&subscribe_url()));
    assert!(subscribe_url_allowed(
        "https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription"
    ));
}

#[tokio::test]
async fn a_forged_confirmation_is_refused_before_it_is_stored() {
    let mut m = message("SubscriptionConfirmation", &subscribe_url());
    m["SubscribeURL"] = json!(
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:999999999999:other&Token=x"
    );
    assert_eq!(verify(&source(), &m).unwrap_err(), Rejection::Mismatch);
    // Another topic, validly signed: refused too.
    let mut other = message("SubscriptionConfirmation", &subscribe_url());
    other["TopicArn"] = json!("arn:aws:sns:us-west-2:999999999999:other");
    sign(&mut other);
    assert!(matches!(
        verify(&source(), &other),
        Err(Rejection::WrongAccount { .. })
    ));
}

#[tokio::test]
async fn an_unsubscribe_confirmation_is_reported_and_never_resubscribed() {
    let server = stand_in(200).await;
    let m = message("UnsubscribeConfirmation", &subscribe_url());
    assert!(verify(&source(), &m).is_ok());
    assert_eq!(
        routed(&server).handle(&entry(&m)).await.unwrap(),
        SubscriptionOutcome::Unsubscribed {
            topic: TOPIC.into()
        }
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_expired_token_is_final_and_an_sns_outage_retried() {
    let m = message("SubscriptionConfirmation", &subscribe_url());
    let gone = stand_in(403).await;
    let e = routed(&gone).handle(&entry(&m)).await.unwrap_err();
    assert!(!e.is_retryable(), "{e}");
    let down = stand_in(503).await;
    let e = routed(&down).handle(&entry(&m)).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
}
