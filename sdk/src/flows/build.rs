//! Builders for the flows and their settings, with documented defaults.
//!
//! [`TrackingFlow::builder`] and [`FeedbackFlow::builder`] take the parts one by one and say,
//! at [`build`](TrackingFlowBuilder::build), which required one is missing; the settings
//! structs ([`TrackingSettings`], [`SurveySettings`], [`FollowUpSettings`]) are
//! `#[non_exhaustive]` and get chained setters named after their fields, starting from
//! `Default`:
//!
//! ```
//! use aftercare::flows::tracking::TrackingSettings;
//! use aftercare::model::ChannelKind;
//!
//! let s = TrackingSettings::default()
//!     .with_public_url("https://shop.example/aftercare")
//!     .with_channels([ChannelKind::Whatsapp, ChannelKind::Email]);
//! assert_eq!(s.default_locale, "en");
//! ```

use std::sync::Arc;

use crate::Error;
use crate::clock::{Clock, SystemClock};
use crate::content::ContentMap;
use crate::flows::feedback::{FeedbackFlow, FeedbackStore, FollowUpSettings, SurveySettings};
use crate::flows::tracking::{FlowStore, Milestone, Renderer, TrackingFlow, TrackingSettings};
use crate::l10n::Catalogs;
use crate::model::{ChannelKind, SurveyKind};
use crate::platform::{CustomerDirectory, OrderSource};
use crate::token::TokenSigner;
use crate::webhook::Secret;

fn missing(flow: &str, part: &str, how: &str) -> Error {
    Error::Config(format!("{flow}: no {part}; {how}"))
}

/// The parts both flow builders share.
struct Parts {
    orders: Option<Arc<dyn OrderSource>>,
    customers: Option<Arc<dyn CustomerDirectory>>,
    renderer: Option<Arc<dyn Renderer>>,
    shop_name: Option<String>,
    key: Option<Secret>,
    clock: Arc<dyn Clock>,
}

impl Default for Parts {
    fn default() -> Self {
        Self {
            orders: None,
            customers: None,
            renderer: None,
            shop_name: None,
            key: None,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The shared parts, each required one present.
struct Required {
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    renderer: Arc<dyn Renderer>,
    tokens: TokenSigner,
    clock: Arc<dyn Clock>,
}

impl Parts {
    /// The parts, or which required one `flow` lacks; links signed for `purpose`.
    fn require(self, flow: &str, purpose: &str) -> Result<Required, Error> {
        let renderer: Arc<dyn Renderer> = match (self.renderer, self.shop_name) {
            (Some(r), _) => r,
            (None, Some(name)) => Arc::new(Catalogs::new(name)),
            (None, None) => {
                return Err(missing(
                    flow,
                    "renderer",
                    "call .shop_name(\"...\") for the built-in catalogs, or .renderer(...)",
                ));
            }
        };
        Ok(Required {
            orders: self
                .orders
                .ok_or_else(|| missing(flow, "order source", "call .orders(...)"))?,
            customers: self
                .customers
                .ok_or_else(|| missing(flow, "customer directory", "call .customers(...)"))?,
            renderer,
            tokens: TokenSigner::new(
                self.key
                    .ok_or_else(|| missing(flow, "link key", "call .link_key(...)"))?,
                purpose,
            ),
            clock: self.clock,
        })
    }
}

macro_rules! shared_setters {
    () => {
        /// The shop's orders (required).
        pub fn orders(mut self, orders: Arc<dyn OrderSource>) -> Self {
            self.parts.orders = Some(orders);
            self
        }

        /// The shop's customers (required).
        pub fn customers(mut self, customers: Arc<dyn CustomerDirectory>) -> Self {
            self.parts.customers = Some(customers);
            self
        }

        /// The shop's name as customers know it: messages are written with the sdk's
        /// catalogs ([`Catalogs`]) in the customer's language. Either this or
        /// [`renderer`](Self::renderer) is required.
        pub fn shop_name(mut self, name: impl Into<String>) -> Self {
            self.parts.shop_name = Some(name.into());
            self
        }

        /// Writes messages with an integrator's own templates instead of the catalogs.
        pub fn renderer(mut self, renderer: Arc<dyn Renderer>) -> Self {
            self.parts.renderer = Some(renderer);
            self
        }

        /// The key that signs the links in messages (required; any long random secret;
        /// changing it invalidates links already sent). Tokens are bound to their purpose,
        /// so the tracking and survey flows may share one key.
        pub fn link_key(mut self, key: Secret) -> Self {
            self.parts.key = Some(key);
            self
        }

        /// The clock ([`SystemClock`] by default; tests use a manual one).
        pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
            self.parts.clock = clock;
            self
        }
    };
}

/// Builds a [`TrackingFlow`]: `TrackingFlow::builder(store)`.
///
/// Required: [`orders`](Self::orders), [`customers`](Self::customers),
/// [`link_key`](Self::link_key), and [`shop_name`](Self::shop_name) or
/// [`renderer`](Self::renderer). Defaults: no content (guides), the system clock,
/// [`TrackingSettings::default`] (every milestone, channels WhatsApp → SMS → email, `en`,
/// links valid 60 days).
pub struct TrackingFlowBuilder {
    make: Box<dyn FnOnce(TrackingParts) -> TrackingFlow + Send>,
    parts: Parts,
    content: ContentMap,
    settings: TrackingSettings,
}

/// What [`TrackingFlowBuilder::build`] hands the store-typed constructor.
struct TrackingParts {
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    renderer: Arc<dyn Renderer>,
    content: ContentMap,
    tokens: TokenSigner,
    clock: Arc<dyn Clock>,
    settings: TrackingSettings,
}

impl std::fmt::Debug for TrackingFlowBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackingFlowBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TrackingFlow {
    /// A builder over a store (see [`TrackingFlowBuilder`] for what is required and the
    /// defaults).
    pub fn builder<S: FlowStore + 'static>(store: Arc<S>) -> TrackingFlowBuilder {
        TrackingFlowBuilder {
            make: Box::new(move |p: TrackingParts| {
                TrackingFlow::new(
                    p.orders,
                    p.customers,
                    store,
                    p.renderer,
                    p.content,
                    p.tokens,
                    p.clock,
                    p.settings,
                )
            }),
            parts: Parts::default(),
            content: ContentMap::default(),
            settings: TrackingSettings::default(),
        }
    }
}

impl TrackingFlowBuilder {
    shared_setters!();

