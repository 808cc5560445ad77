//! The simulated carrier: scripted milestone sequences played on the shop's clock.

use std::sync::Arc;

use aftercare::model::ShipmentStatus;
use chrono::{DateTime, Duration, Utc};

use crate::SandboxError;
use crate::shop::{SandboxShop, SimEvent};
use crate::webhook::{Delivery, Topic, WebhookSender};

/// A shipment milestone, named as Shopify's `FulfillmentEventStatus`; the REST
/// `shipment_status` is its lowercase snake form ([`Milestone::shopify_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Milestone {
    /// `confirmed`.
    Confirmed,
    /// `label_printed`.
    LabelPrinted,
    /// `label_purchased`.
    LabelPurchased,
    /// `carrier_picked_up`.
    CarrierPickedUp,
    /// `in_transit`.
    InTransit,
    /// `delayed`.
    Delayed,
    /// `out_for_delivery`.
    OutForDelivery,
    /// `attempted_delivery`.
    AttemptedDelivery,
    /// `ready_for_pickup`.
    ReadyForPickup,
    /// `delivered`.
    Delivered,
    /// `failure`: lost, damaged, refused.
    Failure,
}

impl Milestone {
    /// The REST `shipment_status` / fulfillment event `status` text.
    pub fn shopify_status(self) -> &'static str {
        match self {
            Milestone::Confirmed => "confirmed",
            Milestone::LabelPrinted => "label_printed",
            Milestone::LabelPurchased => "label_purchased",
            Milestone::CarrierPickedUp => "carrier_picked_up",
            Milestone::InTransit => "in_transit",
            Milestone::Delayed => "delayed",
            Milestone::OutForDelivery => "out_for_delivery",
            Milestone::AttemptedDelivery => "attempted_delivery",
            Milestone::ReadyForPickup => "ready_for_pickup",
            Milestone::Delivered => "delivered",
            Milestone::Failure => "failure",
        }
    }

    /// The sdk's status for it (what a Shopify decoder should produce).
    pub fn status(self) -> ShipmentStatus {
        ShipmentStatus::parse(self.shopify_status())
    }

    /// A carrier-style message for the event.
    pub fn default_message(self) -> &'static str {
        match self {
            Milestone::Confirmed => "Order information received",
            Milestone::LabelPrinted | Milestone::LabelPurchased => "Shipping label created",
            Milestone::CarrierPickedUp => "Picked up by the carrier",
            Milestone::InTransit => "Departed a sorting facility",
            Milestone::Delayed => "Delayed: severe weather in the area",
            Milestone::OutForDelivery => "Out for delivery",
            Milestone::AttemptedDelivery => "Delivery attempted: recipient not available",
            Milestone::ReadyForPickup => "Ready for pickup at the service point",
            Milestone::Delivered => "Delivered",
            Milestone::Failure => "Package damaged in transit; returning to sender",
        }
    }
}

/// How the webhook of a step is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryPlan {
    /// Once, right away.
    Once,
    /// Twice, the exact same delivery (same body, signature and ids), as a retry would.
    Duplicate,
    /// Held back and delivered right after the webhook of the step with this index: an
    /// out-of-order delivery carrying an older `updated_at`.
    AfterStep(usize),
}

/// One scripted carrier event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// Time since the previous step (since the scenario start for the first).
    pub after: Duration,
    /// The milestone reached.
    pub milestone: Milestone,
    /// The carrier's message (the milestone's default when `None`).
    pub message: Option<String>,
    /// City of the event.
    pub city: Option<String>,
    /// Country of the event.
    pub country: Option<String>,
    /// New delivery estimate, as a time after this step.
    pub estimate_in: Option<Duration>,
    /// How its webhook is delivered.
    pub plan: DeliveryPlan,
}

/// A scripted sequence of carrier events.
///
/// ```
/// use aftercare_sandbox::{CarrierScript, Milestone};
/// let s = CarrierScript::happy_path().duplicate(2).deliver_late(1, 3);
/// assert_eq!(s.steps().len(), 5);
/// assert_eq!(s.steps()[4].milestone, Milestone::Delivered);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CarrierScript {
    steps: Vec<Step>,
}

