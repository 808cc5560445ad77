//! Conformance checks of a [`RetentionStore`]: idempotent recording, out-of-order orders
//! placed between their neighbours, experiences merged and kept before their order, shops
//! kept apart, and — over pseudo-random histories — the incremental figures equal to a full
//! recomputation ([`recompute`]). Run them with `retention_conformance_tests!`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{OrderId, ShopId};
use crate::retention::facts::{OrderFact, RetentionStore, recompute};

/// Generates one `#[tokio::test]` per retention conformance check, each on a fresh store
/// made by `$make`.
#[macro_export]
macro_rules! retention_conformance_tests {
    ($make:expr) => {
        $crate::retention_conformance_tests!(@each $make;
            retention_records_orders_once, retention_places_late_orders_between_neighbours,
            retention_experience_merges_and_waits_for_its_order, retention_keeps_shops_apart,
            retention_incremental_equals_recompute, retention_report_from_the_store_is_the_fold
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $make.await;
                $crate::conformance::retention::$name(::std::sync::Arc::new(store)).await;
            }
        )*
    };
}

fn day(d: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + chrono::Duration::days(d)
}

fn shop() -> Option<ShopId> {
    Some(ShopId::from("shop-1"))
}

pub async fn retention_records_orders_once(s: Arc<dyn RetentionStore>) {
    let o = OrderFact::new(shop(), "o1", "c1", day(0));
    assert!(s.record_order(&o).await.unwrap(), "a new order is recorded");
    assert!(!s.record_order(&o).await.unwrap(), "an order counts once");
    let moved = OrderFact::new(shop(), "o1", "c2", day(5));
    assert!(
        !s.record_order(&moved).await.unwrap(),
        "an order keeps its first customer and time"
    );
    let cs = s.retention_customers(shop().as_ref()).await.unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!((cs[0].customer_id.as_str(), cs[0].orders), ("c1", 1));
    assert!(
        s.interval_histogram(shop().as_ref())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn retention_places_late_orders_between_neighbours(s: Arc<dyn RetentionStore>) {
    for (id, d) in [("o1", 0), ("o3", 40)] {
        s.record_order(&OrderFact::new(shop(), id, "c1", day(d)))
            .await
            .unwrap();
    }
    assert_eq!(
        s.interval_histogram(shop().as_ref()).await.unwrap(),
        BTreeMap::from([(40, 1)])
    );
    // Arrives late, between the two: 40 leaves, 10 and 30 enter.
    s.record_order(&OrderFact::new(shop(), "o2", "c1", day(10)))
        .await
        .unwrap();
    assert_eq!(
        s.interval_histogram(shop().as_ref()).await.unwrap(),
        BTreeMap::from([(10, 1), (30, 1)])
    );
    // An even earlier one becomes the first order.
    s.record_order(&OrderFact::new(shop(), "o0", "c1", day(-5)))
        .await
        .unwrap();
    let c = &s.retention_customers(shop().as_ref()).await.unwrap()[0];
    assert_eq!(c.first_order_id.as_str(), "o0");
    assert_eq!(c.first_order_at, day(-5));
    assert_eq!(c.second_order_at, Some(day(0)));
    assert_eq!(c.last_order_at, day(40));
    assert_eq!(c.orders, 4);
}

pub async fn retention_experience_merges_and_waits_for_its_order(s: Arc<dyn RetentionStore>) {
    let o1 = OrderId::from("o1");
    let d = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
    // The delivery is known before the order (webhooks out of order).
    s.set_experience(shop().as_ref(), &o1, &d("lateness", "3+ days late"))
        .await
        .unwrap();
    s.set_experience(shop().as_ref(), &o1, &d("carrier", "UPS"))
        .await
        .unwrap();
    s.set_experience(shop().as_ref(), &o1, &d("carrier", "DHL"))
        .await
        .unwrap();
    assert!(
        s.retention_customers(shop().as_ref())
            .await
            .unwrap()
            .is_empty(),
        "an experience alone is no customer"
    );
    assert!(
        s.record_order(&OrderFact::new(shop(), "o1", "c1", day(0)))
            .await
            .unwrap(),
        "an order whose experience came first is still new"
    );
    let want = BTreeMap::from([
        ("carrier".to_owned(), "DHL".to_owned()),
        ("lateness".to_owned(), "3+ days late".to_owned()),
    ]);
    assert_eq!(s.experience(shop().as_ref(), &o1).await.unwrap(), want);
    let cs = s.retention_customers(shop().as_ref()).await.unwrap();
    assert_eq!(cs[0].first_experience, want, "the first order's experience");
}

pub async fn retention_keeps_shops_apart(s: Arc<dyn RetentionStore>) {
    let other = Some(ShopId::from("shop-2"));
    s.record_order(&OrderFact::new(shop(), "o1", "c1", day(0)))
        .await
        .unwrap();
    s.record_order(&OrderFact::new(shop(), "o2", "c1", day(3)))
        .await
        .unwrap();
    assert!(
        s.record_order(&OrderFact::new(other.clone(), "o1", "c1", day(1)))
            .await
            .unwrap(),
        "the same order id in another shop is another order"
    );
    s.record_order(&OrderFact::new(None, "o9", "c1", day(1)))
        .await
        .unwrap();
    assert_eq!(
        s.retention_customers(other.as_ref()).await.unwrap()[0].orders,
        1
    );
    assert!(
        s.interval_histogram(other.as_ref())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.retention_customers(None).await.unwrap().len(), 1);
    assert_eq!(
        s.interval_histogram(shop().as_ref()).await.unwrap(),
        BTreeMap::from([(3, 1)])
    );
}

/// A small deterministic generator (SplitMix64), so the check needs no dependency.
struct Mix(u64);
impl Mix {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % below
    }
}

pub async fn retention_incremental_equals_recompute(s: Arc<dyn RetentionStore>) {
    let mut rng = Mix(18);
    let mut orders = Vec::new();
    let mut experiences: HashMap<OrderId, BTreeMap<String, String>> = HashMap::new();
    for i in 0..300 {
        // Ids repeat now and then (a webhook delivered twice); times in any order, some
        // equal; experiences on some orders, before or after the order.
        let id = format!("o{}", rng.next(260));
        let at = day(rng.next(400) as i64) + chrono::Duration::hours(rng.next(3) as i64 * 12);
        let o = OrderFact::new(shop(), id.as_str(), format!("c{}", rng.next(40)), at);
        if i % 7 == 0 {
            let e = BTreeMap::from([("lateness".to_owned(), format!("{}", rng.next(3)))]);
            s.set_experience(shop().as_ref(), &o.order_id, &e)
                .await
                .unwrap();
            experiences.entry(o.order_id.clone()).or_default().extend(e);
        }
        s.record_order(&o).await.unwrap();
        orders.push(o);
    }
    let (want_c, want_h) = recompute(&orders, &experiences);
    assert_eq!(
        s.interval_histogram(shop().as_ref()).await.unwrap(),
        want_h,
        "the incremental interval histogram equals a recomputation"
    );
    assert_eq!(
        s.retention_customers(shop().as_ref()).await.unwrap(),
        want_c,
        "the incremental customers equal a recomputation"
    );
}

/// Redaction reaches the retention rows: a customer's erasure removes their orders,
/// customer row and their intervals from the histogram (others stay); a shop's erasure removes the shop's rows and histogram. Run
/// it on a store that is both a [`RetentionStore`] and a [`Redactor`](crate::store::Redactor).
pub async fn retention_rows_are_redacted<S>(s: Arc<S>)
where
    S: RetentionStore + crate::store::Redactor,
{
    use crate::model::CustomerId;
    use crate::store::CustomerRedaction;
    for (id, c, d) in [
        ("o1", "c1", 0),
        ("o2", "c1", 9),
        ("o3", "c2", 1),
        ("o4", "c2", 4),
        ("o5", "c1", 13),
    ] {
        s.record_order(&OrderFact::new(shop(), id, c, day(d)))
            .await
            .unwrap();
    }
    s.redact_customer(&CustomerRedaction::new(
        shop(),
        Some(CustomerId::from("c1")),
        vec![],
        vec![],
    ))
    .await
    .unwrap();
    let left = s.retention_customers(shop().as_ref()).await.unwrap();
    assert_eq!(left.len(), 1, "the erased customer is gone");
    assert_eq!(left[0].customer_id.as_str(), "c2");
    assert!(
        s.experience(shop().as_ref(), &OrderId::from("o1"))
            .await
            .unwrap()
            .is_empty()
    );
    // c1's intervals (9 and 4 days) leave the histogram: what is left is c2's 3 days, what
    // a recomputation over the orders left gives.
    assert_eq!(
        s.interval_histogram(shop().as_ref()).await.unwrap(),
        BTreeMap::from([(3, 1)]),
        "an erased customer's intervals do not stay in the histogram"
    );
    s.redact_shop(&ShopId::from("shop-1")).await.unwrap();
    assert!(
        s.retention_customers(shop().as_ref())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.interval_histogram(shop().as_ref())
            .await
            .unwrap()
            .is_empty()
    );
}

/// The retention period reaches the retention rows: [`Redactor::expire`] removes the orders
/// and the customer row of a customer whose last order is older than the cut-off (no order
/// within the whole period), and keeps a customer who ordered since, with all their orders.
/// The interval histogram holds no ids and stays.
///
/// [`Redactor::expire`]: crate::store::Redactor::expire
pub async fn retention_rows_expire_with_the_period<S>(s: Arc<S>)
where
    S: RetentionStore + crate::store::Redactor,
{
    for (id, c, d) in [
        ("o1", "c1", 0),
        ("o2", "c1", 9),
        ("o3", "c2", 1),
        ("o4", "c2", 400),
    ] {
        s.record_order(&OrderFact::new(shop(), id, c, day(d)))
            .await
            .unwrap();
    }
    s.expire(day(365)).await.unwrap();
    let left = s.retention_customers(shop().as_ref()).await.unwrap();
    assert_eq!(left.len(), 1, "c1 ordered last on day 9: expired; {left:?}");
    assert_eq!(left[0].customer_id.as_str(), "c2");
    assert!(
        s.experience(shop().as_ref(), &OrderId::from("o2"))
            .await
            .unwrap()
            .is_empty(),
        "the expired customer's orders are gone"
    );
    assert_eq!(
        left[0].orders, 2,
        "a customer who ordered since keeps every order"
    );
    assert!(
        !s.interval_histogram(shop().as_ref())
            .await
            .unwrap()
            .is_empty(),
        "the histogram has no ids and stays"
    );
}

/// The report a store makes ([`RetentionStore::fold_report`], counted in SQL by the SQL
/// stores) equals the fold over its customers ([`RetentionReport::build`]), for histories
/// with times of day, month-end first orders (31 January + 1 month is 28 February),
/// experiences with signals and recoveries, at several dates and settings.
///
/// [`RetentionReport::build`]: crate::retention::RetentionReport::build
pub async fn retention_report_from_the_store_is_the_fold(s: Arc<dyn RetentionStore>) {
    use crate::retention::{RetentionReport, RetentionSettings};
    let mut rng = Mix(7);
    let base = DateTime::parse_from_rfc3339("2025-10-31T18:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for i in 0..400u64 {
        let customer = format!("c{}", rng.next(90));
        // Month ends and days around them, at any second of the day.
        let at = match rng.next(4) {
            0 => base + chrono::Months::new(rng.next(8) as u32),
            _ => base + chrono::Duration::seconds(rng.next(300 * 86_400) as i64),
        } + chrono::Duration::seconds(rng.next(3) as i64 * 3_600 - 3_600);
        let o = OrderFact::new(shop(), format!("o{i}"), customer, at);
        s.record_order(&o).await.unwrap();
        if rng.next(3) > 0 {
            let mut e = BTreeMap::from([(
                "lateness".to_owned(),
                ["on time", "1-2 days late", "3+ days late"][rng.next(3) as usize].to_owned(),
            )]);
            if rng.next(4) == 0 {
                e.insert("signal".into(), "yes".into());
                if rng.next(2) == 0 {
                    e.insert("recovered".into(), "yes".into());
                }
            }
            if rng.next(3) == 0 {
                e.insert(
                    "carrier".into(),
                    ["UPS", "DHL"][rng.next(2) as usize].into(),
                );
            }
            s.set_experience(shop().as_ref(), &o.order_id, &e)
                .await
                .unwrap();
        }
    }
    let customers = s.retention_customers(shop().as_ref()).await.unwrap();
    let histogram = s.interval_histogram(shop().as_ref()).await.unwrap();
    assert!(customers.iter().any(|c| c.second_order_at.is_some()));
    for (days_after, window, multiple, months) in [
        (30, 90, 3.0, 6),
        (120, 30, 1.5, 3),
        (400, 60, 2.0, 12),
        (0, 1, 0.5, 1),
    ] {
        let settings = RetentionSettings::default()
            .with_repeat_window_days(window)
            .with_churn_multiple(multiple)
            .with_cohort_months(months)
            .with_min_customers(1);
        let as_of = base + chrono::Duration::days(days_after) + chrono::Duration::seconds(37);
        let want = RetentionReport::build(&customers, &histogram, &settings, as_of);
        let got = RetentionReport::from_store(&*s, shop().as_ref(), &settings, as_of)
            .await
            .unwrap();
        assert_eq!(got, want, "as of {as_of}, {settings:?}");
    }
    // Another shop's report is empty.
    let other = RetentionReport::from_store(
        &*s,
        Some(&ShopId::from("nobody")),
        &RetentionSettings::default(),
        base,
    )
    .await
    .unwrap();
    assert_eq!(other.customers, 0);
}
