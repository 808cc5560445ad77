//! Retention facts, kept incrementally: per customer, the first, second and last order and
//! how many; per shop, the histogram of inter-purchase intervals in whole days; per order,
//! the experience of its delivery (lateness, carrier, exception...) and of its survey.
//!
//! An order arriving late (webhooks come out of order, a backfill brings old orders) is
//! placed between its customer's neighbours: the interval `next − prev` leaves the
//! histogram and `new − prev` and `next − new` enter it. So the stored figures are always
//! those a recomputation over every order would give ([`recompute`]); the conformance suite
//! and a property test check exactly that. Orders are ordered by `(created_at, order id)`,
//! so equal times are ordered too.
//!
//! [`RetentionStore`] is what a backend implements; [`MemoryRetention`] is the same
//! algorithm in memory, the reference the stores are compared with.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::model::{CustomerId, OrderId, ShopId};

/// Dimension: the NPS group of the customer's answer about the order (`promoter`,
/// `passive`, `detractor`).
pub const DIM_NPS: &str = "nps_group";
/// Dimension: the CSAT answer (`satisfied` for 4-5, `neutral` 3, `unsatisfied` 1-2).
pub const DIM_CSAT: &str = "csat";
/// Dimension: the CES answer (`easy` 5-7, `neutral` 4, `hard` 1-3).
pub const DIM_CES: &str = "ces";
/// Dimension: delivery lateness against the estimate (see
/// [`lateness_bucket`](crate::report::lateness_bucket)).
pub const DIM_LATENESS: &str = "lateness";
/// Dimension: the carrier.
pub const DIM_CARRIER: &str = "carrier";
/// Dimension: whether the shipment had an exception (`yes`; absent is `no`).
pub const DIM_EXCEPTION: &str = "exception";
/// Dimension: whether a delivery attempt failed (`yes`; absent is `no`).
pub const DIM_FAILED_ATTEMPT: &str = "failed_attempt";
/// Dimension: the order's first product.
pub const DIM_PRODUCT: &str = "product";
/// Dimension: an early signal of a bad experience was seen (`yes`), see
/// [`flows::recovery`](crate::flows::recovery).
pub const DIM_SIGNAL: &str = "signal";
/// Dimension: a service-recovery action was taken (`yes`).
pub const DIM_RECOVERED: &str = "recovered";

/// The experience dimensions a report breaks retention down by, in display order.
pub const DIMENSIONS: [&str; 8] = [
    DIM_LATENESS,
    DIM_CARRIER,
    DIM_EXCEPTION,
    DIM_FAILED_ATTEMPT,
    DIM_NPS,
    DIM_CSAT,
    DIM_CES,
    DIM_PRODUCT,
];

/// One order, as retention sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderFact {
    /// The shop.
    pub shop: Option<ShopId>,
    /// The order.
    pub order_id: OrderId,
    /// Who placed it.
    pub customer_id: CustomerId,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
}

impl OrderFact {
    /// An order of `customer` placed at `created_at`.
    pub fn new(
        shop: Option<ShopId>,
        order_id: impl Into<OrderId>,
        customer_id: impl Into<CustomerId>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            shop,
            order_id: order_id.into(),
            customer_id: customer_id.into(),
            created_at,
        }
    }
}

/// What retention knows about one customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerFacts {
    /// The customer.
    pub customer_id: CustomerId,
    /// Their first order.
    pub first_order_id: OrderId,
    /// When they placed it.
    pub first_order_at: DateTime<Utc>,
    /// When they placed their second order, if they did.
    pub second_order_at: Option<DateTime<Utc>>,
    /// When they placed their latest order.
    pub last_order_at: DateTime<Utc>,
    /// How many orders.
    pub orders: u64,
    /// The experience of their first order (dimension → value, see [`DIMENSIONS`]).
    pub first_experience: BTreeMap<String, String>,
}