impl CarrierScript {
    /// An empty script.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a step `after` the previous one.
    pub fn step(mut self, after: Duration, milestone: Milestone) -> Self {
        self.steps.push(Step {
            after,
            milestone,
            message: None,
            city: None,
            country: None,
            estimate_in: None,
            plan: DeliveryPlan::Once,
        });
        self
    }

    /// Sets the message of the last step.
    pub fn message(mut self, text: &str) -> Self {
        if let Some(s) = self.steps.last_mut() {
            s.message = Some(text.to_owned());
        }
        self
    }

    /// Sets the place of the last step.
    pub fn at(mut self, city: &str, country: &str) -> Self {
        if let Some(s) = self.steps.last_mut() {
            s.city = Some(city.to_owned());
            s.country = Some(country.to_owned());
        }
        self
    }

    /// Sets a delivery estimate on the last step, `in_` after it.
    pub fn estimate(mut self, in_: Duration) -> Self {
        if let Some(s) = self.steps.last_mut() {
            s.estimate_in = Some(in_);
        }
        self
    }

    /// Label printed → picked up (+6 h) → in transit (+14 h) → out for delivery (+1 day) →
    /// delivered (+5 h).
    pub fn happy_path() -> Self {
        Self::new()
            .step(Duration::zero(), Milestone::LabelPrinted)
            .estimate(Duration::days(3))
            .step(Duration::hours(6), Milestone::CarrierPickedUp)
            .step(Duration::hours(14), Milestone::InTransit)
            .step(Duration::days(1), Milestone::OutForDelivery)
            .step(Duration::hours(5), Milestone::Delivered)
    }

    /// The happy path with a delay while in transit, and a later estimate.
    pub fn delayed() -> Self {
        Self::new()
            .step(Duration::zero(), Milestone::LabelPrinted)
            .estimate(Duration::days(3))
            .step(Duration::hours(6), Milestone::CarrierPickedUp)
            .step(Duration::hours(14), Milestone::InTransit)
            .step(Duration::days(1), Milestone::Delayed)
            .estimate(Duration::days(3))
            .step(Duration::days(2), Milestone::InTransit)
            .step(Duration::hours(20), Milestone::OutForDelivery)
            .step(Duration::hours(4), Milestone::Delivered)
    }

    /// The parcel is damaged in transit: ends in `failure`.
    pub fn exception() -> Self {
        Self::new()
            .step(Duration::zero(), Milestone::LabelPrinted)
            .step(Duration::hours(6), Milestone::CarrierPickedUp)
            .step(Duration::hours(14), Milestone::InTransit)
            .step(Duration::days(1), Milestone::Failure)
    }

    /// Out for delivery, a failed attempt, then delivered the next day.
    pub fn failed_attempt_then_redelivery() -> Self {
        Self::new()
            .step(Duration::zero(), Milestone::LabelPrinted)
            .step(Duration::hours(6), Milestone::CarrierPickedUp)
            .step(Duration::hours(14), Milestone::InTransit)
            .step(Duration::days(1), Milestone::OutForDelivery)
            .step(Duration::hours(5), Milestone::AttemptedDelivery)
            .step(Duration::hours(19), Milestone::OutForDelivery)
            .step(Duration::hours(4), Milestone::Delivered)
    }

    /// Delivers step `index`'s webhook twice.
    pub fn duplicate(mut self, index: usize) -> Self {
        if let Some(s) = self.steps.get_mut(index) {
            s.plan = DeliveryPlan::Duplicate;
        }
        self
    }

