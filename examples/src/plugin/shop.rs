//! One shop's running parts, built from its [`ShopScope`] and nothing else: its platform
//! client (Shopify or BigCommerce, as it was installed) with its own access token, its
//! webhook source bound to it, its SMS sender with that sender's own rate-limit bucket, its
//! pages under `/shops/{shop}/`, its dashboard behind its own key, and its lifecycle
//! (`app/uninstalled`, `shop/redact`).

use std::collections::HashMap;
use std::sync::Arc;

use aftercare::Error;
use aftercare::channel::{Lookup, MessageChannel, SendError};
use aftercare::clock::Clock;
use aftercare::dispatch::DispatchReport;
use aftercare::http::dashboard::Dashboard;
use aftercare::l10n::Catalogs;
use aftercare::model::{
    ChannelKind, Customer, CustomerId, Order, OrderId, OutboundMessage, Receipt, Shipment,
};
use aftercare::platform::{CustomerDirectory, OrderSource};
use aftercare::ratelimit::SenderLimits;
use aftercare::stack::{PlatformParts, Stack};
use aftercare::tenancy::{ACCESS_TOKEN, DispatchTurn, Lifecycle, ShopCounters, ShopScope, Tenancy};
use aftercare::webhook::Secret;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use super::config::PluginConfig;
use crate::real::BoxError;

/// The provider name of the SMS buckets.
pub const SMS_PROVIDER: &str = "twilio";

/// A shop's running parts.
pub struct ShopRuntime {
    /// The scope it was built from (a re-install makes a new one).
    pub scope: ShopScope,
    /// Its stack: routes, processor, dispatcher.
    pub stack: Arc<Stack>,
    /// What the deployment counts for its health.
    pub counters: Arc<ShopCounters>,
    /// The number it sends SMS from.
    pub sender: String,
}

impl std::fmt::Debug for ShopRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopRuntime")
            .field("shop", self.scope.shop())
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

/// The dispatcher of a shop's stack as a fair-dispatch turn.
pub struct StackTurn(pub Arc<Stack>);

#[async_trait]
impl DispatchTurn for StackTurn {
    async fn turn(&self) -> Result<DispatchReport, Error> {
        self.0.dispatcher().run_once().await
    }
}

/// What the deployment shares between shops (the app's credentials, the sender buckets).
pub struct Shared {
    /// The file.
    pub cfg: PluginConfig,
    /// The app's client secret (it signs every shop's webhooks).
    pub app_secret: Secret,
    /// The BigCommerce app's client secret, with `[bigcommerce]`.
    pub bigcommerce_secret: Option<Secret>,
    /// The Nuvemshop app's client secret, with `[nuvemshop]`.
    pub nuvemshop_secret: Option<Secret>,
    /// The Twilio account's Auth Token.
    pub twilio_token: Secret,
    /// One bucket per (provider, sending number).
    pub senders: SenderLimits,
    /// The shops.
    pub tenancy: Arc<Tenancy>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("senders", &self.senders)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The public base of `shop`'s pages and webhooks.
    pub fn shop_base(&self, shop: &str) -> String {
        // Percent-encoded: a WooCommerce store's id is its site URL.
        let shop: String = url::form_urlencoded::byte_serialize(shop.as_bytes()).collect();
        format!(
            "{}/shops/{shop}",
            self.cfg.server.public_url.trim_end_matches('/')
        )
    }

