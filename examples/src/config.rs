//! The real-store configuration of `tracking-links` (`run --config`, `backfill`) and
//! `feedback` (`run --config`, `report --config`; surveys with `[survey]`, `[follow_up]`,
//! `[dashboard]`): one TOML file, its JSON Schema at `schemas/tracking-links-config.json`, and
//! [`check`] — every mistake in a file, each with its line and column.
//!
//! One file (past 800 lines): the configuration types and their checker share one schema —
//! each section's struct, its JSON Schema attributes and its line-and-column checks must change
//! together, and splitting them by section would scatter one contract over many files.
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

/// The whole file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingLinksConfig {
    /// Which platform the shop runs on (`[shop] platform`, `shopify` when left out); its
    /// section (`[shopify]`, `[woocommerce]` or `[bigcommerce]`) must be present.
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
    /// How long personal data is kept (`[retention] days`, 365 by default): older answers
    /// lose the person and the comment (scores stay), finished messages and webhooks go.
    #[serde(default)]
    pub retention: aftercare::config::RetentionConfig,
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
}

impl Platform {
    /// The platform's section and webhook source name (`/webhooks/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            Platform::Shopify => "shopify",
            Platform::Woocommerce => "woocommerce",
            Platform::Bigcommerce => "bigcommerce",
        }
    }
}

/// `[shop]`: which platform the shop runs on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopConfig {
    /// `shopify` (the default), `woocommerce` or `bigcommerce`.
    #[serde(default)]
    pub platform: Platform,
}

/// A WooCommerce site: its REST API key, webhook secrets and catch-up polling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WooCommerceConfig {
    /// The site's home URL (`https://shop.example/`); webhooks naming another are refused.
    pub site: String,
    /// The shop's name as customers know it (in messages and pages); the site if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// REST API consumer key (`ck_...`; *WooCommerce → Settings → Advanced → REST API*,
    /// read/write for the order notes and tags).
    pub consumer_key: SecretRef,
    /// REST API consumer secret (`cs_...`).
    pub consumer_secret: SecretRef,
    /// The webhooks' secrets (each WooCommerce webhook has its own; old and new during a
    /// rotation).
    pub webhook_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// Catch-up polling of orders modified since the last poll (WooCommerce never retries a
    /// failed webhook and disables one after five failures): on unless `false`.
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// Seconds between catch-up polls (300 by default).
    #[serde(default = "default_poll_secs")]
    #[schemars(range(min = 10))]
    pub poll_interval_secs: u64,
    /// Sends REST API requests to this base URL instead of the site (a proxy or a test
    /// double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_poll_secs() -> u64 {
    300
}

/// A BigCommerce store and app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BigCommerceStoreConfig {
    /// The store hash (`abc123` in `https://api.bigcommerce.com/stores/abc123/`); callbacks
    /// from another store are refused.
    pub store_hash: String,
    /// The shop's name as customers know it (in messages and pages); the store hash if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// The API account's access token (`X-Auth-Token`).
    pub access_token: SecretRef,
    /// The app's client secrets that sign callbacks, the current one first.
    pub client_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string).
    pub tracking_link_key: SecretRef,
    /// Sends API requests to this base URL instead of `https://api.bigcommerce.com` (a
    /// proxy or a test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
}

/// The Shopify store and app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopifyConfig {
    /// The shop's domain: `your-shop.myshopify.com`.
    pub shop: String,
    /// The shop's name as customers know it (in messages and pages); the domain if unset.
    #[serde(default)]
    pub shop_name: Option<String>,
    /// Admin API version (`YYYY-MM`); the adapter's default if unset.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Admin API access token (`shpat_...`).
    pub access_token: SecretRef,
    /// The app's client secrets that sign webhooks, the current one first (two during a
    /// rotation).
    pub client_secrets: Vec<SecretRef>,
    /// The key that signs tracking-page links (any long random string; changing it
    /// invalidates links already sent).
    pub tracking_link_key: SecretRef,
    /// Orders read per Admin API request when going through history (`backfill`), 1 to 250.
    #[serde(default)]
    #[schemars(range(min = 1, max = 250))]
    pub page_size: Option<u32>,
    /// Sends Admin API requests to this base URL instead of `https://{shop}` (a proxy or a
    /// test double).
    #[serde(default)]
    pub api_base_url: Option<String>,
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
    /// No message between these local times.
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

/// Quiet hours, in the customer's time zone when known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, `HH:MM` local time (`21:00`).
    pub start: String,
    /// End, `HH:MM` local time (`08:00`).
    pub end: String,
    /// IANA time zone used when the customer's is unknown.
    #[serde(default = "default_zone")]
    pub time_zone: String,
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

// ---------------------------------------------------------------------------------------
// Checking a file.

/// One mistake in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when the mistake is in the file (not, say, a missing variable's value).
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// The key path (`twilio.from`), empty for the whole file.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, "{l}:{c}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// A step in a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

