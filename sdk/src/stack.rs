//! One builder for a whole stack, safe by default: [`Stack::builder`].
//!
//! A stack is a platform (its webhook source and API client), the channels in order of
//! preference, a store, content, and settings. The builder wires them the way the reference
//! integration does and returns what to mount and what to run: the router (webhooks,
//! tracking pages, survey pages), the inbox processor, the dispatcher, the resolver of
//! uncertain sends, the retention sweeper and any catch-up poller. [`Stack::run`] serves and
//! runs them all until a shutdown signal.
//!
//! **Safe by default.** Consent and opt-outs, quiet hours (21:00 to 08:00 in the customer's
//! time zone, or the fallback zone when it is unknown), the superseded check (a milestone
//! message that a later state made pointless is not sent) and, with surveys, the survey
//! policy (cool-down, one open survey) are applied unless turned off with a `without_*`
//! call, which the ledger cannot miss: there is no way to get an unprotected dispatcher
//! without writing its name.
//!
//! **One name per source.** A webhook source is registered once, under one name, and that
//! name binds both its route (`/webhooks/{name}`) and its decoder in the inbox processor, so
//! the two cannot disagree (a webhook acknowledged and then dead-lettered for want of a
//! decoder).
//!
//! ```no_run
//! # async fn demo<S: aftercare::store::Store + 'static>(
//! #     store: std::sync::Arc<S>,
//! #     platform: aftercare::stack::PlatformParts,
//! #     channel: std::sync::Arc<dyn aftercare::channel::MessageChannel>,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use aftercare::stack::Stack;
//! use aftercare::webhook::Secret;
//!
//! let stack = Stack::builder(store)
//!     .platform(platform)
//!     .channel(channel)
//!     .shop_name("Demo Shop")
//!     .public_url("https://shop.example/aftercare")
//!     .link_key(Secret::from_bytes("a long random secret"))
//!     .build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! stack.run(listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```
//!
//! One file past 800 lines: the builder is the one place a whole stack is wired, read as one
//! sequence (flows, dispatcher, inbox, pages, tasks); each part it wires lives elsewhere.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use chrono::NaiveTime;
use chrono_tz::Tz;
use tokio::net::TcpListener;

use crate::Error;
use crate::channel::MessageChannel;
use crate::clock::{Clock, SystemClock};
use crate::content::ContentMap;
use crate::dispatch::Dispatcher;
use crate::flows::Chain;
use crate::flows::delivery::DeliveryReports;
use crate::flows::email::EmailEvents;
use crate::flows::feedback::{
    ANSWER_SOURCE, AnswerQueue, AnswerSource, FeedbackFlow, FollowUp, FollowUpSettings,
    SurveyPolicy, SurveySettings,
};
use crate::flows::inbound::{ChannelDecoder, InboundHandler};
use crate::flows::privacy::{PrivacyHandler, RetentionPolicy, RetentionSweeper};
use crate::flows::recovery::{RecoveryFlow, RecoverySettings};
use crate::flows::replies::{ReplyConfig, ReplyHandler};
use crate::flows::tickets::{TicketFlow, TicketSettings};
use crate::flows::tracking::{QuietHoursPolicy, SupersededPolicy, TrackingFlow, TrackingSettings};
use crate::helpdesk::Helpdesk;
use crate::http::WebhookRoutes;
use crate::http::serve::{ServeOptions, serve_with_shutdown};
use crate::http::survey::SurveyPage;
use crate::http::tracking::TrackingPage;
use crate::inbox::{EventHandler, InboxProcessor};
use crate::l10n::Catalogs;
use crate::l10n::Localizer;
use crate::model::ChannelKind;
use crate::platform::discount::DiscountCodes;
use crate::platform::known::KnownOrders;
use crate::platform::poll::{CatchUpPoller, OrderVersions, PollSettings, PolledSource};
use crate::platform::thin::Hydrator;
use crate::platform::{CustomerDirectory, OrderAnnotator, OrderSource};
use crate::ratelimit::RateLimit;
use crate::retention::RetentionStore;
use crate::store::Store;
use crate::token::TokenSigner;
use crate::uncertain::UncertainResolver;
use crate::webhook::{Secret, WebhookSource};