    /// Tutorials and guides per product, SKU or category, woven into messages and pages.
    pub fn content(mut self, content: ContentMap) -> Self {
        self.content = content;
        self
    }

    /// The settings (see [`TrackingSettings`]'s `with_*` setters).
    pub fn settings(mut self, settings: TrackingSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds the flow, or says which required part is missing.
    pub fn build(self) -> Result<TrackingFlow, Error> {
        let r = self.parts.require("TrackingFlow::builder", "tracking")?;
        Ok((self.make)(TrackingParts {
            orders: r.orders,
            customers: r.customers,
            renderer: r.renderer,
            content: self.content,
            tokens: r.tokens,
            clock: r.clock,
            settings: self.settings,
        }))
    }
}

/// Builds a [`FeedbackFlow`]: `FeedbackFlow::builder(store)`.
///
/// Required: [`orders`](Self::orders), [`customers`](Self::customers),
/// [`link_key`](Self::link_key), and [`shop_name`](Self::shop_name) or
/// [`renderer`](Self::renderer). Defaults: the system clock and [`SurveySettings::default`]
/// (NPS 3 days after delivery, or 14 after shipping when no delivery event comes; one
/// reminder after 3 days; open 14 days; 90 days' cool-down per customer).
pub struct FeedbackFlowBuilder {
    make: Box<dyn FnOnce(FeedbackParts) -> FeedbackFlow + Send>,
    parts: Parts,
    settings: SurveySettings,
}

struct FeedbackParts {
    orders: Arc<dyn OrderSource>,
    customers: Arc<dyn CustomerDirectory>,
    renderer: Arc<dyn Renderer>,
    tokens: TokenSigner,
    clock: Arc<dyn Clock>,
    settings: SurveySettings,
}

impl std::fmt::Debug for FeedbackFlowBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackFlowBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FeedbackFlow {
    /// A builder over a store (see [`FeedbackFlowBuilder`] for what is required and the
    /// defaults).
    pub fn builder<S: FeedbackStore + 'static>(store: Arc<S>) -> FeedbackFlowBuilder {
        FeedbackFlowBuilder {
            make: Box::new(move |p: FeedbackParts| {
                FeedbackFlow::new(
                    p.orders,
                    p.customers,
                    store,
                    p.renderer,
                    p.tokens,
                    p.clock,
                    p.settings,
                )
            }),
            parts: Parts::default(),
            settings: SurveySettings::default(),
        }
    }
}

impl FeedbackFlowBuilder {
    shared_setters!();

