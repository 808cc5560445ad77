//! The platform conformance kit: every shop-platform adapter runs these checks unchanged,
//! given its fixtures and a wiremock stand-in of its API (feature `conformance`).
//!
//! Implement [`PlatformKit`] in the adapter's tests and generate one test per check:
//!
//! ```ignore
//! aftercare::platform_conformance_tests!(MyPlatformKit::new());
//! ```
//!
//! What it checks (each check panics with a message naming the broken promise):
//! - [`official_vectors`]: the platform's published signature vectors verify (a kit without
//!   any says why, [`PlatformKit::no_published_vectors`]), and a
//!   tampered copy of each does not;
//! - [`documented_payloads_decode`]: each documented example payload (the fixture names its
//!   documentation page), signed as the platform signs, verifies and decodes (or is
//!   hydrated through the API stand-in) into the expected events;
//! - [`unknown_topic_is_unrecognized`], [`malformed_bodies_are_decode_errors`] and
//!   [`bodies_under_foreign_topics_are_refused`] (a body of one resource posted under another
//!   resource's topic is a decode error, never an event);
//! - [`another_shops_webhook_is_refused`]: the shop in the headers or the body is bound to
//!   the configured one;
//! - [`ids_survive_as_text`] (64-bit and string ids), [`money_in_minor_units`] (0-, 2- and
//!   3-decimal currencies), [`every_status_maps`] (or to `Unknown(raw)`);
//! - [`updated_since_pages_in_order_and_resumes`]: every page, in order, and after an API
//!   error a second pass gets everything;
//! - [`rate_limits_are_honoured`]: the quota is never exceeded (per window, or point by
//!   point for a cost bucket, [`RateProbe::bucket`]) and a `429`'s wait is obeyed;
//! - [`annotations_are_idempotent`]: writing the same tag or note twice writes it once.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use crate::Error;
use crate::model::{Money, PlatformEvent, ShipmentStatus};
use crate::platform::thin::Hydrator;
use crate::platform::{OrderAnnotator, OrderSource};
use crate::store::{InboxEntry, InboxStatus};
use crate::webhook::{RawHeaders, Rejection, VerifiedWebhook, WebhookRequest, WebhookSource};

/// A published signature vector: a request as the platform's docs or official library sign
/// it, and the source configured with the vector's secret.
pub struct SignatureVector {
    /// Where it is published.
    pub source_doc: &'static str,
    /// The source configured with the vector's secret.
    pub source: Arc<dyn WebhookSource>,
    /// The request's headers.
    pub headers: RawHeaders,
    /// The request's body.
    pub body: Vec<u8>,
    /// When it is checked (vectors with signed timestamps need their own time).
    pub at: DateTime<Utc>,
}

/// A documented example payload.
pub struct Fixture {
    /// The topic it is delivered under.
    pub topic: String,
    /// The body, exactly.
    pub body: Vec<u8>,
    /// The documentation page it follows.
    pub doc: &'static str,
    /// The resource it is (`order`, `customer`, `shipment`, `shop`...): a body is refused
    /// under a topic of another resource.
    pub resource: &'static str,
    /// The kinds of the events it must decode into ([`PlatformEvent::kind`]), in order.
    pub expect: Vec<&'static str>,
}

/// An order as the kit asks the API stand-in to serve it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KitOrder {
    /// Its id (numeric text, up to `u64::MAX`, or a platform's string id).
    pub id: String,
    /// Its last modification.
    pub updated_at: DateTime<Utc>,
}

/// A limit by cost rather than by count: a leaky bucket of `size` points refilling at
/// `restore_per_sec` points per second, each request drawing its cost (Shopify's GraphQL
/// Admin API).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostBucket {
    /// The bucket's size in points.
    pub size: f64,
    /// Points restored per second.
    pub restore_per_sec: f64,
}

