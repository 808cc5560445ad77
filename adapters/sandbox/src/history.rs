//! A shop's history, simulated: a few hundred customers ordering over several months, with
//! deliveries that are on time or late, exceptions and failed attempts, and survey answers
//! — deterministic from a seed, so the retention report and the dashboard have something
//! to show without accounts, and tests can rely on it.
//!
//! The model (documented, so its effect in the report can be checked): a customer's first
//! order falls uniformly over the period; each delivery is on time (70 %), 1-2 days late
//! (20 %) or 3+ days late (10 %; DHL twice as often), with an exception 4 % and a failed
//! attempt 5 % of the time. After an order, the customer orders again with probability 45 %
//! — 35 % after a 1-2 days late delivery, 18 % after a 3+ days late one, 15 % after an
//! exception — 7 to 66 days later (while the period lasts), up to six orders. Four in ten
//! first orders get an NPS answer, lower after a late delivery.
//!
//! [`SimHistory`] is an [`OrderSource`], so the history comes in the way a real shop's
//! does: through a backfill.

use std::collections::HashMap;

use aftercare::Error;
use aftercare::model::{
    LineItem, Order, OrderId, Shipment, ShipmentEvent, ShipmentStatus, ShopId, SurveyKind,
    SurveyResponse,
};
use aftercare::platform::OrderSource;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, BoxStream, StreamExt as _};

/// A deterministic generator (SplitMix64): the same seed, the same history, on every
/// platform and version.
#[derive(Clone, Debug)]
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// `true` with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

const CARRIERS: [&str; 4] = ["UPS", "DHL", "FedEx", "USPS"];
const PRODUCTS: [&str; 4] = [
    "Barista Espresso Machine",
    "Ethiopia Yirgacheffe Beans 1 kg",
    "Burr Grinder",
    "Milk Frothing Pitcher",
];

/// A simulated history: orders with their shipments, and survey answers.
#[derive(Clone, Debug, Default)]
pub struct SimHistory {
    orders: Vec<Order>,
    shipments: HashMap<OrderId, Vec<Shipment>>,
    answers: Vec<SurveyResponse>,
}

impl SimHistory {
    /// `customers` customers of `shop` whose first orders fall in the `months` months
    /// before `end`, generated from `seed` (see the [module](self) documentation).
    pub fn generate(
        shop: &str,
        seed: u64,
        customers: u32,
        months: u32,
        end: DateTime<Utc>,
    ) -> Self {
        let mut rng = Mix(seed);
        let span = i64::from(months.max(1)) * 30 * 86_400;
        let start = end - Duration::seconds(span);
        let mut h = Self::default();
        let mut number = 5000u64;
        for c in 0..customers {
            let customer = format!("7311220473{:09}", u64::from(c) + 1);
            let mut at = start + Duration::seconds(rng.below(span as u64) as i64);
            let mut first = true;
            for _ in 0..6 {
                if at >= end {
                    break;
                }
                number += 1;
                let id = OrderId::from(format!("59123401{number:011}"));
                let mut o = Order::new(id.clone(), format!("#{number}"));
                o.shop = Some(ShopId::from(shop));
                o.customer_id = Some(customer.as_str().into());
                o.created_at = Some(at);
                o.updated_at = Some(at);
                o.line_items = vec![LineItem::new(
                    PRODUCTS[rng.below(PRODUCTS.len() as u64) as usize],
                    1,
                )];
                let carrier = CARRIERS[rng.below(CARRIERS.len() as u64) as usize];
                let eta = at + Duration::days(3 + rng.below(3) as i64);
                let late_p = if carrier == "DHL" { 0.2 } else { 0.1 };
                let roll = rng.next() as f64 / u64::MAX as f64;
                let late_days = if roll < late_p {
                    3 + rng.below(5) as i64
                } else if roll < late_p + 0.2 {
                    1 + rng.below(2) as i64
                } else {
                    0
                };
                let exception = rng.chance(0.04);
                let failed = rng.chance(0.05);
                let delivered =
                    eta + Duration::days(late_days) - Duration::hours(rng.below(8) as i64);
                let mut s = Shipment::new(
                    format!("40757881{number:06}"),
                    id.clone(),
                    ShipmentStatus::Delivered,
                );
                s.shop = o.shop.clone();
                s.carrier = Some(carrier.to_owned());
                s.estimated_delivery = Some(eta);
                s.created_at = Some(at + Duration::days(1));
                s.updated_at = Some(delivered);
                let mut events = vec![ShipmentEvent::new(
                    ShipmentStatus::InTransit,
                    at + Duration::days(1),
                )];
                if exception {
                    events.push(ShipmentEvent::new(
                        ShipmentStatus::Exception,
                        at + Duration::days(2),
                    ));
                }
                if failed {
                    events.push(ShipmentEvent::new(
                        ShipmentStatus::AttemptedDelivery,
                        delivered - Duration::days(1),
                    ));
                }
                events.push(ShipmentEvent::new(ShipmentStatus::Delivered, delivered));
                s.events = events;
                if first && rng.chance(0.4) {
                    let score = if late_days >= 1 || exception {
                        2 + rng.below(7) as u8
                    } else {
                        6 + rng.below(5) as u8
                    };
                    h.answers.push({
                        let mut response = SurveyResponse::new(
                            format!("hist-{number}"),
                            SurveyKind::Nps,
                            id.clone(),
                            score,
                            "web",
                            delivered + Duration::days(2),
                        );
                        response.customer_id = o.customer_id.clone();
                        response
                    });
                }
                h.orders.push(o);
                h.shipments.insert(id, vec![s]);
                let again = if exception {
                    0.15
                } else if late_days >= 3 {
                    0.18
                } else if late_days >= 1 {
                    0.35
                } else {
                    0.45
                };
                if !rng.chance(again) {
                    break;
                }
                at += Duration::days(7 + rng.below(60) as i64);
                first = false;
            }
        }
        h.orders.sort_by_key(|o| o.updated_at);
        h
    }

