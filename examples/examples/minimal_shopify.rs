//! A minimal Shopify server: verified webhooks, the durable inbox, the tracking flow and a
//! dispatcher with consent, opt-outs, quiet hours and the superseded check on, sending
//! through the integration's own channel. `cargo run -p aftercare-examples --example
//! minimal_shopify` with SHOPIFY_SHOP, SHOPIFY_CLIENT_SECRET, AFTERCARE_LINK_KEY and
//! PUBLIC_URL set; Shopify posts to `{PUBLIC_URL}/webhooks/shopify`. SHOPIFY_ACCESS_TOKEN is
//! optional: the order webhooks carry what the tracking message needs.
use std::sync::Arc;

use aftercare::channel::SendError;
use aftercare::prelude::*;
use aftercare::stack::{PlatformParts, Stack, StackBuilder};
use aftercare::webhook::Secret;

/// The integration's own channel: here it prints; a real one calls the shop's provider.
#[derive(Debug)]
pub struct Console;

#[async_trait]
impl MessageChannel for Console {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }
    async fn send(&self, msg: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        println!("to {}: {}", msg.to, msg.text);
        Ok(Receipt::new(key, Utc::now()))
    }
}

/// The whole stack for one shop (the new-integrator test builds it too, on its own clock).
pub fn stack<S: Store + 'static, A: OrderSource + CustomerDirectory + 'static>(
    store: Arc<S>,
    shop: &str,
    client_secret: Secret,
    api: Option<Arc<A>>,
    channel: Arc<dyn MessageChannel>,
    link_key: Secret,
    public_url: &str,
) -> StackBuilder<S> {
    // Bound to the shop: a webhook naming another is refused before it is stored.
    let source = Arc::new(aftercare_shopify::ShopifyWebhooks::new(client_secret).for_shop(shop));
    let platform = match api {
        Some(api) => PlatformParts::new("shopify", source, api),
        None => PlatformParts::webhooks_only("shopify", source),
    };
    Stack::builder(store)
        .platform(platform)
        .channel(channel)
        .shop_name(shop)
        .public_url(public_url)
        .link_key(link_key)
}

#[allow(dead_code)] // the test includes this file for `stack` only
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).map_err(|_| format!("set {k}"));
    let shop = env("SHOPIFY_SHOP")?;
    let api = match env("SHOPIFY_ACCESS_TOKEN") {
        Ok(token) => Some(Arc::new(aftercare_shopify::ShopifyClient::new(
            aftercare_shopify::ShopifyConfig::new(shop.clone(), Secret::from(token.as_str())),
        )?)),
        Err(_) => None,
    };
    let store = Arc::new(aftercare_sqlite::SqliteStore::open("aftercare.db").await?);
    let stack = stack(
        store,
        &shop,
        Secret::from(env("SHOPIFY_CLIENT_SECRET")?.as_str()),
        api,
        Arc::new(Console),
        Secret::from(env("AFTERCARE_LINK_KEY")?.as_str()),
        &env("PUBLIC_URL")?,
    )
    .build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    let stop = async { drop(tokio::signal::ctrl_c().await) };
    Ok(stack.run(listener, stop).await?)
}
