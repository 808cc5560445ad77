//! Email end to end on the feedback world (sandbox shop, real SQLite, dispatcher): a
//! SendGrid bounce event, signed as SendGrid signs (ECDSA P-256 over timestamp + body),
//! crosses the router into the inbox and lands in the ledger as `bounced` on the
//! invitation, suppresses the address and sends the invitation by SMS; a forged event is
//! refused with nothing stored; an email reply "٩" above a quoted thread, as Inbound Parse
//! posts it, scores 9; "unsubscribe" by email is honoured.

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::flows::email::EmailEvents;
use aftercare::flows::feedback::FeedbackFlow;
use aftercare::flows::replies::{ReplyAction, ReplyConfig, ReplyHandler};
use aftercare::http::WebhookRoutes;
use aftercare::inbox::{EventHandler, HandlerError, InboxProcessor};
use aftercare::l10n::Localizer;
use aftercare::model::{ChannelKind, ConsentState, PlatformEvent, Purpose};
use aftercare::store::{ConsentStore, Decision, InboxEntry, Ledger, Outbox};
use aftercare::webhook::{RawHeaders, Secret, WebhookRequest, WebhookSource};
use aftercare_sandbox::CarrierScript;
use aftercare_sendgrid::events::{SIGNATURE_HEADER, TIMESTAMP_HEADER, decode_events};
use aftercare_sendgrid::{EventWebhookKey, SendGridEvents, SendGridInbound};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::Duration;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use tower::ServiceExt as _;

use crate::feedback_e2e::{World, customer_of, world};

/// What the reference binaries do with a stored SendGrid batch.
struct OnEmailEvents(EmailEvents, Arc<FeedbackFlow>);

#[async_trait::async_trait]
impl EventHandler for OnEmailEvents {
    async fn handle(&self, entry: &InboxEntry, _: Vec<PlatformEvent>) -> Result<(), HandlerError> {
        for e in decode_events(&entry.body)? {
            if let Some(m) = self.0.record(&e).await?.fallback {
                self.1.on_undelivered(&m).await?;
            }
        }
        Ok(())
    }
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn public(k: &SigningKey) -> EventWebhookKey {
    let der = k.verifying_key().to_public_key_der().unwrap();
    EventWebhookKey::parse(&B64.encode(der.as_bytes())).unwrap()
}

fn signed(k: &SigningKey, ts: i64, body: &str) -> Request<Body> {
    let ts = ts.to_string();
    let sig: Signature = k.sign(format!("{ts}{body}").as_bytes());
    Request::post("/webhooks/sendgrid")
        .header(SIGNATURE_HEADER, B64.encode(sig.to_der().as_bytes()))
        .header(TIMESTAMP_HEADER, ts)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

async fn invited_by_email(w: &World, locale: &str) -> (u64, String, String) {
    let (shipped, delivered) = w.ship(locale, CarrierScript::happy_path()).await;
    w.advance(delivered + Duration::days(3) - w.clock.now() + Duration::minutes(1))
        .await;
    let sent = w.survey_sent(shipped.order, "after_delivery");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].channel, ChannelKind::Email);
    let (email, phone) = customer_of(w, &shipped);
    (shipped.order, email, phone)
}

