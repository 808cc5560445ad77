//! Everything wired together: clock, shop, webhook sender and one channel per kind.

use std::sync::Arc;

use aftercare::channel::MessageChannel;
use aftercare::clock::{Clock, ManualClock};
use aftercare::model::ChannelKind;
use aftercare::webhook::Secret;
use chrono::{DateTime, Utc};

use crate::channel::RecordingChannel;
use crate::scenario::{CarrierScript, Scenario};
use crate::shop::{FulfillmentSpec, SandboxShop};
use crate::webhook::{Delivery, Topic, WebhookSender};
use crate::{SandboxError, numbers};

/// Carriers for which the sandbox, like Shopify, fills in `tracking_url` itself (well-known
/// names from Shopify's supported tracking companies); for the others the platform gives
/// no URL and Aftercare builds the link.
const PLATFORM_LINKED: &[&str] = &[
    "ups",
    "usps",
    "fedex",
    "dhl_express",
    "canada_post",
    "correios",
    "royal_mail",
    "australia_post",
];

/// An order shipped by [`Sandbox::ship`], with the webhooks the shop sent along the way.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Shipped {
    /// The customer.
    pub customer: u64,
    /// The order.
    pub order: u64,
    /// The fulfillment.
    pub fulfillment: u64,
    /// `orders/create`, `orders/paid`, `fulfillments/create`, `orders/fulfilled`, in order.
    pub deliveries: Vec<Delivery>,
}

/// The demo world: a manual clock, the demo shop, a webhook sender and a recording channel
/// per [`ChannelKind`], all sharing the clock.
///
/// ```
/// use aftercare::webhook::Secret;
/// use aftercare_sandbox::{CarrierScript, Sandbox};
///
/// let sb = Sandbox::quiet(Secret::from("shpss_demo"), "2026-03-02T09:00:00Z".parse().unwrap());
/// let shipped = sb.ship("ar-SA").unwrap();
/// assert_eq!(shipped.deliveries.len(), 4);
/// let updates = sb.scenario(shipped.fulfillment, CarrierScript::happy_path()).run_to_end().unwrap();
/// assert_eq!(updates.len(), 5);
/// assert_eq!(sb.channels().len(), 3);
/// ```
#[derive(Debug)]
pub struct Sandbox {
    /// The clock everything runs on.
    pub clock: Arc<ManualClock>,
    /// The demo shop.
    pub shop: Arc<SandboxShop>,
    /// Signs webhooks with the app secret.
    pub sender: WebhookSender,
    /// The WhatsApp channel.
    pub whatsapp: Arc<RecordingChannel>,
    /// The SMS channel.
    pub sms: Arc<RecordingChannel>,
    /// The email channel.
    pub email: Arc<RecordingChannel>,
}

impl Sandbox {
    /// The demo world with channels that print every message to stdout.
    pub fn console(secret: Secret, start: DateTime<Utc>) -> Self {
        Self::build(secret, start, true)
    }

    /// The demo world with channels that only record.
    pub fn quiet(secret: Secret, start: DateTime<Utc>) -> Self {
        Self::build(secret, start, false)
    }

    /// One of many simulated shops: the demo world at `domain` (`*.myshopify.com`), its
    /// webhooks signed with `secret`, channels that only record.
    pub fn shop_at(domain: &str, secret: Secret, start: DateTime<Utc>) -> Self {
        Self::build_at(domain, secret, start, false)
    }

    fn build(secret: Secret, start: DateTime<Utc>, print: bool) -> Self {
        Self::build_at("sandbox-demo.myshopify.com", secret, start, print)
    }

    fn build_at(domain: &str, secret: Secret, start: DateTime<Utc>, print: bool) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        let shop = Arc::new(SandboxShop::demo_at(domain, clock.clone()));
        let channel = |kind| {
            Arc::new(
                RecordingChannel::new(kind)
                    .print(print)
                    .with_clock(clock.clone() as Arc<dyn Clock>),
            )
        };
        Self {
            whatsapp: channel(ChannelKind::Whatsapp),
            sms: channel(ChannelKind::Sms),
            email: channel(ChannelKind::Email),
            sender: WebhookSender::new(secret),
            shop,
            clock,
        }
    }

    /// The three channels, for a dispatcher.
    pub fn channels(&self) -> Vec<Arc<dyn MessageChannel>> {
        vec![
            self.whatsapp.clone() as Arc<dyn MessageChannel>,
            self.sms.clone(),
            self.email.clone(),
        ]
    }

    /// The recording channel of a kind.
    pub fn channel(&self, kind: ChannelKind) -> &Arc<RecordingChannel> {
        match kind {
            ChannelKind::Sms => &self.sms,
            ChannelKind::Email => &self.email,
            _ => &self.whatsapp,
        }
    }

    /// The demo customer with `locale` orders an espresso machine and beans, pays, and the
    /// order ships with the customer's usual carrier and a realistic tracking number (the
    /// tracking URL filled in for the carriers Shopify links itself). Returns the webhooks
    /// sent on the way.
    pub fn ship(&self, locale: &str) -> Result<Shipped, SandboxError> {
        let customer = self
            .shop
            .customer_by_locale(locale)
            .ok_or_else(|| SandboxError::UnknownLocale(locale.to_owned()))?;
        let order = self
            .shop
            .place_order(customer, &[("ESP-BAR-01", 1), ("BEAN-ETH-1KG", 2)])?;
        let mut deliveries = vec![self.sender.order(&self.shop, Topic::OrdersCreate, order)?];
        self.clock.advance(chrono::Duration::minutes(1));
        self.shop.mark_paid(order)?;
        deliveries.push(self.sender.order(&self.shop, Topic::OrdersPaid, order)?);
        self.clock.advance(chrono::Duration::hours(20));
        let code = self
            .shop
            .customer_record(customer)
            .and_then(|c| c.preferred_carrier)
            .unwrap_or_else(|| "ups".to_owned());
        let carrier = aftercare::carrier::by_code(&code).map_or("UPS", |c| c.name);
        let number = numbers::for_carrier(&code, order % 10_000_000);
        let mut spec = FulfillmentSpec::new(carrier, &number);
        if PLATFORM_LINKED.contains(&code.as_str()) {
            spec = spec.with_carrier_url();
        }
        let fulfillment = self.shop.fulfill(order, spec)?;
        deliveries.push(self.sender.fulfillment(
            &self.shop,
            Topic::FulfillmentsCreate,
            fulfillment,
        )?);
        deliveries.push(
            self.sender
                .order(&self.shop, Topic::OrdersFulfilled, order)?,
        );
        Ok(Shipped {
            customer,
            order,
            fulfillment,
            deliveries,
        })
    }

    /// A carrier scenario on one of the shop's fulfillments.
    pub fn scenario(&self, fulfillment: u64, script: CarrierScript) -> Scenario {
        Scenario::new(self.shop.clone(), self.sender.clone(), fulfillment, script)
    }
}
