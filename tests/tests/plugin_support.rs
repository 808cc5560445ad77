//! What the store-install tests of the `plugin` binary share (`shops_bigcommerce`,
//! `shops_nuvemshop`, `shops_woocommerce`): Twilio's Message create stand-in, which records
//! every message, and the configuration around the platform's own section.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use aftercare_examples::plugin::PluginConfig;
use base64::Engine as _;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The Twilio account of the stand-in.
pub const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The plugin's `[admin] key`.
pub const ADMIN_KEY: &str = "admin-key-0123456789abcdef";

/// Twilio's "Create a Message" answer
/// (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>),
/// keeping every request's form.
#[derive(Clone, Default)]
pub struct Twilio {
    /// Every message's form, in the order they came.
    pub sent: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl Respond for Twilio {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut sent = self.sent.lock().unwrap();
        sent.push(form.clone());
        ResponseTemplate::new(201).set_body_json(json!({
            "account_sid": ACCOUNT, "api_version": "2010-04-01", "body": form.get("Body"),
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "direction": "outbound-api",
            "error_code": null, "error_message": null, "from": form.get("From"),
            "num_segments": "1", "sid": format!("SM{:032x}", sent.len()), "status": "queued",
            "to": form.get("To")
        }))
    }
}

/// A Twilio stand-in answering `POST /2010-04-01/Accounts/{ACCOUNT}/Messages.json`.
pub async fn twilio() -> (MockServer, Twilio) {
    let server = MockServer::start().await;
    let sms = Twilio::default();
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        )))
        .respond_with(sms.clone())
        .mount(&server)
        .await;
    (server, sms)
}

/// The plugin's configuration for these tests: shop keys sealed with `key_byte`, a public
/// `https` URL, SQLite files in `dir`, the admin key, SMS through `twilio`, quiet hours
/// off, and `platform` (the platform's own TOML section) beside an unused `[shopify]`.
pub fn config(dir: &Path, twilio: &str, key_byte: u8, platform: &str) -> PluginConfig {
    let keys = format!(
        "k1:{}",
        base64::engine::general_purpose::STANDARD.encode([key_byte; 32])
    );
    PluginConfig::parse(&format!(
        r#"
shop_keys = {{ value = "{keys}" }}

[server]
bind = "127.0.0.1:0"
public_url = "https://aftercare.example"

[shopify]
client_id = "unused-shopify-client"
client_secret = {{ value = "shpss_unused" }}

{platform}

[storage]
sqlite_dir = "{dir}"

[admin]
key = {{ value = "{ADMIN_KEY}" }}

[twilio]
account_sid = "{ACCOUNT}"
auth_token = {{ value = "twilio_auth_token" }}
from = "+14155552345"
api_base_url = "{twilio}"

[messages]
quiet_hours_off = true
"#,
        dir = dir.display(),
    ))
    .unwrap()
}
