//! # aftercare-whatsapp-cloud
//!
//! WhatsApp through Meta's Cloud API for [Aftercare](aftercare):
//!
//! - [`WhatsAppCloudChannel`]: a [`MessageChannel`](aftercare::channel::MessageChannel)
//!   sending approved templates (with body parameters and a URL button suffix) and, inside the
//!   24-hour customer-service window, free-form text; Graph API errors classified in
//!   [`errors`].
//! - [`webhook`]: the GET verification handshake ([`webhook::verify_subscription`]; with the
//!   `axum` feature, `verification_router`), [`webhook::WhatsAppCloudWebhook`] (the
//!   [`WebhookSource`](aftercare::webhook::WebhookSource) checking `X-Hub-Signature-256`,
//!   then the configured phone number id and business account: another's is refused with
//!   403), and [`webhook::parse_webhook`] for incoming messages and statuses (a body that is
//!   not what it claims does not decode).
//! - [`rate`]: the documented default throughput.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use aftercare::channel::MessageChannel;
//! use aftercare::model::{ChannelKind, OutboundMessage, Purpose, TemplateRef};
//! use aftercare_whatsapp_cloud::WhatsAppCloudChannel;
//!
//! let wa = WhatsAppCloudChannel::new("106540352242922", "EAAG...")?;
//! let mut msg = OutboundMessage::new(ChannelKind::Whatsapp, "+16505551234", Purpose::Transactional, "");
//! let mut t = TemplateRef::new("order_shipped", "en_US");
//! t.body_params = vec!["Alex".into()];
//! t.url_button_param = Some("TRK123".into());
//! msg.template = Some(t);
//! let receipt = wa.send(&msg, "tracking:1001:1:shipped:whatsapp").await?;
//! println!("sent as {}", receipt.provider_message_id);
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod channel;
pub mod errors;
pub mod rate;
pub mod webhook;

pub use channel::{WINDOW_META_KEY, WhatsAppCloudChannel};

use aftercare::model::{ChannelKind, InboundMessage};
use chrono::{DateTime, Utc};

/// What went wrong setting up the WhatsApp Cloud API adapter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WhatsAppError {
    /// The phone number id or the access token is empty.
    #[error(
        "the WhatsApp phone number id or access token is empty; copy them from the app's WhatsApp settings"
    )]
    MissingCredentials,
    /// The HTTP client could not be built.
    #[error("the HTTP client for the Graph API could not be built: {0}")]
    HttpClient(String),
}

/// Builds an [`InboundMessage`] through its serialized form (the sdk type is
/// `#[non_exhaustive]` and has no constructor).
pub(crate) fn inbound_message(
    from: &str,
    to: &str,
    text: &str,
    button_payload: Option<&str>,
    id: &str,
    in_reply_to: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<InboundMessage, aftercare::Error> {
    serde_json::from_value(serde_json::json!({
        "channel": ChannelKind::Whatsapp,
        "from": from,
        "to": to,
        "text": text,
        "button_payload": button_payload,
        "provider_message_id": id,
        "in_reply_to": in_reply_to,
        "received_at": received_at,
    }))
    .map_err(|e| aftercare::Error::decode("an incoming WhatsApp message", e))
}

/// The GET verification handshake as an axum router serving `path`: `200` with the
/// `hub.challenge` as plain text when the mode and token match, `403` otherwise. Merge it
/// with the router that receives the POSTs.
///
/// For a path of its own. With `aftercare::http::WebhookRoutes`, do not merge this router (a
/// static route such as `/webhooks/whatsapp` takes over every method on that path, and
/// Meta's POSTs would be answered 405): give the token to
/// [`WhatsAppCloudWebhook::verify_token`](webhook::WhatsAppCloudWebhook::verify_token)
/// instead, and the webhook route answers the GET itself.
///
/// ```
/// # #[cfg(feature = "axum")] {
/// use aftercare::webhook::Secret;
/// let r: axum::Router = aftercare_whatsapp_cloud::verification_router("/webhooks/whatsapp", Secret::from("verify-me"));
/// # }
/// ```
#[cfg(feature = "axum")]
pub fn verification_router(path: &str, verify_token: aftercare::webhook::Secret) -> axum::Router {
    use axum::extract::{RawQuery, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use std::sync::Arc;

    async fn handshake(
        State(token): State<Arc<aftercare::webhook::Secret>>,
        RawQuery(q): RawQuery,
    ) -> axum::response::Response {
        match webhook::verify_subscription_query(q.as_deref().unwrap_or(""), &token) {
            Ok(challenge) => (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "text/plain")],
                challenge,
            )
                .into_response(),
            Err(e) => {
                tracing::warn!(reason = %e, "WhatsApp webhook verification refused");
                (StatusCode::FORBIDDEN, e.to_string()).into_response()
            }
        }
    }
    axum::Router::new()
        .route(path, axum::routing::get(handshake))
        .with_state(Arc::new(verify_token))
}

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use reqwest;