    /// The settings (see [`SurveySettings`]'s `with_*` setters).
    pub fn settings(mut self, settings: SurveySettings) -> Self {
        self.settings = settings;
        self
    }

    /// Builds the flow, or says which required part is missing.
    pub fn build(self) -> Result<FeedbackFlow, Error> {
        let r = self.parts.require("FeedbackFlow::builder", "survey")?;
        Ok((self.make)(FeedbackParts {
            orders: r.orders,
            customers: r.customers,
            renderer: r.renderer,
            tokens: r.tokens,
            clock: r.clock,
            settings: self.settings,
        }))
    }
}

/// `with_<field>` setters on a settings struct.
macro_rules! setters {
    ($ty:ty { $($(#[$doc:meta])* $name:ident: $field:ident: $arg:ty => $conv:expr;)* }) => {
        impl $ty {
            $(
                $(#[$doc])*
                pub fn $name(mut self, value: $arg) -> Self {
                    #[allow(clippy::redundant_closure_call)]
                    {
                        self.$field = ($conv)(value);
                    }
                    self
                }
            )*
        }
    };
}

setters!(TrackingSettings {
    /// Milestones that produce a message (all by default).
    with_milestones: milestones: impl IntoIterator<Item = Milestone> => |v: _| Vec::from_iter(v);
    /// Channel preference, first reachable wins (WhatsApp, SMS, email by default).
    with_channels: channels: impl IntoIterator<Item = ChannelKind> => |v: _| Vec::from_iter(v);
    /// Locale when the customer's is unknown (`en` by default).
    with_default_locale: default_locale: impl Into<String> => Into::into;
    /// Aftercare's public base URL, for the tracking page (`http://127.0.0.1:8080` by
    /// default: set it for anything but a local trial).
    with_public_url: public_url: impl Into<String> => Into::into;
    /// The shop's support link (none by default).
    with_support_url: support_url: impl Into<String> => |v: _| Some(Into::into(v));
    /// How long tracking-page links stay valid (60 days by default).
    with_link_ttl: link_ttl: chrono::Duration => |v| v;
    /// WhatsApp template names are `{prefix}{milestone}` (`aftercare_` by default).
    with_whatsapp_template_prefix: whatsapp_template_prefix: impl Into<String> => Into::into;
});

setters!(SurveySettings {
    /// What is asked (NPS by default).
    with_kind: kind: SurveyKind => |v| v;
    /// Days after delivery to ask (3 by default).
    with_days_after_delivery: days_after_delivery: u32 => |v| v;
    /// Days after shipping to ask when no delivery event ever comes (14 by default).
    with_days_after_shipping: days_after_shipping: u32 => |v| v;
    /// Days after the invitation for the one reminder; `None` for none (3 by default).
    with_reminder_after_days: reminder_after_days: Option<u32> => |v| v;
    /// Days the survey stays open (14 by default).
    with_open_days: open_days: u32 => |v| v;
    /// Days before the same customer is asked again (90 by default).
    with_cooldown_days: cooldown_days: u32 => |v| v;
    /// Days a detractor answer counts as an open complaint (30 by default).
    with_complaint_days: complaint_days: u32 => |v| v;
    /// Channel preference (email, WhatsApp, SMS by default).
    with_channels: channels: impl IntoIterator<Item = ChannelKind> => |v: _| Vec::from_iter(v);
    /// Locale when the customer's is unknown (`en` by default).
    with_default_locale: default_locale: impl Into<String> => Into::into;
    /// Aftercare's public base URL, for the survey links.
    with_public_url: public_url: impl Into<String> => Into::into;
});

setters!(FollowUpSettings {
    /// Support's email address for detractor alerts (none by default).
    with_support_email: support_email: impl Into<String> => |v: _| Some(Into::into(v));
    /// A helpdesk webhook URL for detractor alerts (none by default).
    with_webhook_url: webhook_url: impl Into<String> => |v: _| Some(Into::into(v));
    /// Tag for detractors' orders and customers (none by default).
    with_detractor_tag: detractor_tag: impl Into<String> => |v: _| Some(Into::into(v));
    /// A review page for promoters (none by default: no review request).
    with_review_url: review_url: impl Into<String> => |v: _| Some(Into::into(v));
    /// The locale of support's alerts (the default locale when unset).
    with_support_locale: support_locale: impl Into<String> => |v: _| Some(Into::into(v));
});