/// A shop platform's parts: its webhook source (under one name) and its API client.
pub struct PlatformParts {
    name: String,
    source: Arc<dyn WebhookSource>,
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    annotator: Option<Arc<dyn OrderAnnotator>>,
    hydrator: Option<Arc<dyn Hydrator>>,
    catch_up: Option<(String, PollSettings)>,
    pollers: Vec<CatchUpPoller>,
    discounts: Option<Arc<dyn DiscountCodes>>,
}

impl std::fmt::Debug for PlatformParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformParts")
            .field("name", &self.name)
            .field("catch_up", &self.catch_up)
            .finish_non_exhaustive()
    }
}

impl PlatformParts {
    /// A platform whose webhooks arrive at `/webhooks/{name}` and are verified and decoded by
    /// `source`; `api` reads orders and customers (an adapter's client implements both).
    pub fn new<A>(name: impl Into<String>, source: Arc<dyn WebhookSource>, api: Arc<A>) -> Self
    where
        A: OrderSource + CustomerDirectory + 'static,
    {
        Self {
            name: name.into(),
            source,
            orders: api.clone(),
            customers: api,
            annotator: None,
            hydrator: None,
            catch_up: None,
            pollers: Vec::new(),
            discounts: None,
        }
    }

    /// A platform with no API access: orders, customers and shipments come from its webhooks
    /// only ([`WebhooksOnly`](crate::platform::WebhooksOnly) answers every read with a
    /// refusal that is not retried). Enough for the tracking messages of platforms whose
    /// order webhooks carry the order (Shopify, WooCommerce...); see the table in
    /// [`crate::platform::webhooks_only`] for what degrades.
    pub fn webhooks_only(name: impl Into<String>, source: Arc<dyn WebhookSource>) -> Self {
        Self::new(name, source, Arc::new(crate::platform::WebhooksOnly::new()))
    }

    /// Like [`PlatformParts::new`], when orders and customers are read by different parts.
    pub fn from_parts(
        name: impl Into<String>,
        source: Arc<dyn WebhookSource>,
        orders: Arc<dyn OrderSource>,
        customers: Arc<dyn CustomerDirectory>,
    ) -> Self {
        Self {
            name: name.into(),
            source,
            orders,
            customers,
            annotator: None,
            hydrator: None,
            catch_up: None,
            pollers: Vec::new(),
            discounts: None,
        }
    }

    /// A catch-up poller built by the platform's adapter (its inbox source, under the
    /// poller's name, is registered with the processor; the stack runs it).
    pub fn poller(mut self, poller: CatchUpPoller) -> Self {
        self.pollers.push(poller);
        self
    }

    /// Writes follow-ups back to the shop (tags, notes) through `annotator`.
    pub fn annotator(mut self, annotator: Arc<dyn OrderAnnotator>) -> Self {
        self.annotator = Some(annotator);
        self
    }

    /// Creates discount codes in the shop (service recovery's apology codes, see
    /// [`StackBuilder::recovery`]).
    pub fn discounts(mut self, discounts: Arc<dyn DiscountCodes>) -> Self {
        self.discounts = Some(discounts);
        self
    }

    /// Hydrates the platform's thin webhooks (ids only) through its API.
    pub fn hydrator(mut self, hydrator: Arc<dyn Hydrator>) -> Self {
        self.hydrator = Some(hydrator);
        self
    }

    /// Polls orders updated since the last poll and stores what the webhooks missed, under
    /// the inbox source `name` (for platforms that drop webhooks: WooCommerce, Magento...).
    pub fn catch_up(mut self, name: impl Into<String>, settings: PollSettings) -> Self {
        self.catch_up = Some((name.into(), settings));
        self
    }

    /// The webhook source's name (`/webhooks/{name}`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The webhook source.
    pub fn source(&self) -> Arc<dyn WebhookSource> {
        self.source.clone()
    }

    /// Registers with a processor of your own what [`Stack`] registers with its own: the
    /// webhook source, the hydrator, and the sources of the catch-up pollers' entries (the
    /// pollers themselves are not run). For a process that only receives and processes,
    /// such as the reference `receiver`.
    pub fn register(&self, mut processor: InboxProcessor) -> InboxProcessor {
        processor = processor.source(self.name.clone(), self.source.clone());
        if let Some(h) = &self.hydrator {
            processor = processor.hydrator(self.name.clone(), h.clone());
        }
        for poller in &self.pollers {
            processor = processor.source(poller.name().to_owned(), Arc::new(PolledSource));
        }
        if let Some((name, _)) = &self.catch_up {
            processor = processor.source(name.clone(), Arc::new(PolledSource));
        }
        processor
    }
}

