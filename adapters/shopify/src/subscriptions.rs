//! Registering webhook subscriptions idempotently: list what exists
//! (`webhookSubscriptions`), create only what is missing (`webhookSubscriptionCreate`).
//!
//! Uses the unified `uri` field (Shopify changelog "webhookSubscriptionCreate and
//! webhookSubscriptionUpdate support all URI types"; `callbackUrl` is deprecated).

use serde::Deserialize;
use serde_json::json;

use crate::api::{UserError, check_user_errors};
use crate::client::ShopifyClient;
use crate::convert::null_default;
use crate::error::ShopifyError;

/// The topics Aftercare uses, in REST form. The three compliance topics
/// (`customers/data_request`, `customers/redact`, `shop/redact`) are configured in the app's
/// settings (`shopify.app.toml`), not through this API.
pub const AFTERCARE_TOPICS: &[&str] = &[
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
    "customers/update",
    "app/uninstalled",
];

/// The GraphQL `WebhookSubscriptionTopic` of a REST-style topic: `orders/create` →
/// `ORDERS_CREATE`.
///
/// ```
/// assert_eq!(aftercare_shopify::topic_enum("fulfillment_events/create"), "FULFILLMENT_EVENTS_CREATE");
/// ```
pub fn topic_enum(topic: &str) -> String {
    topic.replace('/', "_").to_ascii_uppercase()
}

const LIST: &str = r#"
query AftercareWebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}"#;

const CREATE: &str = r#"
mutation AftercareWebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"#;

#[derive(Deserialize)]
struct Sub {
    topic: String,
    #[serde(default)]
    uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Conn {
    #[serde(default, deserialize_with = "null_default")]
    nodes: Vec<Sub>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListData {
    webhook_subscriptions: Conn,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatePayload {
    #[serde(default, deserialize_with = "null_default")]
    user_errors: Vec<UserError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateData {
    webhook_subscription_create: Option<CreatePayload>,
}

/// What [`ShopifyClient::ensure_webhooks`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscriptionReport {
    /// Topics (GraphQL form) that already had a subscription to the URI.
    pub existing: Vec<String>,
    /// Topics subscribed now.
    pub created: Vec<String>,
}

impl ShopifyClient {
    /// Makes sure each topic has a subscription delivering to `uri`; creates only the
    /// missing ones, so running it again changes nothing.
    pub async fn ensure_webhooks(
        &self,
        uri: &str,
        topics: &[&str],
    ) -> Result<SubscriptionReport, ShopifyError> {
        let mut have: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data: ListData = self
                .graphql("webhookSubscriptions", LIST, json!({ "after": after }))
                .await?;
            for s in data.webhook_subscriptions.nodes {
                if s.uri.as_deref() == Some(uri) {
                    have.push(s.topic);
                }
            }
            match (
                data.webhook_subscriptions.page_info.has_next_page,
                data.webhook_subscriptions.page_info.end_cursor,
            ) {
                (true, Some(c)) => after = Some(c),
                _ => break,
            }
        }
        let mut report = SubscriptionReport::default();
        for t in topics {
            let e = topic_enum(t);
            if have.contains(&e) {
                if !report.existing.contains(&e) {
                    report.existing.push(e);
                }
                continue;
            }
            let data: CreateData = self
                .graphql(
                    "webhookSubscriptionCreate",
                    CREATE,
                    json!({ "topic": e, "sub": { "uri": uri, "format": "JSON" } }),
                )
                .await?;
            let p = data.webhook_subscription_create.ok_or_else(|| {
                ShopifyError::decode(
                    "webhookSubscriptionCreate data",
                    "the mutation's payload is missing",
                )
            })?;
            check_user_errors(format!("subscribe to {t}"), &p.user_errors)?;
            have.push(e.clone());
            report.created.push(e);
        }
        Ok(report)
    }
}
