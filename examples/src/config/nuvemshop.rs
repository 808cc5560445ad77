//! `[nuvemshop]`: the Nuvemshop / Tiendanube store and app, and its checks.

use super::*;

/// A Nuvemshop / Tiendanube store and app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NuvemshopStoreConfig {
    /// The store id (the `user_id` of the authorization); notifications from another store
    /// are refused.
    pub store_id: String,
    /// The app's id (`app/uninstalled` names it).
    pub app_id: String,
    /// The shop's name as customers know it (in messages and pages); the store id if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The store's access token (`Authentication: bearer`; it does not expire).
    pub access_token: SecretRef,
    /// The `User-Agent` the API requires: the app's name and a contact
    /// (`MyApp (me@example.com)`).
    pub user_agent: String,
    /// The app's secrets that sign notifications, the current one first.
    pub app_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// Catch-up polling of orders changed since the last poll (Nuvemshop drops a
    /// notification after 14 attempts, and repeated `order/updated` bodies are identical):
    /// on unless `false`.
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// Seconds between catch-up polls (300 by default).
    #[serde(default = "default_poll_secs")]
    #[schemars(range(min = 10))]
    pub poll_interval_secs: u64,
    /// Sends API requests to this base URL (`https://api.nuvemshop.com.br/v1/`, a proxy or
    /// a test double) instead of `https://api.tiendanube.com/v1/`.
    #[serde(default)]
    pub api_base_url: Option<String>,
}

pub(super) fn semantic_nuvemshop(n: &NuvemshopStoreConfig, report: &mut dyn FnMut(&str, String)) {
    if n.store_id.is_empty() || !n.store_id.chars().all(|c| c.is_ascii_digit()) {
        report(
            "nuvemshop.store_id",
            format!(
                "`{}` is not a store id; use the digits of the authorization's user_id",
                n.store_id
            ),
        );
    }
    if n.app_id.trim().is_empty() {
        report(
            "nuvemshop.app_id",
            "the app's id is needed to check app/uninstalled".into(),
        );
    }
    if n.user_agent.trim().is_empty() {
        report(
            "nuvemshop.user_agent",
            "the API refuses requests without a User-Agent; use `YourApp (you@example.com)`".into(),
        );
    }
    secret_ok(&n.access_token, "nuvemshop.access_token", report);
    if n.app_secrets.is_empty() {
        report(
            "nuvemshop.app_secrets",
            "at least one app secret is needed to verify notifications".into(),
        );
    }
    for (i, s) in n.app_secrets.iter().enumerate() {
        secret_ok(s, &format!("nuvemshop.app_secrets[{i}]"), report);
    }
    secret_ok(&n.tracking_link_key, "nuvemshop.tracking_link_key", report);
    if let Some(u) = &n.api_base_url
        && let Err(e) = http_url(u)
    {
        report("nuvemshop.api_base_url", e);
    }
}