    /// The shop's platform parts, by the platform it was installed from: its API client
    /// with its own token (watched for a refused token), its webhook source bound to it.
    fn platform_parts(
        &self,
        scope: &ShopScope,
        token: Secret,
        counters: &Arc<ShopCounters>,
    ) -> Result<PlatformParts, BoxError> {
        let shop = scope.shop().as_str();
        match scope.platform() {
            aftercare_bigcommerce::install::PLATFORM => {
                let (Some(bc), Some(secret)) = (&self.cfg.bigcommerce, &self.bigcommerce_secret)
                else {
                    return Err(format!(
                        "shop `{shop}` is a BigCommerce store and the file has no [bigcommerce]"
                    )
                    .into());
                };
                let mut api = aftercare_bigcommerce::BigCommerceConfig::new(shop, token);
                if let Some(u) = &bc.api_base_url {
                    api = api.base_url(url::Url::parse(u)?);
                }
                let client = aftercare_bigcommerce::BigCommerceClient::new(api)?;
                // The app's one secret signs every store's webhooks: the source is bound to
                // this store (`producer` in the signed body, the store header).
                let source = Arc::new(aftercare_bigcommerce::BigCommerceWebhooks::new(
                    secret.clone(),
                    shop,
                ));
                let hydrator = Arc::new(aftercare_bigcommerce::BigCommerceHydrator::new(
                    client.clone(),
                ));
                let api = Arc::new(Watched {
                    inner: client,
                    counters: counters.clone(),
                });
                Ok(PlatformParts::new("bigcommerce", source, api).hydrator(hydrator))
            }
            aftercare_nuvemshop::install::PLATFORM => {
                let (Some(n), Some(secret)) = (&self.cfg.nuvemshop, &self.nuvemshop_secret) else {
                    return Err(format!(
                        "shop `{shop}` is a Nuvemshop store and the file has no [nuvemshop]"
                    )
                    .into());
                };
                let mut api =
                    aftercare_nuvemshop::NuvemshopConfig::new(shop, token, n.user_agent.clone());
                if let Some(u) = &n.api_base_url {
                    api = api.base_url(url::Url::parse(u)?);
                }
                let client = aftercare_nuvemshop::NuvemshopClient::new(api)?;
                // Every store's webhooks are signed with the app's one secret: the source
                // serves this store only (`store_id` in the signed body).
                let source = Arc::new(aftercare_nuvemshop::NuvemshopWebhooks::new(
                    secret.clone(),
                    n.app_id.clone(),
                    shop,
                ));
                let hydrator = Arc::new(aftercare_nuvemshop::NuvemshopHydrator::new(
                    source.clone(),
                    client.clone(),
                ));
                let api = Arc::new(Watched {
                    inner: client,
                    counters: counters.clone(),
                });
                Ok(PlatformParts::new("nuvemshop", source, api).hydrator(hydrator))
            }
            aftercare_woocommerce::install::PLATFORM => {
                let Some(wc) = &self.cfg.woocommerce else {
                    return Err(format!(
                        "shop `{shop}` is a WooCommerce store and the file has no [woocommerce]"
                    )
                    .into());
                };
                let secret = |name: &str| {
                    scope
                        .secret(name)
                        .cloned()
                        .ok_or_else(|| format!("shop `{shop}` has no `{name}`"))
                };
                let mut api = aftercare_woocommerce::WooConfig::new(
                    shop,
                    token,
                    secret(aftercare_woocommerce::install::CONSUMER_SECRET)?,
                )?;
                if let Some(u) = &wc.api_base_url {
                    api = api.base_url(url::Url::parse(u)?);
                }
                let client = aftercare_woocommerce::WooClient::new(api)?;
                // Each site signs its webhooks with its own secret, made at install; the
                // source also checks the site header names this store.
                let source = Arc::new(aftercare_woocommerce::WooWebhooks::new(
                    shop,
                    secret(aftercare::tenancy::WEBHOOK_SECRET)?,
                )?);
                let hydrator = Arc::new(aftercare_woocommerce::WooHydrator::new(
                    source.clone(),
                    client.clone(),
                ));
                let api = Arc::new(Watched {
                    inner: client,
                    counters: counters.clone(),
                });
                Ok(PlatformParts::new("woocommerce", source, api).hydrator(hydrator))
            }
            _ => {
                let mut api = aftercare_shopify::ShopifyConfig::new(shop, token);
                if let Some(v) = &self.cfg.shopify.api_version {
                    api = api.api_version(v.clone());
                }
                if let Some(u) = &self.cfg.shopify.api_base_url {
                    api = api.base_url(url::Url::parse(u)?);
                }
                let client = Arc::new(Watched {
                    inner: aftercare_shopify::ShopifyClient::new(api)?,
                    counters: counters.clone(),
                });
                // Shopify signs every shop's webhooks with the app's one secret: the source
                // is bound to this shop's domain (header checked before storing, body
                // checked at decode).
                let source = Arc::new(
                    aftercare_shopify::ShopifyWebhooks::new(self.app_secret.clone()).for_shop(shop),
                );
                Ok(PlatformParts::new("shopify", source, client))
            }
        }
    }

