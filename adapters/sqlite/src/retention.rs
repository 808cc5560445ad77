//! [`RetentionStore`] on SQLite: three tables (schema step 8), each order recorded in one
//! transaction that places it between its customer's neighbours (index
//! `retention_orders_customer`), moves the interval histogram and rewrites the customer's
//! row — a handful of indexed look-ups per order, never a scan. A report reads one row per
//! customer and the histogram.

use std::collections::BTreeMap;

use aftercare::Error;
use aftercare::model::{OrderId, ShopId};
use aftercare::retention::facts::{
    CustomerFacts, OrderFact, RetentionStore, interval_changes, interval_days,
};
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

/// One `retention_customers` row (joined with its first order's experience).
fn customer_row(r: &sqlx::sqlite::SqliteRow) -> Result<CustomerFacts, Error> {
    let err = db("read retention customers");
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
        aftercare::retention::facts::collect_customers(self, shop).await
    }

    async fn for_each_customer(
        &self,
        shop: Option<&ShopId>,
        f: &mut (dyn FnMut(CustomerFacts) + Send),
    ) -> Result<(), Error> {
        use aftercare::futures::TryStreamExt as _;
        let err = db("read retention customers");
        // Streamed: one row at a time reaches `f`, so a report over 200,000 customers
        // never holds them all.
        let mut rows = sqlx::query(
            "SELECT c.customer_id, c.first_order_id, c.first_order_at, c.second_order_at,
                    c.last_order_at, c.orders, o.experience
             FROM retention_customers c
             LEFT JOIN retention_orders o ON o.shop = c.shop AND o.order_id = c.first_order_id
             WHERE c.shop = ? ORDER BY c.customer_id",
        )
        .bind(shop_key(shop))
        .fetch(self.pool());
        while let Some(r) = rows.try_next().await.map_err(&err)? {
            f(customer_row(&r)?);
        }
        Ok(())
    }

    /// The report counted in SQL: three aggregate queries over the shop's customer rows
    /// (totals, repeat and churn per first-order experience; hours to the second order;
    /// cohorts with the month of the second order within each), so a report over
    /// 200,000 customers reads a few hundred grouped rows, never the customers. The
    /// arithmetic is the fold's: times in µs, days as `num_seconds / 86400.0`, a calendar
    /// month added the way chrono adds it (the day clamped to the month's last).
    async fn fold_report(
        &self,
        shop: Option<&ShopId>,
        fold: &mut aftercare::retention::ReportFold,
    ) -> Result<(), Error> {
        let err = db("count the retention report");
        let shop = shop_key(shop);
        let as_of = fold.as_of().timestamp_micros();
        let window = fold
            .settings()
            .repeat_window_days
            .saturating_mul(86_400_000_000);
        let threshold = fold.churn_threshold_days();
        let rows = sqlx::query(
            "SELECT o.experience AS experience, count(*) AS customers,
                    sum(c.orders >= 2) AS repeaters,
                    sum(c.first_order_at + ?2 <= ?3) AS eligible,
                    sum(c.first_order_at + ?2 <= ?3 AND c.second_order_at IS NOT NULL
                        AND c.second_order_at <= c.first_order_at + ?2) AS again,
                    sum(?4 IS NOT NULL AND ((?3 - c.first_order_at) / 1000000) / 86400.0 > ?4)
                        AS churn_eligible,
                    sum(?4 IS NOT NULL AND ((?3 - c.first_order_at) / 1000000) / 86400.0 > ?4
                        AND ((?3 - c.last_order_at) / 1000000) / 86400.0 > ?4) AS churned
             FROM retention_customers c
             LEFT JOIN retention_orders o ON o.shop = c.shop AND o.order_id = c.first_order_id
             WHERE c.shop = ?1 GROUP BY o.experience",
        )
        .bind(shop)
        .bind(window)
        .bind(as_of)
        .bind(threshold)
        .fetch_all(self.pool())
        .await
        .map_err(&err)?;
        let count = |r: &sqlx::sqlite::SqliteRow, col: &str| -> Result<u64, Error> {
            let n: Option<i64> = r.try_get(col).map_err(&err)?;
            Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
        };
        for r in &rows {
            let exp: Option<String> = r.try_get("experience").map_err(&err)?;
            let exp = exp.as_deref().map_or(Ok(BTreeMap::new()), dims)?;
            fold.add_customers(count(r, "customers")?, count(r, "repeaters")?);
            fold.add_repeat(&exp, count(r, "eligible")?, count(r, "again")?);
            fold.add_churn(count(r, "churn_eligible")?, count(r, "churned")?);
        }
        let hours: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT (second_order_at - first_order_at) / 3600000000 AS h, count(*)
             FROM retention_customers WHERE shop = ? AND second_order_at IS NOT NULL GROUP BY h",
        )
        .bind(shop)
        .fetch_all(self.pool())
        .await
        .map_err(&err)?;
        for (h, n) in hours {
            fold.add_hours_to_second(h, u64::try_from(n).unwrap_or(0));
        }
        // Cohorts by the UTC month of the first order, each customer with the first k for
        // which second ≤ first + k months: with md the months between the two orders'
        // months, first + md months falls in the second order's month, on the first
        // order's day clamped to that month's last day (only a day past 28 can need it),
        // at its time of day; k is md when the second order is not after that instant,
        // md + 1 otherwise, and at least 1. One pass, two date conversions per customer.
        let cohorts: Vec<(i64, i64, Option<i64>, i64, i64)> = sqlx::query_as(
            "WITH p AS (
                SELECT first_order_at AS f, second_order_at AS s,
                       CAST(strftime('%Y%m%d', first_order_at / 1000000, 'unixepoch') AS INTEGER) AS fd,
                       CAST(strftime('%Y%m%d', second_order_at / 1000000, 'unixepoch') AS INTEGER) AS sd
                FROM retention_customers WHERE shop = ?
             ), q AS (
                SELECT f, fd / 10000 AS y, fd / 100 % 100 AS m,
                       CASE WHEN s IS NULL THEN NULL ELSE
                         (sd / 10000 * 12 + sd / 100 % 100) - (fd / 10000 * 12 + fd / 100 % 100)
                         + CASE WHEN (sd % 100, s % 86400000000) <= (
                                  CASE WHEN fd % 100 <= 28 THEN fd % 100 ELSE min(fd % 100,
                                    CAST(strftime('%d', s / 1000000, 'unixepoch', 'start of month',
                                                  '+1 month', '-1 day') AS INTEGER)) END,
                                  f % 86400000000)
                                THEN 0 ELSE 1 END
                       END AS k
                FROM p
             )
             SELECT y, m, max(1, k) AS k, count(*), max(f) FROM q GROUP BY y, m, max(1, k)",
        )
        .bind(shop)
        .fetch_all(self.pool())
        .await
        .map_err(&err)?;
        for (y, m, k, n, latest) in cohorts {
            let (y, m) = (i32::try_from(y).unwrap_or(0), u32::try_from(m).unwrap_or(0));
            let n = u64::try_from(n).unwrap_or(0);
            fold.add_cohort(y, m, n, time(latest)?);
            if let Some(k) = k {
                fold.add_cohort_second(y, m, u32::try_from(k).unwrap_or(u32::MAX), n);
            }
        }
        Ok(())
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
/// shop's (`customer` `None`), inside a redaction's transaction. An erased customer's
/// intervals are taken out of the shop's histogram (it then equals a recomputation over the
/// orders left); a shop's histogram goes with the shop.
pub(crate) async fn redact(
    tx: &mut sqlx::SqliteConnection,
    shop: Option<&str>,
    customer: Option<&str>,
) -> Result<(), sqlx::Error> {
    if let Some(customer) = customer {
        // The erased customer's intervals leave the histogram too: once they are gone, the
        // histogram is what a recomputation over the remaining orders gives.
        let orders: Vec<(String, i64)> = sqlx::query_as(
            "SELECT shop, created_at FROM retention_orders
             WHERE customer_id = ?1 AND (?2 IS NULL OR shop = ?2) AND created_at IS NOT NULL
             ORDER BY shop, created_at, order_id",
        )
        .bind(customer)
        .bind(shop)
        .fetch_all(&mut *tx)
        .await?;
        let mut prev: Option<(String, DateTime<Utc>)> = None;
        for (s, at) in orders {
            let at = DateTime::from_timestamp_micros(at)
                .ok_or_else(|| sqlx::Error::Decode(format!("{at} µs is out of range").into()))?;
            if let Some((ps, p)) = &prev
                && *ps == s
            {
                bump(&mut *tx, &s, interval_days(*p, at), -1).await?;
            }
            prev = Some((s, at));
        }
    }
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
