//! [`RetentionStore`] on PostgreSQL: three tables (schema step 5), each order recorded in
//! one transaction that holds an advisory lock on its shop and customer, places the order
//! between the customer's neighbours (index `retention_orders_customer`), moves the
//! interval histogram and rewrites the customer's row — a handful of indexed look-ups per
//! order, never a scan. A report is counted in aggregate queries over the customer rows
//! ([`RetentionStore::fold_report`]), as on SQLite.

use std::collections::BTreeMap;

use aftercare::Error;
use aftercare::model::{OrderId, ShopId};
use aftercare::retention::facts::{
    CustomerFacts, OrderFact, RetentionStore, interval_changes, interval_days,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row as _;

use crate::PostgresStore;

fn db(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| Error::storage(op, e)
}

fn shop_key(shop: Option<&ShopId>) -> &str {
    shop.map_or("", ShopId::as_str)
}

fn dims(v: serde_json::Value) -> Result<BTreeMap<String, String>, Error> {
    serde_json::from_value(v).map_err(|e| Error::decode("stored retention experience", e))
}

async fn bump(
    tx: &mut sqlx::PgConnection,
    shop: &str,
    days: i64,
    delta: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO retention_intervals (shop, days, count) VALUES ($1, $2, $3)
         ON CONFLICT (shop, days) DO UPDATE SET count = retention_intervals.count + $3",
    )
    .bind(shop)
    .bind(days)
    .bind(delta)
    .execute(&mut *tx)
    .await?;
    if delta < 0 {
        sqlx::query("DELETE FROM retention_intervals WHERE shop = $1 AND days = $2 AND count <= 0")
            .bind(shop)
            .bind(days)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl RetentionStore for PostgresStore {
    async fn record_order(&self, o: &OrderFact) -> Result<bool, Error> {
        let err = db("record an order for retention");
        let shop = shop_key(o.shop.as_ref());
        let customer = o.customer_id.as_str();
        let mut tx = self.pool.begin().await.map_err(&err)?;
        // One customer's orders are placed one at a time.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(length($1)::text || ':' || $1 || $2, 18))")
            .bind(shop)
            .bind(customer)
            .execute(&mut *tx)
            .await
            .map_err(&err)?;
        let new = sqlx::query(
            "INSERT INTO retention_orders (shop, order_id, customer_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (shop, order_id) DO UPDATE
                SET customer_id = excluded.customer_id, created_at = excluded.created_at
                WHERE retention_orders.customer_id IS NULL",
        )
        .bind(shop)
        .bind(o.order_id.as_str())
        .bind(customer)
        .bind(o.created_at)
        .execute(&mut *tx)
        .await
        .map_err(&err)?
        .rows_affected()
            == 1;
        if !new {
            tx.rollback().await.map_err(&err)?;
            return Ok(false);
        }
        let neighbour = |sql: &'static str| {
            sqlx::query_scalar::<_, DateTime<Utc>>(sql)
                .bind(shop)
                .bind(customer)
                .bind(o.created_at)
                .bind(o.order_id.as_str())
        };
        let prev = neighbour(
            "SELECT created_at FROM retention_orders
             WHERE shop = $1 AND customer_id = $2 AND (created_at, order_id) < ($3, $4 COLLATE \"C\")
             ORDER BY created_at DESC, order_id COLLATE \"C\" DESC LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(&err)?;
        let next = neighbour(
            "SELECT created_at FROM retention_orders
             WHERE shop = $1 AND customer_id = $2 AND (created_at, order_id) > ($3, $4 COLLATE \"C\")
             ORDER BY created_at, order_id COLLATE \"C\" LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(&err)?;
        for (days, delta) in interval_changes(prev, o.created_at, next) {
            bump(&mut tx, shop, days, delta).await.map_err(&err)?;
        }
        let firsts = sqlx::query(
            "SELECT order_id, created_at FROM retention_orders
             WHERE shop = $1 AND customer_id = $2
             ORDER BY created_at, order_id COLLATE \"C\" LIMIT 2",
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
        let first_at: DateTime<Utc> = first.try_get("created_at").map_err(&err)?;
        let second_at: Option<DateTime<Utc>> = match firsts.get(1) {
            Some(r) => Some(r.try_get("created_at").map_err(&err)?),
            None => None,
        };
        sqlx::query(
            "INSERT INTO retention_customers
                (shop, customer_id, first_order_id, first_order_at, second_order_at, last_order_at, orders)
             VALUES ($1, $2, $3, $4, $5, $6, 1)
             ON CONFLICT (shop, customer_id) DO UPDATE SET
                first_order_id = excluded.first_order_id,
                first_order_at = excluded.first_order_at,
                second_order_at = excluded.second_order_at,
                last_order_at = greatest(retention_customers.last_order_at, excluded.last_order_at),
                orders = retention_customers.orders + 1",
        )
        .bind(shop)
        .bind(customer)
        .bind(first_id)
        .bind(first_at)
        .bind(second_at)
        .bind(o.created_at)
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
        let json = serde_json::to_value(d).map_err(|e| Error::decode("experience", e))?;
        sqlx::query(
            "INSERT INTO retention_orders (shop, order_id, experience) VALUES ($1, $2, $3)
             ON CONFLICT (shop, order_id) DO UPDATE
                SET experience = retention_orders.experience || excluded.experience",
        )
        .bind(shop_key(shop))
        .bind(order.as_str())
        .bind(json)
        .execute(&self.pool)
        .await
        .map_err(db("record an order's experience"))?;
        Ok(())
    }

    async fn experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
    ) -> Result<BTreeMap<String, String>, Error> {
        let v: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT experience FROM retention_orders WHERE shop = $1 AND order_id = $2",
        )
        .bind(shop_key(shop))
        .bind(order.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("read an order's experience"))?;
        v.map_or(Ok(BTreeMap::new()), dims)
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
        // Streamed: one row at a time reaches `f`, so a report never holds every customer.
        let mut rows = sqlx::query(
            "SELECT c.customer_id, c.first_order_id, c.first_order_at, c.second_order_at,
                    c.last_order_at, c.orders, o.experience
             FROM retention_customers c
             LEFT JOIN retention_orders o ON o.shop = c.shop AND o.order_id = c.first_order_id
             WHERE c.shop = $1 ORDER BY c.customer_id COLLATE \"C\"",
        )
        .bind(shop_key(shop))
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await.map_err(&err)? {
            let customer: String = r.try_get("customer_id").map_err(&err)?;
            let first: String = r.try_get("first_order_id").map_err(&err)?;
            let orders: i64 = r.try_get("orders").map_err(&err)?;
            let mut c = CustomerFacts::new(
                customer,
                first,
                r.try_get("first_order_at").map_err(&err)?,
                r.try_get("last_order_at").map_err(&err)?,
                u64::try_from(orders).unwrap_or(0),
            );
            c.second_order_at = r.try_get("second_order_at").map_err(&err)?;
            let exp: Option<serde_json::Value> = r.try_get("experience").map_err(&err)?;
            c.first_experience = exp.map_or(Ok(BTreeMap::new()), dims)?;
            f(c);
        }
        Ok(())
    }

    /// Counted in three aggregate queries, as on SQLite: the customer rows grouped by their
    /// first order's experience (customers, repeaters, the repeat window, churn), the whole
    /// hours to a second order, and the cohorts by the UTC month of the first order with
    /// the month of the second within each — a report reads grouped rows, never the
    /// customers one by one. The arithmetic is the fold's: the window and the churn
    /// threshold as exact seconds (`make_interval(secs => ..)`, never a calendar day that a
    /// session time zone could stretch), whole seconds truncated toward zero as chrono's
    /// `num_seconds`, days as `seconds / 86400.0` in double precision, and a calendar month
    /// added to the UTC timestamp the way chrono adds it (the day clamped to the month's
    /// last, the time of day kept).
    async fn fold_report(
        &self,
        shop: Option<&ShopId>,
        fold: &mut aftercare::retention::ReportFold,
    ) -> Result<(), Error> {
        let err = db("count the retention report");
        let shop = shop_key(shop);
        let as_of = fold.as_of();
        let window_secs = fold.settings().repeat_window_days.saturating_mul(86_400) as f64;
        let cut = as_of - chrono::Duration::days(fold.settings().repeat_window_days);
        let threshold = fold.churn_threshold_days();
        let rows = sqlx::query(
            "SELECT o.experience AS experience, count(*) AS customers,
                    count(*) FILTER (WHERE c.orders >= 2) AS repeaters,
                    count(*) FILTER (WHERE c.first_order_at <= $2) AS eligible,
                    count(*) FILTER (WHERE c.first_order_at <= $2
                        AND c.second_order_at IS NOT NULL
                        AND c.second_order_at <= c.first_order_at + make_interval(secs => $3))
                        AS again,
                    count(*) FILTER (WHERE $5::float8 IS NOT NULL
                        AND trunc(extract(epoch FROM ($4 - c.first_order_at)))::float8
                            / 86400.0::float8 > $5::float8) AS churn_eligible,
                    count(*) FILTER (WHERE $5::float8 IS NOT NULL
                        AND trunc(extract(epoch FROM ($4 - c.first_order_at)))::float8
                            / 86400.0::float8 > $5::float8
                        AND trunc(extract(epoch FROM ($4 - c.last_order_at)))::float8
                            / 86400.0::float8 > $5::float8) AS churned
             FROM retention_customers c
             LEFT JOIN retention_orders o ON o.shop = c.shop AND o.order_id = c.first_order_id
             WHERE c.shop = $1 GROUP BY o.experience",
        )
        .bind(shop)
        .bind(cut)
        .bind(window_secs)
        .bind(as_of)
        .bind(threshold)
        .fetch_all(&self.pool)
        .await
        .map_err(&err)?;
        let count = |r: &sqlx::postgres::PgRow, col: &str| -> Result<u64, Error> {
            let n: i64 = r.try_get(col).map_err(&err)?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        for r in &rows {
            let exp: Option<serde_json::Value> = r.try_get("experience").map_err(&err)?;
            let exp = exp.map_or(Ok(BTreeMap::new()), dims)?;
            fold.add_customers(count(r, "customers")?, count(r, "repeaters")?);
            fold.add_repeat(&exp, count(r, "eligible")?, count(r, "again")?);
            fold.add_churn(count(r, "churn_eligible")?, count(r, "churned")?);
        }
        let hours: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT floor(trunc(extract(epoch FROM (second_order_at - first_order_at))) / 3600)::bigint
                        AS h, count(*)
             FROM retention_customers WHERE shop = $1 AND second_order_at IS NOT NULL GROUP BY h",
        )
        .bind(shop)
        .fetch_all(&self.pool)
        .await
        .map_err(&err)?;
        for (h, n) in hours {
            fold.add_hours_to_second(h, u64::try_from(n).unwrap_or(0));
        }
        // Cohorts by the UTC month of the first order; md is the months between the two
        // orders' months, and f + md months (in the second order's month) decides whether
        // the first k with second <= first + k months is md or md + 1 (at least 1).
        let cohorts: Vec<(i32, i32, Option<i32>, i64, DateTime<Utc>)> = sqlx::query_as(
            "WITH p AS (
                SELECT first_order_at AS fz,
                       first_order_at AT TIME ZONE 'UTC' AS f,
                       second_order_at AT TIME ZONE 'UTC' AS s
                FROM retention_customers WHERE shop = $1
             ), q AS (
                SELECT fz, extract(year FROM f)::int AS y, extract(month FROM f)::int AS m,
                       (extract(year FROM s)::int * 12 + extract(month FROM s)::int)
                         - (extract(year FROM f)::int * 12 + extract(month FROM f)::int) AS md,
                       f, s
                FROM p
             ), r AS (
                SELECT fz, y, m,
                       CASE WHEN s IS NULL THEN NULL
                            WHEN s <= f + make_interval(months => md) THEN greatest(1, md)
                            ELSE greatest(1, md + 1) END AS k
                FROM q
             )
             SELECT y, m, k, count(*), max(fz) FROM r GROUP BY y, m, k",
        )
        .bind(shop)
        .fetch_all(&self.pool)
        .await
        .map_err(&err)?;
        for (y, m, k, n, latest) in cohorts {
            let n = u64::try_from(n).unwrap_or(0);
            let m = u32::try_from(m).unwrap_or(0);
            fold.add_cohort(y, m, n, latest);
            if let Some(k) = k {
                fold.add_cohort_second(y, m, u32::try_from(k).unwrap_or(u32::MAX), n);
            }
        }
        Ok(())
    }

    async fn interval_histogram(&self, shop: Option<&ShopId>) -> Result<BTreeMap<i64, u64>, Error> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT days, count FROM retention_intervals WHERE shop = $1 AND count > 0",
        )
        .bind(shop_key(shop))
        .fetch_all(&self.pool)
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
    tx: &mut sqlx::PgConnection,
    shop: Option<&str>,
    customer: Option<&str>,
) -> Result<(), sqlx::Error> {
    if let Some(customer) = customer {
        // The erased customer's intervals leave the histogram too: once they are gone, the
        // histogram is what a recomputation over the remaining orders gives.
        let orders: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT shop, created_at FROM retention_orders
             WHERE customer_id = $1 AND ($2::text IS NULL OR shop = $2) AND created_at IS NOT NULL
             ORDER BY shop, created_at, order_id",
        )
        .bind(customer)
        .bind(shop)
        .fetch_all(&mut *tx)
        .await?;
        let mut prev: Option<(String, DateTime<Utc>)> = None;
        for (s, at) in orders {
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
            Some(_) => format!(
                "DELETE FROM {table} WHERE customer_id = $1 AND ($2::text IS NULL OR shop = $2)"
            ),
            None => format!("DELETE FROM {table} WHERE shop = $2 AND $1::text IS NULL"),
        };
        sqlx::query(&sql)
            .bind(customer)
            .bind(shop)
            .execute(&mut *tx)
            .await?;
    }
    if customer.is_none() {
        sqlx::query("DELETE FROM retention_intervals WHERE shop = $1")
            .bind(shop)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}
