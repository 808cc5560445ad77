//! The real-store configuration of `tracking-links` (`run --config`, `backfill`) and
//! `feedback` (`run --config`, `report --config`; surveys with `[survey]`, `[follow_up]`,
//! `[dashboard]`): one TOML file, its JSON Schema at `schemas/tracking-links-config.json`, and
//! [`check`] — every mistake in a file, each with its line and column.
//!
//! One folder, one role per file: this file holds the file's shape and the shared sections;
//! each platform's section and its checks live in a file of its own (`shopify.rs`,
//! `woocommerce.rs`, `bigcommerce.rs`, `salla.rs`, `zid.rs`: a new platform adds one); `check.rs` reads a file
//! and reports every problem with its line and column; `semantic.rs` holds the rules across
//! sections.
//!
//! Secrets are [`SecretRef`]s: `{ env = "NAME" }` (the variable holding it) or
//! `{ value = "..." }` (written in the file, for local trials only).
//!
//! ```
//! let cfg: aftercare_examples::config::TrackingLinksConfig = toml::from_str(r#"
//! [shopify]
//! shop = "demo.myshopify.com"
//! access_token = { env = "SHOPIFY_ACCESS_TOKEN" }
//! client_secrets = [{ env = "SHOPIFY_CLIENT_SECRET" }]
//! tracking_link_key = { env = "AFTERCARE_LINK_KEY" }
//!
//! [server]
//! public_url = "https://shop.example/aftercare"
//! "#).unwrap();
//! assert_eq!(cfg.server.bind, "127.0.0.1:8080");
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use aftercare::config::{SecretRef, StorageConfig};
use aftercare::content::ContentMap;
use aftercare::flows::tracking::Milestone;
use aftercare::model::{ChannelKind, SurveyKind};
use chrono::NaiveTime;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod bigcommerce;
mod branding;
mod check;
mod email;
mod helpdesk;
mod ikas;
mod magento;
mod nuvemshop;
mod recovery;
mod salla;
mod semantic;
mod shopify;
#[cfg(test)]
mod tests;
mod tracking_source;
mod woocommerce;
mod zid;

