//! [`SallaHydrator`]: handles the app events that change the store's tokens before
//! decoding, from the inbox (never on the request path).

use std::sync::Arc;

use aftercare::Error;
use aftercare::model::PlatformEvent;
use aftercare::platform::thin::Hydrator;
use aftercare::platform::token::{TokenHolder, TokenSet};
use aftercare::store::InboxEntry;
use aftercare::webhook::WebhookSource as _;
use async_trait::async_trait;

use crate::error::SallaError;
use crate::payload::AuthorizePayload;
use crate::webhooks::{AUTHORIZE_EVENT, SallaWebhooks, envelope};

/// Registered with `InboxProcessor::hydrator` for the Salla source:
///
/// - `app.store.authorize` (first install, and every app update): its `access_token`,
///   single-use `refresh_token` and `expires` (Unix time) are stored, sealed, through the
///   [`TokenHolder`] — durably before anything uses them — and no event is produced;
/// - `app.uninstalled`: the holder is marked revoked (every API call then stops with that
///   reason, without calling Salla), and `app_uninstalled` is produced;
/// - everything else is decoded by [`SallaWebhooks`].
#[derive(Clone, Debug)]
pub struct SallaHydrator {
    source: Arc<SallaWebhooks>,
    tokens: Arc<TokenHolder>,
}

impl SallaHydrator {
    /// The hydrator of `source`, keeping tokens in `tokens`.
    pub fn new(source: Arc<SallaWebhooks>, tokens: Arc<TokenHolder>) -> Self {
        Self { source, tokens }
    }
}

#[async_trait]
impl Hydrator for SallaHydrator {
    async fn hydrate(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error> {
        match entry.topic.as_deref() {
            Some(AUTHORIZE_EVENT) => {
                let env = envelope(AUTHORIZE_EVENT, &entry.body, self.source.shop())?;
                let a: AuthorizePayload = serde_json::from_value(env.data)
                    .map_err(|e| SallaError::decode("salla app.store.authorize", e))?;
                let expires = chrono::DateTime::from_timestamp(a.expires, 0);
                self.tokens
                    .install(TokenSet::new(
                        a.access_token,
                        Some(a.refresh_token),
                        expires,
                    ))
                    .await?;
                tracing::info!(merchant = %self.source.shop(), "Salla tokens stored");
                Ok(Vec::new())
            }
            Some("app.uninstalled") => {
                let events = self.source.decode(entry)?;
                self.tokens
                    .revoke("the app was uninstalled from the store (app.uninstalled)")
                    .await?;
                Ok(events)
            }
            _ => self.source.decode(entry),
        }
    }
}
