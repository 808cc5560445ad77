//! The names an integration uses most, in one import: `use aftercare::prelude::*;`.
//!
//! The traits a stack is made of (a platform's sources, a channel, the store), the model's
//! everyday types, the error, and [`async_trait`](macro@crate::async_trait) for implementing the traits (the attribute, re-exported). Types of
//! other crates that appear in the sdk's public signatures are re-exported at the crate
//! root ([`crate::chrono`], [`crate::chrono_tz`], [`crate::futures`], and with the `axum`
//! feature `aftercare::axum`), so an integration can use the very versions the sdk was built
//! with instead of matching them in its own manifest.

pub use crate::Error;
pub use crate::async_trait;
pub use crate::channel::MessageChannel;
pub use crate::clock::Clock;
pub use crate::inbox::EventHandler;
pub use crate::model::{
    ChannelKind, Customer, CustomerId, InboundMessage, LineItem, Money, Order, OrderId,
    OutboundMessage, PlatformEvent, Receipt, Shipment, ShipmentEvent, ShipmentId, ShipmentStatus,
    ShopId, SurveyKind,
};
pub use crate::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
pub use crate::store::{
    ConsentStore, Inbox, Ledger, Outbox, Redactor, SnapshotStore, Store, SurveyStore,
};
pub use crate::webhook::{VerifiedWebhook, WebhookRequest, WebhookSource};
pub use chrono::{DateTime, Utc};