/// A channel and the rate limit it is paced by, if any.
type PacedChannel = (Arc<dyn MessageChannel>, Option<Arc<dyn RateLimit>>);

/// Builds a [`Stack`]. See the [module docs](self) for what is on by default.
pub struct StackBuilder<S> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    platform: Option<PlatformParts>,
    channels: Vec<PacedChannel>,
    sources: Vec<(String, Arc<dyn WebhookSource>)>,
    handlers: Vec<Arc<dyn EventHandler>>,
    shop_name: Option<String>,
    catalogs: Option<Catalogs>,
    public_url: Option<String>,
    link_key: Option<Secret>,
    content: ContentMap,
    tracking: TrackingSettings,
    survey: Option<SurveySettings>,
    follow_up: Option<FollowUpSettings>,
    quiet: Option<(NaiveTime, NaiveTime)>,
    fallback_zone: Tz,
    consent_checks: bool,
    superseded_check: bool,
    retention_days: Option<u32>,
    serve: ServeOptions,
    channel_sources: Vec<ChannelSource>,
    internal_channels: Vec<Arc<dyn MessageChannel>>,
    helpdesk: Option<(Arc<dyn Helpdesk>, TicketSettings)>,
    replies: Option<ReplyConfig>,
    survey_key: Option<Secret>,
    record_opens: bool,
    wrap: Option<WrapHandler>,
    routes: Vec<Router>,
    channel_order: Option<Vec<ChannelKind>>,
    recovery: Option<(RecoverySettings, Secret)>,
    recovery_retention: Option<Arc<dyn RetentionStore>>,
}

/// A channel's webhook source: its name, verifier and decoder.
type ChannelSource = (String, Arc<dyn WebhookSource>, Arc<dyn ChannelDecoder>);

/// Wraps the inbox's whole handler (e.g. a carrier-tracking source that merges its updates
/// first).
type WrapHandler = Box<dyn FnOnce(Arc<dyn EventHandler>) -> Arc<dyn EventHandler> + Send>;

impl<S> std::fmt::Debug for StackBuilder<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackBuilder")
            .field("platform", &self.platform)
            .field("quiet", &self.quiet)
            .field("consent_checks", &self.consent_checks)
            .field("superseded_check", &self.superseded_check)
            .finish_non_exhaustive()
    }
}

/// The default quiet hours: 21:00 to 08:00 local time.
pub const DEFAULT_QUIET_HOURS: (NaiveTime, NaiveTime) = (
    match NaiveTime::from_hms_opt(21, 0, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
    match NaiveTime::from_hms_opt(8, 0, 0) {
        Some(t) => t,
        None => NaiveTime::MIN,
    },
);

impl Stack {
    /// A builder over `store` (SQLite, PostgreSQL or any [`Store`]).
    pub fn builder<S: Store + 'static>(store: Arc<S>) -> StackBuilder<S> {
        StackBuilder {
            store,
            clock: Arc::new(SystemClock),
            platform: None,
            channels: Vec::new(),
            sources: Vec::new(),
            handlers: Vec::new(),
            shop_name: None,
            catalogs: None,
            public_url: None,
            link_key: None,
            content: ContentMap::default(),
            tracking: TrackingSettings::default(),
            survey: None,
            follow_up: None,
            quiet: Some(DEFAULT_QUIET_HOURS),
            fallback_zone: Tz::UTC,
            consent_checks: true,
            superseded_check: true,
            retention_days: Some(365),
            serve: ServeOptions::default(),
            channel_sources: Vec::new(),
            internal_channels: Vec::new(),
            helpdesk: None,
            replies: None,
            survey_key: None,
            record_opens: false,
            wrap: None,
            routes: Vec::new(),
            channel_order: None,
            recovery: None,
            recovery_retention: None,
        }
    }
}

