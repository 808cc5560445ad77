//! `[woocommerce]`: the WooCommerce site, and its checks.

use super::*;

/// A WooCommerce site: its REST API key, webhook secrets and catch-up polling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WooCommerceConfig {
    /// The site's home URL (`https://shop.example/`); webhooks naming another are refused.
    pub site: String,
    /// The shop's name as customers know it (in messages and pages); the site if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// REST API consumer key (`ck_...`; *WooCommerce → Settings → Advanced → REST API*,
    /// read/write for the order notes and tags).
    pub consumer_key: SecretRef,
    /// REST API consumer secret (`cs_...`).
    pub consumer_secret: SecretRef,
    /// The webhooks' secrets (each WooCommerce webhook has its own; old and new during a
    /// rotation).
    pub webhook_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// Catch-up polling of orders modified since the last poll (WooCommerce never retries a
    /// failed webhook and disables one after five failures): on unless `false`.
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// Seconds between catch-up polls (300 by default).
    #[serde(default = "default_poll_secs")]
    #[schemars(range(min = 10))]
    pub poll_interval_secs: u64,
    /// Sends REST API requests to this base URL instead of the site (a proxy or a test
    /// double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

pub(super) fn yes() -> bool {
    true
}

pub(super) fn default_poll_secs() -> u64 {
    300
}

pub(super) fn semantic_woocommerce(w: &WooCommerceConfig, report: &mut dyn FnMut(&str, String)) {
    if let Err(e) = aftercare_woocommerce::WooConfig::new(&w.site, "-", "-") {
        report("woocommerce.site", e.to_string());
    }
    secret_ok(&w.consumer_key, "woocommerce.consumer_key", report);
    secret_ok(&w.consumer_secret, "woocommerce.consumer_secret", report);
    if w.webhook_secrets.is_empty() {
        report(
            "woocommerce.webhook_secrets",
            "at least one webhook secret is needed to verify webhooks".into(),
        );
    }
    for (i, s) in w.webhook_secrets.iter().enumerate() {
        secret_ok(s, &format!("woocommerce.webhook_secrets[{i}]"), report);
    }
    secret_ok(
        &w.tracking_link_key,
        "woocommerce.tracking_link_key",
        report,
    );
    if w.poll_interval_secs < 10 {
        report(
            "woocommerce.poll_interval_secs",
            "poll at most every 10 seconds".into(),
        );
    }
    if let Some(u) = &w.api_base_url
        && let Err(e) = http_url(u)
    {
        report("woocommerce.api_base_url", e);
    }
}