    /// Holds step `index`'s webhook until just after step `after`'s (`after > index`).
    pub fn deliver_late(mut self, index: usize, after: usize) -> Self {
        if after > index
            && after < self.steps.len()
            && let Some(s) = self.steps.get_mut(index)
        {
            s.plan = DeliveryPlan::AfterStep(after);
        }
        self
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// What one step did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StepResult {
    /// The step's index in the script.
    pub index: usize,
    /// The milestone reached.
    pub milestone: Milestone,
    /// The clock time of the step.
    pub at: DateTime<Utc>,
    /// The webhooks to deliver now, in order (none when held, two when duplicated, more when
    /// held ones are released).
    pub deliveries: Vec<Delivery>,
}

/// Plays a [`CarrierScript`] on a fulfillment: advances the shop's clock to each step,
/// records the event in the shop and emits the matching `fulfillments/update` webhook (and,
/// if asked, `fulfillment_events/create`).
#[derive(Debug)]
pub struct Scenario {
    shop: Arc<SandboxShop>,
    sender: WebhookSender,
    fulfillment: u64,
    steps: Vec<Step>,
    next: usize,
    held: Vec<(usize, Vec<Delivery>)>,
    fulfillment_events: bool,
}

impl Scenario {
    /// A scenario for a fulfillment of the shop.
    pub fn new(
        shop: Arc<SandboxShop>,
        sender: WebhookSender,
        fulfillment: u64,
        script: CarrierScript,
    ) -> Self {
        Self {
            shop,
            sender,
            fulfillment,
            steps: script.steps,
            next: 0,
            held: Vec::new(),
            fulfillment_events: false,
        }
    }

    /// Also emits a `fulfillment_events/create` webhook after each `fulfillments/update`.
    pub fn with_fulfillment_events(mut self) -> Self {
        self.fulfillment_events = true;
        self
    }

    /// Whether every step has run.
    pub fn is_done(&self) -> bool {
        self.next >= self.steps.len()
    }

    /// Runs the next step; `None` when the script is over.
    pub fn next_step(&mut self) -> Result<Option<StepResult>, SandboxError> {
        let Some(step) = self.steps.get(self.next).cloned() else {
            return Ok(None);
        };
        let index = self.next;
        self.shop.clock().advance(step.after);
        let now = self.shop.now();
        let mut event = SimEvent::new(step.milestone, now);
        event.message = Some(
            step.message
                .clone()
                .unwrap_or_else(|| step.milestone.default_message().to_owned()),
        );
        event.city = step.city.clone();
        event.country = step.country.clone();
        event.estimated_delivery_at = step.estimate_in.map(|d| now + d);
        let event_id = self.shop.add_event(self.fulfillment, event)?;
        let mut batch = vec![self.sender.fulfillment(
            &self.shop,
            Topic::FulfillmentsUpdate,
            self.fulfillment,
        )?];
        if self.fulfillment_events {
            batch.push(
                self.sender
                    .fulfillment_event(&self.shop, self.fulfillment, event_id)?,
            );
        }
        let mut deliveries = Vec::new();
        match step.plan {
            DeliveryPlan::Once => deliveries.extend(batch),
            DeliveryPlan::Duplicate => {
                deliveries.extend(batch.iter().cloned());
                deliveries.extend(batch);
            }
            DeliveryPlan::AfterStep(j) => self.held.push((j, batch)),
        }
        self.next += 1;
        let last = self.is_done();
        let (release, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(j, _)| *j == index || last);
        self.held = keep;
        for (_, b) in release {
            deliveries.extend(b);
        }
        Ok(Some(StepResult {
            index,
            milestone: step.milestone,
            at: now,
            deliveries,
        }))
    }

    /// Runs every remaining step; returns all deliveries in delivery order.
    pub fn run_to_end(&mut self) -> Result<Vec<Delivery>, SandboxError> {
        let mut out = Vec::new();
        while let Some(r) = self.next_step()? {
            out.extend(r.deliveries);
        }
        Ok(out)
    }

    /// Runs every remaining step, POSTing each delivery to `url` as it is due; returns each
    /// delivery with the HTTP status received.
    pub async fn post_to_end(&mut self, url: &str) -> Result<Vec<(Delivery, u16)>, SandboxError> {
        let mut out = Vec::new();
        while let Some(r) = self.next_step()? {
            for d in r.deliveries {
                let status = self.sender.post(url, &d).await?;
                out.push((d, status));
            }
        }
        Ok(out)
    }
}