pub use bigcommerce::BigCommerceStoreConfig;
use bigcommerce::*;
use branding::*;
pub use branding::{BrandingConfig, catalogs};
use check::*;
pub use check::{Problem, check, is_e164, is_mailbox};
use email::*;
pub use email::{EmailConfig, EmailProvider, PinnedCertificate};
use helpdesk::*;
pub use helpdesk::{HelpdeskConfig, HelpdeskProvider};
pub use ikas::IkasStoreConfig;
use ikas::*;
pub use magento::MagentoStoreConfig;
use magento::*;
pub use nuvemshop::NuvemshopStoreConfig;
use nuvemshop::*;
use recovery::*;
pub use recovery::{
    DISCOUNT_PLATFORMS, RecoveryConfig, RecoveryDiscountConfig, RecoverySignal,
    makes_discount_codes,
};
pub use salla::SallaConfig;
use salla::*;
use semantic::*;
pub use shopify::ShopifyConfig;
use shopify::*;
use tracking_source::*;
pub use tracking_source::{SeventeenTrackSign, TrackingService, TrackingSourceConfig};
pub use woocommerce::WooCommerceConfig;
use woocommerce::*;
pub use zid::ZidConfig;
use zid::*;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingLinksConfig {
    /// Which platform the shop runs on (`[shop] platform`, `shopify` when left out); its
    /// section (`[shopify]`, `[woocommerce]`, `[bigcommerce]`, `[nuvemshop]`, `[ikas]`,
    /// `[salla]`, `[zid]` or `[magento]`) must be present.
    #[serde(default)]
    pub shop: ShopConfig,
    /// The Shopify store and app (`platform = "shopify"`).
    #[serde(default)]
    pub shopify: Option<ShopifyConfig>,
    /// The WooCommerce site (`platform = "woocommerce"`).
    #[serde(default)]
    pub woocommerce: Option<WooCommerceConfig>,
    /// The BigCommerce store and app (`platform = "bigcommerce"`).
    #[serde(default)]
    pub bigcommerce: Option<BigCommerceStoreConfig>,
    /// A carrier-tracking service (AfterShip, EasyPost, 17TRACK, Shippo): shipments are
    /// registered with it and its webhooks tell the carrier's steps; left out, only the
    /// platform reports them.
    #[serde(default)]
    pub tracking_source: Option<TrackingSourceConfig>,
    /// The Nuvemshop / Tiendanube store and app (`platform = "nuvemshop"`).
    #[serde(default)]
    pub nuvemshop: Option<NuvemshopStoreConfig>,
    /// The ikas store and app (`platform = "ikas"`).
    #[serde(default)]
    pub ikas: Option<IkasStoreConfig>,
    /// The Salla store and app (`platform = "salla"`).
    #[serde(default)]
    pub salla: Option<SallaConfig>,
    /// The Zid store and app (`platform = "zid"`).
    #[serde(default)]
    pub zid: Option<ZidConfig>,
    /// The Magento 2 / Adobe Commerce store (`platform = "magento"`).
    #[serde(default)]
    pub magento: Option<MagentoStoreConfig>,
    /// Where state is kept (`sqlite = { path = "..." }` or `postgres = { url = ... }`).
    #[serde(default)]
    pub storage: StorageConfig,
    /// The HTTP server: webhooks at `/webhooks/{platform}`, tracking pages at `/t/{token}`.
    pub server: ServerConfig,
    /// SMS and/or WhatsApp through Twilio.
    #[serde(default)]
    pub twilio: Option<TwilioConfig>,
    /// WhatsApp through Meta's WhatsApp Cloud API.
    #[serde(default)]
    pub whatsapp_cloud: Option<WhatsAppCloudConfig>,
    /// Email through an SMTP server.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// What is sent when.
    #[serde(default)]
    pub tracking: TrackingConfig,
    /// Tutorials and guides per product, SKU or category (`[[content]]` entries).
    #[serde(default)]
    pub content: ContentMap,
    /// Sending rates per channel.
    #[serde(default)]
    pub rate_limits: RateLimitsConfig,
    /// Surveys after delivery (NPS or CSAT); left out, no survey is sent.
    #[serde(default)]
    pub survey: Option<SurveyConfig>,
    /// What is done with answers: alerts and tags for detractors, review requests for
    /// promoters (needs `[survey]`).
    #[serde(default)]
    pub follow_up: Option<FollowUpConfig>,
    /// The scores dashboard at `/dashboard` (needs `[survey]`).
    #[serde(default)]
    pub dashboard: Option<DashboardConfig>,
    /// A support desk for follow-up tickets (needs `[survey]`).
    #[serde(default)]
    pub helpdesk: Option<HelpdeskConfig>,
    /// An email provider's events, inbound replies and send API.
    #[serde(default)]
    pub email: Option<EmailConfig>,
    /// How long personal data is kept (`[retention] days`, 365 by default): older answers
    /// lose the person and the comment (scores stay), finished messages and webhooks go.
    #[serde(default)]
    pub retention: aftercare::config::RetentionConfig,
    /// How the shop looks on its pages and in emails: logo, accent colour, support and
    /// shop links.
    #[serde(default)]
    pub branding: Option<BrandingConfig>,
    /// Service recovery (off when left out): an apology, an order tag and, with
    /// `[recovery.discount]` and a marketing opt-in, a discount code, once per order, on a
    /// delivery exception, a failed attempt, a delay or a detractor's answer.
    #[serde(default)]
    pub recovery: Option<RecoveryConfig>,
}

/// The shop platform.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Platform {
    /// Shopify (`[shopify]`).
    #[default]
    Shopify,
    /// WooCommerce (`[woocommerce]`).
    Woocommerce,
    /// BigCommerce (`[bigcommerce]`).
    Bigcommerce,
    /// Nuvemshop / Tiendanube (`[nuvemshop]`).
    Nuvemshop,
    /// ikas (`[ikas]`).
    Ikas,
    /// Salla (`[salla]`).
    Salla,
    /// Zid (`[zid]`).
    Zid,
    /// Magento 2 / Adobe Commerce (`[magento]`).
    Magento,
}

