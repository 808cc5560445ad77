//! The merchant's own settings page (`/shops/{shop}/settings`) in the plugin deployment:
//! open with the shop's dashboard key only (Bearer or HTTP Basic), a server-rendered form
//! with a CSRF token; a save lands in the registry and the shop's work is rebuilt with it
//! (its SMS sender, its branding on its pages); another shop's key, another shop's token, a
//! missing token or a cross-site post change nothing, and no shop's settings show on
//! another's page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use aftercare::model::ShopId;
use aftercare::tenancy::{ACCESS_TOKEN, ShopInstall};
use aftercare::webhook::Secret;
use aftercare_examples::plugin::{Plugin, PluginConfig};
use axum::body::Body;
use axum::http::Request;

const ADMIN_KEY: &str = "admin-key-0123456789abcdef";
const SHOP_A: &str = "alpha.myshopify.com";
const SHOP_B: &str = "bravo.myshopify.com";

fn config(dir: &std::path::Path) -> PluginConfig {
    let keys = format!(
        "k1:{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [6u8; 32])
    );
    PluginConfig::parse(&format!(
        r#"
shop_keys = {{ value = "{keys}" }}

[server]
public_url = "https://plugin.example"

[shopify]
client_id = "plugin-client-id"
client_secret = {{ value = "shpss_secret" }}
api_base_url = "http://127.0.0.1:9"

[storage]
sqlite_dir = "{dir}"

[admin]
key = {{ value = "{ADMIN_KEY}" }}

[twilio]
account_sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
auth_token = {{ value = "twilio_auth_token" }}
from = "+14155552345"
api_base_url = "http://127.0.0.1:9"
"#,
        dir = dir.display()
    ))
    .unwrap()
}

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(plugin: &Arc<Plugin>, req: Request<Body>) -> Answer {
    let r = tower::ServiceExt::oneshot(plugin.router(), req)
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(b.to_vec()).unwrap(),
    }
}

