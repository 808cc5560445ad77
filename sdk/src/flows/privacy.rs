//! Privacy requests: erase a customer's or a shop's data when the platform asks.

use std::sync::Arc;

use async_trait::async_trait;

use crate::inbox::{EventHandler, HandlerError};
use crate::model::PlatformEvent;
use crate::store::{CustomerRedaction, InboxEntry, Redactor};

/// Handles the privacy events (`CustomerRedactRequested`, `ShopRedactRequested`) by erasing
/// data through a [`Redactor`]; other events are ignored. Idempotent: erasing twice erases
/// nothing more. Compose it with other handlers in your own [`EventHandler`].
///
/// `CustomerDataRequested` is logged for the merchant to answer: Aftercare keeps only what
/// the export of the stores shows (messages, answers, consent), which the shop owner
/// exports themselves.
#[derive(Clone)]
pub struct PrivacyHandler {
    redactor: Arc<dyn Redactor>,
}

impl std::fmt::Debug for PrivacyHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivacyHandler")
    }
}

impl PrivacyHandler {
    /// A handler erasing through `redactor`.
    pub fn new(redactor: Arc<dyn Redactor>) -> Self {
        Self { redactor }
    }

    /// Acts on one event; returns whether it was a privacy event.
    pub async fn apply(&self, event: &PlatformEvent) -> Result<bool, HandlerError> {
        match event {
            PlatformEvent::CustomerRedactRequested {
                shop,
                customer_id,
                email,
                phone,
                orders,
            } => {
                let req = CustomerRedaction::new(
                    Some(shop.clone()),
                    Some(customer_id.clone()),
                    email.iter().chain(phone.iter()).cloned().collect(),
                    orders.clone(),
                );
                let report = self.redactor.redact_customer(&req).await?;
                tracing::info!(shop = %shop, ?report, "customer data redacted");
                Ok(true)
            }
            PlatformEvent::ShopRedactRequested { shop } => {
                let report = self.redactor.redact_shop(shop).await?;
                tracing::info!(shop = %shop, ?report, "shop data redacted");
                Ok(true)
            }
            PlatformEvent::CustomerDataRequested { shop, orders, .. } => {
                tracing::info!(shop = %shop, orders = orders.len(), "customer data request received; the merchant answers it from their exports");
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl EventHandler for PrivacyHandler {
    async fn handle(&self, _entry: &InboxEntry, events: Vec<PlatformEvent>) -> Result<(), HandlerError> {
        for e in &events {
            self.apply(e).await?;
        }
        Ok(())
    }
}
