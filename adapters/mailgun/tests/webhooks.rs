//! Mailgun's signatures and payloads as its documentation shows them ("Securing webhooks":
//! hex HMAC-SHA256 of timestamp + token with the webhook signing key; "Webhooks" event
//! payloads; "Receive, forward and store" route POSTs). Mailgun publishes no vector with a
//! real key, so the vector below is computed independently (Python's `hmac` module):
//! `hmac.new(b"key-webhook-signing", b"1700000000" + b"a1b2c3d4e5f6", sha256).hexdigest()`.

use aftercare::flows::email::EmailEventKind;
use aftercare::store::InboxEntry;
use aftercare::webhook::{RawHeaders, Rejection, Secret, WebhookRequest, WebhookSource};
use aftercare_mailgun::{
    MailgunEvents, MailgunInbound, decode_events, decode_inbound, sign, verifies,
};

const KEY: &str = "key-webhook-signing";
const VECTOR: &str = "74f18ab348f264385eb361965b6f6a5690e016855f7b471ce39bff8a5cce5475";

fn at(t: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t, 0).unwrap()
}

fn event_body(ts: &str, token: &str, sig: &str, data: &str) -> String {
    format!(
        r#"{{"signature":{{"timestamp":"{ts}","token":"{token}","signature":"{sig}"}},"event-data":{data}}}"#
    )
}

const BOUNCE: &str = r#"{"id":"G9Bn5sl1TC6nu79C8C0bwg","timestamp":1700000000.52,"log-level":"error","event":"failed","severity":"permanent","reason":"bounce","recipient":"ayse@example.com","recipient-domain":"example.com","tags":[],"user-variables":{"aftercare_key":"survey:1001-nps:after_delivery"},"delivery-status":{"code":550,"message":"5.1.1 The email account does not exist","description":"","attempt-no":1},"message":{"headers":{"message-id":"20261207.1@mg.shop.example","from":"shop@mg.shop.example","to":"ayse@example.com","subject":"Nasıldı?"}}}"#;

#[test]
fn the_independent_vector_verifies_and_others_fail() {
    let key = Secret::from(KEY);
    assert_eq!(sign(&key, "1700000000", "a1b2c3d4e5f6"), VECTOR);
    assert!(verifies(&key, "1700000000", "a1b2c3d4e5f6", VECTOR));
    assert!(!verifies(&key, "1700000001", "a1b2c3d4e5f6", VECTOR));
    assert!(!verifies(
        &Secret::from("the-api-key"),
        "1700000000",
        "a1b2c3d4e5f6",
        VECTOR
    ));
    assert!(!verifies(&key, "1700000000", "a1b2c3d4e5f6", "zz"));
}

#[test]
fn events_are_verified_in_the_body_and_decoded() {
    let src = MailgunEvents::new(Secret::from(KEY)).unwrap();
    let h = RawHeaders::new();
    let body = event_body("1700000000", "a1b2c3d4e5f6", VECTOR, BOUNCE);
    let v = src
        .verify(&WebhookRequest::new(&h, body.as_bytes(), at(1_700_000_030)))
        .unwrap();
    assert_eq!(v.dedupe_key, "token:a1b2c3d4e5f6");
    let ev = decode_events(body.as_bytes()).unwrap();
    assert_eq!(ev[0].kind, EmailEventKind::Bounced { permanent: true });
    assert_eq!(ev[0].recipient, "ayse@example.com");
    assert_eq!(ev[0].key.as_deref(), Some("survey:1001-nps:after_delivery"));
    assert_eq!(
        ev[0].provider_message_id.as_deref(),
        Some("20261207.1@mg.shop.example")
    );

    // Forged: another token under a signature it does not match.
    let forged = event_body("1700000000", "a1b2c3d4e5f7", VECTOR, BOUNCE);
    assert_eq!(
        src.verify(&WebhookRequest::new(
            &h,
            forged.as_bytes(),
            at(1_700_000_030)
        )),
        Err(Rejection::Mismatch)
    );
    assert!(matches!(
        src.verify(&WebhookRequest::new(&h, body.as_bytes(), at(1_700_009_000))),
        Err(Rejection::Stale { .. })
    ));
    assert!(matches!(
        src.verify(&WebhookRequest::new(&h, b"{}", at(1_700_000_030))),
        Err(Rejection::MissingHeader { .. })
    ));
}

#[test]
fn event_kinds_map_as_documented() {
    let kind = |data: &str| {
        decode_events(event_body("1", "t", "s", data).as_bytes()).unwrap()[0]
            .kind
            .clone()
    };
    let base = |ev: &str, extra: &str| {
        format!(r#"{{"event":"{ev}","recipient":"a@b.c","timestamp":1700000000.1{extra}}}"#)
    };
    assert_eq!(kind(&base("delivered", "")), EmailEventKind::Delivered);
    assert_eq!(kind(&base("complained", "")), EmailEventKind::Complained);
    assert_eq!(kind(&base("opened", "")), EmailEventKind::Opened);
    assert_eq!(
        kind(&base("unsubscribed", "")),
        EmailEventKind::Unsubscribed
    );
    assert_eq!(
        kind(&base(
            "failed",
            r#","severity":"permanent","reason":"suppress-bounce""#
        )),
        EmailEventKind::Dropped
    );
    assert_eq!(
        kind(&base(
            "failed",
            r#","severity":"temporary","reason":"generic""#
        )),
        EmailEventKind::Other("failed-temporary".into())
    );
    assert!(decode_events(br#"{"event-data":{"event":"delivered"}}"#).is_err());
}

#[test]
fn a_route_post_is_verified_at_the_top_level_and_its_reply_stripped() {
    let key = Secret::from(KEY);
    let src = MailgunInbound::new(key.clone()).unwrap();
    let sig = sign(&key, "1700000000", "tok123");
    let text = "10\r\n\r\nEl dom, 7 dic 2026 a las 9:00, Tienda <shop@mg.shop.example> escribió:\r\n> ¿Del 0 al 10?";
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("recipient", "replies@mg.shop.example")
        .append_pair("sender", "lucia@example.com")
        .append_pair("from", "Lucía <lucia@example.com>")
        .append_pair("subject", "Re: ¿Qué tal tu pedido?")
        .append_pair("body-plain", text)
        .append_pair("stripped-text", "10")
        .append_pair("Message-Id", "<CAF1@mail.example.com>")
        .append_pair("timestamp", "1700000000")
        .append_pair("token", "tok123")
        .append_pair("signature", &sig)
        .finish();
    let h = RawHeaders::from_pairs([("Content-Type", "application/x-www-form-urlencoded")]);
    let v = src
        .verify(&WebhookRequest::new(&h, body.as_bytes(), at(1_700_000_010)))
        .unwrap();
    let now = at(1_700_000_010);
    let entry = {
        let mut entry = InboxEntry::new(
            1,
            "mailgun-inbound",
            v.dedupe_key,
            body.clone().into_bytes(),
            now,
        );
        entry.topic = v.topic;
        entry.meta = v.meta;
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry
    };
    let m = decode_inbound(&entry).unwrap();
    assert_eq!(
        (m.from.as_str(), m.text.as_str()),
        ("lucia@example.com", "10")
    );
    let tampered = body.replace("tok123", "tok124");
    assert_eq!(
        src.verify(&WebhookRequest::new(&h, tampered.as_bytes(), now)),
        Err(Rejection::Mismatch)
    );
}
