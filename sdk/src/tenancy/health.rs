//! Per-shop health as figures and as Prometheus text: webhooks dead-lettered, messages dead,
//! uncertain and waiting, and whether the shop still has its access token.

use std::fmt::Write as _;

use super::scope::{ACCESS_TOKEN, ShopScope};
use crate::Error;
use crate::model::ShopId;
use crate::store::{Inbox as _, Outbox as _, OutboxStatus};

/// Counts are capped at this many per figure (a health view, not an inventory).
pub const HEALTH_CAP: u32 = 10_000;

/// One shop's health.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShopHealth {
    /// Webhooks that could not be processed (dead letters).
    pub webhook_dead_letters: u32,
    /// Messages dead-lettered (provider refused them for good, or retries ran out).
    pub messages_dead: u32,
    /// Messages whose send may or may not have happened, not yet resolved.
    pub messages_uncertain: u32,
    /// Messages waiting to be sent.
    pub messages_pending: u32,
    /// Whether the shop has a platform access token (an uninstall or revocation drops it).
    pub has_access_token: bool,
}

impl ShopHealth {
    /// The shop's health from its store.
    pub async fn of(scope: &ShopScope) -> Result<Self, Error> {
        let store = scope.store();
        let count = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(Self {
            webhook_dead_letters: count(store.dead_letters(HEALTH_CAP).await?.len()),
            messages_dead: count(store.outbox_in(OutboxStatus::Dead, HEALTH_CAP).await?.len()),
            messages_uncertain: count(
                store
                    .outbox_in(OutboxStatus::Uncertain, HEALTH_CAP)
                    .await?
                    .len(),
            ),
            messages_pending: count(
                store
                    .outbox_in(OutboxStatus::Pending, HEALTH_CAP)
                    .await?
                    .len(),
            ),
            has_access_token: scope.secret(ACCESS_TOKEN).is_some(),
        })
    }
}

/// A label value escaped as the Prometheus text format requires (`\\`, `\"`, `\n`).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The shops' health in the Prometheus text exposition format (version 0.0.4), one gauge
/// family per figure, labelled by shop.
pub fn prometheus(shops: &[(ShopId, ShopHealth)]) -> String {
    type Get = fn(&ShopHealth) -> u32;
    let families: [(&str, &str, Get); 5] = [
        (
            "aftercare_shop_webhook_dead_letters",
            "Webhooks that could not be processed.",
            |h| h.webhook_dead_letters,
        ),
        (
            "aftercare_shop_messages_dead",
            "Messages dead-lettered.",
            |h| h.messages_dead,
        ),
        (
            "aftercare_shop_messages_uncertain",
            "Messages that may have been sent, not yet resolved.",
            |h| h.messages_uncertain,
        ),
        (
            "aftercare_shop_messages_pending",
            "Messages waiting to be sent.",
            |h| h.messages_pending,
        ),
        (
            "aftercare_shop_access_token_present",
            "1 when the shop has a platform access token (0: uninstalled or revoked).",
            |h| u32::from(h.has_access_token),
        ),
    ];
    let mut out = String::new();
    for (name, help, get) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (shop, h) in shops {
            let _ = writeln!(
                out,
                "{name}{{shop=\"{}\"}} {}",
                label(shop.as_str()),
                get(h)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_is_labelled_by_shop_and_escaped() {
        let h = ShopHealth {
            webhook_dead_letters: 2,
            messages_pending: 7,
            has_access_token: true,
            ..Default::default()
        };
        let text = prometheus(&[
            (ShopId::new("a.myshopify.com"), h.clone()),
            (ShopId::new("we\"ird\\\nshop"), ShopHealth::default()),
        ]);
        assert!(text.contains("# TYPE aftercare_shop_webhook_dead_letters gauge\n"));
        assert!(text.contains("aftercare_shop_webhook_dead_letters{shop=\"a.myshopify.com\"} 2\n"));
        assert!(text.contains("aftercare_shop_messages_pending{shop=\"a.myshopify.com\"} 7\n"));
        assert!(text.contains("aftercare_shop_access_token_present{shop=\"a.myshopify.com\"} 1\n"));
        assert!(
            text.contains("aftercare_shop_access_token_present{shop=\"we\\\"ird\\\\\\nshop\"} 0\n")
        );
        // Every sample line is `name{labels} value`: one line per shop and family.
        let samples = text.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(samples, 10);
    }
}
