//! Health figures shared across instances: two instances of the plugin deployment on one
//! PostgreSQL database (the private test server of the postgres adapter's tests); what
//! each counts for a shop (webhook failures, provider errors, a refused token) is shown,
//! summed, by `/metrics` and `/admin` of either instance, and one shop's figures never
//! appear under another.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, ShopInstall};
use aftercare::webhook::Secret;
use aftercare_examples::plugin::{Plugin, PluginConfig};

#[path = "../../adapters/postgres/tests/support/mod.rs"]
mod pg;

const ADMIN_KEY: &str = "admin-key-0123456789abcdef";
const SHOP_A: &str = "alpha.myshopify.com";
const SHOP_B: &str = "bravo.myshopify.com";

fn config(url: &str) -> PluginConfig {
    let keys = format!(
        "k1:{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [5u8; 32])
    );
    PluginConfig::parse(&format!(
        r#"
shop_keys = {{ value = "{keys}" }}

[server]
bind = "127.0.0.1:0"
public_url = "https://plugin.example"

[shopify]
client_id = "plugin-client-id"
client_secret = {{ value = "shpss_secret" }}
api_base_url = "http://127.0.0.1:9"

[storage]
postgres_url = {{ value = "{url}" }}
max_connections = 4

[admin]
key = {{ value = "{ADMIN_KEY}" }}

[twilio]
account_sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
auth_token = {{ value = "twilio_auth_token" }}
from = "+14155552345"
api_base_url = "http://127.0.0.1:9"
"#
    ))
    .unwrap()
}

async fn get(plugin: &Arc<Plugin>, uri: &str) -> String {
    let req = axum::http::Request::get(uri)
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = tower::ServiceExt::oneshot(plugin.router(), req)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(b.to_vec()).unwrap()
}

fn value(text: &str, name: &str, shop: &str) -> u32 {
    let prefix = format!("{name}{{shop=\"{shop}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_instances_show_the_deployments_health_figures() {
    let opts = pg::fresh_database().await;
    let mut url = format!(
        "postgresql://{}@localhost:{}/{}",
        opts.get_username(),
        opts.get_port(),
        opts.get_database().unwrap()
    );
    if let Some(sock) = opts.get_socket() {
        url.push_str(&format!("?host={}", sock.display()));
    }
    let one = Plugin::open(config(&url)).await.unwrap();
    let two = Plugin::open(config(&url)).await.unwrap();
    for shop in [SHOP_A, SHOP_B] {
        one.tenancy()
            .install(
                ShopInstall::new(ShopId::new(shop), "shopify")
                    .secret(ACCESS_TOKEN, Secret::from("shpat_token")),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
    one.sync().await.unwrap();
    two.sync().await.unwrap();
    let rt = |p: &Arc<Plugin>, shop: &str| {
        p.runtimes()
            .into_iter()
            .find(|r| r.scope.shop().as_str() == shop)
            .unwrap()
    };
    // Instance one: two webhook failures and a refused token for shop a; instance two:
    // three webhook failures and a provider error for shop a, one failure for shop b.
    rt(&one, SHOP_A).counters.webhook_failed(2);
    rt(&one, SHOP_A).counters.token(false);
    rt(&two, SHOP_A).counters.webhook_failed(3);
    rt(&two, SHOP_A).counters.provider_error();
    rt(&two, SHOP_B).counters.webhook_failed(1);
    // Instance two flushes on its own schedule; instance one's view flushes its own first.
    two.flush_health().await;
    for p in [&one, &two] {
        let text = get(p, "/metrics").await;
        assert_eq!(
            value(&text, "aftercare_shop_webhook_failures", SHOP_A),
            5,
            "{text}"
        );
        assert_eq!(value(&text, "aftercare_shop_provider_errors", SHOP_A), 1);
        assert_eq!(value(&text, "aftercare_shop_token_rejected", SHOP_A), 1);
        assert_eq!(value(&text, "aftercare_shop_webhook_failures", SHOP_B), 1);
        assert_eq!(value(&text, "aftercare_shop_provider_errors", SHOP_B), 0);
        assert_eq!(value(&text, "aftercare_shop_token_rejected", SHOP_B), 0);
    }
    // Shown once: reading again adds nothing.
    let text = get(&two, "/metrics").await;
    assert_eq!(value(&text, "aftercare_shop_webhook_failures", SHOP_A), 5);
    // The admin page of the instance that counted nothing for shop a's token shows it.
    let page = get(&two, "/admin").await;
    let row = page
        .split("<tr>")
        .find(|r| r.contains(&format!("<th scope=\"row\">{SHOP_A}</th>")))
        .unwrap();
    assert!(row.contains("needs attention"), "{row}");
    assert!(row.contains("<td>5</td>"), "{row}");
}
