//! Webhook subscriptions (`GET/POST/PUT /v3/hooks`, `webhooks.v3.yml`), kept idempotently:
//! every needed scope has one active hook to the destination, carrying the adapter's custom
//! headers.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::json;

use crate::client::BigCommerceClient;
use crate::error::BigCommerceError;
use crate::payload::{ApiHook, Collection, Single};
use crate::webhooks::{SCOPE_HEADER, STORE_HEADER};

/// The scopes Aftercare uses. `store/order/updated` is left out: it fires on any change,
/// status changes included, which `store/order/statusUpdated` already brings (each callback
/// costs three API requests of the store's shared quota); add it if address or line changes
/// matter to you.
pub const AFTERCARE_SCOPES: &[&str] = &[
    "store/order/created",
    "store/order/statusUpdated",
    "store/order/archived",
    "store/shipment/created",
    "store/shipment/updated",
    "store/customer/created",
    "store/customer/updated",
    "store/app/uninstalled",
];

/// What [`BigCommerceClient::ensure_hooks`] did, scope by scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HookReport {
    /// Hooks created.
    pub created: Vec<String>,
    /// Deactivated hooks (BigCommerce deactivates a hook after ~48 h of failed retries)
    /// set active again.
    pub reactivated: Vec<String>,
    /// Active hooks given the adapter's custom headers.
    pub updated: Vec<String>,
    /// Hooks already as wanted.
    pub unchanged: Vec<String>,
}

impl BigCommerceClient {
    /// Every hook of the app on this store (`GET /v3/hooks`, all pages).
    pub async fn hooks(&self) -> Result<Vec<ApiHook>, BigCommerceError> {
        const LIMIT: usize = 250;
        let mut out = Vec::new();
        for page in 1u32.. {
            let got: Option<Collection<ApiHook>> = self
                .get(
                    "v3/hooks",
                    &[("page", page.to_string()), ("limit", LIMIT.to_string())],
                )
                .await?;
            let items = got.map(|c| c.data).unwrap_or_default();
            let n = items.len();
            out.extend(items);
            if n < LIMIT {
                break;
            }
        }
        Ok(out)
    }

    /// Makes sure each of `scopes` has an active hook to `destination` carrying the
    /// [`STORE_HEADER`] and [`SCOPE_HEADER`] custom headers (which bind each delivery to this
    /// store and scope): creates what is missing (`POST /v3/hooks`), reactivates a
    /// deactivated hook (`PUT /v3/hooks/{id}` with `is_active: true`), adds the headers to a
    /// hook without them (keeping its other headers), and leaves the rest alone. Running it
    /// again changes nothing. Other hooks are never deleted.
    ///
    /// The destination must be `https://` on port 443 (BigCommerce supports no other port).
    pub async fn ensure_hooks(
        &self,
        destination: &str,
        scopes: &[&str],
    ) -> Result<HookReport, BigCommerceError> {
        let url = url::Url::parse(destination).map_err(|e| {
            BigCommerceError::Config(format!("the hook destination is not a URL: {e}"))
        })?;
        if url.scheme() != "https" || url.port().is_some_and(|p| p != 443) {
            return Err(BigCommerceError::Config(format!(
                "BigCommerce delivers only to https:// on port 443, not `{destination}`"
            )));
        }
        let existing = self.hooks().await?;
        let mut report = HookReport::default();
        for &scope in scopes {
            let want: BTreeMap<String, String> = [
                (STORE_HEADER.to_owned(), self.store_hash().to_owned()),
                (SCOPE_HEADER.to_owned(), scope.to_owned()),
            ]
            .into_iter()
            .collect();
            let found = existing
                .iter()
                .filter(|h| h.scope == scope && h.destination == destination)
                .max_by_key(|h| h.is_active.unwrap_or(true));
            let Some(hook) = found else {
                let _: Single<ApiHook> = self
                    .send(
                        Method::POST,
                        "v3/hooks",
                        &json!({
                            "scope": scope,
                            "destination": destination,
                            "is_active": true,
                            "headers": want,
                        }),
                    )
                    .await?;
                report.created.push(scope.to_owned());
                continue;
            };
            let mut headers = hook.headers.clone().unwrap_or_default();
            let has_headers = want.iter().all(|(k, v)| {
                headers
                    .iter()
                    .any(|(hk, hv)| hk.eq_ignore_ascii_case(k) && hv == v)
            });
            let active = hook.is_active.unwrap_or(true);
            if active && has_headers {
                report.unchanged.push(scope.to_owned());
                continue;
            }
            if !hook.id.as_str().bytes().all(|b| b.is_ascii_digit()) {
                return Err(BigCommerceError::decode(
                    "GET /v3/hooks",
                    format!("hook id `{}` is not numeric", hook.id),
                ));
            }
            headers.retain(|k, _| !want.keys().any(|w| w.eq_ignore_ascii_case(k)));
            headers.extend(want);
            let _: Single<ApiHook> = self
                .send(
                    Method::PUT,
                    &format!("v3/hooks/{}", hook.id),
                    &json!({ "is_active": true, "headers": headers }),
                )
                .await?;
            if active {
                report.updated.push(scope.to_owned());
            } else {
                report.reactivated.push(scope.to_owned());
            }
        }
        Ok(report)
    }
}