impl Platform {
    /// The platform's section and webhook source name (`/webhooks/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::Woocommerce => "woocommerce",
            Platform::Bigcommerce => "bigcommerce",
            Platform::Nuvemshop => "nuvemshop",
            Platform::Ikas => "ikas",
            Platform::Salla => "salla",
            Platform::Zid => "zid",
            Platform::Magento => "magento",
        }
    }
}

/// `[shop]`: which platform the shop runs on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// `shopify` (the default), `woocommerce`, `bigcommerce`, `nuvemshop`, `ikas`, `salla`,
    /// `zid` or `magento`.
    #[serde(default)]
    pub platform: Platform,
}

/// The HTTP server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// The public base URL the server is reached at, for links in messages
    /// (`https://shop.example/aftercare`).
    pub public_url: String,
    /// Seconds a request's head may take to arrive, from the connection's opening or the
    /// previous response (10 when left out); a slower client is disconnected.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a request's whole body may take to arrive after its head (30 when left out);
    /// a slower body is answered `408` and the connection closed.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub body_read_timeout_secs: Option<u64>,
    /// Seconds a connection may stay silent while no request is being handled (5 when left
    /// out): kept-alive connections between requests, clients that stopped reading.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub idle_timeout_secs: Option<u64>,
    /// Connections served at once (512 when left out); more wait in the listen backlog until
    /// one closes.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_connections: Option<usize>,
    /// Seconds requests in progress get to finish when the server stops (10 when left out).
    #[serde(default)]
    pub shutdown_grace_secs: Option<u64>,
}

fn default_bind() -> String {
    "127.0.0.1:8080".into()
}

impl ServerConfig {
    /// The serving limits: the settings given, the defaults of
    /// [`ServeOptions`](aftercare::http::ServeOptions) for the others.
    pub fn serve_options(&self) -> aftercare::http::ServeOptions {
        use std::time::Duration;
        let mut o = aftercare::http::ServeOptions::default();
        if let Some(s) = self.header_read_timeout_secs {
            o = o.header_read_timeout(Duration::from_secs(s));
        }
        if let Some(s) = self.body_read_timeout_secs {
            o = o.body_read_timeout(Duration::from_secs(s));
        }
        if let Some(s) = self.idle_timeout_secs {
            o = o.idle_timeout(Duration::from_secs(s));
        }
        if let Some(n) = self.max_connections {
            o = o.max_connections(n);
        }
        if let Some(s) = self.shutdown_grace_secs {
            o = o.shutdown_grace(Duration::from_secs(s));
        }
        o
    }
}

/// SMS and/or WhatsApp through Twilio.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// Account SID (`AC...`).
    pub account_sid: String,
    /// The account's Auth Token, or an API key's secret when `api_key_sid` is set.
    pub auth_token: SecretRef,
    /// An API key (`SK...`) authenticating instead of the Account SID.
    #[serde(default)]
    pub api_key_sid: Option<String>,
    /// The sending number (E.164, `+14155550100`); or set `messaging_service_sid`.
    #[serde(default)]
    pub from: Option<String>,
    /// A Messaging Service (`MG...`) choosing the sending number.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// The channels sent through Twilio.
    #[serde(default = "default_twilio_channels")]
    pub channels: Vec<ChannelKind>,
    /// WhatsApp templates: template name (or `name:language`) to Content SID (`HX...`).
    #[serde(default)]
    pub content_sids: BTreeMap<String, String>,
    /// Sends API requests here instead of `https://api.twilio.com` (a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

fn default_twilio_channels() -> Vec<ChannelKind> {
    vec![ChannelKind::Sms]
}