impl CustomerFacts {
    /// A customer with `orders` orders, no second order and no experience yet.
    pub fn new(
        customer_id: impl Into<CustomerId>,
        first_order_id: impl Into<OrderId>,
        first_order_at: DateTime<Utc>,
        last_order_at: DateTime<Utc>,
        orders: u64,
    ) -> Self {
        Self {
            customer_id: customer_id.into(),
            first_order_id: first_order_id.into(),
            first_order_at,
            second_order_at: None,
            last_order_at,
            orders,
            first_experience: BTreeMap::new(),
        }
    }
}

/// Every customer of a shop collected from the store's own
/// [`RetentionStore::for_each_customer`]: the `retention_customers` of a store that streams.
pub async fn collect_customers<S: RetentionStore + ?Sized>(
    store: &S,
    shop: Option<&ShopId>,
) -> Result<Vec<CustomerFacts>, Error> {
    let mut out = Vec::new();
    store.for_each_customer(shop, &mut |c| out.push(c)).await?;
    Ok(out)
}

/// Incrementally kept retention facts. Every method is idempotent: an order recorded twice
/// counts once, an experience set twice is the same experience.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Records an order; `false` (nothing changes) when the shop's order id is known. An
    /// order keeps the customer and time it was first recorded with.
    async fn record_order(&self, order: &OrderFact) -> Result<bool, Error>;

    /// Adds to an order's experience (`dims` merged over what is stored, later values
    /// win). An order not recorded yet keeps the experience for when it is.
    async fn set_experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
        dims: &BTreeMap<String, String>,
    ) -> Result<(), Error>;

    /// One order's experience (empty when none).
    async fn experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
    ) -> Result<BTreeMap<String, String>, Error>;

    /// Every customer of a shop, with their first order's experience, by customer id. A store
    /// that streams ([`for_each_customer`](Self::for_each_customer)) answers with
    /// [`collect_customers`].
    async fn retention_customers(&self, shop: Option<&ShopId>)
    -> Result<Vec<CustomerFacts>, Error>;

    /// Hands every customer of a shop to `f`, one at a time (in no promised order), so a
    /// report can fold them without holding them all ([`ReportFold`](super::report::ReportFold)).
    /// The SQL stores stream their rows; this default reads
    /// [`retention_customers`](Self::retention_customers) at once.
    async fn for_each_customer(
        &self,
        shop: Option<&ShopId>,
        f: &mut (dyn FnMut(CustomerFacts) + Send),
    ) -> Result<(), Error> {
        for c in self.retention_customers(shop).await? {
            f(c);
        }
        Ok(())
    }

    /// Folds every customer of a shop into a report's counters. The default hands each
    /// customer to [`ReportFold::add`](super::report::ReportFold::add) through
    /// [`for_each_customer`](Self::for_each_customer); a store may count in its own query
    /// language instead, through the fold's `add_*` parts, as long as the report is the
    /// same (the conformance suite checks it is).
    async fn fold_report(
        &self,
        shop: Option<&ShopId>,
        fold: &mut super::report::ReportFold,
    ) -> Result<(), Error> {
        self.for_each_customer(shop, &mut |c| fold.add(&c)).await
    }

    /// The shop's inter-purchase intervals: whole days → how many.
    async fn interval_histogram(&self, shop: Option<&ShopId>) -> Result<BTreeMap<i64, u64>, Error>;
}

/// Whole days from `a` to `b` (floored), the unit of the interval histogram.
pub fn interval_days(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_seconds().div_euclid(86_400)
}

/// How the interval histogram changes when an order at `at` lands between a customer's
/// neighbouring orders `prev` and `next`: the interval `prev → next` goes (−1), `prev → at`
/// and `at → next` come (+1). Each store applies these `(days, delta)` pairs in its own
/// dialect; the rule lives here once.
pub fn interval_changes(
    prev: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
) -> Vec<(i64, i64)> {
    let mut out = Vec::with_capacity(3);
    if let (Some(p), Some(n)) = (prev, next) {
        out.push((interval_days(p, n), -1));
    }
    if let Some(p) = prev {
        out.push((interval_days(p, at), 1));
    }
    if let Some(n) = next {
        out.push((interval_days(at, n), 1));
    }
    out
}