    /// Every order, oldest first.
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// The survey answers given.
    pub fn answers(&self) -> &[SurveyResponse] {
        &self.answers
    }
}

#[async_trait]
impl OrderSource for SimHistory {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        Ok(self.orders.iter().find(|o| &o.id == id).cloned())
    }

    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        stream::iter(
            self.orders
                .iter()
                .filter(move |o| o.updated_at.is_some_and(|t| t >= since))
                .cloned()
                .map(Ok),
        )
        .boxed()
    }

    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        Ok(self.shipments.get(order).cloned().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn same_seed_same_history() {
        let end: DateTime<Utc> = "2026-09-01T00:00:00Z".parse().unwrap();
        let a = SimHistory::generate("s", 18, 300, 8, end);
        let b = SimHistory::generate("s", 18, 300, 8, end);
        assert_eq!(a.orders, b.orders);
        assert!(a.orders.len() > 400, "{}", a.orders.len());
        assert!(!a.answers.is_empty());
        assert_ne!(a.orders, SimHistory::generate("s", 19, 300, 8, end).orders);
    }

    /// Backfilled into the retention store, the history shows what the model puts in:
    /// customers whose first delivery was 3+ days late re-order less than those on time.
    #[test]
    fn backfilled_the_report_shows_the_lateness_effect() {
        use aftercare::retention::{
            MemoryRetention, RetentionRecorder, RetentionReport, RetentionSettings, RetentionStore,
        };
        let end: DateTime<Utc> = "2026-09-01T00:00:00Z".parse().unwrap();
        let h = SimHistory::generate("s", 18, 400, 8, end);
        let store = std::sync::Arc::new(MemoryRetention::new());
        let rec = RetentionRecorder::new(store.clone());
        let shop = Some(ShopId::from("s"));
        let r = futures::executor::block_on(async {
            let n = rec.backfill(&h, end - Duration::days(400)).await.unwrap();
            assert_eq!(n, h.orders.len() as u64);
            assert_eq!(
                rec.backfill(&h, end - Duration::days(400)).await.unwrap(),
                0
            );
            RetentionReport::build(
                &store.retention_customers(shop.as_ref()).await.unwrap(),
                &store.interval_histogram(shop.as_ref()).await.unwrap(),
                &RetentionSettings::default(),
                end,
            )
        });
        let late = r.breakdowns["lateness"]["3+ days late"].measured().copied();
        let on_time = r.breakdowns["lateness"]["on time"].measured().copied();
        assert!(
            late.unwrap().p < on_time.unwrap().p,
            "{:?} vs {:?}",
            late,
            on_time
        );
        assert!(r.churn.is_some());
        assert!(r.cohorts.len() >= 6);
    }
}