    /// Builds `scope`'s runtime.
    pub fn build(&self, scope: &ShopScope) -> Result<ShopRuntime, BoxError> {
        let shop = scope.shop().as_str();
        let counters = Arc::new(ShopCounters::default());
        let token = scope
            .secret(ACCESS_TOKEN)
            .cloned()
            .ok_or_else(|| format!("shop `{shop}` has no access token"))?;
        let platform = self.platform_parts(scope, token, &counters)?;
        let base = self.shop_base(shop);
        let sender = scope
            .settings()
            .get("sms_from")
            .and_then(|v| v.as_str())
            .filter(|s| crate::config::is_e164(s))
            .unwrap_or(&self.cfg.twilio.from)
            .to_owned();
        let t = &self.cfg.twilio;
        let mut sms = aftercare_twilio::TwilioChannel::new(
            ChannelKind::Sms,
            t.account_sid.clone(),
            aftercare_twilio::Credentials::auth_token(self.twilio_token.clone()),
            aftercare_twilio::Sender::Number(sender.clone()),
        )?
        .status_callback(format!("{base}/webhooks/twilio"));
        if let Some(u) = &t.api_base_url {
            sms = sms.base_url(u.clone());
        }
        let twilio_hooks = aftercare_twilio::webhook::TwilioWebhook::new(
            self.twilio_token.clone(),
            format!("{base}/webhooks/twilio"),
        )
        .account_sid(&t.account_sid);
        let name = scope
            .settings()
            .get("shop_name")
            .and_then(|v| v.as_str())
            .unwrap_or(shop)
            .to_owned();
        // The merchant's own settings (the settings page): branding and content map.
        let catalogs = || match super::settings::branding(&name, scope.settings()) {
            Some(b) => Catalogs::new(name.clone()).with_branding(b),
            None => Catalogs::new(name.clone()),
        };
        let dashboard = Dashboard::new(
            Arc::new(crate::feedback::StoreReport(scope.store())),
            Arc::new(catalogs()),
            scope.dashboard_key(),
            "en",
        );
        let mut b = Stack::builder(scope.store())
            .clock(self.clock.clone())
            .platform(platform)
            .handler(Arc::new(Lifecycle::new(
                self.tenancy.clone(),
                scope.shop().clone(),
                self.clock.clone(),
            )))
            .channel_with_limit(
                Arc::new(Counted {
                    inner: sms,
                    counters: counters.clone(),
                }),
                self.senders.bucket(SMS_PROVIDER, &sender),
            )
            .channel_source(
                "twilio",
                Arc::new(twilio_hooks),
                Arc::new(crate::inbound::twilio),
            )
            .shop_name(name.clone())
            .catalogs(catalogs())
            .public_url(base)
            .link_key(scope.link_key())
            .routes(dashboard.into_router())
            .routes(super::settings::router(
                self.tenancy.clone(),
                scope,
                self.clock.clone(),
            ));
        if let Some(map) = super::settings::content(scope.settings()) {
            b = b.content(map);
        }
        if self.cfg.messages.surveys {
            // Invitations and answers signed with the shop's link key: another shop's
            // survey link is refused.
            b = b.survey(aftercare::flows::feedback::SurveySettings::default());
        }
        if self.cfg.messages.quiet_hours_off {
            b = b.without_quiet_hours();
        }
        Ok(ShopRuntime {
            scope: scope.clone(),
            stack: Arc::new(b.build()?),
            counters,
            sender,
        })
    }
}

/// A shop's platform client, noting in its counters whether the platform still takes its
/// token.
struct Watched<C> {
    inner: C,
    counters: Arc<ShopCounters>,
}

