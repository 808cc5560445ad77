//! Per-shop health as figures and as Prometheus text: webhooks dead-lettered, messages dead,
//! uncertain and waiting, and whether the shop still has its access token (from its store);
//! webhook failures, provider errors and a refused access token (counted by each running
//! instance in [`ShopCounters`], added up in the registry as [`HealthCounts`] by
//! [`Tenancy::flush_health`](super::Tenancy::flush_health), so every instance shows the
//! deployment's figures).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

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
    /// Webhook processing attempts that failed (retried or dead-lettered), every instance
    /// of the deployment together ([`HealthCounts`]).
    pub webhook_failures: u32,
    /// Sends a provider refused or failed, every instance together ([`HealthCounts`]).
    pub provider_errors: u32,
    /// Whether the platform refused the shop's access token (HTTP 401) since it was last
    /// accepted ([`ShopCounters`]): expired or revoked, the merchant must reinstall.
    pub token_rejected: bool,
}

/// A shop's counters as the registry keeps them: the sums of every instance's
/// [`ShopCounters`], and the token state the last instance to hear from the platform saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthCounts {
    /// Webhook processing attempts that failed.
    pub webhook_failures: u64,
    /// Sends a provider refused or failed.
    pub provider_errors: u64,
    /// Whether the platform refused the shop's access token when last asked.
    pub token_rejected: bool,
}

/// What one instance adds to a shop's [`HealthCounts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealthDelta {
    /// Webhook processing attempts that failed since the last flush.
    pub webhook_failures: u32,
    /// Provider errors since the last flush.
    pub provider_errors: u32,
    /// The token state last seen since the last flush (`None`: no call made).
    pub token_rejected: Option<bool>,
}

impl HealthDelta {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.webhook_failures == 0 && self.provider_errors == 0 && self.token_rejected.is_none()
    }
}

impl HealthCounts {
    /// These counts with `delta` added.
    pub fn plus(self, delta: &HealthDelta) -> Self {
        Self {
            webhook_failures: self
                .webhook_failures
                .saturating_add(u64::from(delta.webhook_failures)),
            provider_errors: self
                .provider_errors
                .saturating_add(u64::from(delta.provider_errors)),
            token_rejected: delta.token_rejected.unwrap_or(self.token_rejected),
        }
    }

    /// The counts as fields of a [`ShopHealth`].
    pub fn apply(&self, health: ShopHealth) -> ShopHealth {
        let cap = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        ShopHealth {
            webhook_failures: cap(self.webhook_failures),
            provider_errors: cap(self.provider_errors),
            token_rejected: self.token_rejected,
            ..health
        }
    }
}

const TOKEN_UNSEEN: u8 = 0;
const TOKEN_ACCEPTED: u8 = 1;
const TOKEN_REJECTED: u8 = 2;

/// What a running instance counts per shop as it works, in memory until
/// [`Tenancy::flush_health`](super::Tenancy::flush_health) adds it to the registry's
/// [`HealthCounts`] (a write per flush, not per event: a successful API call is noted on
/// every call).
#[derive(Debug, Default)]
pub struct ShopCounters {
    webhook_failures: AtomicU32,
    provider_errors: AtomicU32,
    token: AtomicU8,
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
        self.token.store(
            if accepted {
                TOKEN_ACCEPTED
            } else {
                TOKEN_REJECTED
            },
            Ordering::Relaxed,
        );
    }

    /// What was counted since the last call, the counters reset.
    pub fn take(&self) -> HealthDelta {
        HealthDelta {
            webhook_failures: self.webhook_failures.swap(0, Ordering::Relaxed),
            provider_errors: self.provider_errors.swap(0, Ordering::Relaxed),
            token_rejected: match self.token.swap(TOKEN_UNSEEN, Ordering::Relaxed) {
                TOKEN_ACCEPTED => Some(false),
                TOKEN_REJECTED => Some(true),
                _ => None,
            },
        }
    }

    /// Puts back a delta whose flush failed (counts added; a newer token state kept).
    pub fn restore(&self, delta: &HealthDelta) {
        self.webhook_failed(delta.webhook_failures);
        let _ = self
            .provider_errors
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(delta.provider_errors))
            });
        if let Some(rejected) = delta.token_rejected {
            let v = if rejected {
                TOKEN_REJECTED
            } else {
                TOKEN_ACCEPTED
            };
            let _ =
                self.token
                    .compare_exchange(TOKEN_UNSEEN, v, Ordering::Relaxed, Ordering::Relaxed);
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
            "Webhook processing attempts that failed (every instance).",
            |h| h.webhook_failures,
        ),
        (
            "aftercare_shop_provider_errors",
            "Sends a provider refused or failed (every instance).",
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
    fn counters_are_taken_as_deltas_and_added_up() {
        let c = ShopCounters::default();
        c.webhook_failed(2);
        c.webhook_failed(1);
        c.provider_error();
        c.token(false);
        let d = c.take();
        assert_eq!(
            (d.webhook_failures, d.provider_errors, d.token_rejected),
            (3, 1, Some(true))
        );
        // Taken: nothing left until the next event.
        assert!(c.take().is_empty());
        // Two instances' deltas add up; the last token state wins.
        let other = HealthDelta {
            webhook_failures: 4,
            provider_errors: 0,
            token_rejected: None,
        };
        let total = HealthCounts::default().plus(&d).plus(&other);
        assert_eq!(
            (
                total.webhook_failures,
                total.provider_errors,
                total.token_rejected
            ),
            (7, 1, true)
        );
        c.token(true);
        let accepted = total.plus(&c.take());
        assert!(!accepted.token_rejected);
        // A failed flush puts its delta back.
        c.provider_error();
        let d = c.take();
        c.restore(&d);
        assert_eq!(c.take().provider_errors, 1);
        let h = total.apply(ShopHealth {
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
            (7, 1, true, 4)
        );
        let text = prometheus(&[(ShopId::new("a"), h)]);
        assert!(text.contains("aftercare_shop_webhook_failures{shop=\"a\"} 7\n"));
        assert!(text.contains("aftercare_shop_provider_errors{shop=\"a\"} 1\n"));
        assert!(text.contains("aftercare_shop_token_rejected{shop=\"a\"} 1\n"));
    }
}
