use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Customer, CustomerId, Order, OrderId, Shipment, ShopId, TrackingUpdate};

/// What happened on a shop platform, decoded from a verified webhook by a
/// [`WebhookSource`](crate::webhook::WebhookSource).
///
/// Serialized with an internal `type` tag, so it is also a wire format: the sdk's own
/// [`NativeSource`](crate::webhook::NativeSource) accepts these events as JSON from any shop
/// that signs them with Standard Webhooks.
///
/// ```
/// use aftercare::model::{PlatformEvent, Order};
/// let ev = PlatformEvent::OrderCreated { order: Order::new("1", "#1001") };
/// let json = serde_json::to_string(&ev).unwrap();
/// assert!(json.starts_with(r#"{"type":"order_created""#));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlatformEvent {
    /// An order was placed.
    OrderCreated {
        /// The order.
        order: Order,
    },
    /// An order was paid.
    OrderPaid {
        /// The order.
        order: Order,
    },
    /// An order changed.
    OrderUpdated {
        /// The order.
        order: Order,
    },
    /// An order was cancelled.
    OrderCancelled {
        /// The order.
        order: Order,
    },
    /// A shipment (fulfillment) was created.
    ShipmentCreated {
        /// The shipment.
        shipment: Shipment,
    },
    /// A shipment's tracking or status changed.
    ShipmentUpdated {
        /// The shipment.
        shipment: Shipment,
    },
    /// A carrier-tracking source reported on a tracking number; the
    /// [`TrackingSources`](crate::tracking_source::TrackingSources) handler merges it into
    /// the registered shipment's history.
    TrackingUpdated {
        /// What the source says.
        update: TrackingUpdate,
    },
    /// A customer's record (contact, locale, consent) changed.
    CustomerUpdated {
        /// The customer.
        customer: Customer,
    },
    /// The shop removed the integration.
    AppUninstalled {
        /// The shop.
        shop: ShopId,
    },
    /// A customer asked for the data held about them.
    CustomerDataRequested {
        /// The shop.
        shop: ShopId,
        /// The customer.
        customer_id: CustomerId,
        /// Their email, when given.
        email: Option<String>,
        /// Orders concerned.
        orders: Vec<OrderId>,
    },
    /// A customer's personal data must be erased.
    CustomerRedactRequested {
        /// The shop.
        shop: ShopId,
        /// The customer.
        customer_id: CustomerId,
        /// Their email, when given.
        email: Option<String>,
        /// Their phone, when given.
        phone: Option<String>,
        /// Orders whose data must go.
        orders: Vec<OrderId>,
    },
    /// All of a shop's data must be erased.
    ShopRedactRequested {
        /// The shop.
        shop: ShopId,
    },
    /// A topic this source does not decode; stored and reported, never an error.
    Unrecognized {
        /// The platform's topic name.
        topic: String,
    },
}

impl PlatformEvent {
    /// Stable snake-case name of the variant (`shipment_updated`).
    pub fn kind(&self) -> &'static str {
        match self {
            PlatformEvent::OrderCreated { .. } => "order_created",
            PlatformEvent::OrderPaid { .. } => "order_paid",
            PlatformEvent::OrderUpdated { .. } => "order_updated",
            PlatformEvent::OrderCancelled { .. } => "order_cancelled",
            PlatformEvent::ShipmentCreated { .. } => "shipment_created",
            PlatformEvent::ShipmentUpdated { .. } => "shipment_updated",
            PlatformEvent::TrackingUpdated { .. } => "tracking_updated",
            PlatformEvent::CustomerUpdated { .. } => "customer_updated",
            PlatformEvent::AppUninstalled { .. } => "app_uninstalled",
            PlatformEvent::CustomerDataRequested { .. } => "customer_data_requested",
            PlatformEvent::CustomerRedactRequested { .. } => "customer_redact_requested",
            PlatformEvent::ShopRedactRequested { .. } => "shop_redact_requested",
            PlatformEvent::Unrecognized { .. } => "unrecognized",
        }
    }

    /// The shop the event names, when it names one.
    pub fn shop(&self) -> Option<&ShopId> {
        match self {
            PlatformEvent::OrderCreated { order }
            | PlatformEvent::OrderPaid { order }
            | PlatformEvent::OrderUpdated { order }
            | PlatformEvent::OrderCancelled { order } => order.shop.as_ref(),
            PlatformEvent::ShipmentCreated { shipment }
            | PlatformEvent::ShipmentUpdated { shipment } => shipment.shop.as_ref(),
            PlatformEvent::AppUninstalled { shop }
            | PlatformEvent::CustomerDataRequested { shop, .. }
            | PlatformEvent::CustomerRedactRequested { shop, .. }
            | PlatformEvent::ShopRedactRequested { shop } => Some(shop),
            PlatformEvent::CustomerUpdated { .. }
            | PlatformEvent::TrackingUpdated { .. }
            | PlatformEvent::Unrecognized { .. } => None,
        }
    }

    /// Fills in the shop of an order or shipment that names none.
    fn default_shop(&mut self, shop: &ShopId) {
        match self {
            PlatformEvent::OrderCreated { order }
            | PlatformEvent::OrderPaid { order }
            | PlatformEvent::OrderUpdated { order }
            | PlatformEvent::OrderCancelled { order } => {
                order.shop.get_or_insert_with(|| shop.clone());
            }
            PlatformEvent::ShipmentCreated { shipment }
            | PlatformEvent::ShipmentUpdated { shipment } => {
                shipment.shop.get_or_insert_with(|| shop.clone());
            }
            _ => {}
        }
    }

    /// Binds the event to `shop`: an event naming another shop is refused (the text says
    /// which), one naming none is given `shop` where it has a place for it.
    pub fn bind_to_shop(&mut self, shop: &ShopId) -> Result<(), String> {
        match self.shop() {
            Some(s) if !s.as_str().trim().eq_ignore_ascii_case(shop.as_str().trim()) => {
                Err(format!(
                    "the `{}` event names the shop `{s}`, not `{shop}`",
                    self.kind()
                ))
            }
            Some(_) => Ok(()),
            None => {
                self.default_shop(shop);
                Ok(())
            }
        }
    }

    /// The time the platform says this state is from (`updated_at`), when it says.
    /// Used so that an older event never overwrites a newer state.
    pub fn state_time(&self) -> Option<DateTime<Utc>> {
        match self {
            PlatformEvent::OrderCreated { order }
            | PlatformEvent::OrderPaid { order }
            | PlatformEvent::OrderUpdated { order }
            | PlatformEvent::OrderCancelled { order } => order.updated_at,
            PlatformEvent::ShipmentCreated { shipment }
            | PlatformEvent::ShipmentUpdated { shipment } => shipment.updated_at,
            PlatformEvent::CustomerUpdated { customer } => customer.updated_at,
            PlatformEvent::TrackingUpdated { update } => Some(update.happened_at),
            _ => None,
        }
    }
}