impl<S: Store + 'static> StackBuilder<S> {
    /// The shop platform (required).
    pub fn platform(mut self, platform: PlatformParts) -> Self {
        self.platform = Some(platform);
        self
    }

    /// Adds a channel; the order of the calls is the customer's channel preference (the
    /// first one the customer can be reached on is used).
    pub fn channel(mut self, channel: Arc<dyn MessageChannel>) -> Self {
        self.channels.push((channel, None));
        self
    }

    /// Adds a channel paced by a rate limit shared by all its sends.
    pub fn channel_with_limit(
        mut self,
        channel: Arc<dyn MessageChannel>,
        limit: Arc<dyn RateLimit>,
    ) -> Self {
        self.channels.push((channel, Some(limit)));
        self
    }

    /// Registers another webhook source (a provider's delivery reports and replies) under
    /// `name`: its route `/webhooks/{name}` and its decoder are bound together.
    pub fn source(mut self, name: impl Into<String>, source: Arc<dyn WebhookSource>) -> Self {
        self.sources.push((name.into(), source));
        self
    }

    /// Runs `handler` on every stored webhook after the flows (e.g. replies and delivery
    /// reports of a provider source).
    pub fn handler(mut self, handler: Arc<dyn EventHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// The shop's name as customers know it (required: it is in every message and page).
    pub fn shop_name(mut self, name: impl Into<String>) -> Self {
        self.shop_name = Some(name.into());
        self
    }

    /// The messages' and pages' text: the built-in catalogs with the shop's branding
    /// (`Catalogs::with_branding`), its stop-hint and reply settings, or its own wording.
    /// By default the built-in catalogs for [`shop_name`](Self::shop_name).
    pub fn catalogs(mut self, catalogs: Catalogs) -> Self {
        self.catalogs = Some(catalogs);
        self
    }

    /// The public base URL the server is reached at (required: links in messages point
    /// there).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The key signing tracking and survey links (required; any long random secret).
    pub fn link_key(mut self, key: Secret) -> Self {
        self.link_key = Some(key);
        self
    }

    /// Tutorials and guides per product, SKU or category.
    pub fn content(mut self, content: ContentMap) -> Self {
        self.content = content;
        self
    }

    /// The tracking flow's settings (their `public_url` and `channels` are the builder's).
    pub fn tracking(mut self, settings: TrackingSettings) -> Self {
        self.tracking = settings;
        self
    }

    /// Turns surveys on, with these settings (their `public_url` and `channels` are the
    /// builder's): the feedback flow, the survey page at `/s/{token}` and the survey policy.
    pub fn survey(mut self, settings: SurveySettings) -> Self {
        self.survey = Some(settings);
        self
    }

    /// What is done with answers (alerts, tags, review requests); needs
    /// [`survey`](Self::survey) and the platform's [`annotator`](PlatformParts::annotator)
    /// for tags.
    pub fn follow_up(mut self, settings: FollowUpSettings) -> Self {
        self.follow_up = Some(settings);
        self
    }

    /// Quiet hours from `start` to `end` local time (21:00 to 08:00 by default).
    pub fn quiet_hours(mut self, start: NaiveTime, end: NaiveTime) -> Self {
        self.quiet = Some((start, end));
        self
    }

    /// The zone quiet hours use when the customer's is unknown (UTC by default).
    pub fn fallback_time_zone(mut self, zone: Tz) -> Self {
        self.fallback_zone = zone;
        self
    }

    /// Sends at any hour. Off only on purpose.
    pub fn without_quiet_hours(mut self) -> Self {
        self.quiet = None;
        self
    }

    /// Sends without checking consent and opt-outs. Off only on purpose (e.g. a channel
    /// that only ever reaches the merchant).
    pub fn without_consent_checks(mut self) -> Self {
        self.consent_checks = false;
        self
    }

    /// Sends a milestone message even when the shipment has moved on before it left.
    pub fn without_superseded_check(mut self) -> Self {
        self.superseded_check = false;
        self
    }

    /// Days personal data is kept (365 by default); `None` keeps it forever.
    pub fn retention_days(mut self, days: Option<u32>) -> Self {
        self.retention_days = days;
        self
    }

    /// The server's timeouts and connection cap ([`ServeOptions::default`] otherwise).
    pub fn serve_options(mut self, options: ServeOptions) -> Self {
        self.serve = options;
        self
    }

    /// A messaging or email provider's webhooks (replies, delivery reports, email events):
    /// verified by `source` at `/webhooks/{name}`, read by `decoder`, and routed to the flows
    /// ([`InboundHandler`]: opt-out keywords first, then survey answers and help requests;
    /// undelivered messages fall back to the next channel).
    pub fn channel_source(
        mut self,
        name: impl Into<String>,
        source: Arc<dyn WebhookSource>,
        decoder: Arc<dyn ChannelDecoder>,
    ) -> Self {
        self.channel_sources.push((name.into(), source, decoder));
        self
    }

    /// A channel that carries messages to the shop's staff, never to customers (a signed
    /// helpdesk webhook): the dispatcher sends on it, customers' channel order ignores it.
    pub fn internal_channel(mut self, channel: Arc<dyn MessageChannel>) -> Self {
        self.internal_channels.push(channel);
        self
    }

    /// A helpdesk: detractors' answers and help requests open one ticket per order
    /// ([`TicketFlow`]); later replies are notes on it.
    pub fn helpdesk(mut self, desk: Arc<dyn Helpdesk>, settings: TicketSettings) -> Self {
        self.helpdesk = Some((desk, settings));
        self
    }

    /// How keyword replies are answered (default: the shop's name, the support URL or the
    /// public URL as the help link, the tracking settings' default locale).
    pub fn replies(mut self, config: ReplyConfig) -> Self {
        self.replies = Some(config);
        self
    }

    /// A key of its own for survey links (default: the link key, under another purpose).
    pub fn survey_key(mut self, key: Secret) -> Self {
        self.survey_key = Some(key);
        self
    }

    /// Writes email opens to the ledger (off by default: opens are unreliable and private).
    pub fn record_email_opens(mut self, yes: bool) -> Self {
        self.record_opens = yes;
        self
    }

    /// Wraps the inbox's whole handler chain (privacy, flows, replies) in `wrap`: for a
    /// handler that must see every event first (a carrier-tracking source registering
    /// shipments and merging its updates).
    pub fn wrap_handler(
        mut self,
        wrap: impl FnOnce(Arc<dyn EventHandler>) -> Arc<dyn EventHandler> + Send + 'static,
    ) -> Self {
        self.wrap = Some(Box::new(wrap));
        self
    }

    /// Routes of the integration's own (a dashboard, an admin page), merged into
    /// [`Stack::router`] and served with the server's timeouts.
    pub fn routes(mut self, router: Router) -> Self {
        self.routes.push(router);
        self
    }

    /// The customers' channel preference order (the first they can and may be reached on
    /// wins), when it differs from the order the channels were added in. Survey settings
    /// keep their own `channels` then.
    pub fn channel_order(mut self, order: Vec<ChannelKind>) -> Self {
        self.channel_order = Some(order);
        self
    }

    /// Service recovery ([`RecoveryFlow`], off by default): a delivery exception, a failed
    /// attempt, a delay past the threshold or (with [`follow_up`](Self::follow_up)) a
    /// detractor's answer gets, once per order, an apology in the customer's language and
    /// a tag through the platform's annotator; with `settings.offer`, a discount code made
    /// through the platform's [`discounts`](PlatformParts::discounts), offered only to a
    /// customer with a recorded marketing opt-in; with `settings.ticket`, the order's
    /// support ticket through [`helpdesk`](Self::helpdesk) (refused at `build` without
    /// one). A complaint reply reaches it with `follow_up`. `code_key` keys the codes'
    /// names (keep it secret and stable).
    pub fn recovery(mut self, settings: RecoverySettings, code_key: Secret) -> Self {
        self.recovery = Some((settings, code_key));
        self
    }

    /// Where recovery marks the orders it saw a signal for and acted on, so the retention
    /// report compares recovered and unrecovered customers (the SQL stores are one).
    pub fn recovery_retention(mut self, store: Arc<dyn RetentionStore>) -> Self {
        self.recovery_retention = Some(store);
        self
    }

    /// The clock ([`SystemClock`] by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Wires the stack, or says what is missing or inconsistent.
    pub fn build(self) -> Result<Stack, Error> {
        let need = |what: &str, how: &str| Error::Config(format!("Stack::builder: {what}; {how}"));
        let platform = self
            .platform
            .ok_or_else(|| need("no platform", "call .platform(PlatformParts::new(...))"))?;
        let shop_name = self
            .shop_name
            .ok_or_else(|| need("no shop name", "call .shop_name(\"...\")"))?;
        let public_url = self.public_url.ok_or_else(|| {
            need(
                "no public URL",
                "call .public_url(\"https://...\"): links in messages point there",
            )
        })?;
        let key = self
            .link_key
            .ok_or_else(|| need("no link key", "call .link_key(...)"))?;
        if self.channels.is_empty() {
            return Err(need("no channel", "add at least one with .channel(...)"));
        }
        let mut names: Vec<&str> = vec![platform.name.as_str()];
        let channel_names = self.channel_sources.iter().map(|(n, _, _)| n);
        let poller_names = platform.pollers.iter().map(|p| p.name().to_owned());
        let poller_names: Vec<String> = poller_names.collect();
        for n in self
            .sources
            .iter()
            .map(|(n, _)| n)
            .chain(channel_names)
            .chain(&poller_names)
        {
            if names.contains(&n.as_str()) {
                return Err(need(
                    &format!("two webhook sources are named `{n}`"),
                    "give each its own name",
                ));
            }
            names.push(n);
        }
        let own_order = self.channel_order.is_some();
        let order: Vec<ChannelKind> = self
            .channel_order
            .clone()
            .unwrap_or_else(|| self.channels.iter().map(|(c, _)| c.kind()).collect());
        let store = self.store;
        let clock = self.clock;
        let text = Arc::new(
            self.catalogs
                .unwrap_or_else(|| Catalogs::new(shop_name.clone())),
        );
        let tickets = self.helpdesk.map(|(desk, settings)| {
            Arc::new(TicketFlow::new(desk, store.clone(), clock.clone()).settings(settings))
        });

        let mut tracking_settings = self.tracking;
        tracking_settings.public_url.clone_from(&public_url);
        tracking_settings.channels.clone_from(&order);
        let default_locale = tracking_settings.default_locale.clone();
        let support_url = tracking_settings.support_url.clone();
        let tracking = Arc::new(
            TrackingFlow::builder(store.clone())
                .orders(platform.orders.clone())
                .customers(platform.customers.clone())
                .renderer(text.clone())
                .content(self.content.clone())
                .link_key(key.clone())
                .clock(clock.clone())
                .settings(tracking_settings)
                .build()?,
        );

        let recovery = match self.recovery {
            None => None,
            Some((settings, code_key)) => {
                let offers = settings.offer.is_some();
                let wants_ticket = settings.ticket;
                let mut flow = RecoveryFlow::new(
                    store.clone(),
                    platform.orders.clone(),
                    platform.customers.clone(),
                    text.clone(),
                    clock.clone(),
                    code_key,
                )
                .with_settings(settings);
                match &platform.discounts {
                    Some(d) => flow = flow.with_discounts(d.clone()),
                    None if offers => {
                        return Err(need(
                            "the recovery offer needs the platform's discount codes",
                            "call .discounts(...) on the PlatformParts, or remove the offer",
                        ));
                    }
                    None => {}
                }
                if let Some(a) = &platform.annotator {
                    flow = flow.with_annotator(a.clone());
                }
                match &tickets {
                    Some(t) => flow = flow.with_tickets(t.clone()),
                    None if wants_ticket => {
                        return Err(need(
                            "the recovery ticket needs a helpdesk",
                            "call .helpdesk(...), or turn the ticket off",
                        ));
                    }
                    None => {}
                }
                if let Some(r) = &self.recovery_retention {
                    flow = flow.with_retention(r.clone());
                }
                Some(Arc::new(flow))
            }
        };

        let mut feedback = None;
        let mut follow_up = None;
        if let Some(mut s) = self.survey.clone() {
            s.public_url.clone_from(&public_url);
            if !own_order || s.channels.is_empty() {
                s.channels.clone_from(&order);
            }
            let mut flow = FeedbackFlow::builder(store.clone())
                .orders(platform.orders.clone())
                .customers(platform.customers.clone())
                .renderer(text.clone())
                .link_key(self.survey_key.clone().unwrap_or_else(|| key.clone()))
                .clock(clock.clone())
                .settings(s)
                .build()?;
            if let Some(settings) = self.follow_up.clone() {
                let annotator = platform.annotator.clone().ok_or_else(|| {
                    need(
                        "follow-ups need the platform's annotator",
                        "call .annotator(...) on the PlatformParts",
                    )
                })?;
                let mut f = FollowUp::new(
                    store.clone(),
                    annotator,
                    text.clone(),
                    clock.clone(),
                    settings,
                )
                .customers(platform.customers.clone());
                if let Some(t) = &tickets {
                    f = f.tickets(t.clone());
                }
                if let Some(r) = &recovery {
                    f = f.recovery(r.clone());
                }
                let f = Arc::new(f);
                flow = flow.follow_up(f.clone());
                follow_up = Some(f);
            }
            feedback = Some(Arc::new(flow));
        } else if self.follow_up.is_some() {
            return Err(need(
                "follow-ups act on survey answers",
                "add .survey(...) or remove .follow_up(...)",
            ));
        }

        // The dispatcher: protections first, in the order a reader expects.
        let mut dispatcher = Dispatcher::new(store.clone(), clock.clone());
        if self.consent_checks {
            dispatcher = dispatcher.consent_store(store.clone());
        }
        if self.superseded_check {
            dispatcher = dispatcher.policy(Arc::new(SupersededPolicy::new(store.clone())));
        }
        if let Some((start, end)) = self.quiet {
            dispatcher = dispatcher.policy(Arc::new(QuietHoursPolicy::new(
                start,
                end,
                self.fallback_zone,
            )));
        }
        if let Some(s) = &self.survey {
            dispatcher = dispatcher.policy(Arc::new(SurveyPolicy::new(store.clone(), s.clone())));
        }
        let mut resolver = UncertainResolver::new(store.clone(), clock.clone());
        for (channel, limit) in &self.channels {
            dispatcher = dispatcher.channel(channel.clone());
            if let Some(l) = limit {
                dispatcher = dispatcher.rate_limit(channel.kind(), l.clone());
            }
            resolver = resolver.channel(channel.clone());
        }
        for channel in &self.internal_channels {
            dispatcher = dispatcher.channel(channel.clone());
            resolver = resolver.channel(channel.clone());
        }
        let resolver = Arc::new(resolver);

        // The inbox: privacy first, then what webhooks teach, then the flows.
        let mut chain = Chain::new()
            .then(Arc::new(
                PrivacyHandler::new(store.clone()).clock(clock.clone()),
            ))
            .then(Arc::new(OrderVersions::new(store.clone())))
            .then(tracking.clone());
        if let Some(f) = &feedback {
            chain = chain.then(f.clone());
        }
        if let Some(f) = &follow_up {
            chain = chain.then(f.clone());
        }
        if let Some(r) = &recovery {
            chain = chain.then(r.clone());
        }
        for h in self.handlers {
            chain = chain.then(h);
        }
        // What channels send back: opt-outs first, then answers, help requests, fallbacks.
        let replies = self.replies.unwrap_or_else(|| {
            ReplyConfig::new(
                shop_name.clone(),
                support_url.clone().unwrap_or_else(|| public_url.clone()),
            )
            .default_locale(default_locale.clone())
        });
        let mut inbound = InboundHandler::new(
            ReplyHandler::new(
                store.clone(),
                store.clone(),
                Arc::new(Localizer::new()),
                clock.clone(),
                replies,
            ),
            DeliveryReports::new(store.clone()).resolver(resolver.clone()),
            EmailEvents::new(store.clone()).record_opens(self.record_opens),
            tracking.clone(),
        );
        if let Some(f) = &feedback {
            inbound = inbound.feedback(f.clone());
        }
        if let Some(t) = &tickets {
            inbound = inbound.tickets(t.clone());
        }
        for (name, _, decoder) in &self.channel_sources {
            inbound = inbound.decoder(name.clone(), decoder.clone());
        }
        chain = chain.then(Arc::new(inbound));
        let mut handler: Arc<dyn EventHandler> = Arc::new(chain);
        if let Some(wrap) = self.wrap {
            handler = wrap(handler);
        }
        let mut processor = InboxProcessor::new(store.clone(), handler, clock.clone())
            .source(platform.name.clone(), platform.source.clone());
        let mut routes = WebhookRoutes::new(store.clone(), clock.clone())
            .source(platform.name.clone(), platform.source.clone());
        if let Some(h) = &platform.hydrator {
            processor = processor.hydrator(platform.name.clone(), h.clone());
        }
        for (name, source) in &self.sources {
            processor = processor.source(name.clone(), source.clone());
            routes = routes.source(name.clone(), source.clone());
        }
        for (name, source, _) in &self.channel_sources {
            processor = processor.source(name.clone(), source.clone());
            routes = routes.source(name.clone(), source.clone());
        }
        let mut pollers = Vec::new();
        for poller in platform.pollers {
            processor = processor.source(poller.name().to_owned(), Arc::new(PolledSource));
            pollers.push(poller);
        }
        if let Some((name, settings)) = &platform.catch_up {
            processor = processor.source(name.clone(), Arc::new(PolledSource));
            pollers.push(
                CatchUpPoller::new(
                    name.clone(),
                    platform.orders.clone(),
                    store.clone(),
                    clock.clone(),
                )
                .settings(settings.clone()),
            );
        }

        // Pages.
        // The page reads what webhooks carried first and caches what it fetches.
        let mut page = TrackingPage::new(
            Arc::new(KnownOrders::new(platform.orders.clone(), store.clone())),
            TokenSigner::new(key.clone(), "tracking"),
            text.clone(),
            clock.clone(),
        )
        .content(self.content)
        .default_locale(default_locale)
        // The page shows the best known state (carrier-tracking updates merged) and resolves
        // the short links SMS carry.
        .shipments_from(store.clone())
        .short_links(store.clone());
        if let Some(s) = support_url {
            page = page.support_url(s);
        }
        let mut router = routes.into_router().merge(page.into_router());
        if feedback.is_some() {
            processor = processor.source(ANSWER_SOURCE, Arc::new(AnswerSource));
            let mut survey_page = SurveyPage::new(
                store.clone(),
                TokenSigner::new(self.survey_key.clone().unwrap_or(key), "survey"),
                text.clone(),
                clock.clone(),
            )
            .short_links(store.clone());
            if follow_up.is_some() {
                // The follow-up is stored before the answer is recorded and runs from the
                // inbox, retried like a webhook when the shop's API fails.
                survey_page =
                    survey_page.on_answer(Arc::new(AnswerQueue::new(store.clone(), clock.clone())));
            }
            router = router.merge(survey_page.into_router());
        }
        for r in self.routes {
            router = router.merge(r);
        }
        let retention = self.retention_days.map(|days| {
            RetentionSweeper::new(store.clone(), clock.clone(), RetentionPolicy::days(days))
        });
        Ok(Stack {
            router,
            processor,
            dispatcher,
            resolver,
            retention,
            pollers,
            tracking,
            feedback,
            serve: self.serve,
        })
    }
}