#[tokio::test]
async fn a_hard_bounce_is_ledgered_suppresses_the_address_and_falls_back_to_sms() {
    let w = world(vec![ChannelKind::Email, ChannelKind::Sms]).await;
    // The sandbox's Turkish customer takes SMS (its US one has opted out).
    let (order, email, phone) = invited_by_email(&w, "tr-TR").await;
    let inv_key = format!("survey:{order}-nps:after_delivery");
    let sent = w.store.outbox_by_key(&inv_key).await.unwrap().unwrap();
    let provider_id = sent.receipt.unwrap().provider_message_id;

    let signer = key(7);
    let shared = Arc::new(w.store.clone());
    let clock: Arc<dyn Clock> = w.clock.clone();
    let source = Arc::new(SendGridEvents::new(public(&signer)));
    let router = WebhookRoutes::new(shared.clone(), clock.clone())
        .source("sendgrid", source.clone())
        .into_router();
    let processor = InboxProcessor::new(
        shared.clone(),
        Arc::new(OnEmailEvents(
            EmailEvents::new(shared.clone()),
            w.feedback.clone(),
        )),
        clock.clone(),
    )
    .source("sendgrid", source);
    let now = w.clock.now().timestamp();
    // A batch as SendGrid posts it: events separated by CRLF, the bounce with `type`.
    let body = format!(
        "[{{\"email\":\"{email}\",\"timestamp\":{now},\"event\":\"processed\",\"sg_event_id\":\"p1\",\"sg_message_id\":\"{provider_id}.filter0001\"}},\r\n{{\"email\":\"{email}\",\"timestamp\":{now},\"event\":\"bounce\",\"type\":\"bounce\",\"status\":\"5.1.1\",\"reason\":\"550 5.1.1 user unknown\",\"sg_event_id\":\"b1\",\"sg_message_id\":\"{provider_id}.filter0001\"}}]\r\n"
    );

    // Forged: signed with another key. Refused, nothing stored, nothing changes.
    let forged = router
        .clone()
        .oneshot(signed(&key(9), now, &body))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let r = processor.run_once().await.unwrap();
    assert_eq!(r.done + r.retried + r.dead, 0, "nothing was stored");
    assert_eq!(
        w.store
            .consent(ChannelKind::Email, &email, Purpose::Feedback)
            .await
            .unwrap(),
        None
    );

    // Genuine, and sent twice (SendGrid retries): one ledger row, one fallback.
    for _ in 0..2 {
        let ok = router
            .clone()
            .oneshot(signed(&signer, now, &body))
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        processor.drain().await.unwrap();
        w.settle().await;
    }
    let rows = w.store.ledger_for_key(&inv_key).await.unwrap();
    let bounced: Vec<_> = rows
        .iter()
        .filter(|r| r.decision == Decision::Bounced)
        .collect();
    assert_eq!(bounced.len(), 1, "{rows:?}");
    assert!(
        bounced[0].reason.contains("hard bounce"),
        "{}",
        bounced[0].reason
    );
    for purpose in [
        Purpose::Feedback,
        Purpose::Transactional,
        Purpose::Marketing,
    ] {
        let c = w
            .store
            .consent(ChannelKind::Email, &email, purpose)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.state, ConsentState::Denied);
        assert_eq!(c.source, "bounce:sendgrid");
    }
    let sent = w.survey_sent(order, "after_delivery");
    let sms: Vec<_> = sent
        .iter()
        .filter(|m| m.channel == ChannelKind::Sms)
        .collect();
    assert_eq!(sms.len(), 1, "the invitation goes by SMS, once");
    assert_eq!(sms[0].to, phone);
}

#[tokio::test]
async fn an_email_reply_in_arabic_digits_above_the_quoted_survey_scores_9() {
    let w = world(vec![ChannelKind::Email]).await;
    let (order, email, _) = invited_by_email(&w, "ar-SA").await;
    let inbound = SendGridInbound::new("sendgrid", Secret::from("parse-pass"));
    let text = "٩\r\n\r\nفي الأحد، ٧ ديسمبر ٢٠٢٦ ٩:٠٠ ص، كتب Sandbox Coffee Co. <shop@shop.example>:\r\n> كيف تقيّم تجربتك من 0 إلى 10؟\r\n> 0 1 2 3 4 5 6 7 8 9 10\r\n";
    let b = "xYzZY";
    let mut body = String::new();
    for (k, v) in [
        ("headers", "Message-ID: <r1@mail.example>\nFrom: <x>"),
        ("from", email.as_str()),
        ("to", "replies@parse.shop.example"),
        ("subject", "Re: كيف كانت تجربتك؟"),
        ("text", text),
        (
            "envelope",
            &format!("{{\"to\":[\"replies@parse.shop.example\"],\"from\":\"{email}\"}}"),
        ),
    ] {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{b}--\r\n"));
    let ct = format!("multipart/form-data; boundary={b}");
    let h = RawHeaders::from_pairs([
        (
            "Authorization",
            format!("Basic {}", B64.encode("sendgrid:parse-pass")),
        ),
        ("Content-Type", ct.clone()),
    ]);
    let v = inbound
        .verify(&WebhookRequest::new(&h, body.as_bytes(), w.clock.now()))
        .unwrap();
    let now = w.clock.now();
    let entry = {
        let mut entry =
            InboxEntry::new(1, "sendgrid-inbound", v.dedupe_key, body.into_bytes(), now);
        entry.topic = v.topic;
        entry.meta = v.meta;
        entry.status = aftercare::store::InboxStatus::Pending;
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry
    };
    let msg = aftercare_sendgrid::inbound::decode_entry(&entry).unwrap();
    assert_eq!(w.feedback.on_reply(&msg).await.unwrap(), Some(9));
    let r = w.response(order).await.unwrap();
    assert_eq!((r.score, r.via.as_str()), (9, "email_reply"));

    // "unsubscribe" by email: an opt-out for every purpose on email, without a
    // confirmation email (the email default).
    let replies = ReplyHandler::new(
        Arc::new(w.store.clone()),
        Arc::new(w.store.clone()),
        Arc::new(Localizer::new()),
        w.clock.clone(),
        ReplyConfig::new("Sandbox Coffee Co.", "https://shop.example/help"),
    );
    let mut stop = msg.clone();
    stop.text = "unsubscribe".into();
    let action = replies.handle(&stop, None).await.unwrap();
    assert!(
        matches!(
            action,
            ReplyAction::OptedOut {
                confirmation: None,
                ..
            }
        ),
        "{action:?}"
    );
    let c = w
        .store
        .consent(ChannelKind::Email, &email, Purpose::Feedback)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.state, ConsentState::Denied);
}