/// WhatsApp through Meta's Cloud API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppCloudConfig {
    /// The business phone number id.
    pub phone_number_id: String,
    /// A (system user) access token.
    pub access_token: SecretRef,
    /// The Meta app secret signing webhooks.
    pub app_secret: SecretRef,
    /// The token Meta echoes in the webhook verification handshake.
    pub verify_token: SecretRef,
    /// Graph API version (`v23.0`); the adapter's default if unset.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Sends API requests here instead of `https://graph.facebook.com` (a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// TLS from the first byte (port 465).
    Implicit,
    /// `STARTTLS`, required (port 587).
    Starttls,
    /// `STARTTLS` when offered.
    StarttlsOpportunistic,
    /// No encryption: a local development server only.
    None,
}

/// Email through an SMTP server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How the connection is secured.
    pub tls: TlsMode,
    /// User name, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (with `username`).
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// The `From:` mailbox: `orders@shop.example` or `Shop <orders@shop.example>`.
    pub from: String,
    /// The `Reply-To:` mailbox.
    #[serde(default)]
    pub reply_to: Option<String>,
}

/// What is sent when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingConfig {
    /// Milestones that produce a message.
    #[serde(default = "all_milestones")]
    pub milestones: Vec<Milestone>,
    /// Channel preference order: the first the customer can and may be reached on wins.
    #[serde(default = "all_channels")]
    pub channels: Vec<ChannelKind>,
    /// No message between these local times: 21:00 to 08:00 in the customer's zone (UTC
    /// when unknown) unless this section says otherwise or turns them `off`.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Locale when the customer's is unknown.
    #[serde(default = "default_locale")]
    pub default_locale: String,
    /// The shop's support page.
    #[serde(default)]
    pub support_url: Option<String>,
    /// How long tracking-page links stay valid, in days.
    #[serde(default = "default_ttl")]
    pub link_ttl_days: u32,
    /// WhatsApp templates are named `{prefix}{milestone}`.
    #[serde(default = "default_prefix")]
    pub whatsapp_template_prefix: String,
}

fn all_milestones() -> Vec<Milestone> {
    Milestone::ALL.to_vec()
}
fn all_channels() -> Vec<ChannelKind> {
    ChannelKind::ALL.to_vec()
}
fn default_locale() -> String {
    "en".into()
}
fn default_ttl() -> u32 {
    60
}
fn default_prefix() -> String {
    "aftercare_".into()
}

impl Default for TrackingConfig {
    fn default() -> Self {
        Self {
            milestones: all_milestones(),
            channels: all_channels(),
            quiet_hours: None,
            default_locale: default_locale(),
            support_url: None,
            link_ttl_days: default_ttl(),
            whatsapp_template_prefix: default_prefix(),
        }
    }
}

/// Quiet hours, in the customer's time zone when known. On by default (21:00 to 08:00, UTC
/// for customers whose zone is unknown); `off = true` is the only way to turn them off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, `HH:MM` local time (`21:00` by default).
    #[serde(default = "default_quiet_start")]
    pub start: String,
    /// End, `HH:MM` local time (`08:00` by default).
    #[serde(default = "default_quiet_end")]
    pub end: String,
    /// IANA time zone used when the customer's is unknown (the shop's, ideally; `UTC` by
    /// default).
    #[serde(default = "default_zone")]
    pub time_zone: String,
    /// Sends at any hour: quiet hours off.
    #[serde(default)]
    pub off: bool,
}

impl Default for QuietHours {
    fn default() -> Self {
        Self {
            start: default_quiet_start(),
            end: default_quiet_end(),
            time_zone: default_zone(),
            off: false,
        }
    }
}

fn default_quiet_start() -> String {
    "21:00".into()
}
fn default_quiet_end() -> String {
    "08:00".into()
}

fn default_zone() -> String {
    "UTC".into()
}

/// Sending rates, messages per second per channel; unset means the provider's documented
/// default (Twilio: 1/s on a long code, 10/s on WhatsApp) or no pacing (email).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsConfig {
    /// SMS per second.
    #[serde(default)]
    pub sms_per_second: Option<f64>,
    /// WhatsApp messages per second.
    #[serde(default)]
    pub whatsapp_per_second: Option<f64>,
    /// Emails per second.
    #[serde(default)]
    pub email_per_second: Option<f64>,
}

