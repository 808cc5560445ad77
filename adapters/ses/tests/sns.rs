//! SNS signatures and SES events. The envelope and the SES bounce are shaped as AWS's
//! pages show them ("Verifying the signatures of Amazon SNS messages", "HTTP/HTTPS
//! notification JSON format", and SES "Examples of event data that Amazon SES publishes to
//! Amazon SNS"). The certificate is a self-signed test certificate made for these tests
//! (`tests/fixtures/`, never a real key), pinned under an allowed URL: no network.

use std::sync::Arc;

use aftercare::flows::email::EmailEventKind;
use aftercare::webhook::{RawHeaders, Rejection, WebhookRequest, WebhookSource};
use aftercare_ses::{
    SesEvents, SnsCertificates, cert_url_allowed, decode_events, signature_valid, string_to_sign,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::{Value, json};
use sha2::Digest as _;

pub const CERT: &str = include_str!("fixtures/test-signing-cert.pem");
pub const KEY: &str = include_str!("fixtures/test-signing-key.pem");
pub const CERT_URL: &str = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem";
pub const TOPIC: &str = "arn:aws:sns:us-west-2:123456789012:ses-events";

fn bounce_event() -> String {
    json!({
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{
                "emailAddress": "recipient@example.com",
                "action": "failed",
                "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown"
            }],
            "timestamp": "2026-12-07T02:00:00.000Z",
            "feedbackId": "0100015fcd2d9ad0-e00d2a3f-0c41-41c0-9a0a-c7f2a3c4bb26-000000",
            "reportingMTA": "dsn; e226-55.smtp-out.us-west-2.amazonses.com"
        },
        "mail": {
            "timestamp": "2026-12-07T01:59:59.000Z",
            "source": "Sender Name <sender@example.com>",
            "sourceArn": "arn:aws:ses:us-west-2:123456789012:identity/sender@example.com",
            "sendingAccountId": "123456789012",
            "messageId": "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            "destination": ["recipient@example.com"],
            "headersTruncated": false,
            "tags": {"ses:configuration-set": ["ConfigSet"], "aftercare_key": ["survey:1001-nps:after_delivery"]}
        }
    })
    .to_string()
}

fn envelope(version: &str, message: &str) -> Value {
    let mut m = json!({
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Subject": "Amazon SES Email Event Notification",
        "Message": message,
        "Timestamp": "2026-12-07T02:00:01.000Z",
        "SignatureVersion": version,
        "SigningCertURL": CERT_URL,
        "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-west-2:123456789012:ses-events:c9135db0"
    });
    sign(&mut m);
    m
}

pub fn sign(m: &mut Value) {
    let key = RsaPrivateKey::from_pkcs8_pem(KEY).unwrap();
    let text = string_to_sign(m).unwrap();
    let sig = if m["SignatureVersion"] == "1" {
        key.sign(
            Pkcs1v15Sign::new::<sha1::Sha1>(),
            &sha1::Sha1::digest(text.as_bytes()),
        )
    } else {
        key.sign(
            Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(text.as_bytes()),
        )
    }
    .unwrap();
    m["Signature"] = json!(B64.encode(sig));
}

pub fn source() -> SesEvents {
    let certs = SnsCertificates::new().pinned_only();
    certs.pin(CERT_URL, CERT).unwrap();
    SesEvents::new(Arc::new(certs), vec![TOPIC.into()])
}

pub fn verify(
    src: &SesEvents,
    m: &Value,
) -> Result<aftercare::webhook::VerifiedWebhook, Rejection> {
    let h = RawHeaders::from_pairs([
        ("x-amz-sns-message-type", "Notification"),
        ("Content-Type", "text/plain; charset=UTF-8"),
    ]);
    let body = serde_json::to_vec(m).unwrap();
    src.verify(&WebhookRequest::new(
        &h,
        &body,
        "2026-12-07T02:00:05Z".parse().unwrap(),
    ))
}

#[test]
fn only_amazon_sns_certificate_urls_are_allowed() {
    for ok in [
        CERT_URL,
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.us-gov-west-1.amazonaws.com/x.pem",
    ] {
        assert!(cert_url_allowed(ok), "{ok}");
    }
    for bad in [
        "http://sns.us-west-2.amazonaws.com/x.pem",
        "https://sns.us-west-2.amazonaws.com.evil.example/x.pem",
        "https://evil.example/sns.us-west-2.amazonaws.com/x.pem",
        "https://sns.us-west-2.amazonaws.com/x.pem?x=1",
        "https://sns.us-west-2.amazonaws.com:8443/x.pem",
        "https://user@sns.us-west-2.amazonaws.com/x.pem",
        "https://sns.us-west-2.amazonaws.com/x.crt",
        "https://sns.a.amazonaws.com/x.pem",
        "https://s3.amazonaws.com/sns.us-west-2.amazonaws.com/x.pem",
        "https://sns.us_west.amazonaws.com/x.pem",
    ] {
        assert!(!cert_url_allowed(bad), "{bad}");
    }
    let certs = SnsCertificates::new();
    assert!(certs.pin("https://evil.example/x.pem", CERT).is_err());
}

