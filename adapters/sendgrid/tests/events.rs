//! Event Webhook signatures with SendGrid's official vector (sendgrid/sendgrid-python,
//! `test/unit/test_eventwebhook.py`: key, signature, timestamp and payload, plus its
//! must-fail cases), and the events as SendGrid's Event Webhook reference shows them.

use aftercare::flows::email::EmailEventKind;
use aftercare::webhook::{RawHeaders, Rejection, WebhookRequest, WebhookSource};
use aftercare_sendgrid::events::{SIGNATURE_HEADER, TIMESTAMP_HEADER, decode_events};
use aftercare_sendgrid::{EventWebhookKey, SendGridEvents};

const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";
const SIGNATURE: &str = "MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=";
const TIMESTAMP: &str = "1600112502";
/// `json.dumps([...], sort_keys=True, separators=(',', ':')) + '\r\n'`.
const PAYLOAD: &str = "[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0\",\"smtp-id\":\"<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>\",\"timestamp\":1600112492}]\r\n";
const OTHER_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
const BAD_SIGNATURE: &str = "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=";

fn request<'a>(h: &'a RawHeaders, body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest::new(
        h,
        body,
        chrono::DateTime::from_timestamp(1_600_112_510, 0).unwrap(),
    )
}

fn headers(sig: &str, ts: &str) -> RawHeaders {
    RawHeaders::from_pairs([(SIGNATURE_HEADER, sig), (TIMESTAMP_HEADER, ts)])
}

#[test]
fn the_official_vector_verifies() {
    let key = EventWebhookKey::parse(PUBLIC_KEY).unwrap();
    assert!(key.verifies(SIGNATURE, TIMESTAMP, PAYLOAD.as_bytes()));
    let src = SendGridEvents::new(key);
    let h = headers(SIGNATURE, TIMESTAMP);
    let v = src.verify(&request(&h, PAYLOAD.as_bytes())).unwrap();
    assert_eq!(v.topic.as_deref(), Some("events"));
}

#[test]
fn the_official_must_fail_cases_fail() {
    let good = EventWebhookKey::parse(PUBLIC_KEY).unwrap();
    let other = EventWebhookKey::parse(OTHER_KEY).unwrap();
    assert!(
        !other.verifies(SIGNATURE, TIMESTAMP, PAYLOAD.as_bytes()),
        "bad key"
    );
    assert!(
        !good.verifies(SIGNATURE, TIMESTAMP, b"payload"),
        "bad payload"
    );
    assert!(
        !good.verifies(BAD_SIGNATURE, TIMESTAMP, PAYLOAD.as_bytes()),
        "bad signature"
    );
    assert!(
        !good.verifies(SIGNATURE, "timestamp", PAYLOAD.as_bytes()),
        "bad timestamp"
    );
    // Without the trailing CRLF (a re-serialised body) it fails too.
    assert!(!good.verifies(SIGNATURE, TIMESTAMP, PAYLOAD.trim_end().as_bytes()));
    let src = SendGridEvents::new(other);
    let h = headers(SIGNATURE, TIMESTAMP);
    assert_eq!(
        src.verify(&request(&h, PAYLOAD.as_bytes())),
        Err(Rejection::Mismatch)
    );
}

#[test]
fn a_pem_key_and_a_rotation_are_accepted() {
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
        &PUBLIC_KEY[..64],
        &PUBLIC_KEY[64..]
    );
    let key = EventWebhookKey::parse(&pem).unwrap();
    assert!(key.verifies(SIGNATURE, TIMESTAMP, PAYLOAD.as_bytes()));
    let src = SendGridEvents::new(EventWebhookKey::parse(OTHER_KEY).unwrap()).also(key);
    let h = headers(SIGNATURE, TIMESTAMP);
    assert!(src.verify(&request(&h, PAYLOAD.as_bytes())).is_ok());
    assert!(EventWebhookKey::parse("not a key").is_err());
}

#[test]
fn missing_headers_and_stale_timestamps_are_refused() {
    let src = SendGridEvents::new(EventWebhookKey::parse(PUBLIC_KEY).unwrap());
    let h = RawHeaders::from_pairs([(TIMESTAMP_HEADER, TIMESTAMP)]);
    assert!(matches!(
        src.verify(&request(&h, PAYLOAD.as_bytes())),
        Err(Rejection::MissingHeader { .. })
    ));
    let h = headers(SIGNATURE, TIMESTAMP);
    let late = WebhookRequest::new(
        &h,
        PAYLOAD.as_bytes(),
        chrono::DateTime::from_timestamp(1_600_112_502 + 3600, 0).unwrap(),
    );
    assert!(matches!(src.verify(&late), Err(Rejection::Stale { .. })));
}

#[test]
fn events_decode_as_the_reference_shows() {
    let body = br#"[
      {"email":"a@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"e1","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"250 OK","aftercare_key":"tracking:1001:1:shipped:email"},
      {"email":"b@example.com","timestamp":1700000001,"event":"bounce","type":"bounce","status":"5.1.1","reason":"550 5.1.1 The email account that you tried to reach does not exist","sg_event_id":"e2","sg_message_id":"m2.filter"},
      {"email":"c@example.com","timestamp":1700000002,"event":"bounce","type":"blocked","reason":"421 try later","sg_event_id":"e3","sg_message_id":"m3.filter"},
      {"email":"d@example.com","timestamp":1700000003,"event":"spamreport","sg_event_id":"e4","sg_message_id":"m4.filter"},
      {"email":"e@example.com","timestamp":1700000004,"event":"open","sg_event_id":"e5","sg_message_id":"m5.filter","useragent":"Mozilla"},
      {"email":"f@example.com","timestamp":1700000005,"event":"deferred","attempt":"1","sg_event_id":"e6"},
      {"email":"g@example.com","timestamp":1700000006,"event":"group_unsubscribe","asm_group_id":1,"sg_event_id":"e7"}
    ]"#;
    let ev = decode_events(body).unwrap();
    let kinds: Vec<_> = ev.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            EmailEventKind::Delivered,
            EmailEventKind::Bounced { permanent: true },
            EmailEventKind::Bounced { permanent: false },
            EmailEventKind::Complained,
            EmailEventKind::Opened,
            EmailEventKind::Other("deferred".into()),
            EmailEventKind::Unsubscribed,
        ]
    );
    assert_eq!(ev[0].provider_message_id.as_deref(), Some("14c5d75ce93"));
    assert_eq!(ev[0].key.as_deref(), Some("tracking:1001:1:shipped:email"));
    assert!(ev[1].reason.as_deref().unwrap().contains("does not exist"));
    assert!(decode_events(b"{}").is_err());
    assert!(decode_events(br#"[{"event":"delivered"}]"#).is_err());
}