/// The customers and interval histogram of a set of orders, computed from scratch: what
/// the incremental stores must equal. Orders repeating a known (shop, order id) are ignored
/// after the first, as the stores do.
pub fn recompute(
    orders: &[OrderFact],
    experiences: &HashMap<OrderId, BTreeMap<String, String>>,
) -> (Vec<CustomerFacts>, BTreeMap<i64, u64>) {
    let mut seen = BTreeSet::new();
    let mut by_customer: BTreeMap<&CustomerId, Vec<(DateTime<Utc>, &OrderId)>> = BTreeMap::new();
    for o in orders {
        if seen.insert(&o.order_id) {
            by_customer
                .entry(&o.customer_id)
                .or_default()
                .push((o.created_at, &o.order_id));
        }
    }
    let mut hist = BTreeMap::new();
    let mut out = Vec::new();
    for (c, mut os) in by_customer {
        os.sort();
        for w in os.windows(2) {
            *hist.entry(interval_days(w[0].0, w[1].0)).or_insert(0) += 1;
        }
        out.push(CustomerFacts {
            customer_id: c.clone(),
            first_order_id: os[0].1.clone(),
            first_order_at: os[0].0,
            second_order_at: os.get(1).map(|o| o.0),
            last_order_at: os[os.len() - 1].0,
            orders: os.len() as u64,
            first_experience: experiences.get(os[0].1).cloned().unwrap_or_default(),
        });
    }
    (out, hist)
}

#[derive(Default, Debug)]
struct ShopBook {
    orders: HashMap<OrderId, (CustomerId, DateTime<Utc>)>,
    by_customer: BTreeMap<CustomerId, BTreeSet<(DateTime<Utc>, OrderId)>>,
    histogram: BTreeMap<i64, u64>,
    experience: HashMap<OrderId, BTreeMap<String, String>>,
}

/// [`RetentionStore`] in memory, with the same incremental algorithm the SQL stores use:
/// the reference for tests and for one-off reports.
#[derive(Default, Debug)]
pub struct MemoryRetention {
    shops: std::sync::Mutex<HashMap<Option<ShopId>, ShopBook>>,
}

impl MemoryRetention {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, shop: Option<&ShopId>, f: impl FnOnce(&mut ShopBook) -> T) -> T {
        let mut g = self
            .shops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(g.entry(shop.cloned()).or_default())
    }
}

/// Moves a histogram bucket by `delta`, dropping it at zero.
fn bump(h: &mut BTreeMap<i64, u64>, days: i64, up: bool) {
    let e = h.entry(days).or_insert(0);
    if up {
        *e += 1;
    } else {
        *e = e.saturating_sub(1);
        if *e == 0 {
            h.remove(&days);
        }
    }
}

#[async_trait]
impl RetentionStore for MemoryRetention {
    async fn record_order(&self, o: &OrderFact) -> Result<bool, Error> {
        Ok(self.with(o.shop.as_ref(), |b| {
            if b.orders.contains_key(&o.order_id) {
                return false;
            }
            b.orders
                .insert(o.order_id.clone(), (o.customer_id.clone(), o.created_at));
            let set = b.by_customer.entry(o.customer_id.clone()).or_default();
            let me = (o.created_at, o.order_id.clone());
            let prev = set.range(..&me).next_back().map(|p| p.0);
            let next = set
                .range((std::ops::Bound::Excluded(&me), std::ops::Bound::Unbounded))
                .next()
                .map(|n| n.0);
            set.insert(me);
            for (days, delta) in interval_changes(prev, o.created_at, next) {
                bump(&mut b.histogram, days, delta > 0);
            }
            true
        }))
    }

