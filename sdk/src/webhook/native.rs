use super::{Rejection, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest, WebhookSource};
use crate::Error;
use crate::model::{PlatformEvent, ShopId};
use crate::store::InboxEntry;

/// Aftercare's own webhook format: a [`PlatformEvent`] (or a JSON array of them) as the body,
/// signed with Standard Webhooks.
///
/// For shops on platforms without an adapter: send the events in Aftercare's schema
/// (`schemas/platform-event.json`), sign them with any Standard Webhooks library, and the
/// whole pipeline works. De-duplicated on `webhook-id`.
///
/// ```
/// use aftercare::webhook::{NativeSource, Secret, WebhookSource, WebhookRequest};
/// let src = NativeSource::new(Secret::from("a shared secret"));
/// let body = br#"{"type":"app_uninstalled","shop":"demo"}"#;
/// let headers = src.verifier().sign(body, chrono::Utc::now());
/// let req = WebhookRequest::new(&headers, body, chrono::Utc::now());
/// let verified = src.verify(&req).unwrap();
/// assert!(verified.dedupe_key.starts_with("msg_"));
/// ```
///
/// Standard Webhooks signs the message id, the timestamp and the body, and the event's kind
/// is the body's `type`: nothing outside the signature is trusted. A body that is not an
/// event (or an array of at least one) is a decode error. Bound to a shop
/// ([`NativeSource::for_shop`]), an event naming another shop is a decode error too, and an
/// order or shipment naming none is given the bound shop.
#[derive(Clone, Debug)]
pub struct NativeSource {
    verifier: Verifier,
    shop: Option<ShopId>,
}

impl NativeSource {
    /// A source verifying with one secret.
    pub fn new(secret: Secret) -> Self {
        Self::with_verifier(Verifier::new(Scheme::StandardWebhooks, secret))
    }

    /// A source with a configured verifier (several secrets, another window...).
    pub fn with_verifier(verifier: Verifier) -> Self {
        Self {
            verifier,
            shop: None,
        }
    }

    /// Binds the source to the one shop that sends to it (see the type's docs).
    pub fn for_shop(mut self, shop: impl Into<ShopId>) -> Self {
        self.shop = Some(shop.into());
        self
    }

    /// The verifier, e.g. to sign test requests.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl WebhookSource for NativeSource {
    fn verify(&self, request: &WebhookRequest<'_>) -> Result<VerifiedWebhook, Rejection> {
        let v = self
            .verifier
            .verify(request.headers, request.body, request.received_at)?;
        let mut out = VerifiedWebhook::new(v.message_id.unwrap_or_default());
        out.occurred_at = v.timestamp;
        Ok(out)
    }

    fn decode(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        let value: serde_json::Value =
            serde_json::from_slice(&entry.body).map_err(|e| Error::decode("native", e))?;
        let events = if value.is_array() {
            serde_json::from_value::<Vec<PlatformEvent>>(value)
        } else {
            serde_json::from_value::<PlatformEvent>(value).map(|e| vec![e])
        }
        .map_err(|e| Error::decode("native", e))?;
        if events.is_empty() {
            return Err(Error::decode(
                "native",
                "the body is an empty list of events",
            ));
        }
        let mut events = events;
        if let Some(shop) = &self.shop {
            for e in &mut events {
                e.bind_to_shop(shop).map_err(|why| {
                    Error::decode(
                        "native",
                        format_args!("{why}; the webhook was dead-lettered unread"),
                    )
                })?;
            }
        }
        Ok(events)
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::store::InboxStatus;
    use chrono::Utc;

    fn entry(body: &[u8]) -> InboxEntry {
        InboxEntry {
            id: 1,
            source: "native".into(),
            dedupe_key: "msg_1".into(),
            topic: None,
            shop: None,
            occurred_at: None,
            meta: Default::default(),
            body: body.to_vec(),
            received_at: Utc::now(),
            status: InboxStatus::Pending,
            attempts: 1,
            next_attempt_at: Utc::now(),
            last_error: None,
        }
    }

    fn bound() -> NativeSource {
        NativeSource::new(Secret::from("s")).for_shop("demo")
    }

    #[test]
    fn a_bound_source_refuses_events_of_another_shop() {
        for body in [
            &br#"{"type":"shop_redact_requested","shop":"victim"}"#[..],
            br#"{"type":"customer_redact_requested","shop":"victim","customer_id":"1","email":null,"phone":null,"orders":[]}"#,
            br#"[{"type":"app_uninstalled","shop":"demo"},{"type":"shop_redact_requested","shop":"victim"}]"#,
        ] {
            let err = bound().decode(&entry(body)).unwrap_err();
            assert!(
                matches!(&err, Error::Decode { message, .. } if message.contains("victim")),
                "{err}"
            );
        }
        let ok = bound()
            .decode(&entry(br#"{"type":"shop_redact_requested","shop":"DEMO"}"#))
            .unwrap();
        assert_eq!(ok.len(), 1);
    }

    #[test]
    fn an_order_naming_no_shop_gets_the_bound_one() {
        let ev = PlatformEvent::OrderCreated {
            order: crate::model::Order::new("1", "#1"),
        };
        assert!(ev.shop().is_none());
        let body = serde_json::to_vec(&ev).unwrap();
        let events = bound().decode(&entry(&body)).unwrap();
        assert_eq!(events[0].shop().map(|s| s.as_str()), Some("demo"));
    }

    #[test]
    fn a_body_that_is_not_an_event_is_a_decode_error() {
        for body in [
            &b"[]"[..],
            b"{}",
            br#"{"type":"shop_redact_requested"}"#,
            br#"{"type":"no_such_event"}"#,
            b"null",
        ] {
            assert!(
                matches!(
                    NativeSource::new(Secret::from("s")).decode(&entry(body)),
                    Err(Error::Decode { .. })
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