async fn get(plugin: &Arc<Plugin>, shop: &str, auth: Option<String>) -> Answer {
    let mut req = Request::get(format!("/shops/{shop}/settings"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    send(plugin, req.body(Body::empty()).unwrap()).await
}

async fn post(
    plugin: &Arc<Plugin>,
    shop: &str,
    auth: &str,
    fields: &[(&str, &str)],
    extra: Option<(&str, &str)>,
) -> Answer {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut req = Request::post(format!("/shops/{shop}/settings"))
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some((k, v)) = extra {
        req = req.header(k, v);
    }
    send(plugin, req.body(Body::from(body)).unwrap()).await
}

fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in {page}"))
        .to_owned()
}

async fn settings_of(plugin: &Plugin, shop: &str) -> serde_json::Value {
    plugin
        .tenancy()
        .record(&ShopId::new(shop))
        .await
        .unwrap()
        .unwrap()
        .settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_changes_their_own_settings_and_no_one_elses() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = Plugin::open(config(dir.path())).await.unwrap();
    let mut keys = Vec::new();
    for shop in [SHOP_A, SHOP_B] {
        let installed = plugin
            .tenancy()
            .install(
                ShopInstall::new(ShopId::new(shop), "shopify")
                    .secret(ACCESS_TOKEN, Secret::from("shpat_token"))
                    .settings(serde_json::json!({"scope": "read_orders"})),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        keys.push(String::from_utf8(installed.dashboard_key.expose().to_vec()).unwrap());
    }
    plugin.sync().await.unwrap();
    let bearer = |k: &str| format!("Bearer {k}");
    let basic = |k: &str| {
        format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("merchant:{k}")
            )
        )
    };
    let (key_a, key_b) = (keys[0].clone(), keys[1].clone());

    // No key: the browser is asked for one. Another shop's key or the admin key: refused.
    let r = get(&plugin, SHOP_A, None).await;
    assert_eq!(r.status, 401);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(get(&plugin, SHOP_A, Some(bearer(&key_b))).await.status, 401);
    assert_eq!(get(&plugin, SHOP_A, Some(basic(&key_b))).await.status, 401);
    assert_eq!(
        get(&plugin, SHOP_A, Some(bearer(ADMIN_KEY))).await.status,
        401
    );

    // Its own key opens the form: no script, a CSRF token, framing refused.
    let page_a = get(&plugin, SHOP_A, Some(basic(&key_a))).await;
    assert_eq!(page_a.status, 200);
    assert!(!page_a.body.contains("<script"));
    assert!(
        page_a.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let token_a = csrf_of(&page_a.body);
    let page_b = get(&plugin, SHOP_B, Some(bearer(&key_b))).await;
    let token_b = csrf_of(&page_b.body);
    let fields = |token: &str| {
        vec![
            ("csrf", token.to_owned()),
            ("sms_from", "+14155550177".to_owned()),
            ("shop_name", "Alpha Coffee".to_owned()),
            ("accent", "#1d4ed8".to_owned()),
            ("logo_url", "https://cdn.alpha.example/logo.png".to_owned()),
            (
                "content",
                r#"[{"match": {"category": "grinders"}, "title": "Setting up your grinder", "url": "https://alpha.example/g"}]"#
                    .to_owned(),
            ),
        ]
    };
    let send_fields = |shop: &'static str, auth: String, f: Vec<(&'static str, String)>, extra| {
        let plugin = plugin.clone();
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&plugin, shop, &auth, &refs, extra).await
        }
    };
    let before = settings_of(&plugin, SHOP_A).await;
    // Without a token, with shop b's token, cross-site, or with shop b's key: nothing.
    let mut no_token = fields("");
    no_token.retain(|(k, _)| *k != "csrf");
    assert_eq!(
        send_fields(SHOP_A, bearer(&key_a), no_token, None)
            .await
            .status,
        403
    );
    assert_eq!(
        send_fields(SHOP_A, bearer(&key_a), fields(&token_b), None)
            .await
            .status,
        403
    );
    assert_eq!(
        send_fields(
            SHOP_A,
            bearer(&key_a),
            fields(&token_a),
            Some(("sec-fetch-site", "cross-site"))
        )
        .await
        .status,
        403
    );
    assert_eq!(
        send_fields(SHOP_A, bearer(&key_b), fields(&token_a), None)
            .await
            .status,
        401
    );
    // A wrong number: refused with the reason, nothing stored.
    let mut bad = fields(&token_a);
    bad[1].1 = "0155 5501".to_owned();
    let r = send_fields(SHOP_A, bearer(&key_a), bad, None).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("E.164"), "{}", r.body);
    assert_eq!(settings_of(&plugin, SHOP_A).await, before);

    // Its own key and its own token: saved in the registry, other keys kept.
    let r = send_fields(SHOP_A, basic(&key_a), fields(&token_a), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Saved."));
    let saved = settings_of(&plugin, SHOP_A).await;
    assert_eq!(saved["sms_from"], "+14155550177");
    assert_eq!(saved["shop_name"], "Alpha Coffee");
    assert_eq!(saved["scope"], "read_orders");
    assert_eq!(saved["content"][0]["url"], "https://alpha.example/g");
    // The same (now stale) form again, with other values: refused as changed meanwhile,
    // the save above kept (a lost update before the compare-and-swap on the revision).
    let mut stale = fields(&token_a);
    stale[2].1 = "Stale Name".to_owned();
    let r = send_fields(SHOP_A, bearer(&key_a), stale, None).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("changed meanwhile"), "{}", r.body);
    assert_eq!(settings_of(&plugin, SHOP_A).await, saved);
    // Shop b's settings are untouched, and its page shows none of shop a's.
    assert_eq!(
        settings_of(&plugin, SHOP_B).await,
        serde_json::json!({"scope": "read_orders"})
    );
    let page_b = get(&plugin, SHOP_B, Some(bearer(&key_b))).await;
    assert!(!page_b.body.contains("+14155550177"));
    assert!(!page_b.body.contains("Alpha Coffee"));
    assert!(!page_b.body.contains("alpha.example"));

    // The shop's work is rebuilt with them: its sender is its own number now, shop b's
    // stays the deployment's.
    plugin.sync().await.unwrap();
    let sender = |shop: &str| {
        plugin
            .runtimes()
            .into_iter()
            .find(|r| r.scope.shop().as_str() == shop)
            .unwrap()
            .sender
            .clone()
    };
    assert_eq!(sender(SHOP_A), "+14155550177");
    assert_eq!(sender(SHOP_B), "+14155552345");
    // And its page shows the saved values back.
    let page_a = get(&plugin, SHOP_A, Some(bearer(&key_a))).await;
    assert!(page_a.body.contains("value=\"+14155550177\""));
    // Emptying a field returns it to the default.
    let token_a = csrf_of(&page_a.body);
    let mut cleared = fields(&token_a);
    cleared[1].1 = String::new();
    assert_eq!(
        send_fields(SHOP_A, bearer(&key_a), cleared, None)
            .await
            .status,
        200
    );
    assert!(settings_of(&plugin, SHOP_A).await.get("sms_from").is_none());
    plugin.sync().await.unwrap();
    assert_eq!(sender(SHOP_A), "+14155552345");
}
