//! `[salla]`: the Salla store and app, and its checks.

use super::*;

/// A Salla store and the app installed on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SallaConfig {
    /// The store (merchant) id; webhooks naming another are refused.
    pub merchant: String,
    /// The shop's name as customers know it (in messages and pages); the merchant id if
    /// unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The webhook secrets of the app's `Signature` strategy (recommended; the current one
    /// first). Set this or `webhook_tokens`.
    #[serde(default)]
    pub webhook_secrets: Vec<SecretRef>,
    /// The tokens of the app's `Token` strategy (the `Authorization` value).
    #[serde(default)]
    pub webhook_tokens: Vec<SecretRef>,
    /// Accept webhooks with no authentication (the app's strategy `none`): anyone who finds
    /// the URL can post. Off unless `true`, and only when no secret or token is set.
    #[serde(default)]
    pub allow_unauthenticated_webhooks: bool,
    /// The app's OAuth client id (refreshes the store's tokens).
    pub client_id: String,
    /// The app's OAuth client secret.
    pub client_secret: SecretRef,
    /// The key sealing the store's tokens at rest: 32 bytes in base64
    /// (`openssl rand -base64 32`). Tokens arrive with `app.store.authorize`.
    pub token_key: SecretRef,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// The locale of customers who name none (`ar` unless set).
    #[serde(default = "arabic")]
    pub default_locale: String,
    /// Sends API requests to this base URL instead of `https://api.salla.dev/admin/v2/`
    /// (a proxy or a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

pub(super) fn arabic() -> String {
    "ar".into()
}

pub(super) fn semantic_salla(s: &SallaConfig, report: &mut dyn FnMut(&str, String)) {
    if s.merchant.trim().is_empty() || !s.merchant.trim().bytes().all(|b| b.is_ascii_digit()) {
        report(
            "salla.merchant",
            "the Salla store (merchant) id is a number".into(),
        );
    }
    let strategies = usize::from(!s.webhook_secrets.is_empty())
        + usize::from(!s.webhook_tokens.is_empty())
        + usize::from(s.allow_unauthenticated_webhooks);
    if strategies != 1 {
        report(
            "salla.webhook_secrets",
            "choose one webhook security strategy: webhook_secrets (Signature, recommended), \
             webhook_tokens (Token), or allow_unauthenticated_webhooks = true"
                .into(),
        );
    }
    for (i, r) in s.webhook_secrets.iter().enumerate() {
        secret_ok(r, &format!("salla.webhook_secrets[{i}]"), report);
    }
    for (i, r) in s.webhook_tokens.iter().enumerate() {
        secret_ok(r, &format!("salla.webhook_tokens[{i}]"), report);
    }
    if s.client_id.trim().is_empty() {
        report("salla.client_id", "the app's client id is empty".into());
    }
    secret_ok(&s.client_secret, "salla.client_secret", report);
    secret_ok(&s.token_key, "salla.token_key", report);
    if let Ok(k) = s.token_key.resolve()
        && let Err(e) = aftercare::platform::token::TokenCipher::from_base64(
            &String::from_utf8_lossy(k.expose()),
        )
    {
        report("salla.token_key", e.to_string());
    }
    secret_ok(&s.tracking_link_key, "salla.tracking_link_key", report);
    if let Some(u) = &s.api_base_url
        && let Err(e) = http_url(u)
    {
        report("salla.api_base_url", e);
    }
}