fn path_text(path: &[Seg]) -> String {
    let mut s = String::new();
    for p in path {
        match p {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// A table's entry: its key, the key's place, its value.
type Entry<'a> = (String, Option<Range<usize>>, Node<'a>);

/// A node of the parsed document.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a toml_edit::Item),
    Value(&'a toml_edit::Value),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    fn value(self) -> Option<&'a toml_edit::Value> {
        match self {
            Node::Item(toml_edit::Item::Value(v)) | Node::Value(v) => Some(v),
            _ => None,
        }
    }

    fn span(self) -> Option<Range<usize>> {
        match self {
            Node::Item(i) => i.span(),
            Node::Value(v) => v.span(),
            Node::Table(t) => t.span(),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Node::Item(toml_edit::Item::Table(_)) | Node::Table(_) => "a table",
            Node::Item(toml_edit::Item::ArrayOfTables(_)) => "an array of tables",
            Node::Item(toml_edit::Item::None) => "nothing",
            _ => match self.value() {
                Some(toml_edit::Value::String(_)) => "a string",
                Some(toml_edit::Value::Integer(_)) => "an integer",
                Some(toml_edit::Value::Float(_)) => "a float",
                Some(toml_edit::Value::Boolean(_)) => "a boolean",
                Some(toml_edit::Value::Datetime(_)) => "a date-time",
                Some(toml_edit::Value::Array(_)) => "an array",
                Some(toml_edit::Value::InlineTable(_)) => "a table",
                None => "nothing",
            },
        }
    }

    /// The entries of a table: (key, key span, value).
    fn entries(self) -> Option<Vec<Entry<'a>>> {
        let table = match self {
            Node::Table(t) | Node::Item(toml_edit::Item::Table(t)) => Some(t),
            _ => None,
        };
        if let Some(t) = table {
            return Some(
                t.iter()
                    .filter_map(|(k, _)| {
                        t.get_key_value(k)
                            .map(|(key, item)| (k.to_owned(), key.span(), Node::Item(item)))
                    })
                    .collect(),
            );
        }
        match self.value() {
            Some(toml_edit::Value::InlineTable(t)) => Some(
                t.iter()
                    .filter_map(|(k, _)| {
                        t.get_key_value(k).and_then(|(key, item)| {
                            item.as_value()
                                .map(|v| (k.to_owned(), key.span(), Node::Value(v)))
                        })
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    fn elements(self) -> Option<Vec<Node<'a>>> {
        match self {
            Node::Item(toml_edit::Item::ArrayOfTables(a)) => {
                Some(a.iter().map(Node::Table).collect())
            }
            _ => match self.value() {
                Some(toml_edit::Value::Array(a)) => Some(a.iter().map(Node::Value).collect()),
                _ => None,
            },
        }
    }
}

/// Walks a document against the JSON Schema, collecting every mismatch.
struct Walker<'s> {
    text: &'s str,
    root: &'s Value,
    problems: Vec<Problem>,
}

impl<'s> Walker<'s> {
    fn problem(&mut self, span: Option<Range<usize>>, path: &[Seg], message: String) {
        let (line, column) = match span {
            Some(r) => {
                let (l, c) = line_col(self.text, r.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.problems.push(Problem {
            line,
            column,
            path: path_text(path),
            message,
        });
    }

    fn resolve(&self, schema: &'s Value) -> &'s Value {
        let mut s = schema;
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let ptr = r.trim_start_matches('#');
                    match self.root.pointer(ptr) {
                        Some(t) => s = t,
                        None => return s,
                    }
                }
                None => return s,
            }
        }
        s
    }

    /// What a schema expects, in words.
    fn expected(&self, schema: &'s Value) -> String {
        let s = self.resolve(schema);
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            return format!("one of {}", quoted(e));
        }
        if let Some(c) = s.get("const") {
            return format!(
                "`{}`",
                c.as_str().map(str::to_owned).unwrap_or(c.to_string())
            );
        }
        for k in ["anyOf", "oneOf"] {
            if let Some(bs) = s.get(k).and_then(Value::as_array) {
                let parts: Vec<String> = bs
                    .iter()
                    .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                    .map(|b| self.expected(b))
                    .collect();
                return parts.join(" or ");
            }
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let words: Vec<String> = types
            .into_iter()
            .filter(|t| *t != "null")
            .map(|t| match t {
                "object" => {
                    let keys = s
                        .get("properties")
                        .and_then(Value::as_object)
                        .map(|p| p.keys().cloned().collect::<Vec<_>>())
                        .unwrap_or_default();
                    if keys.len() == 1 {
                        format!("a table `{{ {} = ... }}`", keys[0])
                    } else {
                        "a table".to_owned()
                    }
                }
                "array" => "an array".to_owned(),
                "string" => "a string".to_owned(),
                "integer" => "an integer".to_owned(),
                "number" => "a number".to_owned(),
                "boolean" => "a boolean".to_owned(),
                other => other.to_owned(),
            })
            .collect();
        if words.is_empty() {
            "something else".into()
        } else {
            words.join(" or ")
        }
    }

    fn check(&mut self, node: Node<'_>, schema: &'s Value, path: &mut Vec<Seg>) {
        // A secret written as a bare string: say how to write it, never echo it.
        let is_secret = schema
            .get("$ref")
            .and_then(Value::as_str)
            .is_some_and(|r| r.ends_with("/SecretRef"));
        if is_secret && node.value().is_some_and(|v| v.is_str()) {
            let msg = "a secret is not written in the file as a string: name the environment \
                       variable holding it, `{ env = \"NAME\" }` (or, for local trials only, \
                       `{ value = \"...\" }`)"
                .to_owned();
            self.problem(node.span(), path, msg);
            return;
        }
        let s = self.resolve(schema);
        for k in ["anyOf", "oneOf"] {
            if let Some(branches) = s.get(k).and_then(Value::as_array) {
                let mut best: Option<Vec<Problem>> = None;
                for b in branches {
                    let saved = std::mem::take(&mut self.problems);
                    self.check(node, b, path);
                    let found = std::mem::replace(&mut self.problems, saved);
                    if found.is_empty() {
                        return;
                    }
                    // A branch that failed only deeper down (the value has the right shape)
                    // says more than one of the wrong shape.
                    // A missing field is deep too: the value is a table of the right kind.
                    let here = path_text(path);
                    let is_shallow = |ps: &[Problem]| {
                        ps.iter()
                            .all(|p| p.path == here && !p.message.starts_with("missing field"))
                    };
                    let shallow = is_shallow(&found);
                    let better = match &best {
                        None => true,
                        Some(prev) => {
                            let prev_shallow = is_shallow(prev);
                            (prev_shallow && !shallow)
                                || (prev_shallow == shallow && found.len() < prev.len())
                        }
                    };
                    if better {
                        best = Some(found);
                    }
                }
                let here = path_text(path);
                let deep = |b: &[Problem]| {
                    !b.iter()
                        .all(|p| p.path == here && !p.message.starts_with("missing field"))
                };
                match best {
                    Some(b) if deep(&b) => self.problems.extend(b),
                    _ => {
                        let msg = format!("expected {}, found {}", self.expected(s), found(node));
                        self.problem(node.span(), path, msg);
                    }
                }
                return;
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            let ok = node
                .value()
                .and_then(|v| v.as_str())
                .is_some_and(|v| e.iter().any(|x| x.as_str() == Some(v)));
            if !ok {
                let msg = format!("expected one of {}, found {}", quoted(e), found(node));
                self.problem(node.span(), path, msg);
            }
            return;
        }
        if let Some(c) = s.get("const") {
            let ok = node.value().and_then(|v| v.as_str()) == c.as_str();
            if !ok {
                let msg = format!("expected {}", self.expected(s));
                self.problem(node.span(), path, msg);
            }
            return;
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return,
        };
        let v = node.value();
        let matches = |t: &str| match t {
            "object" => node.entries().is_some(),
            "array" => node.elements().is_some(),
            "string" => v.is_some_and(|v| v.is_str()),
            "integer" => v.is_some_and(|v| v.is_integer()),
            "number" => v.is_some_and(|v| v.is_integer() || v.is_float()),
            "boolean" => v.is_some_and(|v| v.is_bool()),
            _ => false,
        };
        let Some(t) = types.iter().copied().find(|t| matches(t)) else {
            let msg = format!("expected {}, found {}", self.expected(s), found(node));
            self.problem(node.span(), path, msg);
            return;
        };
        match t {
            "object" => self.check_table(node, s, path),
            "array" => {
                if let Some(items) = s.get("items") {
                    for (i, el) in node.elements().unwrap_or_default().into_iter().enumerate() {
                        path.push(Seg::Index(i));
                        self.check(el, items, path);
                        path.pop();
                    }
                }
            }
            "integer" => {
                let n = v.and_then(|v| v.as_integer()).unwrap_or(0);
                let min = s.get("minimum").and_then(Value::as_f64);
                let max = s.get("maximum").and_then(Value::as_f64);
                #[allow(clippy::cast_precision_loss)]
                let nf = n as f64;
                if min.is_some_and(|m| nf < m) || max.is_some_and(|m| nf > m) {
                    let msg = format!(
                        "{n} is out of range ({} to {})",
                        min.map(|m| m.to_string()).unwrap_or("-∞".into()),
                        max.map(|m| m.to_string()).unwrap_or("∞".into())
                    );
                    self.problem(node.span(), path, msg);
                }
            }
            _ => {}
        }
    }

    fn check_table(&mut self, node: Node<'_>, s: &'s Value, path: &mut Vec<Seg>) {
        let entries = node.entries().unwrap_or_default();
        let props = s.get("properties").and_then(Value::as_object);
        let closed = s.get("additionalProperties") == Some(&Value::Bool(false));
        let extra = s.get("additionalProperties").filter(|v| v.is_object());
        for (k, kspan, child) in &entries {
            path.push(Seg::Key(k.clone()));
            match props.and_then(|p| p.get(k)) {
                Some(ps) => self.check(*child, ps, path),
                None => {
                    if let Some(x) = extra {
                        self.check(*child, x, path);
                    } else if closed {
                        let known: Vec<Value> = props
                            .map(|p| p.keys().map(|k| Value::String(k.clone())).collect())
                            .unwrap_or_default();
                        let msg =
                            format!("unknown field `{k}`; expected one of {}", quoted(&known));
                        self.problem(kspan.clone().or_else(|| child.span()), path, msg);
                    }
                }
            }
            path.pop();
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !entries.iter().any(|(k, _, _)| k == r) {
                    let msg = format!("missing field `{r}`");
                    let span = node.span();
                    self.problem(span, path, msg);
                }
            }
        }
    }
}

/// What a node is, in words: a string shows its text.
fn found(node: Node<'_>) -> String {
    match node.value().and_then(|v| v.as_str()) {
        Some(v) => format!("`{v}`"),
        None => node.type_name().to_owned(),
    }
}

fn quoted(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| {
            format!(
                "`{}`",
                v.as_str().map(str::to_owned).unwrap_or(v.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks a file's text: syntax, then every field against the schema, then the meaning
/// (variables set, domains, times, URLs, senders, channels configured). Returns the parsed
/// configuration when there is no problem, every problem otherwise.
pub fn check(text: &str) -> Result<TrackingLinksConfig, Vec<Problem>> {
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let (line, column) = match e.span() {
                Some(r) => {
                    let (l, c) = line_col(text, r.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            return Err(vec![Problem {
                line,
                column,
                path: String::new(),
                message: format!("TOML syntax error: {}", e.message().trim()),
            }]);
        }
    };
    let root = schema();
    let mut w = Walker {
        text,
        root: &root,
        problems: Vec::new(),
    };
    w.check(Node::Table(doc.as_table()), &root, &mut Vec::new());
    // The walk's root has no span; a missing top-level field points at the start.
    let mut problems = w.problems;
    for p in &mut problems {
        if p.line.is_none() && p.message.starts_with("missing field") {
            p.line = Some(1);
            p.column = Some(1);
        }
    }
    // Meaning checks on every section that is well formed.
    let mut table: toml::Table = toml::from_str(text).unwrap_or_default();
    // Unknown fields are reported; without them, their section's meaning can be checked.
    for p in problems
        .iter()
        .filter(|p| p.message.starts_with("unknown field"))
    {
        remove_path(&mut table, &p.path);
    }
    semantic(&Parts::of(&table), &mut |path: &str, message: String| {
        let (line, column) = match span_of(doc.as_table(), path) {
            Some(r) => {
                let (l, c) = line_col(text, r.start);
                (Some(l), Some(c))
            }
            // A missing section of a file without `[shop]` points at the start.
            None if message.starts_with("missing section") => (Some(1), Some(1)),
            None => (None, None),
        };
        problems.push(Problem {
            line,
            column,
            path: path.to_owned(),
            message,
        });
    });
    problems.sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column.unwrap_or(0)));
    // The schema walk and serde agree; should they not, serde has the last word.
    match toml::from_str::<TrackingLinksConfig>(text) {
        Ok(cfg) if problems.is_empty() => Ok(cfg),
        Ok(_) => Err(problems),
        Err(e) => {
            if problems.is_empty() {
                let (line, column) = match e.span() {
                    Some(r) => {
                        let (l, c) = line_col(text, r.start);
                        (Some(l), Some(c))
                    }
                    None => (None, None),
                };
                problems.push(Problem {
                    line,
                    column,
                    path: String::new(),
                    message: e.message().trim().to_owned(),
                });
            }
            Err(problems)
        }
    }
}

/// Removes `a.b[2].c` from a table.
fn remove_path(table: &mut toml::Table, path: &str) {
    let parts: Vec<&str> = path.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut cur = table;
    for part in parents {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        let mut v = match cur.get_mut(key) {
            Some(v) => v,
            None => return,
        };
        for idx in rest.split('[').filter(|i| !i.is_empty()) {
            let Ok(i) = idx.trim_end_matches(']').parse::<usize>() else {
                return;
            };
            v = match v.as_array_mut().and_then(|a| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            };
        }
        cur = match v.as_table_mut() {
            Some(t) => t,
            None => return,
        };
    }
    cur.remove(*last);
}

/// The span of a dotted key path with `[i]` indexes (`twilio.channels[1]`), or of its
/// nearest existing parent.
fn span_of(table: &toml_edit::Table, path: &str) -> Option<Range<usize>> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        segs.push(Seg::Key(key.to_owned()));
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                segs.push(Seg::Index(i));
            }
        }
    }
    let mut node = Node::Table(table);
    let mut best = None;
    for seg in segs {
        let next = match seg {
            Seg::Key(k) => node
                .entries()
                .and_then(|es| es.into_iter().find(|(name, _, _)| *name == k))
                .map(|(_, kspan, n)| (n, n.span().or(kspan))),
            Seg::Index(i) => node
                .elements()
                .and_then(|es| es.into_iter().nth(i))
                .map(|n| (n, n.span())),
        };
        match next {
            Some((n, span)) => {
                node = n;
                if span.is_some() {
                    best = span;
                }
            }
            None => break,
        }
    }
    best
}

fn secret_ok(r: &SecretRef, path: &str, report: &mut dyn FnMut(&str, String)) {
    match r {
        SecretRef::Env { env } => match std::env::var(env) {
            Ok(v) if !v.is_empty() => {}
            Ok(_) => report(path, format!("the environment variable `{env}` is empty")),
            Err(_) => report(
                path,
                format!("the environment variable `{env}` is not set; export it with the secret"),
            ),
        },
        SecretRef::Inline { value } => {
            if value.is_empty() {
                report(path, "the secret is empty".into());
            }
        }
    }
}

fn http_url(s: &str) -> Result<url::Url, String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(u),
        Ok(u) => Err(format!(
            "`{s}` must be an http(s) URL with a host, not `{}:`",
            u.scheme()
        )),
        Err(e) => Err(format!("`{s}` is not a URL: {e}")),
    }
}

/// An E.164 phone number: `+` then 8 to 15 digits.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
    })
}