    async fn set_experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
        dims: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        self.with(shop, |b| {
            let e = b.experience.entry(order.clone()).or_default();
            for (k, v) in dims {
                e.insert(k.clone(), v.clone());
            }
        });
        Ok(())
    }

    async fn experience(
        &self,
        shop: Option<&ShopId>,
        order: &OrderId,
    ) -> Result<BTreeMap<String, String>, Error> {
        Ok(self.with(shop, |b| {
            b.experience.get(order).cloned().unwrap_or_default()
        }))
    }

    async fn retention_customers(
        &self,
        shop: Option<&ShopId>,
    ) -> Result<Vec<CustomerFacts>, Error> {
        Ok(self.with(shop, |b| {
            b.by_customer
                .iter()
                .filter_map(|(c, set)| {
                    let mut it = set.iter();
                    let first = it.next()?;
                    let second = it.next();
                    let last = set.iter().next_back()?;
                    Some(CustomerFacts {
                        customer_id: c.clone(),
                        first_order_id: first.1.clone(),
                        first_order_at: first.0,
                        second_order_at: second.map(|s| s.0),
                        last_order_at: last.0,
                        orders: set.len() as u64,
                        first_experience: b.experience.get(&first.1).cloned().unwrap_or_default(),
                    })
                })
                .collect()
        }))
    }

    async fn interval_histogram(&self, shop: Option<&ShopId>) -> Result<BTreeMap<i64, u64>, Error> {
        Ok(self.with(shop, |b| b.histogram.clone()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn t(days: i64, secs: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
            + chrono::Duration::days(20_000 + days)
            + chrono::Duration::seconds(secs)
    }

    #[test]
    fn hand_computed_small_case() {
        // c1: days 0, 10, 40 → intervals 10, 30; c2: days 5, 5 (same time) → 0; c3: one order.
        let orders = vec![
            OrderFact::new(None, "o3", "c1", t(40, 0)),
            OrderFact::new(None, "o1", "c1", t(0, 0)),
            OrderFact::new(None, "o4", "c2", t(5, 0)),
            OrderFact::new(None, "o2", "c1", t(10, 0)),
            OrderFact::new(None, "o5", "c2", t(5, 0)),
            OrderFact::new(None, "o6", "c3", t(7, 0)),
        ];
        let book = MemoryRetention::new();
        futures::executor::block_on(async {
            for o in &orders {
                book.record_order(o).await.unwrap();
            }
            assert!(!book.record_order(&orders[0]).await.unwrap());
            let h = book.interval_histogram(None).await.unwrap();
            assert_eq!(h, BTreeMap::from([(0, 1), (10, 1), (30, 1)]));
            let cs = book.retention_customers(None).await.unwrap();
            assert_eq!(cs.len(), 3);
            assert_eq!(cs[0].first_order_id.as_str(), "o1");
            assert_eq!(cs[0].second_order_at, Some(t(10, 0)));
            assert_eq!(cs[0].last_order_at, t(40, 0));
            assert_eq!(cs[0].orders, 3);
            assert_eq!(cs[1].first_order_id.as_str(), "o4");
            assert_eq!(cs[2].second_order_at, None);
        });
    }

    proptest! {
        /// Orders recorded one by one, in any order and with repeats, give what a
        /// recomputation over all of them gives.
        #[test]
        fn incremental_equals_recompute(
            raw in proptest::collection::vec((0u8..6, 0i64..200, 0i64..86_400, 0u16..60), 0..60),
        ) {
            let orders: Vec<OrderFact> = raw
                .iter()
                .map(|(c, d, s, id)| OrderFact::new(None, format!("o{id}"), format!("c{c}"), t(*d, *s)))
                .collect();
            let book = MemoryRetention::new();
            let (got_c, got_h) = futures::executor::block_on(async {
                for o in &orders {
                    book.record_order(o).await.unwrap();
                }
                (book.retention_customers(None).await.unwrap(), book.interval_histogram(None).await.unwrap())
            });
            let (want_c, want_h) = recompute(&orders, &HashMap::new());
            prop_assert_eq!(got_c, want_c);
            prop_assert_eq!(got_h, want_h);
        }
    }
}

/// The in-memory reference passes the same conformance checks as the SQL stores.
#[cfg(all(test, feature = "conformance"))]
mod conformance {
    crate::retention_conformance_tests!(async { super::MemoryRetention::new() });
}
