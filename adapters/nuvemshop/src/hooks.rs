//! Webhook subscriptions: [`NuvemshopClient::ensure_hooks`] (`resources/webhook.md`).

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{NuvemshopClient, decode_json};
use crate::error::NuvemshopError;
use crate::payload::Id;
use crate::webhooks::{EVENT_HEADER, ORDER_EVENTS, STORE_HEADER};

/// The events Aftercare uses: the order events and `app/*`.
pub fn aftercare_events() -> Vec<&'static str> {
    let mut v = ORDER_EVENTS.to_vec();
    v.extend(["app/uninstalled", "app/suspended", "app/resumed"]);
    v
}

#[derive(Deserialize)]
struct Hook {
    id: Id,
    event: String,
    url: String,
}

/// What [`NuvemshopClient::ensure_hooks`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HookReport {
    /// Events whose webhook was created.
    pub created: Vec<String>,
    /// Events whose webhook was already there.
    pub kept: Vec<String>,
}

impl NuvemshopClient {
    /// Makes sure the store has one webhook per event pointing at `url`, created with the
    /// custom headers [`STORE_HEADER`] and [`EVENT_HEADER`] (the verifier binds them to the
    /// signed body). `GET /webhooks?url=...`, then `POST /webhooks` for each missing event.
    pub async fn ensure_hooks(
        &self,
        url: &str,
        events: &[&str],
    ) -> Result<HookReport, NuvemshopError> {
        let r = self
            .call(
                Method::GET,
                "webhooks",
                &[("url", url.to_owned()), ("per_page", "200".to_owned())],
                None,
            )
            .await?;
        let existing: Vec<Hook> = if r.status == 404 {
            Vec::new()
        } else {
            decode_json(&r.body, "GET /webhooks")?
        };
        let mut report = HookReport::default();
        for event in events {
            if let Some(h) = existing.iter().find(|h| h.event == *event && h.url == url) {
                tracing::debug!(hook = %h.id, event, "Nuvemshop webhook already there");
                report.kept.push((*event).to_owned());
                continue;
            }
            let body = json!({
                "event": event,
                "url": url,
                "headers": { STORE_HEADER: self.store_id(), EVENT_HEADER: event },
            });
            let r = self
                .call(Method::POST, "webhooks", &[], Some(&body))
                .await?;
            if r.status == 404 {
                return Err(NuvemshopError::Api {
                    operation: "POST /webhooks".into(),
                    status: Some(404),
                    message: "the store's webhooks endpoint was not found".into(),
                    retryable: false,
                });
            }
            report.created.push((*event).to_owned());
        }
        Ok(report)
    }
}