impl<C> Watched<C> {
    fn note<T>(&self, r: Result<T, Error>) -> Result<T, Error> {
        match &r {
            Err(Error::Platform {
                status: Some(401), ..
            }) => self.counters.token(false),
            Ok(_) => self.counters.token(true),
            Err(_) => {}
        }
        r
    }
}

#[async_trait]
impl<C: OrderSource> OrderSource for Watched<C> {
    async fn order(&self, id: &OrderId) -> Result<Option<Order>, Error> {
        self.note(self.inner.order(id).await)
    }
    fn updated_since(&self, since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
        self.inner.updated_since(since)
    }
    async fn shipments(&self, order: &OrderId) -> Result<Vec<Shipment>, Error> {
        self.note(self.inner.shipments(order).await)
    }
    /// Forwarded (the client's batch, not one call per order), noting the answer as any
    /// other call's: it is one answer about the token, whatever the number of orders.
    async fn shipments_many(
        &self,
        orders: &[OrderId],
    ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
        self.note(self.inner.shipments_many(orders).await)
    }
}

#[async_trait]
impl<C: CustomerDirectory> CustomerDirectory for Watched<C> {
    async fn customer(&self, id: &CustomerId) -> Result<Option<Customer>, Error> {
        self.note(self.inner.customer(id).await)
    }
}

/// A channel counting the provider's refusals and failures in the shop's counters.
#[derive(Debug)]
struct Counted<C> {
    inner: C,
    counters: Arc<ShopCounters>,
}

#[async_trait]
impl<C: MessageChannel> MessageChannel for Counted<C> {
    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }
    async fn send(&self, message: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let r = self.inner.send(message, key).await;
        if r.is_err() {
            self.counters.provider_error();
        }
        r
    }
    async fn find_sent(
        &self,
        message: &OutboundMessage,
        since: DateTime<Utc>,
    ) -> Result<Lookup, SendError> {
        self.inner.find_sent(message, since).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A platform client that batches, answering each batch with `status` (200: every order
    /// without shipments) and keeping the batches asked.
    struct Batching {
        status: u16,
        batches: Mutex<Vec<usize>>,
    }

    #[async_trait]
    impl OrderSource for Batching {
        async fn order(&self, _id: &OrderId) -> Result<Option<Order>, Error> {
            Ok(None)
        }
        fn updated_since(&self, _since: DateTime<Utc>) -> BoxStream<'_, Result<Order, Error>> {
            Box::pin(futures::stream::empty())
        }
        async fn shipments(&self, _order: &OrderId) -> Result<Vec<Shipment>, Error> {
            panic!("a watched batch must reach the client's batch, not one read per order")
        }
        async fn shipments_many(
            &self,
            orders: &[OrderId],
        ) -> Result<HashMap<OrderId, Vec<Shipment>>, Error> {
            self.batches.lock().unwrap().push(orders.len());
            if self.status != 200 {
                return Err(Error::Platform {
                    operation: "read shipments".into(),
                    status: Some(self.status),
                    message: "refused".into(),
                    retryable: false,
                });
            }
            Ok(orders.iter().map(|o| (o.clone(), Vec::new())).collect())
        }
    }

    #[tokio::test]
    async fn a_watched_batch_is_the_clients_batch_and_notes_the_token() {
        let ids = [OrderId::new("1"), OrderId::new("2"), OrderId::new("3")];
        for (status, rejected) in [(200, false), (401, true)] {
            let counters = Arc::new(ShopCounters::default());
            let watched = Watched {
                inner: Batching {
                    status,
                    batches: Mutex::new(Vec::new()),
                },
                counters: counters.clone(),
            };
            let answer = watched.shipments_many(&ids).await;
            assert_eq!(answer.is_ok(), status == 200);
            assert_eq!(*watched.inner.batches.lock().unwrap(), vec![3]);
            assert_eq!(
                counters.take().token_rejected,
                Some(rejected),
                "HTTP {status}"
            );
        }
    }
}
