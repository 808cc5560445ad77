//! A Magento store wired as recommended, end to end: real SQLite, the stand-in of the
//! store's REST API, the tracking flow, a dispatcher and a recording email channel.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::tracking::{TrackingFlow, TrackingSettings};
use aftercare::inbox::InboxProcessor;
use aftercare::l10n::Catalogs;
use aftercare::model::ChannelKind;
use aftercare::platform::poll::{OrderVersions, PollSettings};
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_magento::{MagentoClient, MagentoShop};
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use serde_json::Value;
use wiremock::MockServer;

use super::magento::{FakeMagento, State, start};
use super::{config, fixture_json, source};

pub struct World {
    pub server: MockServer,
    pub fake: FakeMagento,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<ManualClock>,
    pub shop: MagentoShop,
    pub processor: InboxProcessor,
    pub dispatcher: Dispatcher,
    pub email: Arc<RecordingChannel>,
}

/// A store whose API serves order 42 (store view 2, `es_ES`), its shipment 3 with UPS track
/// 7 when `shipped`, and customer 3; the clock just after the fixtures' times.
pub async fn world(shipped: bool) -> World {
    let mut orders = BTreeMap::new();
    orders.insert("42".to_owned(), fixture_json("order.json"));
    let mut shipments: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    if shipped {
        shipments.insert(
            "42".into(),
            fixture_json("shipments_42.json")["items"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    let (server, fake) = start(State {
        orders,
        shipments,
        customers: BTreeMap::from([("3".to_owned(), fixture_json("customer_3.json"))]),
        store_configs: Some(fixture_json("store_configs.json")),
        ..State::default()
    })
    .await;
    let clock = Arc::new(ManualClock::new("2026-11-02T10:30:00Z".parse().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let client = MagentoClient::new(config(&server.uri())).unwrap();
    let shop = MagentoShop::new(client.clone())
        .webhooks(source())
        .unwrap()
        .poll_settings(
            PollSettings::default().first_lookback(std::time::Duration::from_secs(86_400)),
        );
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    settings.public_url = "https://shop.example/aftercare".into();
    let flow = Arc::new(TrackingFlow::new(
        Arc::new(client.clone()),
        Arc::new(client),
        store.clone(),
        Arc::new(Catalogs::new("Example Shop")),
        Default::default(),
        TokenSigner::new(Secret::from("tracking-key"), "tracking"),
        dyn_clock.clone(),
        settings,
    ));
    let processor = shop.processor(InboxProcessor::new(
        store.clone(),
        Arc::new(
            Chain::new()
                .then(Arc::new(OrderVersions::new(store.clone())))
                .then(flow),
        ),
        dyn_clock.clone(),
    ));
    let email = Arc::new(RecordingChannel::new(ChannelKind::Email).with_clock(dyn_clock.clone()));
    let dispatcher = Dispatcher::new(store.clone(), dyn_clock)
        .consent_store(store.clone())
        .channel(email.clone());
    World {
        server,
        fake,
        store,
        clock,
        shop,
        processor,
        dispatcher,
        email,
    }
}

impl World {
    /// Processes the inbox and sends what is due.
    pub async fn run(&self) {
        self.processor.drain().await.unwrap();
        self.dispatcher.drain().await.unwrap();
    }

    /// The emails sent: (order, milestone).
    pub fn sent(&self) -> Vec<(String, String)> {
        self.email
            .sent()
            .iter()
            .map(|m| {
                (
                    m.message
                        .order_id
                        .as_ref()
                        .map(|o| o.as_str().to_owned())
                        .unwrap_or_default(),
                    m.message.meta.get("milestone").cloned().unwrap_or_default(),
                )
            })
            .collect()
    }
}
