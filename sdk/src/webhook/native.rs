use super::{Rejection, Scheme, Secret, Verifier, VerifiedWebhook, WebhookRequest, WebhookSource};
use crate::Error;
use crate::model::PlatformEvent;
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
/// let req = WebhookRequest { headers: &headers, body, received_at: chrono::Utc::now() };
/// let verified = src.verify(&req).unwrap();
/// assert!(verified.dedupe_key.starts_with("msg_"));
/// ```
#[derive(Clone, Debug)]
pub struct NativeSource {
    verifier: Verifier,
}

impl NativeSource {
    /// A source verifying with one secret.
    pub fn new(secret: Secret) -> Self {
        Self {
            verifier: Verifier::new(Scheme::StandardWebhooks, secret),
        }
    }

    /// A source with a configured verifier (several secrets, another window...).
    pub fn with_verifier(verifier: Verifier) -> Self {
        Self { verifier }
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
        Ok(events)
    }

    fn max_body_bytes(&self) -> usize {
        self.verifier.body_limit()
    }
}
