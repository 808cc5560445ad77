//! Per-shop health as figures and as Prometheus text: webhooks dead-lettered, messages dead,
//! uncertain and waiting, and whether the shop still has its access token (from its store);
//! webhook failures, provider errors and a refused access token (counted by the running
//! deployment in [`ShopCounters`]).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

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
    /// Webhook processing attempts that failed (retried or dead-lettered) since this
    /// instance started ([`ShopCounters`]).
    pub webhook_failures: u32,
    /// Sends a provider refused or failed since this instance started ([`ShopCounters`]).
    pub provider_errors: u32,
    /// Whether the platform refused the shop's access token (HTTP 401) since it was last
    /// accepted ([`ShopCounters`]): expired or revoked, the merchant must reinstall.
    pub token_rejected: bool,
}

/// What a running deployment counts per shop as it works (in memory, per instance): the
/// figures of [`ShopHealth`] that no store row holds.
#[derive(Debug, Default)]
pub struct ShopCounters {
    webhook_failures: AtomicU32,
    provider_errors: AtomicU32,
    token_rejected: AtomicBool,
}

impl ShopCounters {
    /// `n` webhook processing attempts failed (retried or dead-lettered).
    pub fn webhook_failed(&self, n: u32) {
        let _ = self
            .webhook_failures
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(n))
            });
    }

    /// A provider refused or failed a send.
    pub fn provider_error(&self) {
        let _ = self
            .provider_errors
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(1))
            });
    }

    /// The platform answered a call with the token: `accepted` false for a 401.
    pub fn token(&self, accepted: bool) {
        self.token_rejected.store(!accepted, Ordering::Relaxed);
    }

    /// The counts so far, as fields of a [`ShopHealth`].
    pub fn apply(&self, health: ShopHealth) -> ShopHealth {
        ShopHealth {
            webhook_failures: self.webhook_failures.load(Ordering::Relaxed),
            provider_errors: self.provider_errors.load(Ordering::Relaxed),
            token_rejected: self.token_rejected.load(Ordering::Relaxed),
            ..health
        }
    }
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
            ..Self::default()
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
    let families: [(&str, &str, Get); 8] = [
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
        (
            "aftercare_shop_webhook_failures",
            "Webhook processing attempts that failed since the instance started.",
            |h| h.webhook_failures,
        ),
        (
            "aftercare_shop_provider_errors",
            "Sends a provider refused or failed since the instance started.",
            |h| h.provider_errors,
        ),
        (
            "aftercare_shop_token_rejected",
            "1 when the platform refused the shop's access token (expired or revoked).",
            |h| u32::from(h.token_rejected),
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
        assert_eq!(samples, 16);
    }

    #[test]
    fn counters_fill_the_figures_no_store_holds() {
        let c = ShopCounters::default();
        c.webhook_failed(2);
        c.webhook_failed(1);
        c.provider_error();
        c.token(false);
        let h = c.apply(ShopHealth {
            messages_pending: 4,
            ..Default::default()
        });
        assert_eq!(
            (
                h.webhook_failures,
                h.provider_errors,
                h.token_rejected,
                h.messages_pending
            ),
            (3, 1, true, 4)
        );
        c.token(true);
        assert!(!c.apply(ShopHealth::default()).token_rejected);
        let text = prometheus(&[(ShopId::new("a"), h)]);
        assert!(text.contains("aftercare_shop_webhook_failures{shop=\"a\"} 3\n"));
        assert!(text.contains("aftercare_shop_provider_errors{shop=\"a\"} 1\n"));
        assert!(text.contains("aftercare_shop_token_rejected{shop=\"a\"} 1\n"));
    }
}