/// What the API stand-in of a rate-limit check saw.
#[derive(Clone, Debug, Default)]
pub struct RateProbe {
    /// When each request reached the stand-in (tokio time).
    pub arrivals: Vec<tokio::time::Instant>,
    /// The quota the stand-in announced per window.
    pub quota: u32,
    /// The window.
    pub window: Duration,
    /// The wait a `429` asked for, and when it was answered.
    pub throttled: Option<(tokio::time::Instant, Duration)>,
    /// For a platform limiting by cost: the bucket the stand-in enforces. A count per
    /// window cannot describe a bucket (a short window misses a steady rate above the
    /// restore rate, a long one a burst above the bucket), so the check is then the
    /// bucket's own: from any arrival to any later one, the points asked for never exceed
    /// `size + restore_per_sec × elapsed`.
    pub bucket: Option<CostBucket>,
    /// With `bucket`: the cost each arrival asked for (its requested cost, refused or not),
    /// in the order of `arrivals`.
    pub costs: Vec<f64>,
    /// For a fixed-window quota: when each of the stand-in's windows opened. The count is
    /// then per window, as the platform counts (a client may use a whole quota just before
    /// a reset and again just after it); empty: any stretch of `window` is checked.
    pub window_starts: Vec<tokio::time::Instant>,
}

/// The adapter's side of the kit.
#[async_trait]
pub trait PlatformKit: Send + Sync {
    /// The shop (store) the source is configured for.
    fn shop(&self) -> String;
    /// Another shop, to check the binding.
    fn other_shop(&self) -> String;
    /// The source, bound to [`PlatformKit::shop`].
    fn source(&self) -> Arc<dyn WebhookSource>;
    /// Signs `body` under `topic` as the platform would for `shop`: every header of a real
    /// delivery.
    fn sign(&self, topic: &str, shop: &str, body: &[u8]) -> RawHeaders;
    /// The body as the platform delivers `body` under `topic` (and, when `shop` is given,
    /// for that shop; otherwise the body keeps the shop it names). A platform that names the
    /// topic or the shop only inside the signed body (Salla's `{"event", "merchant",
    /// "data"}` envelope) puts them there, so that "this body under that topic" or "for
    /// that shop" is a delivery the platform could make; the default returns `body`
    /// unchanged (the headers of [`PlatformKit::sign`] carry them).
    fn body_as(&self, topic: &str, shop: Option<&str>, body: &[u8]) -> Vec<u8> {
        let _ = (topic, shop);
        body.to_vec()
    }
    /// A tampered copy of a vector's body, for [`official_vectors`]: by default one more
    /// byte at its end. Where the signature covers only a part of the body (ikas signs the
    /// `data` string inside its JSON envelope, and JSON ignores a trailing space), the kit
    /// changes a byte of the signed part instead.
    fn tamper(&self, body: &[u8]) -> Vec<u8> {
        let mut t = body.to_vec();
        t.push(b' ');
        t
    }
    /// Whether the platform's authentication covers the body (a signature). `false` for a
    /// platform that authenticates only the sender (Zid's HTTP Basic credentials): a
    /// tampered body cannot be detected there, so [`official_vectors`] checks instead that
    /// the vector's request without its authentication headers is refused.
    fn signs_body(&self) -> bool {
        true
    }
    /// The platform's published signature vectors (empty only if it publishes none: say so
    /// in the adapter's docs and in [`PlatformKit::no_published_vectors`]).
    fn vectors(&self) -> Vec<SignatureVector>;
    /// Why the platform has no published signature vector, when [`PlatformKit::vectors`] is
    /// empty (an asymmetric scheme whose vendor publishes no key pair with a signature, e.g.
    /// Adobe Commerce's RSA webhooks). `None` (the default): vectors are required.
    fn no_published_vectors(&self) -> Option<&'static str> {
        None
    }
    /// The documented example payloads.
    fn fixtures(&self) -> Vec<Fixture>;
    /// Starts the API stand-in for the fixtures (thin webhooks are hydrated from it) and
    /// returns the hydrator using it, for platforms whose webhooks carry only ids.
    async fn hydrator(&self) -> Option<Arc<dyn Hydrator>> {
        None
    }
    /// Bodies that are malformed or of no resource at all, with the topic they are posted
    /// under.
    fn malformed(&self) -> Vec<(String, Vec<u8>)>;
    /// A topic the adapter does not decode, with a body.
    fn unknown_topic(&self) -> (String, Vec<u8>);
    /// A fixture-shaped body of `topic` for another shop (`shop`), where the platform puts
    /// the shop in the body; `None` where only headers name it.
    fn body_for_shop(&self, shop: &str) -> Option<(String, Vec<u8>)>;
    /// A body whose ids are `u64::MAX` (or the platform's longest string ids), with the
    /// topic, and the ids every decoded event must carry as text.
    fn big_ids(&self) -> (String, Vec<u8>, Vec<String>);
    /// Bodies of orders in a 0-, a 2- and a 3-decimal currency, with the total each must
    /// decode to.
    fn money(&self) -> Vec<(String, Vec<u8>, Money)>;
    /// Every documented status of the platform, raw, and what it must map to; plus the
    /// mapping itself.
    fn statuses(&self) -> Vec<(String, ShipmentStatus)>;
    /// The adapter's status mapping.
    fn map_status(&self, raw: &str) -> ShipmentStatus;
    /// Starts an API stand-in serving `pages` of orders (in this order) through the
    /// platform's paging; when `fail_once_at` is set, that page answers a `500` the first
    /// time. Returns the order source using it.
    async fn orders_api(
        &self,
        pages: Vec<Vec<KitOrder>>,
        fail_once_at: Option<usize>,
    ) -> Arc<dyn OrderSource>;
    /// Starts an API stand-in that announces a small quota per window in the platform's
    /// headers and answers one `429` with a wait, and returns an order source using it and a
    /// handle to what it saw (read after the calls).
    async fn rate_limited_api(&self) -> (Arc<dyn OrderSource>, Arc<std::sync::Mutex<RateProbe>>);
    /// Starts an API stand-in for write-back and returns the annotator using it, and a
    /// function counting the writes it received that changed something (tags added, notes
    /// appended).
    async fn annotator(
        &self,
    ) -> (
        Arc<dyn OrderAnnotator>,
        Box<dyn Fn() -> usize + Send + Sync>,
    );
}

