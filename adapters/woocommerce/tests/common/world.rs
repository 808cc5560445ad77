//! A WooCommerce shop wired as recommended, end to end: real SQLite, the stand-in of the
//! shop's REST API, the tracking flow, a dispatcher and a recording email channel.
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
use aftercare::platform::poll::PollSettings;
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sandbox::RecordingChannel;
use aftercare_sqlite::SqliteStore;
use aftercare_woocommerce::{WooClient, WooShop};
use serde_json::{Value, json};
use wiremock::MockServer;

use super::woo::{FakeWoo, State, start};
use super::{config, fixture_json, source};

pub struct World {
    pub server: MockServer,
    pub fake: FakeWoo,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<ManualClock>,
    pub shop: WooShop,
    pub processor: InboxProcessor,
    pub dispatcher: Dispatcher,
    pub email: Arc<RecordingChannel>,
}

/// Order 723 of the fixtures with another id and tracking item.
pub fn order_723_as(id: u64, tracking_id: &str, number: &str) -> Value {
    let mut o = fixture_json("order_updated_tracking.json");
    o["id"] = json!(id);
    o["number"] = json!(id.to_string());
    o["order_key"] = json!(format!("wc_order_{id}"));
    for m in o["meta_data"].as_array_mut().unwrap() {
        if m["key"] == "_wc_shipment_tracking_items" {
            m["value"][0]["tracking_id"] = json!(tracking_id);
            m["value"][0]["tracking_number"] = json!(number);
        }
    }
    o
}

/// A shop whose API serves `orders` (with their Shipment Tracking items read from the
/// meta, as the extension's route would list them) and customer 26; the clock just after
/// the fixtures' orders were modified.
pub async fn world(orders: Vec<Value>) -> World {
    let mut customer = fixture_json("customer_updated.json");
    customer["id"] = json!(26);
    customer["email"] = json!("joao.silva@example.com");
    customer["first_name"] = json!("João");
    let tracking: BTreeMap<String, Value> = orders
        .iter()
        .map(|o| {
            let items = o["meta_data"]
                .as_array()
                .and_then(|m| m.iter().find(|m| m["key"] == "_wc_shipment_tracking_items"))
                .map(|m| m["value"].clone())
                .unwrap_or(json!([]));
            (o["id"].to_string(), items)
        })
        .collect();
    let (server, fake) = start(State {
        orders: orders
            .into_iter()
            .map(|o| (o["id"].to_string(), o))
            .collect(),
        customers: BTreeMap::from([("26".to_owned(), customer)]),
        tracking: Some(tracking),
        ..State::default()
    })
    .await;
    let clock = Arc::new(ManualClock::new("2017-03-21T20:00:00Z".parse().unwrap()));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
    let client = WooClient::new(config(&server.uri())).unwrap();
    let shop = WooShop::new(source(), client.clone())
        .unwrap()
        .poll_settings(
            PollSettings::default().first_lookback(std::time::Duration::from_secs(86_400)),
        );
    let mut settings = TrackingSettings::default();
    settings.channels = vec![ChannelKind::Email];
    settings.public_url = "https://example.com/aftercare".into();
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
        Arc::new(Chain::new().then(flow)),
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

    /// The emails sent: (order, tracking number in the text?).
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
