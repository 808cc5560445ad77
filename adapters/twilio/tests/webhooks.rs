#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Decoding Twilio's webhooks. Parameters as listed on
//! `https://www.twilio.com/docs/messaging/guides/webhook-request` (incoming messages) and
//! `https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks`
//! (status callbacks). The WhatsApp button parameters (`ButtonText`, `ButtonPayload`,
//! `ProfileName`, `WaId`, `OriginalRepliedMessageSid`) are as Twilio's WhatsApp docs show them
//! (marked unverified in the facts file, §1.3).

use aftercare::model::{ChannelKind, DeliveryStatus, PlatformEvent};
use aftercare::store::InboxEntry;
use aftercare::webhook::WebhookSource;
use aftercare_twilio::webhook::{
    TOPIC_INBOUND, TOPIC_STATUS, TwilioEvent, TwilioForm, TwilioWebhook, decode_entry,
    parse_inbound, parse_status,
};
use chrono::Utc;

const SMS_INBOUND: &str = "ToCountry=US&ToState=CA&SmsMessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&NumMedia=0&ToCity=SAN+FRANCISCO&FromZip=94105&SmsSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Hello+%F0%9F%91%8B&FromCountry=US&To=%2B15557122661&ToZip=94105&NumSegments=1&MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&From=%2B15558675310&ApiVersion=2010-04-01";

const WA_BUTTON: &str = "SmsMessageSid=SMa1b2&NumMedia=0&ProfileName=Ana&MessageType=button&SmsSid=SMa1b2&WaId=5511987654321&SmsStatus=received&Body=&ButtonText=Rate+10&To=whatsapp%3A%2B14155238886&ButtonPayload=NPS_10&NumSegments=1&ReferralNumMedia=0&MessageSid=SMa1b2&AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&OriginalRepliedMessageSid=MMorig&From=whatsapp%3A%2B5511987654321&ApiVersion=2010-04-01";

const STATUS_UNDELIVERED: &str = "AccountSid=ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX&ApiVersion=2010-04-01&ErrorCode=30003&From=%2B15017122661&MessageSid=SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd&MessageStatus=undelivered&SmsSid=SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd&SmsStatus=undelivered&To=%2B15558675310";

#[test]
fn sms_inbound() {
    let at = Utc::now();
    let m = parse_inbound(&TwilioForm::parse(SMS_INBOUND.as_bytes()), at).unwrap();
    assert_eq!(m.channel, ChannelKind::Sms);
    assert_eq!(m.from, "+15558675310");
    assert_eq!(m.to, "+15557122661");
    assert_eq!(m.text, "Hello 👋");
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("SM1f0e8ae6ade43cb3c0ce4525424e404f")
    );
    assert_eq!(m.button_payload, None);
    assert_eq!(m.in_reply_to, None);
    assert_eq!(m.received_at, at);
}

#[test]
fn whatsapp_button_reply() {
    let m = parse_inbound(&TwilioForm::parse(WA_BUTTON.as_bytes()), Utc::now()).unwrap();
    assert_eq!(m.channel, ChannelKind::Whatsapp);
    assert_eq!(m.from, "+5511987654321");
    assert_eq!(m.to, "+14155238886");
    assert_eq!(m.text, "Rate 10", "the empty Body falls back to ButtonText");
    assert_eq!(m.button_payload.as_deref(), Some("NPS_10"));
    assert_eq!(m.in_reply_to.as_deref(), Some("MMorig"));
}

#[test]
fn inbound_without_sender_is_a_decode_error() {
    assert!(parse_inbound(&TwilioForm::parse(b"MessageSid=SM1&Body=hi"), Utc::now()).is_err());
    assert!(parse_inbound(&TwilioForm::parse(b"From=%2B1&Body=hi"), Utc::now()).is_err());
}

#[test]
fn status_values() {
    let cases = [
        ("queued", DeliveryStatus::Queued),
        ("accepted", DeliveryStatus::Queued),
        ("sending", DeliveryStatus::Queued),
        ("sent", DeliveryStatus::Sent),
        ("delivered", DeliveryStatus::Delivered),
        ("read", DeliveryStatus::Read),
        (
            "failed",
            DeliveryStatus::Failed {
                code: Some("30007".into()),
            },
        ),
        (
            "partially_delivered",
            DeliveryStatus::Unknown("partially_delivered".into()),
        ),
        ("canceled", DeliveryStatus::Unknown("canceled".into())),
    ];
    for (s, want) in cases {
        let body = format!("MessageSid=SM9&MessageStatus={s}&ErrorCode=30007");
        let (sid, got) = parse_status(&TwilioForm::parse(body.as_bytes())).unwrap();
        assert_eq!(sid, "SM9");
        assert_eq!(got, want, "{s}");
    }
    let (sid, st) = parse_status(&TwilioForm::parse(STATUS_UNDELIVERED.as_bytes())).unwrap();
    assert_eq!(sid, "SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd");
    assert_eq!(
        st,
        DeliveryStatus::Failed {
            code: Some("30003".into())
        }
    );
    // Failed without an ErrorCode keeps `None`.
    let (_, st) = parse_status(&TwilioForm::parse(b"MessageSid=SM9&MessageStatus=failed")).unwrap();
    assert_eq!(st, DeliveryStatus::Failed { code: None });
    assert!(parse_status(&TwilioForm::parse(b"MessageSid=SM9")).is_err());
}