/// Generates one `#[tokio::test]` per check, each on a kit made by `$make`.
#[macro_export]
macro_rules! platform_conformance_tests {
    ($make:expr) => {
        $crate::platform_conformance_tests!(@each $make;
            official_vectors, documented_payloads_decode, unknown_topic_is_unrecognized,
            malformed_bodies_are_decode_errors, bodies_under_foreign_topics_are_refused,
            another_shops_webhook_is_refused, ids_survive_as_text, money_in_minor_units,
            every_status_maps, updated_since_pages_in_order_and_resumes,
            rate_limits_are_honoured, annotations_are_idempotent
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[::tokio::test]
            async fn $name() {
                let kit = $make;
                $crate::conformance::platform::$name(&kit).await;
            }
        )*
    };
}

fn entry(v: VerifiedWebhook, body: &[u8]) -> InboxEntry {
    let now = Utc::now();
    InboxEntry {
        id: 1,
        source: "kit".into(),
        dedupe_key: v.dedupe_key,
        topic: v.topic,
        shop: v.shop,
        occurred_at: v.occurred_at,
        meta: v.meta,
        body: body.to_vec(),
        received_at: now,
        status: InboxStatus::Pending,
        attempts: 1,
        next_attempt_at: now,
        last_error: None,
    }
}