/// A wired stack: what to mount ([`Stack::router`]) and what to run ([`Stack::run`], or the
/// parts one by one).
pub struct Stack {
    router: Router,
    processor: InboxProcessor,
    dispatcher: Dispatcher,
    resolver: Arc<UncertainResolver>,
    retention: Option<RetentionSweeper>,
    pollers: Vec<CatchUpPoller>,
    tracking: Arc<TrackingFlow>,
    feedback: Option<Arc<FeedbackFlow>>,
    serve: ServeOptions,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("dispatcher", &self.dispatcher)
            .field("pollers", &self.pollers.len())
            .finish_non_exhaustive()
    }
}

impl Stack {
    /// The HTTP surface: `/webhooks/{name}`, `/t/{token}` and, with surveys, `/s/{token}`.
    /// Merge an integration's own routes into it, or serve it with [`Stack::run`].
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The inbox processor (decodes stored webhooks and runs the flows).
    pub fn processor(&self) -> &InboxProcessor {
        &self.processor
    }

    /// The dispatcher (sends what is due, with the protections on).
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// The resolver of sends left uncertain by a timeout.
    pub fn resolver(&self) -> &UncertainResolver {
        &self.resolver
    }

    /// The tracking flow.
    pub fn tracking(&self) -> &Arc<TrackingFlow> {
        &self.tracking
    }