#[test]
fn dedupe_keys() {
    assert_eq!(
        TwilioForm::parse(SMS_INBOUND.as_bytes())
            .dedupe_key()
            .unwrap(),
        "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    );
    assert_eq!(
        TwilioForm::parse(STATUS_UNDELIVERED.as_bytes())
            .dedupe_key()
            .unwrap(),
        "SM5ee43f4a6fd61c7ec3d1b72bcb0fb8fd:undelivered"
    );
}

fn entry(topic: Option<&str>, body: &str) -> InboxEntry {
    {
        let mut entry = InboxEntry::new(1, "twilio", "k", body.as_bytes().to_vec(), Utc::now());
        entry.topic = topic.map(str::to_owned);
        entry.meta = Default::default();
        entry.attempts = 1;
        entry.next_attempt_at = Utc::now();
        entry
    }
}

#[test]
fn source_decodes_to_unrecognized_topics_and_typed_events() {
    let src = TwilioWebhook::new("t", "https://x.example/t");
    let e = entry(Some(TOPIC_STATUS), STATUS_UNDELIVERED);
    assert_eq!(
        src.decode(&e).unwrap(),
        vec![PlatformEvent::Unrecognized {
            topic: TOPIC_STATUS.into()
        }]
    );
    assert!(matches!(
        decode_entry(&e).unwrap(),
        TwilioEvent::Status {
            status: DeliveryStatus::Failed { .. },
            ..
        }
    ));
    let e = entry(None, WA_BUTTON);
    assert_eq!(
        src.decode(&e).unwrap(),
        vec![PlatformEvent::Unrecognized {
            topic: TOPIC_INBOUND.into()
        }]
    );
    match decode_entry(&e).unwrap() {
        TwilioEvent::Inbound(m) => assert_eq!(m.button_payload.as_deref(), Some("NPS_10")),
        other => panic!("{other:?}"),
    }
}

/// The kind a stored entry claims (its topic) must be what its body is; a body that is not
/// does not decode (and is dead-lettered with the reason), it never becomes an empty event.
#[test]
fn bodies_must_be_the_kind_their_topic_claims() {
    use aftercare::Error;
    let src = TwilioWebhook::new("t", "https://x.example/t");
    let decode_error = |topic: Option<&str>, body: &str| match src.decode(&entry(topic, body)) {
        Err(Error::Decode { message, .. }) => message,
        other => panic!("{body}: {other:?}"),
    };
    // A status callback without MessageStatus: SmsStatus alone is not enough.
    assert!(
        decode_error(
            None,
            "MessageSid=SM1&SmsSid=SM1&SmsStatus=delivered&From=%2B1&To=%2B2"
        )
        .contains("MessageStatus")
    );
    assert!(decode_error(Some(TOPIC_STATUS), "MessageSid=SM1&From=%2B1").contains("MessageStatus"));
    // An incoming message needs MessageSid, From, To and Body.
    assert!(
        decode_error(
            Some(TOPIC_INBOUND),
            SMS_INBOUND.replace("&Body=Hello+%F0%9F%91%8B", "").as_str()
        )
        .contains("Body")
    );
    assert!(decode_error(Some(TOPIC_INBOUND), "MessageSid=SM1&From=%2B1&Body=hi").contains("To"));
    assert!(
        decode_error(Some(TOPIC_INBOUND), "SmsSid=SM1&From=%2B1&To=%2B2&Body=hi")
            .contains("MessageSid")
    );
    // A status callback body stored as an incoming message is not one.
    assert!(decode_error(Some(TOPIC_INBOUND), STATUS_UNDELIVERED).contains("Body"));
    // An empty Body is a message with media only: it decodes.
    let media = SMS_INBOUND.replace("Body=Hello+%F0%9F%91%8B", "Body=");
    assert!(src.decode(&entry(Some(TOPIC_INBOUND), &media)).is_ok());
    // A signed JSON request is not a messaging webhook.
    assert!(decode_entry(&entry(Some(aftercare_twilio::webhook::TOPIC_JSON), "{}")).is_err());
}

#[test]
fn a_stored_entry_of_another_account_does_not_decode() {
    let src = TwilioWebhook::new("t", "https://x.example/t").account_sid("ACother");
    let err = src
        .decode(&entry(Some(TOPIC_STATUS), STATUS_UNDELIVERED))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        "{err}"
    );
    let ours = TwilioWebhook::new("t", "https://x.example/t")
        .account_sid("ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    assert!(
        ours.decode(&entry(Some(TOPIC_STATUS), STATUS_UNDELIVERED))
            .is_ok()
    );
}
