//! `[tracking_source]`: a carrier-tracking service the shop's shipments are registered with,
//! and its checks.

use super::*;

/// The carrier-tracking service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TrackingService {
    /// AfterShip Tracking (`webhook_secrets`: the account's webhook secret).
    Aftership,
    /// EasyPost Trackers (`webhook_secrets`: the webhook's `webhook_secret`).
    Easypost,
    /// 17TRACK (`webhook_secrets`: the security key of the webhook settings).
    #[serde(rename = "17track")]
    SeventeenTrack,
    /// Shippo Tracking (`webhook_secrets`: the `token` put in the webhook URL).
    Shippo,
}

impl TrackingService {
    /// The webhook source's name (`/webhooks/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            TrackingService::Aftership => "aftership",
            TrackingService::Easypost => "easypost",
            TrackingService::SeventeenTrack => "17track",
            TrackingService::Shippo => "shippo",
        }
    }
}

/// 17TRACK's `sign` scheme (unconfirmed; see the adapter's README).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SeventeenTrackSign {
    /// Hex SHA-256 of `body + "/" + key` (the default).
    #[default]
    Sha256BodySlashKey,
    /// Hex HMAC-SHA256 of the body.
    HmacSha256Hex,
}

/// A carrier-tracking service: shipments the shop creates are registered with it, its
/// webhooks (at `/webhooks/{service}`) tell the carrier's steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingSourceConfig {
    /// `aftership`, `easypost`, `17track` or `shippo`.
    pub service: TrackingService,
    /// The API key (AfterShip `as-api-key`, EasyPost key, 17TRACK `17token`, Shippo token).
    pub api_key: SecretRef,
    /// What authenticates its webhooks (see [`TrackingService`]); several during a rotation.
    pub webhook_secrets: Vec<SecretRef>,
    /// Register every shipment the shop creates: on unless `false` (then only numbers
    /// registered before, by an earlier run, are followed).
    #[serde(default = "super::woocommerce::yes")]
    pub register: bool,
    /// Tracking stops this many days after registration without a delivery (60).
    #[serde(default = "default_stop_days")]
    #[schemars(range(min = 1))]
    pub stop_after_days: u32,
    /// 17TRACK only: how its `sign` header is computed.
    #[serde(default)]
    pub sign_scheme: Option<SeventeenTrackSign>,
    /// Sends API requests to this base URL instead of the service's (a proxy or a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

fn default_stop_days() -> u32 {
    60
}

pub(super) fn semantic_tracking_source(
    t: &TrackingSourceConfig,
    report: &mut dyn FnMut(&str, String),
) {
    secret_ok(&t.api_key, "tracking_source.api_key", report);
    if t.webhook_secrets.is_empty() {
        report(
            "tracking_source.webhook_secrets",
            format!(
                "at least one is needed: {} webhooks are refused without it",
                t.service.name()
            ),
        );
    }
    for (i, s) in t.webhook_secrets.iter().enumerate() {
        secret_ok(s, &format!("tracking_source.webhook_secrets[{i}]"), report);
    }
    if t.stop_after_days == 0 {
        report("tracking_source.stop_after_days", "at least 1 day".into());
    }
    if t.sign_scheme.is_some() && t.service != TrackingService::SeventeenTrack {
        report(
            "tracking_source.sign_scheme",
            "only 17TRACK has a choice of signature scheme".into(),
        );
    }
    if let Some(u) = &t.api_base_url
        && let Err(e) = http_url(u)
    {
        report("tracking_source.api_base_url", e);
    }
}
