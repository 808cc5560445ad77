//! [`RetentionStore`] on SQLite: three tables (schema step 8), each order recorded in one
//! transaction that places it between its customer's neighbours (index
//! `retention_orders_customer`), moves the interval histogram and rewrites the customer's
//! row — a handful of indexed look-ups per order, never a scan. A report reads one row per
//! customer and the histogram.

use std::collections::BTreeMap;

use aftercare::Error;
use aftercare::model::{OrderId, ShopId};
use aftercare::retention::facts::{CustomerFacts, OrderFact, RetentionStore, interval_changes};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row as _;

use crate::SqliteStore;

fn db(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| Error::storage(op, e)
}

fn time(us: i64) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::decode("stored time", format!("{us} µs is out of range")))
}

fn shop_key(shop: Option<&ShopId>) -> &str {
    shop.map_or("", ShopId::as_str)
}

fn dims(json: &str) -> Result<BTreeMap<String, String>, Error> {
    serde_json::from_str(json).map_err(|e| Error::decode("stored retention experience", e))
}

async fn bump(
    tx: &mut sqlx::SqliteConnection,
    shop: &str,
    days: i64,
    delta: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO retention_intervals (shop, days, count) VALUES (?1, ?2, ?3)
         ON CONFLICT (shop, days) DO UPDATE SET count = count + ?3",
    )
    .bind(shop)
    .bind(days)
    .bind(delta)
    .execute(&mut *tx)
    .await?;
    if delta < 0 {
        sqlx::query("DELETE FROM retention_intervals WHERE shop = ? AND days = ? AND count <= 0")
            .bind(shop)
            .bind(days)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn record_order(&self, o: &OrderFact) -> Result<bool, Error> {
        let err = db("record an order for retention");
        let shop = shop_key(o.shop.as_ref());
        let customer = o.customer_id.as_str();
        let at = o.created_at.timestamp_micros();
        let _w = self.writing().await;
        let mut tx = self.pool().begin().await.map_err(&err)?;
        // The write first (see the crate docs): a known order changes nothing.
        let new = sqlx::query(
            "INSERT INTO retention_orders (shop, order_id, customer_id, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (shop, order_id) DO UPDATE
                SET customer_id = excluded.customer_id, created_at = excluded.created_at
                WHERE retention_orders.customer_id IS NULL",
        )
        .bind(shop)
        .bind(o.order_id.as_str())
        .bind(customer)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(&err)?
        .rows_affected()
            == 1;
        if !new {
            return Ok(false);
        }
        let neighbour = |sql: &'static str| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(shop)
                .bind(customer)
                .bind(at)
                .bind(o.order_id.as_str())
        };
        let prev = neighbour(
            "SELECT created_at FROM retention_orders
             WHERE shop = ?1 AND customer_id = ?2 AND (created_at, order_id) < (?3, ?4)
             ORDER BY created_at DESC, order_id DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(&err)?;
        let next = neighbour(
            "SELECT created_at FROM retention_orders
             WHERE shop = ?1 AND customer_id = ?2 AND (created_at, order_id) > (?3, ?4)
             ORDER BY created_at, order_id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(&err)?;
        let (prev, next) = (prev.map(time).transpose()?, next.map(time).transpose()?);
        for (days, delta) in interval_changes(prev, o.created_at, next) {
            bump(&mut tx, shop, days, delta).await.map_err(&err)?;
        }
        // The customer's row from the index: first two orders, latest, count.
        let firsts = sqlx::query(
            "SELECT order_id, created_at FROM retention_orders
             WHERE shop = ?1 AND customer_id = ?2 ORDER BY created_at, order_id LIMIT 2",
        )
        .bind(shop)
        .bind(customer)
        .fetch_all(&mut *tx)
        .await
        .map_err(&err)?;
        let first = firsts
            .first()
            .ok_or_else(|| Error::decode("retention orders", "the order just stored is missing"))?;
        let first_id: String = first.try_get("order_id").map_err(&err)?;
        let first_at: i64 = first.try_get("created_at").map_err(&err)?;
        let second_at: Option<i64> = match firsts.get(1) {
            Some(r) => Some(r.try_get("created_at").map_err(&err)?),
            None => None,
        };
        sqlx::query(
            "INSERT INTO retention_customers
                (shop, customer_id, first_order_id, first_order_at, second_order_at, last_order_at, orders)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
             ON CONFLICT (shop, customer_id) DO UPDATE SET
                first_order_id = excluded.first_order_id,
                first_order_at = excluded.first_order_at,
                second_order_at = excluded.second_order_at,
                last_order_at = max(last_order_at, excluded.last_order_at),
                orders = orders + 1",
        )
        .bind(shop)
        .bind(customer)
        .bind(first_id)
        .bind(first_at)
        .bind(second_at)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        tx.commit().await.map_err(&err)?;
        Ok(true)
    }

    async fn set_experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
        d: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let err = db("record an order's experience");
        let json = serde_json::to_string(d).map_err(|e| Error::decode("experience", e))?;
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO retention_orders (shop, order_id, experience) VALUES (?1, ?2, ?3)
             ON CONFLICT (shop, order_id) DO UPDATE
                SET experience = json_patch(retention_orders.experience, excluded.experience)",
        )
        .bind(shop_key(shop))
        .bind(order.as_str())
        .bind(json)
        .execute(self.pool())
        .await
        .map_err(&err)?;
        Ok(())
    }

    async fn experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
    ) -> Result<BTreeMap<String, String>, Error> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT experience FROM retention_orders WHERE shop = ? AND order_id = ?",
        )
        .bind(shop_key(shop))
        .bind(order.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(db("read an order's experience"))?;
        json.as_deref().map_or(Ok(BTreeMap::new()), dims)
    }

    async fn retention_customers(
        &self,
        shop: Option<&ShopId>,
    ) -> Result<Vec<CustomerFacts>, Error> {
        let err = db("read retention customers");
        let rows = sqlx::query(
            "SELECT c.customer_id, c.first_order_id, c.first_order_at, c.second_order_at,
                    c.last_order_at, c.orders, o.experience
             FROM retention_customers c
             LEFT JOIN retention_orders o ON o.shop = c.shop AND o.order_id = c.first_order_id
             WHERE c.shop = ? ORDER BY c.customer_id",
        )
        .bind(shop_key(shop))
        .fetch_all(self.pool())
        .await
        .map_err(&err)?;
        rows.iter()
            .map(|r| {
                let customer: String = r.try_get("customer_id").map_err(&err)?;
                let first: String = r.try_get("first_order_id").map_err(&err)?;
                let exp: Option<String> = r.try_get("experience").map_err(&err)?;
                let orders: i64 = r.try_get("orders").map_err(&err)?;
                let mut c = CustomerFacts::new(
                    customer,
                    first,
                    time(r.try_get("first_order_at").map_err(&err)?)?,
                    time(r.try_get("last_order_at").map_err(&err)?)?,
                    u64::try_from(orders).unwrap_or(0),
                );
                c.second_order_at = r
                    .try_get::<Option<i64>, _>("second_order_at")
                    .map_err(&err)?
                    .map(time)
                    .transpose()?;
                c.first_experience = exp.as_deref().map_or(Ok(BTreeMap::new()), dims)?;
                Ok(c)
            })
            .collect()
    }

    async fn interval_histogram(&self, shop: Option<&ShopId>) -> Result<BTreeMap<i64, u64>, Error> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT days, count FROM retention_intervals WHERE shop = ? AND count > 0",
        )
        .bind(shop_key(shop))
        .fetch_all(self.pool())
        .await
        .map_err(db("read the interval histogram"))?;
        Ok(rows
            .into_iter()
            .map(|(d, n)| (d, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}

/// Erases a customer's retention rows (their orders and their customer row), or a whole
/// shop's (`customer` `None`), inside a redaction's transaction. The interval histogram
/// holds no person (counts of days) and stays.
pub(crate) async fn redact(
    tx: &mut sqlx::SqliteConnection,
    shop: Option<&str>,
    customer: Option<&str>,
) -> Result<(), sqlx::Error> {
    for table in ["retention_orders", "retention_customers"] {
        let sql = match customer {
            Some(_) => {
                format!("DELETE FROM {table} WHERE customer_id = ?1 AND (?2 IS NULL OR shop = ?2)")
            }
            None => format!("DELETE FROM {table} WHERE shop = ?2 AND ?1 IS NULL"),
        };
        sqlx::query(&sql)
            .bind(customer)
            .bind(shop)
            .execute(&mut *tx)
            .await?;
    }
    if customer.is_none() {
        sqlx::query("DELETE FROM retention_intervals WHERE shop = ?")
            .bind(shop)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
