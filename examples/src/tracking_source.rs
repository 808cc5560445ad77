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