/// Verifies a signed delivery and decodes (or hydrates) it, as the pipeline would.
async fn deliver(
    kit: &dyn PlatformKit,
    hydrator: Option<&Arc<dyn Hydrator>>,
    topic: &str,
    shop: &str,
    body: &[u8],
) -> Result<Vec<PlatformEvent>, String> {
    let source = kit.source();
    let body = &kit.body_as(topic, None, body)[..];
    let headers = kit.sign(topic, shop, body);
    let v = source
        .verify(&WebhookRequest {
            headers: &headers,
            body,
            received_at: Utc::now(),
        })
        .map_err(|r| format!("refused at verify: {r}"))?;
    let e = entry(v, body);
    match hydrator {
        Some(h) => h.hydrate(&e).await,
        None => source.decode(&e),
    }
    .map_err(|e: Error| format!("decode error: {e}"))
}

pub async fn official_vectors<K: PlatformKit>(kit: &K) {
    let vectors = kit.vectors();
    if vectors.is_empty()
        && let Some(why) = kit.no_published_vectors()
    {
        assert!(
            !why.trim().is_empty(),
            "a kit without vectors says why the platform publishes none"
        );
        return;
    }
    assert!(
        !vectors.is_empty(),
        "the kit needs the platform's published signature vectors"
    );
    for v in vectors {
        let req = WebhookRequest {
            headers: &v.headers,
            body: &v.body,
            received_at: v.at,
        };
        if let Err(r) = v.source.verify(&req) {
            panic!("the vector of {} does not verify: {r}", v.source_doc);
        }
        if !kit.signs_body() {
            let none = RawHeaders::default();
            let req = WebhookRequest {
                headers: &none,
                body: &v.body,
                received_at: v.at,
            };
            assert!(
                v.source.verify(&req).is_err(),
                "the vector of {} verifies without its authentication",
                v.source_doc
            );
            continue;
        }
        let tampered = kit.tamper(&v.body);
        let req = WebhookRequest {
            headers: &v.headers,
            body: &tampered,
            received_at: v.at,
        };
        assert!(
            v.source.verify(&req).is_err(),
            "a tampered copy of the vector of {} verifies",
            v.source_doc
        );
    }
}

pub async fn documented_payloads_decode<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let fixtures = kit.fixtures();
    assert!(!fixtures.is_empty(), "the kit needs documented payloads");
    for f in fixtures {
        let events = deliver(kit, h.as_ref(), &f.topic, &kit.shop(), &f.body)
            .await
            .unwrap_or_else(|e| panic!("{} ({}, {}): {e}", f.topic, f.resource, f.doc));
        let kinds: Vec<&str> = events.iter().map(PlatformEvent::kind).collect();
        assert_eq!(kinds, f.expect, "{} ({}): events", f.topic, f.doc);
    }
}

pub async fn unknown_topic_is_unrecognized<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let (topic, body) = kit.unknown_topic();
    let events = deliver(kit, h.as_ref(), &topic, &kit.shop(), &body)
        .await
        .unwrap_or_else(|e| panic!("unknown topic {topic}: {e}"));
    assert!(
        matches!(events.as_slice(), [PlatformEvent::Unrecognized { .. }]),
        "unknown topic {topic}: {events:?}"
    );
}

pub async fn malformed_bodies_are_decode_errors<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let cases = kit.malformed();
    assert!(!cases.is_empty(), "the kit needs malformed bodies");
    for (topic, body) in cases {
        match deliver(kit, h.as_ref(), &topic, &kit.shop(), &body).await {
            Err(_) => {}
            Ok(events) => panic!(
                "a malformed body under {topic} decoded into {events:?}: {}",
                String::from_utf8_lossy(&body)
            ),
        }
    }
}

pub async fn bodies_under_foreign_topics_are_refused<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let fixtures = kit.fixtures();
    for a in &fixtures {
        for b in fixtures.iter().filter(|b| b.resource != a.resource) {
            if let Ok(events) = deliver(kit, h.as_ref(), &b.topic, &kit.shop(), &a.body).await {
                panic!(
                    "a {} body posted under {} (a {} topic) decoded into {events:?}",
                    a.resource, b.topic, b.resource
                );
            }
        }
    }
}

