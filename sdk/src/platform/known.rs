//! What webhooks already said, read before the platform's API.
//!
//! A shop platform's order webhooks carry the whole order (Shopify's `orders/*`, WooCommerce's
//! `order.*`...), so the flows should not need an Admin API token to send a tracking link.
//! The tracking flow keeps every order and customer its events bring as snapshots
//! ([`ORDER_SNAPSHOT`], [`CUSTOMER_SNAPSHOT`]; erased with the customer like every snapshot
//! naming them), and [`KnownOrders`] / [`KnownCustomers`] answer from them first; only what is
//! missing is fetched, and what is fetched is cached for a bounded time ([`CacheSettings`]),
//! so a tracking page viewed ten times asks the platform once.
//!
//! | data | first | then |
//! |---|---|---|
//! | an order | its snapshot (the newest version a webhook carried) | the API, cached |
//! | an order's shipments | the API, cached (the page merges the stored history over it) | — |
//! | a customer | its snapshot | the API, cached |

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use hashlink::LruCache;

use super::{CustomerDirectory, OrderSource};
use crate::Error;
use crate::model::{Customer, CustomerId, Order, OrderId, Shipment};
use crate::store::{Snapshot, SnapshotStore};

/// The snapshot kind of orders as their webhooks carried them.
pub const ORDER_SNAPSHOT: &str = "order";
/// The snapshot kind of customers as their webhooks carried them.
pub const CUSTOMER_SNAPSHOT: &str = "customer";

/// Keeps `order` (the newest version wins; an older webhook arriving late changes nothing).
pub async fn remember_order(
    snapshots: &dyn SnapshotStore,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let data = serde_json::to_value(order).map_err(|e| Error::decode("order", e))?;
    snapshots
        .put_if_newer_owned(Snapshot {
            kind: ORDER_SNAPSHOT.into(),
            shop: order.shop.clone(),
            id: order.id.0.clone(),
            version: order.updated_at.or(order.created_at).unwrap_or(now),
            data,
        })
        .await
}

/// Keeps `customer` (the newest version wins).
pub async fn remember_customer(
    snapshots: &dyn SnapshotStore,
    customer: &Customer,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let data = serde_json::to_value(customer).map_err(|e| Error::decode("customer", e))?;
    snapshots
        .put_if_newer_owned(Snapshot {
            kind: CUSTOMER_SNAPSHOT.into(),
            shop: None,
            id: customer.id.0.clone(),
            version: customer.updated_at.unwrap_or(now),
            data,
        })
        .await
}

/// How long fetched data is reused, and how much is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSettings {
    /// How long a fetched order, shipment list or customer is reused (60 s by default: a
    /// page refreshed by the customer, or several messages about one order, ask once).
    pub ttl: Duration,
    /// At most this many entries per kind (4,096 by default); the oldest go first.
    pub capacity: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
            capacity: 4096,
        }
    }
}

impl CacheSettings {
    /// No reuse: every miss asks the platform.
    pub fn off() -> Self {
        Self {
            ttl: Duration::ZERO,
            capacity: 0,
        }
    }

    /// Reuses fetched data for `ttl`.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Keeps at most `capacity` entries per kind.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }
}

/// A small time-bounded, size-bounded map over `hashlink`'s `LruCache` (a linked hash map,
/// already in the tree through sqlx): a lookup, an insert and an eviction are each O(1).
/// The map this replaced swept every entry on each insert into a full cache, under its lock
/// (4,096 clock reads per new order once the processor had seen 4,096 orders: issue 20's
/// profile had 5% of the processing CPU there). Lookups `peek`, so the entry evicted first is
/// the one fetched longest ago, as the settings say; an expired entry is dropped when seen.
struct Ttl<K, V> {
    settings: CacheSettings,
    map: Mutex<LruCache<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> Ttl<K, V> {
    fn new(settings: CacheSettings) -> Self {
        Self {
            settings,
            map: Mutex::new(LruCache::new(settings.capacity.max(1))),
        }
    }

    fn get(&self, k: &K) -> Option<V> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        match map.peek(k) {
            Some((at, v)) if at.elapsed() < self.settings.ttl => Some(v.clone()),
            Some(_) => {
                map.remove(k);
                None
            }
            None => None,
        }
    }

    fn put(&self, k: K, v: V) {
        if self.settings.capacity == 0 || self.settings.ttl.is_zero() {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // `insert` moves a present key to the newest end and evicts the oldest when full.
        map.insert(k, (Instant::now(), v));
    }
}

/// Orders from their snapshots first, else from the platform (cached).
pub struct KnownOrders {
    snapshots: Arc<dyn SnapshotStore>,
    api: Arc<dyn OrderSource>,
    orders: Ttl<OrderId, Order>,
    shipments: Ttl<OrderId, Vec<Shipment>>,
}

impl std::fmt::Debug for KnownOrders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownOrders")
            .field("cache", &self.orders.settings)
            .finish_non_exhaustive()
    }
}

