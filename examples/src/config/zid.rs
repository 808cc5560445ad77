//! `[zid]`: the Zid store and app, and its checks.

use super::*;

/// A Zid store and the app installed on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZidConfig {
    /// The store id; orders naming another are refused.
    pub store_id: String,
    /// The shop's name as customers know it (in messages and pages); the store id if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The webhook source's name, the secret part of the webhook URL
    /// (`/webhooks/{source_name}`): Zid signs nothing, so make it unguessable
    /// (`zid-` and 16 or more random letters or digits).
    pub source_name: String,
    /// The username the webhooks were created with (HTTP Basic).
    pub webhook_username: String,
    /// Their password (the current one first while rotating).
    pub webhook_passwords: Vec<SecretRef>,
    /// The app's partner token (`Authorization: Bearer …`).
    pub partner_token: SecretRef,
    /// The store's manager token from the app's install (`X-Manager-Token`), stored on the
    /// first start; refreshed tokens replace it from then on.
    pub manager_token: SecretRef,
    /// Its refresh token.
    pub refresh_token: SecretRef,
    /// The app's OAuth client id.
    pub client_id: String,
    /// The app's OAuth client secret.
    pub client_secret: SecretRef,
    /// The key sealing the store's tokens at rest: 32 bytes in base64.
    pub token_key: SecretRef,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// The locale of customers who name none (`ar` unless set).
    #[serde(default = "arabic")]
    pub default_locale: String,
    /// Catch-up polling of orders (Zid's webhooks carry only Basic credentials): on unless
    /// `false`.
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// Seconds between catch-up polls (300 by default).
    #[serde(default = "default_poll_secs")]
    #[schemars(range(min = 10))]
    pub poll_interval_secs: u64,
    /// Sends API requests to this base URL instead of `https://api.zid.sa/v1/`.
    #[serde(default)]
    pub api_base_url: Option<String>,
}

pub(super) fn semantic_zid(z: &ZidConfig, report: &mut dyn FnMut(&str, String)) {
    if z.store_id.trim().is_empty() {
        report("zid.store_id", "the Zid store id is empty".into());
    }
    let secret_part = z.source_name.strip_prefix("zid-").unwrap_or("");
    if secret_part.len() < 16 || !secret_part.bytes().all(|b| b.is_ascii_alphanumeric()) {
        report(
            "zid.source_name",
            "Zid signs nothing: the webhook URL must be secret — `zid-` and 16 or more random \
             letters or digits"
                .into(),
        );
    }
    if z.webhook_username.is_empty() || z.webhook_username.contains(':') {
        report(
            "zid.webhook_username",
            "a username without `:` is needed".into(),
        );
    }
    if z.webhook_passwords.is_empty() {
        report(
            "zid.webhook_passwords",
            "at least one webhook password is needed".into(),
        );
    }
    for (i, r) in z.webhook_passwords.iter().enumerate() {
        secret_ok(r, &format!("zid.webhook_passwords[{i}]"), report);
    }
    for (r, path) in [
        (&z.partner_token, "zid.partner_token"),
        (&z.manager_token, "zid.manager_token"),
        (&z.refresh_token, "zid.refresh_token"),
        (&z.client_secret, "zid.client_secret"),
        (&z.token_key, "zid.token_key"),
        (&z.tracking_link_key, "zid.tracking_link_key"),
    ] {
        secret_ok(r, path, report);
    }
    if let Ok(k) = z.token_key.resolve()
        && let Err(e) = aftercare::platform::token::TokenCipher::from_base64(
            &String::from_utf8_lossy(k.expose()),
        )
    {
        report("zid.token_key", e.to_string());
    }
    if z.poll_interval_secs < 10 {
        report(
            "zid.poll_interval_secs",
            "poll at most every 10 seconds".into(),
        );
    }
    if let Some(u) = &z.api_base_url
        && let Err(e) = http_url(u)
    {
        report("zid.api_base_url", e);
    }
}
