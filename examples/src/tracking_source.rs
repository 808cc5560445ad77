//! The carrier-tracking source the demos can add (`--tracking-source aftership`): the
//! sandbox plays AfterShip — its create-tracking API on the demo's own address, and its
//! signed `tracking_update` webhooks for every carrier step — so a shop whose platform
//! reports no carrier events (WooCommerce, BigCommerce) gets the whole milestone story.

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::inbox::EventHandler;
use aftercare::store::{Ledger, SnapshotStore};
use aftercare::tracking_source::TrackingSources;
use aftercare::webhook::{Secret, WebhookSource};
use aftercare_aftership::{AfterShipClient, AfterShipConfig, AfterShipWebhooks};
use aftercare_sandbox::tracking::{AfterShipSender, TrackingRegistry};
use aftercare_sandbox::{Delivery, SandboxShop};

/// The tracking source the sandbox plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[non_exhaustive]
pub enum DemoTrackingSource {
    /// AfterShip Tracking.
    Aftership,
}

impl DemoTrackingSource {
    /// The webhook source's name (`/webhooks/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            DemoTrackingSource::Aftership => aftercare_aftership::SOURCE_NAME,
        }
    }
}

/// The demo's AfterShip webhook secret and API key.
const DEMO_AFTERSHIP_SECRET: &str = "aftership_aftercare_local_demo";
const DEMO_AFTERSHIP_KEY: &str = "asat_aftercare_local_demo";

/// One demo's tracking source: its client, webhooks, stand-in API and sandbox sender.
#[derive(Clone)]
pub struct DemoTracking {
    kind: DemoTrackingSource,
    client: Arc<AfterShipClient>,
    hooks: Arc<dyn WebhookSource>,
    sender: AfterShipSender,
    registry: TrackingRegistry,
}

impl DemoTracking {
    /// The source, its API served on the demo's address `base`.
    pub fn new(kind: DemoTrackingSource, base: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let client = AfterShipClient::new(
            AfterShipConfig::new(DEMO_AFTERSHIP_KEY)
                .base_url(&format!("{base}/tracking/2026-07"))?,
        )?;
        Ok(Self {
            kind,
            client: Arc::new(client),
            hooks: Arc::new(AfterShipWebhooks::new(Secret::from(DEMO_AFTERSHIP_SECRET))),
            sender: AfterShipSender::new(Secret::from(DEMO_AFTERSHIP_SECRET)),
            registry: TrackingRegistry::default(),
        })
    }

    /// The webhook source's name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The webhook source verifying the source's deliveries.
    pub fn source(&self) -> Arc<dyn WebhookSource> {
        self.hooks.clone()
    }

    /// `inner` (the flows) behind the registration policy and the merge.
    pub fn wrap<S: SnapshotStore + Ledger + 'static>(
        &self,
        store: Arc<S>,
        clock: Arc<dyn Clock>,
        inner: Arc<dyn EventHandler>,
    ) -> Arc<TrackingSources> {
        Arc::new(TrackingSources::new(store, clock, inner).register_with(self.client.clone()))
    }

    /// The stand-in of the source's API.
    pub fn api_router(&self) -> axum::Router {
        aftercare_sandbox::tracking::aftership_api_router(self.registry.clone(), DEMO_AFTERSHIP_KEY)
    }

    /// The source's webhooks for the carrier steps among the sandbox's deliveries.
    pub fn translate(&self, shop: &SandboxShop, ds: &[Delivery]) -> Vec<Delivery> {
        ds.iter()
            .filter_map(|d| self.sender.translate(shop, d))
            .collect()
    }

    /// How many numbers were registered with the source.
    pub fn registered(&self) -> usize {
        self.registry.registered().len()
    }
}

