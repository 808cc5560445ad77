//! The shop platform the sandbox plays in the demos (`--platform`), shared by the
//! tracking-links and feedback demos: the webhook source that verifies it, the translation of
//! the sandbox's story (told in Shopify's terms) into that platform's webhooks, BigCommerce's
//! hydrator and the store API the sandbox serves for it.

use std::sync::Arc;

use aftercare::inbox::InboxProcessor;
use aftercare::webhook::{Secret, WebhookSource};
use aftercare_sandbox::bigcommerce::BigCommerceSender;
use aftercare_sandbox::magento::MagentoSender;
use aftercare_sandbox::woocommerce::WooSender;
use aftercare_sandbox::{Delivery, SandboxShop};
use aftercare_shopify::ShopifyWebhooks;

/// The shop platform the sandbox plays in the demo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum DemoPlatform {
    /// Shopify: full webhooks, carrier events included.
    #[default]
    Shopify,
    /// WooCommerce: `order.*` webhooks, tracking from the Shipment Tracking extension's
    /// meta; no carrier events.
    Woocommerce,
    /// BigCommerce: thin webhooks (ids only) hydrated from the store's API, which the
    /// sandbox serves on the demo's own address; no carrier events.
    Bigcommerce,
    /// Adobe Commerce (Magento 2): RSA-signed Adobe Commerce webhooks (observer events:
    /// orders, shipment tracks); no carrier events.
    Magento,
}

impl DemoPlatform {
    /// The platform's name as people write it.
    pub fn title(self) -> &'static str {
        match self {
            DemoPlatform::Shopify => "Shopify",
            DemoPlatform::Woocommerce => "WooCommerce",
            DemoPlatform::Bigcommerce => "BigCommerce",
            DemoPlatform::Magento => "Adobe Commerce",
        }
    }

    /// The webhook source's name (`/webhooks/{name}`).
    pub fn source_name(self) -> &'static str {
        match self {
            DemoPlatform::Shopify => "shopify",
            DemoPlatform::Woocommerce => aftercare_woocommerce::SOURCE_NAME,
            DemoPlatform::Bigcommerce => "bigcommerce",
            DemoPlatform::Magento => aftercare_magento::SOURCE_NAME,
        }
    }

    /// Whether the platform reports the carrier's progress (delivered, exceptions).
    pub fn reports_carrier_events(self) -> bool {
        self == DemoPlatform::Shopify
    }
}

/// The demo store's WooCommerce site and webhook secret.
pub const DEMO_WOO_SITE: &str = "https://sandbox-coffee.example/";
const DEMO_WOO_SECRET: &str = "wc_aftercare_local_demo";
/// The demo store's BigCommerce store hash, app client secret and API token.
pub const DEMO_BC_STORE: &str = "sbx4c0ffee";
const DEMO_BC_SECRET: &str = "bc_aftercare_local_demo_client_secret";
const DEMO_BC_TOKEN: &str = "bc_aftercare_local_demo_token";
/// The demo store's Adobe Commerce base URL (its webhooks are signed with a key pair the
/// demo generates, as the Admin's *Regenerate key pair* does).
pub const DEMO_MAGENTO_STORE: &str = "https://sandbox-coffee.example/";

/// One demo's platform: its webhook source and the translation of the sandbox's deliveries.
#[derive(Clone)]
pub struct DemoShop {
    platform: DemoPlatform,
    source: Arc<dyn WebhookSource>,
    woo: WooSender,
    bc: BigCommerceSender,
    magento: Option<MagentoSender>,
}