pub async fn another_shops_webhook_is_refused<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let other = kit.other_shop();
    assert_ne!(other, kit.shop());
    // The headers name another shop.
    let mut f = kit.fixtures().into_iter().next().expect("a fixture");
    f.body = kit.body_as(&f.topic, Some(&other), &f.body);
    let source = kit.source();
    let headers = kit.sign(&f.topic, &other, &f.body);
    let verified = source.verify(&WebhookRequest {
        headers: &headers,
        body: &f.body,
        received_at: Utc::now(),
    });
    match verified {
        Err(Rejection::WrongAccount { .. } | Rejection::Mismatch) => {}
        Err(r) => panic!("another shop's webhook refused for the wrong reason: {r}"),
        Ok(v) => {
            let decoded = match &h {
                Some(h) => h.hydrate(&entry(v, &f.body)).await,
                None => source.decode(&entry(v, &f.body)),
            };
            assert!(
                decoded.is_err(),
                "a webhook naming the shop {other} was accepted and decoded: {decoded:?}"
            );
        }
    }
    // The body names another shop while the headers name ours.
    if let Some((topic, body)) = kit.body_for_shop(&other) {
        let r = deliver(kit, h.as_ref(), &topic, &kit.shop(), &body).await;
        assert!(
            r.is_err(),
            "a body naming the shop {other} under our shop's headers decoded: {r:?}"
        );
    }
}

pub async fn ids_survive_as_text<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let (topic, body, ids) = kit.big_ids();
    let events = deliver(kit, h.as_ref(), &topic, &kit.shop(), &body)
        .await
        .unwrap_or_else(|e| panic!("big ids under {topic}: {e}"));
    let text = serde_json::to_string(&events).unwrap();
    for id in ids {
        assert!(
            text.contains(&format!("\"{id}\"")),
            "the id {id} did not survive as text: {text}"
        );
    }
}

pub async fn money_in_minor_units<K: PlatformKit>(kit: &K) {
    let h = kit.hydrator().await;
    let cases = kit.money();
    let exps: std::collections::BTreeSet<u32> = cases
        .iter()
        .map(|(_, _, m)| crate::money::currency_exponent(&m.currency))
        .collect();
    assert!(
        exps.contains(&0) && exps.contains(&2) && exps.contains(&3),
        "the kit needs 0-, 2- and 3-decimal currencies, has exponents {exps:?}"
    );
    for (topic, body, want) in cases {
        let events = deliver(kit, h.as_ref(), &topic, &kit.shop(), &body)
            .await
            .unwrap_or_else(|e| panic!("money in {}: {e}", want.currency));
        let total = events.iter().find_map(|e| match e {
            PlatformEvent::OrderCreated { order }
            | PlatformEvent::OrderPaid { order }
            | PlatformEvent::OrderUpdated { order }
            | PlatformEvent::OrderCancelled { order } => order.total.clone(),
            _ => None,
        });
        assert_eq!(
            total.as_ref(),
            Some(&want),
            "the order total in {}",
            want.currency
        );
    }
}

pub async fn every_status_maps<K: PlatformKit>(kit: &K) {
    let statuses = kit.statuses();
    assert!(
        !statuses.is_empty(),
        "the kit needs the platform's statuses"
    );
    for (raw, want) in statuses {
        assert_eq!(kit.map_status(&raw), want, "status {raw}");
    }
    let raw = "a-status-no-version-documents";
    assert_eq!(
        kit.map_status(raw),
        ShipmentStatus::Unknown(raw.into()),
        "an unknown status keeps its raw value"
    );
}

fn kit_pages() -> Vec<Vec<KitOrder>> {
    let base: DateTime<Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
    (0..3)
        .map(|p| {
            (0..2)
                .map(|i| {
                    let n = p * 2 + i;
                    KitOrder {
                        id: if n == 5 {
                            u64::MAX.to_string()
                        } else {
                            (1001 + n).to_string()
                        },
                        updated_at: base + chrono::Duration::minutes(n as i64),
                    }
                })
                .collect()
        })
        .collect()
}

