//! `[ikas]`: the ikas store and app, and its checks.

use super::*;

/// An ikas store and (private) app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IkasStoreConfig {
    /// The store's name (`{store_name}.myikas.com`), for the token endpoint.
    pub store_name: String,
    /// The merchant id webhooks name (`merchantId`); others are refused.
    pub merchant_id: String,
    /// The shop's name as customers know it (in messages and pages); the store name if
    /// unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secrets: the first fetches tokens; all verify webhooks (the current
    /// one first during a rotation).
    pub client_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// The store's language for orders whose customer names none (`tr` by default).
    #[serde(default)]
    pub locale: Option<String>,
    /// Catch-up polling (ikas sends no package webhook and drops a webhook after 3
    /// attempts): on unless `false`.
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// Seconds between catch-up polls (300 by default).
    #[serde(default = "default_poll_secs")]
    #[schemars(range(min = 10))]
    pub poll_interval_secs: u64,
    /// The Admin GraphQL URL (`https://api.myikas.com/api/v2/admin/graphql`, a proxy or a
    /// test double) instead of the v1 one.
    #[serde(default)]
    pub graphql_url: Option<String>,
}

pub(super) fn semantic_ikas(k: &IkasStoreConfig, report: &mut dyn FnMut(&str, String)) {
    if k.store_name.is_empty()
        || !k
            .store_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        report(
            "ikas.store_name",
            format!(
                "`{}` is not a store name; use the part before .myikas.com",
                k.store_name
            ),
        );
    }
    if k.merchant_id.trim().is_empty() {
        report(
            "ikas.merchant_id",
            "the merchant id is needed to bind webhooks".into(),
        );
    }
    if k.client_id.trim().is_empty() {
        report(
            "ikas.client_id",
            "the app's client id is needed for tokens".into(),
        );
    }
    if k.client_secrets.is_empty() {
        report(
            "ikas.client_secrets",
            "at least one client secret is needed".into(),
        );
    }
    for (i, s) in k.client_secrets.iter().enumerate() {
        secret_ok(s, &format!("ikas.client_secrets[{i}]"), report);
    }
    secret_ok(&k.tracking_link_key, "ikas.tracking_link_key", report);
    if let Some(u) = &k.graphql_url
        && let Err(e) = http_url(u)
    {
        report("ikas.graphql_url", e);
    }
}
