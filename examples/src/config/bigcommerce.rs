//! `[bigcommerce]`: the BigCommerce store and app, and its checks.

use super::*;

/// A BigCommerce store and app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BigCommerceStoreConfig {
    /// The store hash (`abc123` in `https://api.bigcommerce.com/stores/abc123/`); callbacks
    /// from another store are refused.
    pub store_hash: String,
    /// The shop's name as customers know it (in messages and pages); the store hash if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The API account's access token (`X-Auth-Token`).
    pub access_token: SecretRef,
    /// The app's client secrets that sign callbacks, the current one first.
    pub client_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// Sends API requests to this base URL instead of `https://api.bigcommerce.com` (a
    /// proxy or a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

pub(super) fn semantic_bigcommerce(
    b: &BigCommerceStoreConfig,
    report: &mut dyn FnMut(&str, String),
) {
    if b.store_hash.is_empty() || !b.store_hash.chars().all(|c| c.is_ascii_alphanumeric()) {
        report(
            "bigcommerce.store_hash",
            format!(
                "`{}` is not a store hash; use the letters and digits after /stores/ in the API path",
                b.store_hash
            ),
        );
    }
    secret_ok(&b.access_token, "bigcommerce.access_token", report);
    if b.client_secrets.is_empty() {
        report(
            "bigcommerce.client_secrets",
            "at least one client secret is needed to verify callbacks".into(),
        );
    }
    for (i, s) in b.client_secrets.iter().enumerate() {
        secret_ok(s, &format!("bigcommerce.client_secrets[{i}]"), report);
    }
    secret_ok(
        &b.tracking_link_key,
        "bigcommerce.tracking_link_key",
        report,
    );
    if let Some(u) = &b.api_base_url
        && let Err(e) = http_url(u)
    {
        report("bigcommerce.api_base_url", e);
    }
}
