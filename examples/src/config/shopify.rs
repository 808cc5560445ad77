//! `[shopify]`: the Shopify store and app, and its checks.

use super::*;

/// The Shopify store and app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopifyConfig {
    /// The shop's domain: `your-shop.myshopify.com`.
    pub shop: String,
    /// The shop's name as customers know it (in messages and pages); the domain if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// Admin API version (`YYYY-MM`); the adapter's default if unset.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Admin API access token (`shpat_...`).
    pub access_token: SecretRef,
    /// The app's client secrets that sign webhooks, the current one first (two during a
    /// rotation).
    pub client_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string; changing it
    /// invalidates links already sent).
    pub tracking_link_key: SecretRef,
    /// Orders read per Admin API request when going through history (`backfill`), 1 to 250.
    #[serde(default)]
    #[schemars(range(min = 1, max = 250))]
    pub page_size: Option<u32>,
    /// Sends Admin API requests to this base URL instead of `https://{shop}` (a proxy or a
    /// test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

pub(super) fn semantic_shopify(shopify: &ShopifyConfig, report: &mut dyn FnMut(&str, String)) {
    let shop = &shopify.shop;
    let label = shop.strip_suffix(".myshopify.com");
    if !label
        .is_some_and(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        report(
            "shopify.shop",
            format!(
                "`{shop}` is not a shop domain; use the `your-shop.myshopify.com` domain from the Shopify admin, not the storefront's"
            ),
        );
    }
    if let Some(v) = &shopify.api_version {
        let ok = v.len() == 7
            && v.as_bytes().get(4) == Some(&b'-')
            && v[..4].chars().all(|c| c.is_ascii_digit())
            && v[5..].chars().all(|c| c.is_ascii_digit());
        if !ok {
            report(
                "shopify.api_version",
                format!("`{v}` is not an API version; write it `YYYY-MM` (`2026-10`)"),
            );
        }
    }
    secret_ok(&shopify.access_token, "shopify.access_token", report);
    if shopify.client_secrets.is_empty() {
        report(
            "shopify.client_secrets",
            "at least one client secret is needed to verify webhooks".into(),
        );
    }
    for (i, s) in shopify.client_secrets.iter().enumerate() {
        secret_ok(s, &format!("shopify.client_secrets[{i}]"), report);
    }
    secret_ok(
        &shopify.tracking_link_key,
        "shopify.tracking_link_key",
        report,
    );
    if let Some(u) = &shopify.api_base_url
        && let Err(e) = http_url(u)
    {
        report("shopify.api_base_url", e);
    }
}
