//! The recommended setup of one ikas merchant: verified webhooks and catch-up polling, on
//! unless turned off (ikas retries a webhook 3 times, then drops it, and sends no package
//! webhook).

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::inbox::InboxProcessor;
use aftercare::platform::poll::{CatchUpPoller, PollSettings, PolledSource};
use aftercare::store::{Inbox, SnapshotStore};

use crate::client::IkasClient;
use crate::error::IkasError;
use crate::webhooks::IkasWebhooks;

/// The inbox source name of the webhooks.
pub const SOURCE_NAME: &str = "ikas";
/// The inbox source name (and cursor id) of the catch-up poller.
pub const POLLER_NAME: &str = "ikas-poll";

/// One merchant: the webhook source, the client and the poller.
#[derive(Clone, Debug)]
pub struct IkasShop {
    webhooks: Arc<IkasWebhooks>,
    client: IkasClient,
    poll: Option<PollSettings>,
}

impl IkasShop {
    /// The setup for a source and a client of the same merchant.
    pub fn new(webhooks: IkasWebhooks, client: IkasClient) -> Result<Self, IkasError> {
        if !webhooks.serves(client.merchant_id()) {
            return Err(IkasError::Config(format!(
                "the webhook source does not serve merchant `{}`, the API client's",
                client.merchant_id()
            )));
        }
        Ok(Self {
            webhooks: Arc::new(webhooks),
            client,
            poll: Some(PollSettings::default()),
        })
    }

    /// The poller's settings.
    pub fn poll_settings(mut self, settings: PollSettings) -> Self {
        self.poll = Some(settings);
        self
    }

    /// No catch-up polling (package changes then come only from `store/order/updated`).
    pub fn without_catch_up(mut self) -> Self {
        self.poll = None;
        self
    }

    /// The webhook source.
    pub fn webhooks(&self) -> Arc<IkasWebhooks> {
        self.webhooks.clone()
    }

    /// The client.
    pub fn client(&self) -> &IkasClient {
        &self.client
    }

    /// Registers the source and the poller's entries with a processor.
    pub fn processor(&self, processor: InboxProcessor) -> InboxProcessor {
        processor
            .source(SOURCE_NAME, self.webhooks.clone())
            .source(POLLER_NAME, Arc::new(PolledSource))
    }

    /// The catch-up poller, unless turned off.
    pub fn catch_up<S>(&self, store: Arc<S>, clock: Arc<dyn Clock>) -> Option<CatchUpPoller>
    where
        S: Inbox + SnapshotStore + 'static,
    {
        self.poll.clone().map(|s| {
            CatchUpPoller::new(POLLER_NAME, Arc::new(self.client.clone()), store, clock).settings(s)
        })
    }
}
