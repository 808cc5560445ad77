//! [`Lifecycle`]: a shop's own `app/uninstalled` (and shop-erasure request) acted on from its
//! inbox, in the shop's handler chain.

use std::sync::Arc;

use async_trait::async_trait;

use super::scope::Tenancy;
use crate::clock::Clock;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{PlatformEvent, ShopId};
use crate::store::InboxEntry;

/// Uninstalls the shop it is bound to when that shop's `AppUninstalled` arrives (its work
/// stops, its erasure is scheduled); erases it on `ShopRedactRequested` once uninstalled
/// (before that, the request is retried, as the privacy flow holds it). An event naming
/// another shop is poison: a shop's inbox never acts on another shop.
pub struct Lifecycle {
    tenancy: Arc<Tenancy>,
    shop: ShopId,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("shop", &self.shop)
            .finish()
    }
}

impl Lifecycle {
    /// The lifecycle handler of `shop`'s chain.
    pub fn new(tenancy: Arc<Tenancy>, shop: ShopId, clock: Arc<dyn Clock>) -> Self {
        Self {
            tenancy,
            shop,
            clock,
        }
    }

    fn bound(&self, shop: &ShopId) -> Result<(), HandlerError> {
        if *shop == self.shop {
            Ok(())
        } else {
            Err(HandlerError::Poison(format!(
                "an event for shop `{shop}` arrived in the inbox of shop `{}`",
                self.shop
            )))
        }
    }
}

#[async_trait]
impl EventHandler for Lifecycle {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        for e in events {
            match e {
                PlatformEvent::AppUninstalled { shop } => {
                    self.bound(&shop)?;
                    self.tenancy.uninstall(&shop, self.clock.now()).await?;
                }
                PlatformEvent::ShopRedactRequested { shop } => {
                    self.bound(&shop)?;
                    if !self.tenancy.erase(&shop).await? {
                        return Err(HandlerError::Retry(format!(
                            "shop `{shop}` asked for erasure while installed; held until it is uninstalled"
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}
