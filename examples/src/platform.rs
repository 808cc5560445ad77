//! The shop platform the sandbox plays in the demos (`--platform`), shared by the
//! tracking-links and feedback demos: the webhook source that verifies it, the translation of
//! the sandbox's story (told in Shopify's terms) into that platform's webhooks, BigCommerce's
//! hydrator and the store API the sandbox serves for it.

use std::sync::Arc;

use aftercare::inbox::InboxProcessor;
use aftercare::webhook::{Secret, WebhookSource};
use aftercare_sandbox::bigcommerce::BigCommerceSender;
use aftercare_sandbox::ikas::IkasSender;
use aftercare_sandbox::nuvemshop::NuvemshopSender;
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
    /// Nuvemshop / Tiendanube: thin notifications (ids only) hydrated from the store's API,
    /// which the sandbox serves on the demo's own address; no carrier events.
    Nuvemshop,
    /// ikas: full orders in a signed envelope (`store/order/*`), packages and tracking on the
    /// order; no shipment webhook and no carrier events.
    Ikas,
}

impl DemoPlatform {
    /// The platform's name as people write it.
    pub fn title(self) -> &'static str {
        match self {
            DemoPlatform::Shopify => "Shopify",
            DemoPlatform::Woocommerce => "WooCommerce",
            DemoPlatform::Bigcommerce => "BigCommerce",
            DemoPlatform::Nuvemshop => "Nuvemshop",
            DemoPlatform::Ikas => "ikas",
        }
    }

    /// The webhook source's name (`/webhooks/{name}`).
    pub fn source_name(self) -> &'static str {
        match self {
            DemoPlatform::Shopify => "shopify",
            DemoPlatform::Woocommerce => aftercare_woocommerce::SOURCE_NAME,
            DemoPlatform::Bigcommerce => "bigcommerce",
            DemoPlatform::Nuvemshop => aftercare_nuvemshop::SOURCE_NAME,
            DemoPlatform::Ikas => aftercare_ikas::SOURCE_NAME,
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
/// The demo store's Nuvemshop store id, app id, app secret and API token.
pub const DEMO_NUVEM_STORE: &str = "424242";
const DEMO_NUVEM_APP: &str = "4815";
const DEMO_NUVEM_SECRET: &str = "nuvem_aftercare_local_demo_app_secret";
const DEMO_NUVEM_TOKEN: &str = "nuvem_aftercare_local_demo_token";
/// The demo store's ikas merchant id and app client secret.
pub const DEMO_IKAS_MERCHANT: &str = "sandbox-coffee-merchant";
const DEMO_IKAS_SECRET: &str = "ikas_aftercare_local_demo_client_secret";

/// One demo's platform: its webhook source and the translation of the sandbox's deliveries.
#[derive(Clone)]
pub struct DemoShop {
    platform: DemoPlatform,
    source: Arc<dyn WebhookSource>,
    woo: WooSender,
    bc: BigCommerceSender,
    ikas: IkasSender,
    nuvem: NuvemshopSender,
}

impl DemoShop {
    /// The platform's stack; `shopify_secret` is the secret the sandbox signs Shopify
    /// webhooks with, `shop_domain` the sandbox shop's domain.
    pub fn new(
        platform: DemoPlatform,
        shopify_secret: &str,
        shop_domain: &str,
    ) -> Result<Self, Box<dyn std::error::Error>> {
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
            DemoPlatform::Nuvemshop => Arc::new(aftercare_nuvemshop::NuvemshopWebhooks::new(
                Secret::from(DEMO_NUVEM_SECRET),
                DEMO_NUVEM_APP,
                DEMO_NUVEM_STORE,
            )),
            DemoPlatform::Ikas => Arc::new(aftercare_ikas::IkasWebhooks::new(
                Secret::from(DEMO_IKAS_SECRET),
                DEMO_IKAS_MERCHANT,
            )),
        };
        Ok(Self {
            platform,
            source,
            woo: WooSender::new(Secret::from(DEMO_WOO_SECRET), DEMO_WOO_SITE),
            bc: BigCommerceSender::new(DEMO_BC_SECRET, DEMO_BC_STORE),
            ikas: IkasSender::new(DEMO_IKAS_SECRET, DEMO_IKAS_MERCHANT),
            nuvem: NuvemshopSender::new(DEMO_NUVEM_SECRET, DEMO_NUVEM_STORE),
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
    /// at all (WooCommerce, BigCommerce and ikas send no carrier events).
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
            DemoPlatform::Nuvemshop => ds.iter().filter_map(|d| self.nuvem.translate(d)).collect(),
            DemoPlatform::Ikas => ds
                .iter()
                .filter_map(|d| self.ikas.translate(shop, d))
                .collect(),
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
        if self.platform == DemoPlatform::Nuvemshop {
            let api = aftercare_nuvemshop::NuvemshopConfig::new(
                DEMO_NUVEM_STORE,
                Secret::from(DEMO_NUVEM_TOKEN),
                "Aftercare demo (demo@example.com)",
            )
            .base_url(url::Url::parse(&format!("{base}/v1/"))?);
            let source = Arc::new(aftercare_nuvemshop::NuvemshopWebhooks::new(
                Secret::from(DEMO_NUVEM_SECRET),
                DEMO_NUVEM_APP,
                DEMO_NUVEM_STORE,
            ));
            return Ok(processor.hydrator(
                self.name(),
                Arc::new(aftercare_nuvemshop::NuvemshopHydrator::new(
                    source,
                    aftercare_nuvemshop::NuvemshopClient::new(api)?,
                )),
            ));
        }
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
        aftercare_sandbox::bigcommerce::api_router(shop.clone(), DEMO_BC_STORE, DEMO_BC_TOKEN)
            .merge(aftercare_sandbox::nuvemshop::api_router(
                shop,
                DEMO_NUVEM_STORE,
                DEMO_NUVEM_TOKEN,
            ))
    }
}