pub async fn updated_since_pages_in_order_and_resumes<K: PlatformKit>(kit: &K) {
    let pages = kit_pages();
    let want: Vec<String> = pages.iter().flatten().map(|o| o.id.clone()).collect();
    let since: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();

    let api = kit.orders_api(pages.clone(), None).await;
    let got: Vec<String> = api
        .updated_since(since)
        .map(|o| o.map(|o| o.id.as_str().to_owned()))
        .collect::<Vec<Result<String, Error>>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("paging failed: {e}"));
    assert_eq!(got, want, "every page, in order");

    // Page 2 fails once: the pass either retries it or ends with the error (never fewer
    // orders silently); a second pass gets everything.
    let api = kit.orders_api(pages, Some(2)).await;
    let first: Vec<Result<String, Error>> = api
        .updated_since(since)
        .map(|o| o.map(|o| o.id.as_str().to_owned()))
        .collect()
        .await;
    let complete = first.iter().all(Result::is_ok);
    if complete {
        let ids: Vec<String> = first.into_iter().map(Result::unwrap).collect();
        assert_eq!(ids, want, "a retried page keeps every order, in order");
    } else {
        assert!(
            matches!(first.last(), Some(Err(_))),
            "an API error ends the pass with the error"
        );
        let again: Vec<String> = api
            .updated_since(since)
            .map(|o| o.map(|o| o.id.as_str().to_owned()))
            .collect::<Vec<Result<String, Error>>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("the second pass failed: {e}"));
        assert_eq!(again, want, "the pass after an error gets everything");
    }
}

pub async fn rate_limits_are_honoured<K: PlatformKit>(kit: &K) {
    let (api, probe) = kit.rate_limited_api().await;
    let since: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let n = api
        .updated_since(since)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .filter(Result::is_ok)
        .count();
    assert!(n > 0, "the rate-limited stand-in served no orders");
    let p = probe.lock().unwrap().clone();
    check_quota(&p);
    let (at, wait) = p.throttled.expect("the stand-in answered a 429");
    let next = p.arrivals.iter().find(|t| **t > at);
    if let Some(next) = next {
        assert!(
            next.duration_since(at) >= wait,
            "the request after a 429 came {:?} later, the platform asked for {wait:?}",
            next.duration_since(at)
        );
    }
}

/// The quota part of [`rate_limits_are_honoured`]: no window holds more requests than the
/// quota, and with a cost bucket no stretch of arrivals asks for more points than the
/// bucket allows.
fn check_quota(p: &RateProbe) {
    assert!(
        p.quota > 0 && !p.window.is_zero(),
        "the probe names its quota"
    );
    if let Some(b) = p.bucket {
        assert_eq!(
            p.costs.len(),
            p.arrivals.len(),
            "the probe names the cost of every arrival"
        );
        for (i, start) in p.arrivals.iter().enumerate() {
            let mut asked = 0.0;
            for (t, cost) in p.arrivals[i..].iter().zip(&p.costs[i..]) {
                asked += cost;
                let allowed = b.size + b.restore_per_sec * t.duration_since(*start).as_secs_f64();
                assert!(
                    asked <= allowed + 1e-6,
                    "{asked} points asked for within {:?}, the bucket allows {allowed}",
                    t.duration_since(*start)
                );
            }
        }
    }
    if !p.window_starts.is_empty() {
        // A fixed-window quota (BigCommerce's store-wide quota per 30 s): each window the
        // stand-in opened holds at most the quota, counted as the platform counts.
        let mut starts = p.window_starts.clone();
        starts.sort();
        for (i, start) in starts.iter().enumerate() {
            let end = starts.get(i + 1);
            let inside = p
                .arrivals
                .iter()
                .filter(|t| *t >= start && end.is_none_or(|e| *t < e))
                .count();
            assert!(
                inside <= p.quota as usize,
                "{inside} requests in the platform's window opened at arrival {i}, quota {}",
                p.quota
            );
        }
        return;
    }
    // No window of the platform's length holds more requests than its quota.
    for (i, start) in p.arrivals.iter().enumerate() {
        let inside = p.arrivals[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < p.window)
            .count();
        assert!(
            inside <= p.quota as usize,
            "{inside} requests within one {:?} window, quota {}",
            p.window,
            p.quota
        );
    }
}

