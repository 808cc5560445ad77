//! Webhook subscriptions against a stand-in of `/v3/hooks` shaped as `webhooks.v3.yml`
//! (`webhook_Full`, `webhook_Resp`, `webhooks_Resp` with `meta.pagination`).

use std::sync::{Arc, Mutex};

use aftercare_bigcommerce::{AFTERCARE_SCOPES, BigCommerceError, SCOPE_HEADER, STORE_HEADER};
use serde_json::{Value, json};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{STORE, client};

const DEST: &str = "https://app.example.com/webhooks/bigcommerce";

#[derive(Default)]
struct Hooks {
    list: Vec<Value>,
    posts: Vec<Value>,
    puts: Vec<(String, Value)>,
}

#[derive(Clone, Default)]
struct HooksApi(Arc<Mutex<Hooks>>);

impl Respond for HooksApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let path = req.url.path().to_owned();
        match (req.method.as_str(), path.rsplit('/').next()) {
            ("GET", Some("hooks")) => {
                let n = s.list.len();
                ResponseTemplate::new(200).set_body_json(json!({
                    "data": s.list,
                    "meta": {"pagination": {"total": n, "count": n, "per_page": 250, "current_page": 1, "total_pages": 1, "links": {}}}
                }))
            }
            ("POST", Some("hooks")) => {
                if body["scope"].is_null() || body["destination"].is_null() {
                    return ResponseTemplate::new(422);
                }
                let mut hook = json!({
                    "id": 18048287 + s.list.len(),
                    "client_id": "m9r6keqmo7h7f23btnpwernbez1kglkl",
                    "store_hash": STORE,
                    "created_at": 1561488106,
                    "updated_at": 1561488106,
                });
                for k in ["scope", "destination", "is_active", "headers"] {
                    hook[k] = body[k].clone();
                }
                s.posts.push(body);
                s.list.push(hook.clone());
                ResponseTemplate::new(200).set_body_json(json!({"data": hook, "meta": {}}))
            }
            ("PUT", Some(id)) => {
                let id = id.to_owned();
                s.puts.push((id.clone(), body.clone()));
                let n: u64 = id.parse().unwrap_or(0);
                let Some(h) = s.list.iter_mut().find(|h| h["id"].as_u64() == Some(n)) else {
                    return ResponseTemplate::new(404);
                };
                for (k, v) in body.as_object().unwrap() {
                    h[k] = v.clone();
                }
                let out = json!({"data": h.clone(), "meta": {}});
                ResponseTemplate::new(200).set_body_json(out)
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

async fn server(api: &HooksApi) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/stores/abc123/v3/hooks"))
        .respond_with(api.clone())
        .mount(&server)
        .await;
    server
}

fn hook(id: u64, scope: &str, active: bool, headers: Value) -> Value {
    json!({
        "id": id, "client_id": "m9r6keqmo7h7f23btnpwernbez1kglkl", "store_hash": STORE,
        "created_at": 1561488106, "updated_at": 1561488106,
        "scope": scope, "destination": DEST, "is_active": active, "headers": headers,
    })
}

fn ours(scope: &str) -> Value {
    json!({ STORE_HEADER: STORE, SCOPE_HEADER: scope })
}

#[tokio::test]
async fn missing_hooks_are_created_deactivated_ones_reactivated_and_a_second_run_changes_nothing() {
    let api = HooksApi::default();
    {
        let mut s = api.0.lock().unwrap();
        // As wanted.
        s.list.push(hook(
            1,
            "store/order/created",
            true,
            ours("store/order/created"),
        ));
        // Deactivated by BigCommerce after 48 h of failed retries.
        s.list.push(hook(
            2,
            "store/shipment/created",
            false,
            ours("store/shipment/created"),
        ));
        // Created elsewhere, without our headers but with one of its own.
        s.list.push(hook(
            3,
            "store/customer/created",
            true,
            json!({"custom-key": "developer-defined value"}),
        ));
        // Another destination: not ours to touch.
        let mut other = hook(4, "store/order/statusUpdated", true, Value::Null);
        other["destination"] = json!("https://other.example.com/hooks");
        s.list.push(other);
    }
    let server = server(&api).await;
    let c = client(&server);
    let report = c.ensure_hooks(DEST, AFTERCARE_SCOPES).await.unwrap();
    assert_eq!(report.unchanged, ["store/order/created"]);
    assert_eq!(report.reactivated, ["store/shipment/created"]);
    assert_eq!(report.updated, ["store/customer/created"]);
    assert_eq!(report.created.len(), AFTERCARE_SCOPES.len() - 3);
    assert!(
        report
            .created
            .contains(&"store/order/statusUpdated".to_owned())
    );
    {
        let s = api.0.lock().unwrap();
        for p in &s.posts {
            assert_eq!(p["destination"], DEST);
            assert_eq!(p["is_active"], true);
            assert_eq!(p["headers"], ours(p["scope"].as_str().unwrap()));
        }
        let (id, body) = &s.puts[0];
        assert_eq!((id.as_str(), &body["is_active"]), ("2", &json!(true)));
        let (id, body) = &s.puts[1];
        assert_eq!(id, "3");
        assert_eq!(
            body["headers"]["custom-key"], "developer-defined value",
            "its own header kept"
        );
        assert_eq!(body["headers"][STORE_HEADER], STORE);
        assert_eq!(body["headers"][SCOPE_HEADER], "store/customer/created");
        let other = s.list.iter().find(|h| h["id"] == 4).unwrap();
        assert!(
            other["headers"].is_null(),
            "another destination's hook untouched"
        );
    }
    let (posts, puts) = {
        let s = api.0.lock().unwrap();
        (s.posts.len(), s.puts.len())
    };
    let again = c.ensure_hooks(DEST, AFTERCARE_SCOPES).await.unwrap();
    assert_eq!(again.unchanged.len(), AFTERCARE_SCOPES.len());
    assert!(again.created.is_empty() && again.reactivated.is_empty() && again.updated.is_empty());
    let s = api.0.lock().unwrap();
    assert_eq!(
        (s.posts.len(), s.puts.len()),
        (posts, puts),
        "no write on the second run"
    );
}

#[tokio::test]
async fn a_destination_bigcommerce_cannot_deliver_to_is_refused_before_any_request() {
    let api = HooksApi::default();
    let server = server(&api).await;
    let c = client(&server);
    for dest in [
        "http://app.example.com/hooks",
        "https://app.example.com:8443/hooks",
        "not a url",
    ] {
        let r = c.ensure_hooks(dest, AFTERCARE_SCOPES).await;
        assert!(
            matches!(r, Err(BigCommerceError::Config(_))),
            "{dest}: {r:?}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn the_documented_hook_reads() {
    let v = crate::common::json_fixture("api_hook.json");
    let h: aftercare_bigcommerce::payload::Single<aftercare_bigcommerce::payload::ApiHook> =
        serde_json::from_value(v).unwrap();
    assert_eq!(h.data.id.as_str(), "18048287");
    assert_eq!(h.data.scope, "store/order/created");
    assert_eq!(h.data.is_active, Some(true));
    assert_eq!(
        h.data
            .headers
            .unwrap()
            .get("custom-key")
            .map(String::as_str),
        Some("developer-defined value")
    );
}