impl KnownOrders {
    /// Over `api`, reading `snapshots` first.
    pub fn new(api: Arc<dyn OrderSource>, snapshots: Arc<dyn SnapshotStore>) -> Self {
        Self::with_cache(api, snapshots, CacheSettings::default())
    }

    /// With cache settings of its own.
    pub fn with_cache(
        api: Arc<dyn OrderSource>,
        snapshots: Arc<dyn SnapshotStore>,
        cache: CacheSettings,
    ) -> Self {
        Self {
            snapshots,
            api,
            orders: Ttl::new(cache),
            shipments: Ttl::new(cache),
        }
    }
}

#[async_trait]
impl OrderSource for KnownOrders {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        if let Some(s) = self.snapshots.snapshot(ORDER_SNAPSHOT, &id.0).await?
            && let Ok(order) = serde_json::from_value::<Order>(s.data)
        {
            return Ok(Some(order));
        }
        if let Some(o) = self.orders.get(id) {
            return Ok(Some(o));
        }
        let fetched = self.api.order(id).await?;
        if let Some(o) = &fetched {
            self.orders.put(id.clone(), o.clone());
        }
        Ok(fetched)
    }

    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        self.api.updated_since(since)
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        if let Some(list) = self.shipments.get(order) {
            return Ok(list);
        }
        let list = self.api.shipments(order).await?;
        self.shipments.put(order.clone(), list.clone());
        Ok(list)
    }

    /// Cached lists first; the misses in ONE `api.shipments_many` call (none when every
    /// order is cached). Each answer is cached, an empty list too (an order the shop returned
    /// without fulfillments); an order absent from the answer (unknown to the shop) is not.
    async fn shipments_many(
        &self,
        orders: &[OrderId],
    ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
        let mut found = HashMap::with_capacity(orders.len());
        let mut asked = HashSet::new();
        let mut misses = Vec::new();
        for order in orders {
            if !asked.insert(order) {
                continue;
            }
            match self.shipments.get(order) {
                Some(list) => {
                    found.insert(order.clone(), list);
                }
                None => misses.push(order.clone()),
            }
        }
        if misses.is_empty() {
            return Ok(found);
        }
        let answered = self.api.shipments_many(&misses).await?;
        for (order, list) in answered {
            if !asked.contains(&order) {
                continue;
            }
            self.shipments.put(order.clone(), list.clone());
            found.insert(order, list);
        }
        Ok(found)
    }
}

/// Customers from their snapshots first, else from the platform (cached).
pub struct KnownCustomers {
    snapshots: Arc<dyn SnapshotStore>,
    api: Arc<dyn CustomerDirectory>,
    cache: Ttl<CustomerId, Customer>,
}

impl std::fmt::Debug for KnownCustomers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownCustomers")
            .field("cache", &self.cache.settings)
            .finish_non_exhaustive()
    }
}

impl KnownCustomers {
    /// Over `api`, reading `snapshots` first.
    pub fn new(api: Arc<dyn CustomerDirectory>, snapshots: Arc<dyn SnapshotStore>) -> Self {
        Self {
            snapshots,
            api,
            cache: Ttl::new(CacheSettings::default()),
        }
    }
}

impl KnownCustomers {
    /// The same directory reading customers' snapshots from `snapshots` (a unit of work's
    /// [`Stage`](crate::work::Stage), which read them ahead for the whole batch) instead
    /// of its own store.
    pub fn reading<'a>(&'a self, snapshots: &'a dyn SnapshotStore) -> KnownCustomersIn<'a> {
        KnownCustomersIn {
            known: self,
            snapshots,
        }
    }

    async fn customer_from(
        &self,
        snapshots: &dyn SnapshotStore,
        id: &CustomerId,
    ) -> Result<Option<Customer>, Error> {
        if let Some(s) = snapshots.snapshot(CUSTOMER_SNAPSHOT, &id.0).await?
            && let Ok(c) = serde_json::from_value::<Customer>(s.data)
        {
            return Ok(Some(c));
        }
        if let Some(c) = self.cache.get(id) {
            return Ok(Some(c));
        }
        let fetched = self.api.customer(id).await?;
        if let Some(c) = &fetched {
            self.cache.put(id.clone(), c.clone());
        }
        Ok(fetched)
    }
}

