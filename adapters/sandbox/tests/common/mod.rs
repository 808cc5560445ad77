//! Shared setup for the sandbox tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::clock::ManualClock;
use aftercare::webhook::{Scheme, Secret, Verifier};
use aftercare_sandbox::{FulfillmentSpec, SandboxShop, WebhookSender};

pub const SECRET: &str = "shpss_sandbox_app_secret";

pub fn start() -> chrono::DateTime<chrono::Utc> {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

pub fn shop() -> (Arc<ManualClock>, Arc<SandboxShop>) {
    let clock = Arc::new(ManualClock::new(start()));
    let shop = Arc::new(SandboxShop::demo(clock.clone()));
    (clock, shop)
}

pub fn sender() -> WebhookSender {
    WebhookSender::new(Secret::from(SECRET))
}

pub fn verifier(secret: &str) -> Verifier {
    Verifier::new(
        Scheme::hmac_sha256_base64("X-Shopify-Hmac-Sha256"),
        Secret::from(secret),
    )
}

/// An order for the customer with `locale`, shipped with their usual carrier.
pub fn shipped_order(shop: &SandboxShop, locale: &str) -> (u64, u64, u64) {
    let customer = shop.customer_by_locale(locale).unwrap();
    let order = shop
        .place_order(customer, &[("ESP-BAR-01", 1), ("BEAN-ETH-1KG", 2)])
        .unwrap();
    shop.mark_paid(order).unwrap();
    let code = shop
        .customer_record(customer)
        .unwrap()
        .preferred_carrier
        .unwrap();
    let carrier = aftercare::carrier::by_code(&code).unwrap();
    let number = aftercare_sandbox::numbers::for_carrier(&code, order % 1_000_000);
    let f = shop
        .fulfill(order, FulfillmentSpec::new(carrier.name, &number))
        .unwrap();
    (customer, order, f)
}