impl DemoShop {
    /// The platform's stack; `shopify_secret` is the secret the sandbox signs Shopify
    /// webhooks with, `shop_domain` the sandbox shop's domain.
    pub fn new(
        platform: DemoPlatform,
        shopify_secret: &str,
        shop_domain: &str,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        // A 1024-bit demo key: generated at start, quick in a debug build (Commerce's own
        // are 2048 bits).
        let magento = match platform {
            DemoPlatform::Magento => Some(MagentoSender::generate(1024)?),
            _ => None,
        };
        let source: Arc<dyn WebhookSource> = match platform {
            DemoPlatform::Shopify => {
                Arc::new(ShopifyWebhooks::new(Secret::from(shopify_secret)).for_shop(shop_domain))
            }
            DemoPlatform::Woocommerce => Arc::new(aftercare_woocommerce::WooWebhooks::new(
                DEMO_WOO_SITE,
                Secret::from(DEMO_WOO_SECRET),
            )?),
            DemoPlatform::Bigcommerce => Arc::new(aftercare_bigcommerce::BigCommerceWebhooks::new(
                Secret::from(DEMO_BC_SECRET),
                DEMO_BC_STORE,
            )),
            DemoPlatform::Magento => Arc::new(
                aftercare_magento::CommerceWebhooks::builder(DEMO_MAGENTO_STORE)
                    .public_key(
                        magento
                            .as_ref()
                            .map(MagentoSender::public_pem)
                            .unwrap_or_default(),
                    )
                    .build()?,
            ),
        };
        Ok(Self {
            platform,
            source,
            woo: WooSender::new(Secret::from(DEMO_WOO_SECRET), DEMO_WOO_SITE),
            bc: BigCommerceSender::new(DEMO_BC_SECRET, DEMO_BC_STORE),
            magento,
        })
    }

    /// The platform.
    pub fn platform(&self) -> DemoPlatform {
        self.platform
    }

    /// The webhook source's name (`/webhooks/{name}`).
    pub fn name(&self) -> &'static str {
        self.platform.source_name()
    }

    /// The webhook source verifying the platform's deliveries.
    pub fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    /// The sandbox's deliveries (Shopify's terms) as this platform would send them, or not
    /// at all (WooCommerce, BigCommerce and Adobe Commerce send no carrier events).
    pub fn translate(&self, shop: &SandboxShop, ds: Vec<Delivery>) -> Vec<Delivery> {
        match self.platform {
            DemoPlatform::Shopify => ds,
            DemoPlatform::Woocommerce => ds
                .iter()
                .filter_map(|d| self.woo.translate(shop, d))
                .collect(),
            DemoPlatform::Bigcommerce => {
                ds.iter().flat_map(|d| self.bc.translate(shop, d)).collect()
            }
            DemoPlatform::Magento => match &self.magento {
                Some(m) => ds.iter().filter_map(|d| m.translate(shop, d)).collect(),
                None => Vec::new(),
            },
        }
    }

    /// The processor with what the platform needs besides its source: BigCommerce's
    /// webhooks carry ids only, so its hydrator reads the store's API (served by
    /// [`Self::api_router`] on the demo's address `base`) from the inbox, with its retries.
    pub fn hydrate(
        &self,
        processor: InboxProcessor,
        base: &str,
    ) -> Result<InboxProcessor, Box<dyn std::error::Error>> {
        if self.platform != DemoPlatform::Bigcommerce {
            return Ok(processor);
        }
        let api = aftercare_bigcommerce::BigCommerceConfig::new(DEMO_BC_STORE, DEMO_BC_TOKEN)
            .base_url(url::Url::parse(&format!("{base}/"))?);
        Ok(processor.hydrator(
            self.name(),
            Arc::new(aftercare_bigcommerce::BigCommerceHydrator::new(
                aftercare_bigcommerce::BigCommerceClient::new(api)?,
            )),
        ))
    }

    /// The sandbox's BigCommerce store API (merged into the demo's app on every platform;
    /// only BigCommerce's hydrator calls it).
    pub fn api_router(&self, shop: Arc<SandboxShop>) -> axum::Router {
        aftercare_sandbox::bigcommerce::api_router(shop, DEMO_BC_STORE, DEMO_BC_TOKEN)
    }
}