#[test]
fn the_string_to_sign_follows_the_documented_order() {
    let m = json!({"Type": "Notification", "MessageId": "id", "TopicArn": "arn", "Message": "hi",
                   "Timestamp": "t", "Subject": null, "Signature": "s", "SignatureVersion": "1"});
    assert_eq!(
        string_to_sign(&m).unwrap(),
        "Message\nhi\nMessageId\nid\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n"
    );
    let c = json!({"Type": "SubscriptionConfirmation", "MessageId": "id", "TopicArn": "arn", "Message": "m",
                   "Timestamp": "t", "Token": "tok", "SubscribeURL": "u"});
    assert_eq!(
        string_to_sign(&c).unwrap(),
        "Message\nm\nMessageId\nid\nSubscribeURL\nu\nTimestamp\nt\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n"
    );
}

#[test]
fn signature_versions_1_and_2_verify_and_tampering_fails() {
    let src = source();
    for v in ["1", "2"] {
        let m = envelope(v, &bounce_event());
        let ok = verify(&src, &m).unwrap();
        assert_eq!(ok.dedupe_key, "sns:22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324");
        let mut forged = m.clone();
        forged["Message"] =
            json!(bounce_event().replace("recipient@example.com", "victim@example.com"));
        assert_eq!(verify(&src, &forged), Err(Rejection::Mismatch), "v{v}");
    }
    // Version 1 refused when version 2 is required.
    let strict = source().require_signature_v2(true);
    assert_eq!(
        verify(&strict, &envelope("1", &bounce_event())),
        Err(Rejection::Mismatch)
    );
    // An unknown version is refused.
    let mut m = envelope("2", &bounce_event());
    m["SignatureVersion"] = json!("3");
    assert_eq!(verify(&src, &m), Err(Rejection::Mismatch));
}

#[test]
fn a_certificate_url_off_amazon_or_another_topic_is_refused() {
    let src = source();
    let mut m = envelope("2", &bounce_event());
    m["SigningCertURL"] = json!("https://attacker.example/cert.pem");
    sign(&mut m);
    assert_eq!(verify(&src, &m), Err(Rejection::Mismatch));

    let mut m = envelope("2", &bounce_event());
    m["TopicArn"] = json!("arn:aws:sns:us-west-2:999999999999:other");
    sign(&mut m);
    assert!(matches!(
        verify(&src, &m),
        Err(Rejection::WrongAccount { .. })
    ));
}

#[test]
fn an_unknown_certificate_is_try_later_and_an_old_message_stale() {
    let src = SesEvents::new(
        Arc::new(SnsCertificates::new().pinned_only()),
        vec![TOPIC.into()],
    );
    let r = verify(&src, &envelope("2", &bounce_event()));
    assert!(matches!(r, Err(Rejection::TryLater { .. })), "{r:?}");
    assert_eq!(r.unwrap_err().status(), 503);
    let mut m = envelope("2", &bounce_event());
    m["Timestamp"] = json!("2026-12-06T20:00:00.000Z");
    sign(&mut m);
    assert!(matches!(
        verify(&source(), &m),
        Err(Rejection::Stale { .. })
    ));
}

#[test]
fn ses_events_decode_per_recipient() {
    let m = envelope("2", &bounce_event());
    assert!(signature_valid(&m, &{
        use rsa::pkcs8::DecodePublicKey as _;
        let key = RsaPrivateKey::from_pkcs8_pem(KEY).unwrap();
        let der = rsa::pkcs8::EncodePublicKey::to_public_key_der(&key.to_public_key()).unwrap();
        rsa::RsaPublicKey::from_public_key_der(der.as_bytes()).unwrap()
    }));
    let ev = decode_events(&serde_json::to_vec(&m).unwrap()).unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, EmailEventKind::Bounced { permanent: true });
    assert_eq!(ev[0].recipient, "recipient@example.com");
    assert_eq!(
        ev[0].provider_message_id.as_deref(),
        Some("EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000")
    );
    assert_eq!(ev[0].key.as_deref(), Some("survey:1001-nps:after_delivery"));
    // Identity notifications name the type `notificationType`.
    let complaint = json!({
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "a@example.com"}], "timestamp": "2026-12-07T02:00:00Z", "complaintFeedbackType": "abuse"},
        "mail": {"timestamp": "2026-12-07T01:00:00Z", "messageId": "m1", "destination": ["a@example.com"]}
    })
    .to_string();
    let ev = decode_events(&serde_json::to_vec(&envelope("1", &complaint)).unwrap()).unwrap();
    assert_eq!(ev[0].kind, EmailEventKind::Complained);
    assert_eq!(ev[0].reason.as_deref(), Some("abuse"));
    let transient = bounce_event().replace("Permanent", "Transient");
    let ev = decode_events(&serde_json::to_vec(&envelope("2", &transient)).unwrap()).unwrap();
    assert_eq!(ev[0].kind, EmailEventKind::Bounced { permanent: false });
}
