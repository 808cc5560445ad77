//! `[magento]`: the Magento 2 / Adobe Commerce store, and its checks.

use super::*;

/// A Magento 2 / Adobe Commerce store: its REST API credentials, the Adobe Commerce
/// webhooks' public keys, and catch-up polling (the main source: Magento Open Source sends
/// no webhooks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MagentoStoreConfig {
    /// The store's base URL (`https://shop.example/`).
    pub base_url: String,
    /// The shop's name as customers know it (in messages and pages); the base URL if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The integration's consumer key (*System → Extensions → Integrations*); with the
    /// consumer secret, access token and access token secret, requests are signed with
    /// OAuth 1.0a (works on every version).
    #[serde(default)]
    pub consumer_key: Option<SecretRef>,
    /// The integration's consumer secret.
    #[serde(default)]
    pub consumer_secret: Option<SecretRef>,
    /// The integration's access token.
    #[serde(default)]
    pub access_token: Option<SecretRef>,
    /// The integration's access token secret.
    #[serde(default)]
    pub access_token_secret: Option<SecretRef>,
    /// Instead of the four above: a bearer token (an admin token, or an integration's
    /// access token where the store allows it as a standalone bearer token).
    #[serde(default)]
    pub bearer_token: Option<SecretRef>,
    /// The store view code in `rest/{code}/V1` (`default`, `all`); `rest/V1` when unset.
    #[serde(default)]
    pub store_code: Option<String>,
    /// Adobe Commerce webhooks' public keys, PEM (*Stores → Configuration → Adobe Services
    /// → Webhooks*, after *Regenerate key pair*); none: `/webhooks/magento` refuses every
    /// request and catch-up polling alone brings changes.
    #[serde(default)]
    pub webhook_public_keys: Vec<String>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// Catch-up polling of orders updated since the last poll: on unless `false` (only
    /// sensible with webhooks configured).
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// Seconds between catch-up polls (300 by default).
    #[serde(default = "default_poll_secs")]
    #[schemars(range(min = 10))]
    pub poll_interval_secs: u64,
    /// Sends REST API requests to this base URL instead of the store (a proxy or a test
    /// double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

impl MagentoStoreConfig {
    /// The API authentication the section describes.
    pub fn auth(&self) -> Result<aftercare_magento::Auth, aftercare::Error> {
        if let Some(t) = &self.bearer_token {
            return Ok(aftercare_magento::Auth::Bearer(t.resolve()?));
        }
        let get = |s: &Option<SecretRef>| -> Result<aftercare::webhook::Secret, aftercare::Error> {
            match s {
                Some(s) => s.resolve(),
                None => Ok(aftercare::webhook::Secret::from("")),
            }
        };
        Ok(aftercare_magento::Auth::OAuth1(
            aftercare_magento::OAuth1::new(
                get(&self.consumer_key)?,
                get(&self.consumer_secret)?,
                get(&self.access_token)?,
                get(&self.access_token_secret)?,
            ),
        ))
    }
}

pub(super) fn semantic_magento(m: &MagentoStoreConfig, report: &mut dyn FnMut(&str, String)) {
    if let Err(e) = aftercare_magento::StoreUrl::parse(&m.base_url) {
        report("magento.base_url", e.to_string());
    }
    let oauth = [
        ("consumer_key", &m.consumer_key),
        ("consumer_secret", &m.consumer_secret),
        ("access_token", &m.access_token),
        ("access_token_secret", &m.access_token_secret),
    ];
    match &m.bearer_token {
        Some(t) => {
            secret_ok(t, "magento.bearer_token", report);
            if oauth.iter().any(|(_, s)| s.is_some()) {
                report(
                    "magento.bearer_token",
                    "set either the bearer token or the integration's four OAuth credentials, not both".into(),
                );
            }
        }
        None => {
            for (name, s) in oauth {
                match s {
                    Some(s) => secret_ok(s, &format!("magento.{name}"), report),
                    None => report(
                        &format!("magento.{name}"),
                        "the integration's consumer key and secret and access token and secret are all needed (or a bearer_token)".into(),
                    ),
                }
            }
        }
    }
    for (i, k) in m.webhook_public_keys.iter().enumerate() {
        if let Err(e) = aftercare_magento::PublicKey::from_pem(k) {
            report(&format!("magento.webhook_public_keys[{i}]"), e.to_string());
        }
    }
    if !m.catch_up && m.webhook_public_keys.is_empty() {
        report(
            "magento.catch_up",
            "with catch-up polling off and no webhook key nothing would bring the store's changes"
                .into(),
        );
    }
    secret_ok(&m.tracking_link_key, "magento.tracking_link_key", report);
    if m.poll_interval_secs < 10 {
        report(
            "magento.poll_interval_secs",
            "poll at most every 10 seconds".into(),
        );
    }
    if let Some(u) = &m.api_base_url
        && let Err(e) = http_url(u)
    {
        report("magento.api_base_url", e);
    }
}