pub async fn annotations_are_idempotent<K: PlatformKit>(kit: &K) {
    let (a, writes) = kit.annotator().await;
    let order = crate::model::OrderId::from("1001");
    let tags = vec!["aftercare-detractor".to_owned()];
    a.add_order_tags(&order, &tags).await.unwrap();
    a.add_order_tags(&order, &tags).await.unwrap();
    let after_tags = writes();
    a.append_order_note(&order, "NPS 3: late delivery")
        .await
        .unwrap();
    a.append_order_note(&order, "NPS 3: late delivery")
        .await
        .unwrap();
    let after_notes = writes();
    assert_eq!(after_tags, 1, "the same tag added twice is written once");
    assert_eq!(
        after_notes, 2,
        "the same note appended twice is written once"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shopify-like: 20 points restoring 40/s, requests of 4 points; the honest count bound
    /// for a 1 s window is (20 + 40) / 4 = 15.
    fn probe(arrivals: Vec<tokio::time::Instant>) -> RateProbe {
        RateProbe {
            costs: vec![4.0; arrivals.len()],
            arrivals,
            quota: 15,
            window: Duration::from_secs(1),
            throttled: None,
            bucket: None,
            window_starts: Vec::new(),
        }
    }

    /// A fixed-window quota of 3: a whole quota just before a reset and another just after
    /// is what the platform allows; 4 in one of its windows is not.
    #[test]
    fn fixed_windows_count_as_the_platform_counts() {
        let t0 = tokio::time::Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut p = RateProbe {
            arrivals: vec![ms(900), ms(950), ms(990), ms(1010), ms(1020), ms(1030)],
            quota: 3,
            window: Duration::from_secs(1),
            window_starts: vec![ms(0), ms(1000)],
            ..RateProbe::default()
        };
        check_quota(&p);
        p.arrivals.push(ms(1040));
        assert!(std::panic::catch_unwind(|| check_quota(&p)).is_err());
        // Without the windows, the sliding check refuses the first set already.
        let sliding = RateProbe {
            window_starts: Vec::new(),
            arrivals: vec![ms(900), ms(950), ms(990), ms(1010)],
            ..p
        };
        assert!(std::panic::catch_unwind(|| check_quota(&sliding)).is_err());
    }

    #[test]
    fn a_burst_above_the_bucket_passes_the_count_but_not_the_bucket() {
        let t0 = tokio::time::Instant::now();
        // 15 requests at once ask for 60 points from a bucket of 20: the platform refuses
        // 10 of them, yet 15 is within the count bound of the window.
        let mut p = probe(vec![t0; 15]);
        check_quota(&p);
        p.bucket = Some(CostBucket {
            size: 20.0,
            restore_per_sec: 40.0,
        });
        let r = std::panic::catch_unwind(|| check_quota(&p));
        assert!(
            r.is_err(),
            "the bucket check lets a burst of 60 points through"
        );
    }

    #[test]
    fn requests_paced_to_the_bucket_pass() {
        let t0 = tokio::time::Instant::now();
        // Five at once (20 points), then one every 100 ms (4 points restored each time).
        let mut at: Vec<_> = vec![t0; 5];
        at.extend((1..=10).map(|i| t0 + Duration::from_millis(100 * i)));
        let mut p = probe(at);
        p.bucket = Some(CostBucket {
            size: 20.0,
            restore_per_sec: 40.0,
        });
        check_quota(&p);
        // One more at the 1 s mark would ask for 4 points the bucket has not restored yet.
        p.arrivals.push(t0 + Duration::from_millis(1000));
        p.costs.push(4.0);
        assert!(std::panic::catch_unwind(|| check_quota(&p)).is_err());
    }
}