/// An email address, alone or as `Name <address>`.
pub fn is_mailbox(s: &str) -> bool {
    let addr = match (s.rfind('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b && b == s.trim_end().len() - 1 => &s[a + 1..b],
        (None, None) => s.trim(),
        _ => return false,
    };
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !addr.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

/// Each section deserialized on its own, so one broken section does not hide the meaning
/// checks of the others: `None` / `Err(())` is a broken section (already reported).
struct Parts {
    shop: Option<ShopConfig>,
    shopify: Result<Option<ShopifyConfig>, ()>,
    woocommerce: Result<Option<WooCommerceConfig>, ()>,
    bigcommerce: Result<Option<BigCommerceStoreConfig>, ()>,
    storage: Option<StorageConfig>,
    server: Option<ServerConfig>,
    twilio: Result<Option<TwilioConfig>, ()>,
    whatsapp_cloud: Result<Option<WhatsAppCloudConfig>, ()>,
    smtp: Result<Option<SmtpConfig>, ()>,
    tracking: Option<TrackingConfig>,
    content: Option<ContentMap>,
    rate_limits: Option<RateLimitsConfig>,
    survey: Result<Option<SurveyConfig>, ()>,
    follow_up: Result<Option<FollowUpConfig>, ()>,
    dashboard: Result<Option<DashboardConfig>, ()>,
}

fn section<T: serde::de::DeserializeOwned>(t: &toml::Table, key: &str) -> Result<Option<T>, ()> {
    match t.get(key) {
        None => Ok(None),
        Some(v) => v.clone().try_into().map(Some).map_err(|_| ()),
    }
}

impl Parts {
    fn of(t: &toml::Table) -> Self {
        fn or_default<T: Default>(r: Result<Option<T>, ()>) -> Option<T> {
            r.ok().map(Option::unwrap_or_default)
        }
        Parts {
            shop: or_default(section(t, "shop")),
            shopify: section(t, "shopify"),
            woocommerce: section(t, "woocommerce"),
            bigcommerce: section(t, "bigcommerce"),
            storage: or_default(section(t, "storage")),
            server: section(t, "server").ok().flatten(),
            twilio: section(t, "twilio"),
            whatsapp_cloud: section(t, "whatsapp_cloud"),
            smtp: section(t, "smtp"),
            tracking: or_default(section(t, "tracking")),
            content: or_default(section(t, "content")),
            rate_limits: or_default(section(t, "rate_limits")),
            survey: section(t, "survey"),
            follow_up: section(t, "follow_up"),
            dashboard: section(t, "dashboard"),
        }
    }
}

fn semantic_shopify(shopify: &ShopifyConfig, report: &mut dyn FnMut(&str, String)) {
    let shop = &shopify.shop;
    let label = shop.strip_suffix(".myshopify.com");
    if !label
        .is_some_and(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        report(
            "shopify.shop",
            format!(
                "`{shop}` is not a shop domain; use the `your-shop.myshopify.com` domain from the Shopify admin, not the storefront's"
            ),
        );
    }
    if let Some(v) = &shopify.api_version {
        let ok = v.len() == 7
            && v.as_bytes().get(4) == Some(&b'-')
            && v[..4].chars().all(|c| c.is_ascii_digit())
            && v[5..].chars().all(|c| c.is_ascii_digit());
        if !ok {
            report(
                "shopify.api_version",
                format!("`{v}` is not an API version; write it `YYYY-MM` (`2026-10`)"),
            );
        }
    }
    secret_ok(&shopify.access_token, "shopify.access_token", report);
    if shopify.client_secrets.is_empty() {
        report(
            "shopify.client_secrets",
            "at least one client secret is needed to verify webhooks".into(),
        );
    }
    for (i, s) in shopify.client_secrets.iter().enumerate() {
        secret_ok(s, &format!("shopify.client_secrets[{i}]"), report);
    }
    secret_ok(
        &shopify.tracking_link_key,
        "shopify.tracking_link_key",
        report,
    );
    if let Some(u) = &shopify.api_base_url
        && let Err(e) = http_url(u)
    {
        report("shopify.api_base_url", e);
    }
}

/// Each channel of a preference order (`tracking.channels`, `survey.channels`) must be
/// configured.
fn check_channels(
    p: &Parts,
    configured: &[(ChannelKind, &str)],
    channels: &[ChannelKind],
    path: &str,
    report: &mut dyn FnMut(&str, String),
) {
    if channels.is_empty() {
        report(path, "no channel to send on; list at least one".into());
    }
    for (i, ch) in channels.iter().enumerate() {
        // A broken channel section was reported already; it may be meant to carry this one.
        let broken = match ch {
            ChannelKind::Email => p.smtp.is_err(),
            ChannelKind::Sms => p.twilio.is_err(),
            ChannelKind::Whatsapp => p.twilio.is_err() || p.whatsapp_cloud.is_err(),
            _ => false,
        };
        if !broken && !configured.iter().any(|(c, _)| c == ch) {
            let section = match ch {
                ChannelKind::Email => "[smtp]",
                ChannelKind::Sms => "[twilio] with `channels` including \"sms\"",
                ChannelKind::Whatsapp => {
                    "[whatsapp_cloud], or [twilio] with `channels` including \"whatsapp\""
                }
                _ => "a channel section",
            };
            report(
                &format!("{path}[{i}]"),
                format!(
                    "{ch} is in the preference order but not configured; add {section}, or remove it from the list"
                ),
            );
        }
    }
}

/// `[survey]`, `[follow_up]` and `[dashboard]`.
fn semantic_feedback(
    p: &Parts,
    configured: &[(ChannelKind, &str)],
    report: &mut dyn FnMut(&str, String),
) {
    let survey = match &p.survey {
        Ok(s) => s.as_ref(),
        // Broken: reported already; the sections that need it are checked on their own.
        Err(()) => None,
    };
    if let Some(s) = survey {
        if let Some(channels) = &s.channels {
            check_channels(p, configured, channels, "survey.channels", report);
        }
        if s.open_days == 0 {
            report(
                "survey.open_days",
                "a survey open for 0 days could never be answered".into(),
            );
        } else if s.reminder_days >= s.open_days {
            report(
                "survey.reminder_days",
                format!(
                    "the reminder would come after the survey closes ({} days open); make it fewer days than `open_days`, or 0 for no reminder",
                    s.open_days
                ),
            );
        }
        if s.days_after_shipping < s.days_after_delivery {
            report(
                "survey.days_after_shipping",
                format!(
                    "the fallback after shipping ({} days) would come before the survey after delivery ({} days); make it at least as many days",
                    s.days_after_shipping, s.days_after_delivery
                ),
            );
        }
        if let Some(k) = &s.link_key {
            secret_ok(k, "survey.link_key", report);
        }
    }
    let needs_survey = p.survey.as_ref().is_ok_and(Option::is_none);
    if let Ok(Some(f)) = &p.follow_up {
        if needs_survey {
            report(
                "follow_up",
                "follow-ups act on survey answers; add a [survey] section, or remove this one"
                    .into(),
            );
        }
        if let Some(e) = &f.support_email {
            if !is_mailbox(e) {
                report(
                    "follow_up.support_email",
                    format!("`{e}` is not an email address"),
                );
            } else if p.smtp.as_ref().is_ok_and(Option::is_none) {
                report(
                    "follow_up.support_email",
                    "support is alerted by email: add an [smtp] section, or remove this".into(),
                );
            }
        }
        match (&f.helpdesk_webhook_url, &f.helpdesk_webhook_secret) {
            (Some(u), secret) => {
                if let Err(e) = http_url(u) {
                    report("follow_up.helpdesk_webhook_url", e);
                }
                match secret {
                    None => report(
                        "follow_up.helpdesk_webhook_url",
                        "the helpdesk webhook needs `helpdesk_webhook_secret` (the `whsec_...` secret the helpdesk verifies with)".into(),
                    ),
                    Some(r) => {
                        let mut ok = true;
                        secret_ok(r, "follow_up.helpdesk_webhook_secret", &mut |path, m| {
                            ok = false;
                            report(path, m);
                        });
                        if ok
                            && let Ok(v) = r.resolve()
                            && std::str::from_utf8(v.expose()).map_or(true, |t| {
                                !t.starts_with("whsec_")
                                    || aftercare::webhook::Secret::from_standard_webhooks(t)
                                        .is_err()
                            })
                        {
                            // Never echo the secret itself.
                            report(
                                "follow_up.helpdesk_webhook_secret",
                                "not a Standard Webhooks secret: it must be `whsec_` followed by base64".into(),
                            );
                        }
                    }
                }
            }
            (None, Some(_)) => report(
                "follow_up.helpdesk_webhook_secret",
                "a webhook secret without `helpdesk_webhook_url` is not used; add the URL or remove this".into(),
            ),
            (None, None) => {}
        }
        if let Some(t) = &f.detractor_tag
            && (t.trim().is_empty() || t.contains(','))
        {
            report(
                "follow_up.detractor_tag",
                format!("`{t}` is not one tag (not empty, no commas)"),
            );
        }
        if let Some(u) = &f.review_url
            && let Err(e) = http_url(u)
        {
            report("follow_up.review_url", e);
        }
    }
    if let Ok(Some(d)) = &p.dashboard {
        if needs_survey {
            report(
                "dashboard",
                "the dashboard shows survey scores; add a [survey] section, or remove this one"
                    .into(),
            );
        }
        secret_ok(&d.key, "dashboard.key", report);
    }
}

fn semantic_woocommerce(w: &WooCommerceConfig, report: &mut dyn FnMut(&str, String)) {
    if let Err(e) = aftercare_woocommerce::WooConfig::new(&w.site, "-", "-") {
        report("woocommerce.site", e.to_string());
    }
    secret_ok(&w.consumer_key, "woocommerce.consumer_key", report);
    secret_ok(&w.consumer_secret, "woocommerce.consumer_secret", report);
    if w.webhook_secrets.is_empty() {
        report(
            "woocommerce.webhook_secrets",
            "at least one webhook secret is needed to verify webhooks".into(),
        );
    }
    for (i, s) in w.webhook_secrets.iter().enumerate() {
        secret_ok(s, &format!("woocommerce.webhook_secrets[{i}]"), report);
    }
    secret_ok(
        &w.tracking_link_key,
        "woocommerce.tracking_link_key",
        report,
    );
    if w.poll_interval_secs < 10 {
        report(
            "woocommerce.poll_interval_secs",
            "poll at most every 10 seconds".into(),
        );
    }
    if let Some(u) = &w.api_base_url
        && let Err(e) = http_url(u)
    {
        report("woocommerce.api_base_url", e);
    }
}

fn semantic_bigcommerce(b: &BigCommerceStoreConfig, report: &mut dyn FnMut(&str, String)) {
    if b.store_hash.is_empty() || !b.store_hash.chars().all(|c| c.is_ascii_alphanumeric()) {
        report(
            "bigcommerce.store_hash",
            format!(
                "`{}` is not a store hash; use the letters and digits after /stores/ in the API path",
                b.store_hash
            ),
        );
    }
    secret_ok(&b.access_token, "bigcommerce.access_token", report);
    if b.client_secrets.is_empty() {
        report(
            "bigcommerce.client_secrets",
            "at least one client secret is needed to verify callbacks".into(),
        );
    }
    for (i, s) in b.client_secrets.iter().enumerate() {
        secret_ok(s, &format!("bigcommerce.client_secrets[{i}]"), report);
    }
    secret_ok(
        &b.tracking_link_key,
        "bigcommerce.tracking_link_key",
        report,
    );
    if let Some(u) = &b.api_base_url
        && let Err(e) = http_url(u)
    {
        report("bigcommerce.api_base_url", e);
    }
}

fn semantic(p: &Parts, report: &mut dyn FnMut(&str, String)) {
    if let Ok(Some(shopify)) = &p.shopify {
        semantic_shopify(shopify, report);
    }
    if let Ok(Some(w)) = &p.woocommerce {
        semantic_woocommerce(w, report);
    }
    if let Ok(Some(b)) = &p.bigcommerce {
        semantic_bigcommerce(b, report);
    }
    // The chosen platform's section must be there (a broken one is reported already).
    if let Some(shop) = &p.shop {
        let present = match shop.platform {
            Platform::Shopify => !matches!(p.shopify, Ok(None)),
            Platform::Woocommerce => !matches!(p.woocommerce, Ok(None)),
            Platform::Bigcommerce => !matches!(p.bigcommerce, Ok(None)),
        };
        if !present {
            let name = shop.platform.name();
            report(
                "shop.platform",
                format!(
                    "missing section [{name}]: the shop runs on {name}{}; add its section (see examples/tracking-links.example.toml)",
                    if shop.platform == Platform::Shopify {
                        " (the default platform)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    // Storage.
    match &p.storage {
        None => {}
        Some(storage) => match storage {
            StorageConfig::Sqlite { path } if path.trim().is_empty() => {
                report("storage.sqlite.path", "the SQLite path is empty".into());
            }
            StorageConfig::Postgres { url } => secret_ok(url, "storage.postgres.url", report),
            _ => {}
        },
    }
    // Server.
    if let Some(server) = &p.server {
        if server.bind.parse::<std::net::SocketAddr>().is_err() {
            report(
                "server.bind",
                format!(
                    "`{}` is not an address to listen on; write `IP:PORT` (`0.0.0.0:8080`)",
                    server.bind
                ),
            );
        }
        if let Err(e) = http_url(&server.public_url) {
            report("server.public_url", e);
        }
    }
    // Channels.
    let mut configured: Vec<(ChannelKind, &str)> = Vec::new();
    if let Ok(Some(t)) = &p.twilio {
        if !(t.account_sid.starts_with("AC") && t.account_sid.len() == 34) {
            report(
                "twilio.account_sid",
                format!(
                    "`{}` is not an Account SID (`AC` and 32 hex digits, in the Twilio console)",
                    t.account_sid
                ),
            );
        }
        secret_ok(&t.auth_token, "twilio.auth_token", report);
        if let Some(k) = &t.api_key_sid
            && !k.starts_with("SK")
        {
            report(
                "twilio.api_key_sid",
                format!("`{k}` is not an API key SID (`SK...`)"),
            );
        }
        match (&t.from, &t.messaging_service_sid) {
            (None, None) => report(
                "twilio",
                "set `from` (a Twilio number) or `messaging_service_sid`".into(),
            ),
            (Some(_), Some(_)) => report(
                "twilio.messaging_service_sid",
                "set `from` or `messaging_service_sid`, not both".into(),
            ),
            (Some(f), None) => {
                if !is_e164(f) {
                    report(
                        "twilio.from",
                        format!("`{f}` is not a phone number in E.164 form (`+14155550100`)"),
                    );
                }
            }
            (None, Some(m)) => {
                if !m.starts_with("MG") {
                    report(
                        "twilio.messaging_service_sid",
                        format!("`{m}` is not a Messaging Service SID (`MG...`)"),
                    );
                }
            }
        }
        for (i, ch) in t.channels.iter().enumerate() {
            if matches!(ch, ChannelKind::Sms | ChannelKind::Whatsapp) {
                configured.push((*ch, "twilio"));
            } else {
                report(
                    &format!("twilio.channels[{i}]"),
                    format!("Twilio sends SMS and WhatsApp, not {ch}"),
                );
            }
        }
        for (name, sid) in &t.content_sids {
            if !sid.starts_with("HX") {
                report(
                    &format!("twilio.content_sids.{name}"),
                    format!("`{sid}` is not a Content SID (`HX...`)"),
                );
            }
        }
        if let Some(u) = &t.api_base_url
            && let Err(e) = http_url(u)
        {
            report("twilio.api_base_url", e);
        }
    }
    if let Ok(Some(w)) = &p.whatsapp_cloud {
        if w.phone_number_id.is_empty() || !w.phone_number_id.chars().all(|c| c.is_ascii_digit()) {
            report(
                "whatsapp_cloud.phone_number_id",
                format!(
                    "`{}` is not a phone number id (digits, from WhatsApp Manager; not the phone number)",
                    w.phone_number_id
                ),
            );
        }
        secret_ok(&w.access_token, "whatsapp_cloud.access_token", report);
        secret_ok(&w.app_secret, "whatsapp_cloud.app_secret", report);
        secret_ok(&w.verify_token, "whatsapp_cloud.verify_token", report);
        if configured.iter().any(|(c, _)| *c == ChannelKind::Whatsapp) {
            report(
                "whatsapp_cloud",
                "WhatsApp is configured twice: through Twilio (`twilio.channels`) and the Cloud API; keep one".into(),
            );
        }
        configured.push((ChannelKind::Whatsapp, "whatsapp_cloud"));
        if let Some(u) = &w.api_base_url
            && let Err(e) = http_url(u)
        {
            report("whatsapp_cloud.api_base_url", e);
        }
    }
    if let Ok(Some(m)) = &p.smtp {
        if m.host.trim().is_empty() {
            report("smtp.host", "the SMTP host is empty".into());
        }
        if m.port == 0 {
            report("smtp.port", "port 0 is not a port".into());
        }
        if !is_mailbox(&m.from) {
            report(
                "smtp.from",
                format!(
                    "`{}` is not an email address (`orders@shop.example` or `Shop <orders@shop.example>`)",
                    m.from
                ),
            );
        }
        if let Some(r) = &m.reply_to
            && !is_mailbox(r)
        {
            report("smtp.reply_to", format!("`{r}` is not an email address"));
        }
        match (&m.username, &m.password) {
            (Some(_), None) => report("smtp.password", "a user name needs a password".into()),
            (None, Some(_)) => report("smtp.username", "a password needs a user name".into()),
            (Some(_), Some(p)) => secret_ok(p, "smtp.password", report),
            (None, None) => {}
        }
        configured.push((ChannelKind::Email, "smtp"));
    }
    // Tracking.
    if let Some(tracking) = &p.tracking {
        check_channels(
            p,
            &configured,
            &tracking.channels,
            "tracking.channels",
            report,
        );
        if let Some(q) = &tracking.quiet_hours {
            for (k, v) in [("start", &q.start), ("end", &q.end)] {
                if parse_hhmm(v).is_none() {
                    report(
                        &format!("tracking.quiet_hours.{k}"),
                        format!("`{v}` is not a time; write it `HH:MM` (`21:00`)"),
                    );
                }
            }
            if q.time_zone.parse::<chrono_tz::Tz>().is_err() {
                report(
                    "tracking.quiet_hours.time_zone",
                    format!(
                        "`{}` is not an IANA time zone (`Europe/Istanbul`)",
                        q.time_zone
                    ),
                );
            }
        }
        if let Some(u) = &tracking.support_url
            && let Err(e) = http_url(u)
        {
            report("tracking.support_url", e);
        }
        if tracking.default_locale.trim().is_empty() {
            report(
                "tracking.default_locale",
                "the default locale is empty".into(),
            );
        }
        if tracking.link_ttl_days == 0 {
            report(
                "tracking.link_ttl_days",
                "links valid for 0 days would never open".into(),
            );
        }
    }
    for (i, e) in p.content.iter().flat_map(|c| c.0.iter()).enumerate() {
        if let Err(m) = http_url(&e.url) {
            report(&format!("content[{i}].url"), m);
        }
    }
    semantic_feedback(p, &configured, report);
    // Rate limits.
    let Some(rates) = &p.rate_limits else {
        return;
    };
    for (k, v) in [
        ("sms_per_second", rates.sms_per_second),
        ("whatsapp_per_second", rates.whatsapp_per_second),
        ("email_per_second", rates.email_per_second),
    ] {
        if let Some(v) = v
            && !(v.is_finite() && v > 0.0)
        {
            report(
                &format!("rate_limits.{k}"),
                format!("{v} is not a positive rate"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn hhmm() {
        assert_eq!(parse_hhmm("21:00"), NaiveTime::from_hms_opt(21, 0, 0));
        assert_eq!(parse_hhmm("8:00"), None);
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("21h00"), None);
    }

    #[test]
    fn senders() {
        assert!(is_e164("+14155550100"));
        assert!(!is_e164("4155550100"));
        assert!(!is_e164("+1 415 555"));
        assert!(is_mailbox("orders@shop.example"));
        assert!(is_mailbox("Shop <orders@shop.example>"));
        assert!(!is_mailbox("orders.shop.example"));
        assert!(!is_mailbox("Shop <orders@shop>"));
    }

    #[test]
    fn server_limits_default_to_the_sdk_defaults_and_follow_the_file() {
        use std::time::Duration;
        let base = "[shopify]\nshop = \"s.myshopify.com\"\naccess_token = { value = \"a\" }\nclient_secrets = [{ value = \"s\" }]\ntracking_link_key = { value = \"k\" }\n\n[server]\npublic_url = \"https://shop.example\"\n";
        let cfg: TrackingLinksConfig = toml::from_str(base).unwrap();
        assert_eq!(
            cfg.server.serve_options(),
            aftercare::http::ServeOptions::default()
        );
        let text = format!(
            "{base}header_read_timeout_secs = 3\nbody_read_timeout_secs = 7\nidle_timeout_secs = 2\nmax_connections = 64\nshutdown_grace_secs = 0\n"
        );
        let cfg: TrackingLinksConfig = toml::from_str(&text).unwrap();
        let o = cfg.server.serve_options();
        assert_eq!(o.get_header_read_timeout(), Duration::from_secs(3));
        assert_eq!(o.get_body_read_timeout(), Duration::from_secs(7));
        assert_eq!(o.get_idle_timeout(), Duration::from_secs(2));
        assert_eq!(o.get_max_connections(), 64);
        assert_eq!(o.get_shutdown_grace(), Duration::ZERO);
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