    /// The feedback flow, when surveys are on.
    pub fn feedback(&self) -> Option<&Arc<FeedbackFlow>> {
        self.feedback.as_ref()
    }

    /// The catch-up pollers (one per platform that has one).
    pub fn pollers(&self) -> &[CatchUpPoller] {
        &self.pollers
    }

    /// Serves the router on `listener` (with the server's timeouts) and runs the processor,
    /// the dispatcher, the resolver, the retention sweeper and the pollers until `shutdown`
    /// completes; then stops them all and lets requests in progress finish.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        let server = tokio::spawn(serve_with_shutdown(
            listener,
            self.router,
            self.serve,
            stopped(),
        ));
        let (p, d, r) = (self.processor, self.dispatcher, self.resolver);
        let stop = stopped();
        tasks.spawn(async move { p.run(Duration::from_millis(200), stop).await });
        let stop = stopped();
        tasks.spawn(async move { d.run(Duration::from_millis(500), stop).await });
        let stop = stopped();
        tasks.spawn(async move { r.run(Duration::from_secs(60), stop).await });
        if let Some(sweeper) = self.retention {
            let stop = stopped();
            tasks.spawn(async move { sweeper.run(Duration::from_secs(3600), stop).await });
        }
        for poller in self.pollers {
            let stop = stopped();
            tasks.spawn(async move { poller.run(stop).await });
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        server
            .await
            .map_err(|e| std::io::Error::other(format!("the server task failed: {e}")))?
    }
}