/// The tracking source of a real store, from `[tracking_source]`.
pub struct RealTracking {
    /// The webhook source's name (`/webhooks/{name}`).
    pub name: &'static str,
    /// Its webhooks.
    pub hooks: Arc<dyn WebhookSource>,
    source: Arc<dyn aftercare::tracking_source::TrackingSource>,
    register: bool,
    settings: aftercare::tracking_source::TrackingSourceSettings,
}

impl RealTracking {
    /// The client and webhooks the section names.
    pub fn from_config(
        c: &crate::config::TrackingSourceConfig,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        use crate::config::{SeventeenTrackSign, TrackingService};
        let key = c.api_key.resolve()?;
        let secrets = c
            .webhook_secrets
            .iter()
            .map(|s| s.resolve())
            .collect::<Result<Vec<_>, _>>()?;
        let first = secrets
            .first()
            .cloned()
            .ok_or("[tracking_source] webhook_secrets is empty")?;
        let base = c.api_base_url.as_deref();
        let (hooks, source): (
            Arc<dyn WebhookSource>,
            Arc<dyn aftercare::tracking_source::TrackingSource>,
        ) = match c.service {
            TrackingService::Aftership => {
                let mut cfg = AfterShipConfig::new(key);
                if let Some(b) = base {
                    cfg = cfg.base_url(b)?;
                }
                (
                    Arc::new(AfterShipWebhooks::with_secrets(secrets)),
                    Arc::new(AfterShipClient::new(cfg)?),
                )
            }
            TrackingService::Easypost => {
                let mut cfg = aftercare_easypost::EasyPostConfig::new(key);
                if let Some(b) = base {
                    cfg = cfg.base_url(b)?;
                }
                (
                    Arc::new(aftercare_easypost::EasyPostWebhooks::with_secrets(&secrets)),
                    Arc::new(aftercare_easypost::EasyPostClient::new(cfg)?),
                )
            }
            TrackingService::SeventeenTrack => {
                let mut cfg = aftercare_17track::SeventeenTrackConfig::new(key);
                if let Some(b) = base {
                    cfg = cfg.base_url(b)?;
                }
                let scheme = match c.sign_scheme.unwrap_or_default() {
                    SeventeenTrackSign::HmacSha256Hex => {
                        aftercare_17track::SignScheme::HmacSha256Hex
                    }
                    _ => aftercare_17track::SignScheme::Sha256BodySlashKey,
                };
                let mut hooks =
                    aftercare_17track::SeventeenTrackWebhooks::new(first).scheme(scheme);
                for s in secrets.into_iter().skip(1) {
                    hooks = hooks.also_key(s);
                }
                (
                    Arc::new(hooks),
                    Arc::new(aftercare_17track::SeventeenTrackClient::new(cfg)?),
                )
            }
            TrackingService::Shippo => {
                let mut cfg = aftercare_shippo::ShippoConfig::new(key);
                if let Some(b) = base {
                    cfg = cfg.base_url(b)?;
                }
                let mut hooks = aftercare_shippo::ShippoWebhooks::new(first);
                for s in secrets.into_iter().skip(1) {
                    hooks = hooks.also_token(s);
                }
                (
                    Arc::new(hooks),
                    Arc::new(aftercare_shippo::ShippoClient::new(cfg)?),
                )
            }
        };
        let mut settings = aftercare::tracking_source::TrackingSourceSettings::default();
        settings.max_age = chrono::Duration::days(i64::from(c.stop_after_days));
        Ok(Self {
            name: c.service.name(),
            hooks,
            source,
            register: c.register,
            settings,
        })
    }

    /// `inner` (the flows) behind the registration policy and the merge.
    pub fn wrap<S: SnapshotStore + Ledger + 'static>(
        &self,
        store: Arc<S>,
        clock: Arc<dyn Clock>,
        inner: Arc<dyn EventHandler>,
    ) -> Arc<TrackingSources> {
        let s = TrackingSources::new(store, clock, inner).settings(self.settings.clone());
        Arc::new(if self.register {
            s.register_with(self.source.clone())
        } else {
            s
        })
    }
}