/// What a survey asks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyKindConfig {
    /// Net Promoter Score: how likely to recommend, 0 to 10.
    #[default]
    Nps,
    /// Customer satisfaction, 1 to 5.
    Csat,
}

impl From<SurveyKindConfig> for SurveyKind {
    fn from(k: SurveyKindConfig) -> Self {
        match k {
            SurveyKindConfig::Nps => SurveyKind::Nps,
            SurveyKindConfig::Csat => SurveyKind::Csat,
        }
    }
}

/// Surveys after delivery (mirrors the sdk's `SurveySettings`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyConfig {
    /// What is asked: `nps` (0 to 10) or `csat` (1 to 5).
    #[serde(default)]
    pub kind: SurveyKindConfig,
    /// Days after delivery to ask (0: as soon as the parcel is delivered).
    #[serde(default = "default_after_delivery")]
    pub days_after_delivery: u32,
    /// Days after shipping to ask when no delivery is ever reported.
    #[serde(default = "default_after_shipping")]
    pub days_after_shipping: u32,
    /// Days after the invitation for the one reminder; 0 for no reminder.
    #[serde(default = "default_reminder")]
    pub reminder_days: u32,
    /// Days the survey stays open after it is sent.
    #[serde(default = "default_open")]
    pub open_days: u32,
    /// Days after a survey before the same customer is asked again.
    #[serde(default = "default_cooldown")]
    pub cooldown_days: u32,
    /// Days an unhappy (detractor) answer counts as an open complaint, holding back other
    /// surveys to the customer.
    #[serde(default = "default_complaint")]
    pub complaint_days: u32,
    /// Channel preference order for surveys; `[tracking] channels` when left out. Every
    /// channel listed must be configured.
    #[serde(default)]
    pub channels: Option<Vec<ChannelKind>>,
    /// Signs survey links (`/s/{token}`); `shopify.tracking_link_key` when left out (links
    /// are bound to their purpose, so one key serves both).
    #[serde(default)]
    pub link_key: Option<SecretRef>,
}

fn default_after_delivery() -> u32 {
    3
}
fn default_after_shipping() -> u32 {
    14
}
fn default_reminder() -> u32 {
    3
}
fn default_open() -> u32 {
    14
}
fn default_cooldown() -> u32 {
    90
}
fn default_complaint() -> u32 {
    30
}

/// What is done with answers (mirrors the sdk's `FollowUpSettings`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpConfig {
    /// Support's email address, alerted of each unhappy answer (needs `[smtp]`).
    #[serde(default)]
    pub support_email: Option<String>,
    /// A helpdesk's webhook URL, sent a signed (Standard Webhooks) alert of each unhappy
    /// answer.
    #[serde(default)]
    pub helpdesk_webhook_url: Option<String>,
    /// The helpdesk webhook's signing secret (`whsec_...`), with `helpdesk_webhook_url`.
    #[serde(default)]
    pub helpdesk_webhook_secret: Option<SecretRef>,
    /// Tag added in the shop to an unhappy customer's order and customer record.
    #[serde(default)]
    pub detractor_tag: Option<String>,
    /// A review page offered to happy customers who gave marketing consent.
    #[serde(default)]
    pub review_url: Option<String>,
    /// The language of support's alerts; English when left out.
    #[serde(default)]
    pub support_locale: Option<String>,
}

/// The scores dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// The key that opens it (sign in at `/dashboard`, or send `Authorization: Bearer <key>`):
    /// any long random string.
    pub key: SecretRef,
}

/// Parses `HH:MM`.
pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// The JSON Schema of the file.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(TrackingLinksConfig)).unwrap_or(Value::Null)
}

/// The schema as the checked-in file's text (pretty JSON, trailing newline).
pub fn schema_text() -> String {
    aftercare::schema::render(&schema())
}
