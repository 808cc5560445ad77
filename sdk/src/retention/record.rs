//! Feeding the retention store: orders and their delivery experience from platform events
//! ([`RetentionRecorder`] is an [`EventHandler`] for the chain), survey answers
//! ([`RetentionRecorder::record_answer`]), and a backfill of history through an
//! [`OrderSource`].

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use super::facts::{
    DIM_CARRIER, DIM_CES, DIM_CSAT, DIM_EXCEPTION, DIM_FAILED_ATTEMPT, DIM_LATENESS, DIM_NPS,
    DIM_PRODUCT, OrderFact, RetentionStore,
};
use crate::Error;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{
    Order, PlatformEvent, Shipment, ShipmentStatus, ShopId, SurveyKind, SurveyResponse,
};
use crate::platform::OrderSource;
use crate::store::InboxEntry;

/// Records orders and experiences into a [`RetentionStore`].
#[derive(Clone)]
pub struct RetentionRecorder {
    store: Arc<dyn RetentionStore>,
}

impl std::fmt::Debug for RetentionRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RetentionRecorder")
    }
}

/// The NPS group of a score: `promoter` 9-10, `passive` 7-8, `detractor` 0-6.
pub fn nps_group(score: u8) -> &'static str {
    match score {
        9.. => "promoter",
        7..=8 => "passive",
        _ => "detractor",
    }
}

/// The (dimension, value) an answer gives its order's experience.
pub fn answer_dim(kind: SurveyKind, score: u8) -> (&'static str, &'static str) {
    match kind {
        SurveyKind::Nps => (DIM_NPS, nps_group(score)),
        SurveyKind::Csat => (
            DIM_CSAT,
            match score {
                4.. => "satisfied",
                3 => "neutral",
                _ => "unsatisfied",
            },
        ),
        SurveyKind::Ces => (
            DIM_CES,
            match score {
                5.. => "easy",
                4 => "neutral",
                _ => "hard",
            },
        ),
    }
}

/// The experience a shipment's state gives its order: carrier, exception and failed
/// attempt when seen (in the status or the history), lateness once delivered.
pub fn shipment_dims(s: &Shipment) -> BTreeMap<String, String> {
    let mut d = BTreeMap::new();
    if let Some(c) = s.carrier.as_ref().filter(|c| !c.trim().is_empty()) {
        d.insert(DIM_CARRIER.to_owned(), c.clone());
    }
    let seen = |st: &ShipmentStatus| s.status == *st || s.events.iter().any(|e| e.status == *st);
    if seen(&ShipmentStatus::Exception) {
        d.insert(DIM_EXCEPTION.to_owned(), "yes".to_owned());
    }
    if seen(&ShipmentStatus::AttemptedDelivery) {
        d.insert(DIM_FAILED_ATTEMPT.to_owned(), "yes".to_owned());
    }
    if s.status == ShipmentStatus::Delivered {
        let delivered = s
            .events
            .iter()
            .filter(|e| e.status == ShipmentStatus::Delivered)
            .map(|e| e.happened_at)
            .min()
            .or(s.updated_at);
        if s.estimated_delivery.is_some() && delivered.is_some() {
            d.insert(
                DIM_LATENESS.to_owned(),
                crate::report::lateness_bucket(s.estimated_delivery, delivered).to_owned(),
            );
        }
    }
    d
}

impl RetentionRecorder {
    /// A recorder writing to `store`.
    pub fn new(store: Arc<dyn RetentionStore>) -> Self {
        Self { store }
    }

    /// Records an order (not cancelled, with a customer and a creation time; others are
    /// left out) and its first product. `true` when new.
    pub async fn record_order(&self, order: &Order) -> Result<bool, Error> {
        let (Some(customer), Some(at)) = (&order.customer_id, order.created_at) else {
            return Ok(false);
        };
        if order.cancelled {
            return Ok(false);
        }
        let fact = OrderFact::new(order.shop.clone(), order.id.clone(), customer.clone(), at);
        if let Some(item) = order.line_items.first() {
            let dims = BTreeMap::from([(DIM_PRODUCT.to_owned(), item.title.clone())]);
            self.store
                .set_experience(order.shop.as_ref(), &order.id, &dims)
                .await?;
        }
        self.store.record_order(&fact).await
    }

    /// Records a shipment's experience on its order.
    pub async fn record_shipment(&self, s: &Shipment) -> Result<(), Error> {
        let dims = shipment_dims(s);
        if dims.is_empty() {
            return Ok(());
        }
        self.store
            .set_experience(s.shop.as_ref(), &s.order_id, &dims)
            .await
    }

    /// Records a survey answer on its order (NPS group, CSAT or CES bucket).
    pub async fn record_answer(
        &self,
        shop: Option<&ShopId>,
        r: &SurveyResponse,
    ) -> Result<(), Error> {
        let (d, v) = answer_dim(r.kind, r.score);
        let dims = BTreeMap::from([(d.to_owned(), v.to_owned())]);
        self.store.set_experience(shop, &r.order_id, &dims).await
    }

    /// Backfills history: every order the source has updated since `since`, with its
    /// shipments. Idempotent (orders already recorded count once). Returns how many orders
    /// were new.
    pub async fn backfill(
        &self,
        source: &dyn OrderSource,
        since: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let mut new = 0;
        let mut orders = source.updated_since(since);
        while let Some(order) = orders.next().await {
            let order = order?;
            new += u64::from(self.record_order(&order).await?);
            for s in source.shipments(&order.id).await? {
                self.record_shipment(&s).await?;
            }
        }
        tracing::info!(new, "retention backfill done");
        Ok(new)
    }
}

#[async_trait]
impl EventHandler for RetentionRecorder {
    async fn handle(
        &self,
        _entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        for e in events {
            match e {
                PlatformEvent::OrderCreated { order }
                | PlatformEvent::OrderPaid { order }
                | PlatformEvent::OrderUpdated { order } => {
                    self.record_order(&order).await?;
                }
                PlatformEvent::ShipmentCreated { shipment }
                | PlatformEvent::ShipmentUpdated { shipment } => {
                    self.record_shipment(&shipment).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