/// [`KnownCustomers`] reading snapshots from another store ([`KnownCustomers::reading`]).
pub struct KnownCustomersIn<'a> {
    known: &'a KnownCustomers,
    snapshots: &'a dyn SnapshotStore,
}

impl std::fmt::Debug for KnownCustomersIn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownCustomersIn").finish_non_exhaustive()
    }
}

#[async_trait]
impl CustomerDirectory for KnownCustomersIn<'_> {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        self.known.customer_from(self.snapshots, id).await
    }
}

#[async_trait]
impl CustomerDirectory for KnownCustomers {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        self.customer_from(self.snapshots.as_ref(), id).await
    }
}

/// The customer of `order` for a message: from `directory` (a customer webhook's record,
/// else the platform's API), else the record the order itself embeds. A refusal that
/// retrying cannot cure (no API token, no access to customer data) falls back the same way,
/// or to no record (the message then uses the order's contact details); a transient failure
/// is an error, so the inbox retries.
pub async fn customer_of_order(
    directory: &dyn CustomerDirectory,
    order: &Order,
) -> Result<Option<Customer>, Error> {
    let embedded = || order.customer.as_deref().cloned();
    let Some(id) = &order.customer_id else {
        return Ok(embedded());
    };
    match directory.customer(id).await {
        Ok(Some(c)) => Ok(Some(c)),
        Ok(None) => Ok(embedded()),
        Err(e) if e.is_retryable() => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, order = %order.id, "the customer record could not be read; the message uses what the order says");
            Ok(embedded())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    struct Directory(Result<Option<Customer>, Error>);

    #[async_trait]
    impl CustomerDirectory for Directory {
        async fn customer(&self, _id: &CustomerId) -> Result<Option<Customer>, Error> {
            match &self.0 {
                Ok(c) => Ok(c.clone()),
                Err(Error::Platform { retryable, .. }) => Err(Error::Platform {
                    operation: "read customer".into(),
                    status: None,
                    message: "test".into(),
                    retryable: *retryable,
                }),
                Err(_) => unreachable!(),
            }
        }
    }

    fn refusal(retryable: bool) -> Error {
        Error::Platform {
            operation: "read customer".into(),
            status: None,
            message: "test".into(),
            retryable,
        }
    }

    #[tokio::test]
    async fn an_orders_customer_comes_from_the_directory_then_from_the_order() {
        let mut order = Order::new("1", "#1001");
        order.customer_id = Some(CustomerId::new("7"));
        let mut embedded = Customer::new("7");
        embedded.first_name = Some("Noura".into());
        order.customer = Some(Box::new(embedded));
        let mut full = Customer::new("7");
        full.first_name = Some("Noura".into());
        full.locale = Some("ar".into());
        let from = |d: Directory| {
            let order = order.clone();
            async move { customer_of_order(&d, &order).await }
        };
        let got = from(Directory(Ok(Some(full.clone())))).await.unwrap();
        assert_eq!(got, Some(full), "the directory's full record first");
        let got = from(Directory(Ok(None))).await.unwrap().unwrap();
        assert_eq!(got.first_name.as_deref(), Some("Noura"), "then the order's");
        let got = from(Directory(Err(refusal(false)))).await.unwrap().unwrap();
        assert_eq!(
            got.first_name.as_deref(),
            Some("Noura"),
            "a refusal falls back"
        );
        assert!(
            from(Directory(Err(refusal(true)))).await.is_err(),
            "a transient failure is retried, not papered over"
        );
        order.customer = None;
        assert_eq!(
            customer_of_order(&Directory(Err(refusal(false))), &order)
                .await
                .unwrap(),
            None
        );
    }

    /// No snapshot at all: `KnownOrders`' shipments come from the API and its cache.
    struct NoSnapshots;

    #[async_trait]
    impl SnapshotStore for NoSnapshots {
        async fn put_if_newer(&self, _s: &Snapshot) -> Result<bool, Error> {
            Ok(true)
        }
        async fn snapshot(&self, _kind: &str, _id: &str) -> Result<Option<Snapshot>, Error> {
            Ok(None)
        }
    }

    /// A platform that batches: it knows some orders (with or without shipments) and counts
    /// every single and batched read.
    #[derive(Default)]
    struct Shop {
        known: HashMap<OrderId, Vec<Shipment>>,
        singles: Mutex<Vec<OrderId>>,
        batches: Mutex<Vec<Vec<OrderId>>>,
    }

    #[async_trait]
    impl OrderSource for Shop {
        async fn order(&self, _id: &OrderId) -> Result<Option<Order>, Error> {
            Ok(None)
        }
        fn updated_since(&self, _since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
            Box::pin(futures::stream::empty())
        }
        async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
            self.singles.lock().unwrap().push(order.clone());
            Ok(self.known.get(order).cloned().unwrap_or_default())
        }
        async fn shipments_many(
            &self,
            orders: &[OrderId],
        ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
            self.batches.lock().unwrap().push(orders.to_vec());
            Ok(orders
                .iter()
                .filter_map(|o| self.known.get(o).map(|l| (o.clone(), l.clone())))
                .collect())
        }
    }

    #[tokio::test]
    async fn a_batch_asks_the_platform_once_for_the_misses_only() {
        let id = |s: &str| OrderId::new(s);
        let shipped = vec![Shipment::new(
            "11",
            id("1"),
            crate::model::ShipmentStatus::InTransit,
        )];
        let shop = Arc::new(Shop {
            known: HashMap::from([(id("1"), shipped.clone()), (id("2"), Vec::new())]),
            ..Shop::default()
        });
        let known = KnownOrders::new(shop.clone(), Arc::new(NoSnapshots));
        // Order 1 is cached by a single read.
        assert_eq!(known.shipments(&id("1")).await.unwrap(), shipped);
        let got = known
            .shipments_many(&[id("1"), id("2"), id("3"), id("2")])
            .await
            .unwrap();
        assert_eq!(
            got,
            HashMap::from([(id("1"), shipped.clone()), (id("2"), Vec::new())]),
            "order 3 is unknown to the shop: absent"
        );
        assert_eq!(
            *shop.batches.lock().unwrap(),
            vec![vec![id("2"), id("3")]],
            "the misses, each once, in one call"
        );
        // 2 was cached with its empty list; 3 was absent, so it is asked again.
        let again = known
            .shipments_many(&[id("3"), id("2"), id("1")])
            .await
            .unwrap();
        assert_eq!(again.len(), 2);
        assert_eq!(shop.batches.lock().unwrap().last(), Some(&vec![id("3")]));
        // Everything cached: no call at all.
        known.shipments_many(&[id("1"), id("2")]).await.unwrap();
        assert_eq!(shop.batches.lock().unwrap().len(), 2);
        assert_eq!(
            *shop.singles.lock().unwrap(),
            vec![id("1")],
            "no order is read one by one"
        );
        // Without a cache every order is a miss, still asked in one call.
        let uncached =
            KnownOrders::with_cache(shop.clone(), Arc::new(NoSnapshots), CacheSettings::off());
        uncached.shipments_many(&[id("1"), id("2")]).await.unwrap();
        assert_eq!(
            shop.batches.lock().unwrap().last(),
            Some(&vec![id("1"), id("2")])
        );
    }

    #[test]
    fn the_cache_forgets_after_its_ttl_and_keeps_its_size() {
        let c: Ttl<u32, u32> = Ttl::new(CacheSettings::default().capacity(2));
        c.put(1, 10);
        c.put(2, 20);
        c.put(3, 30);
        let kept = [1, 2, 3].iter().filter(|k| c.get(k).is_some()).count();
        assert_eq!(kept, 2, "capacity 2 keeps two");
        assert_eq!(c.get(&3), Some(30), "the newest is kept");
        let short: Ttl<u32, u32> =
            Ttl::new(CacheSettings::default().ttl(Duration::from_millis(20)));
        short.put(1, 10);
        assert_eq!(short.get(&1), Some(10));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(short.get(&1), None, "expired");
        let off: Ttl<u32, u32> = Ttl::new(CacheSettings::off());
        off.put(1, 10);
        assert_eq!(off.get(&1), None);
    }

    #[test]
    fn a_full_cache_lets_the_longest_fetched_go_first_and_looking_does_not_keep_it() {
        let c: Ttl<u32, u32> = Ttl::new(CacheSettings::default().capacity(3));
        for k in 1..=3 {
            c.put(k, k * 10);
        }
        // Reading 1 does not make it newer: it was fetched first, so it goes first.
        assert_eq!(c.get(&1), Some(10));
        c.put(4, 40);
        assert_eq!(c.get(&1), None, "the oldest fetch is evicted");
        assert_eq!(
            (c.get(&2), c.get(&3), c.get(&4)),
            (Some(20), Some(30), Some(40))
        );
        // Fetched again, 2 becomes the newest: 3 goes next.
        c.put(2, 21);
        c.put(5, 50);
        assert_eq!(c.get(&3), None);
        assert_eq!(c.get(&2), Some(21));
        // Many more orders than the capacity: never more than three kept.
        for k in 100..10_100 {
            c.put(k, k);
        }
        let kept = (100..10_100).filter(|k| c.get(k).is_some()).count();
        assert_eq!(kept, 3);
    }
}
