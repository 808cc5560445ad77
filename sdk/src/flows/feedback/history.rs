//! Customers' order history kept for the reports' repeat-purchase comparison.

use chrono::{DateTime, Utc};

use crate::Error;
use crate::model::{Order, Shipment};
use crate::store::SnapshotStore;

/// The snapshot kind listing a customer's orders with their creation times, for the
/// repeat-purchase comparison of reports.
pub const CUSTOMER_ORDERS_SNAPSHOT: &str = "customer-orders";

/// Remembers that a customer placed an order (ids and times only, no personal data).
pub async fn remember_order(
    snapshots: &dyn SnapshotStore,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(customer) = &order.customer_id else {
        return Ok(());
    };
    let mut list: Vec<(String, DateTime<Utc>)> = match snapshots
        .snapshot(CUSTOMER_ORDERS_SNAPSHOT, customer.as_str())
        .await?
    {
        Some(s) => serde_json::from_value(s.data).unwrap_or_default(),
        None => Vec::new(),
    };
    if list.iter().any(|(id, _)| *id == order.id.0) {
        return Ok(());
    }
    list.push((order.id.0.clone(), order.created_at.unwrap_or(now)));
    snapshots
        .put_if_newer_owned(crate::store::Snapshot {
            kind: CUSTOMER_ORDERS_SNAPSHOT.into(),
            shop: order.shop.clone(),
            id: customer.0.clone(),
            version: now,
            data: serde_json::to_value(list).map_err(|e| Error::decode("customer orders", e))?,
        })
        .await?;
    Ok(())
}

/// Keeps the list of an order's shipments so surveys can look at their state.
pub async fn remember_shipment(
    snapshots: &dyn SnapshotStore,
    shipment: &Shipment,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut ids: Vec<String> = match snapshots
        .snapshot("order-shipments", shipment.order_id.as_str())
        .await?
    {
        Some(s) => serde_json::from_value(s.data).unwrap_or_default(),
        None => Vec::new(),
    };
    if ids.contains(&shipment.id.0) {
        return Ok(());
    }
    ids.push(shipment.id.0.clone());
    snapshots
        .put_if_newer_owned(crate::store::Snapshot {
            kind: "order-shipments".into(),
            shop: shipment.shop.clone(),
            id: shipment.order_id.0.clone(),
            version: now,
            data: serde_json::to_value(ids).map_err(|e| Error::decode("shipment ids", e))?,
        })
        .await?;
    Ok(())
}
