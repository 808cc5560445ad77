//! A stateful stand-in of Zid's Merchant API, shaped as docs.zid.sa shows it (see
//! `tests/fixtures/README.md`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aftercare::conformance::platform::RateProbe;
use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

#[derive(Default)]
pub struct State {
    pub orders: BTreeMap<String, Value>,
    /// Pages of ids; one page of every order when empty.
    pub pages: Vec<Vec<String>>,
    pub customers: BTreeMap<String, Value>,
    pub webhooks: Vec<Value>,
    pub changes: usize,
    pub fail_once_at: Option<u64>,
    /// The request with this index answers 429 with `Retry-After` of this many seconds.
    pub throttle: Option<(usize, u64)>,
    pub probe: Option<Arc<Mutex<RateProbe>>>,
    pub arrivals: usize,
    pub manager: String,
    pub refresh: String,
    pub refreshes: usize,
    pub revoked: bool,
    pub seen: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct FakeZid(Arc<Mutex<State>>);

impl FakeZid {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

pub async fn start(state: State) -> (MockServer, FakeZid) {
    let fake = FakeZid(Arc::new(Mutex::new(state)));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

fn param(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn header<'r>(req: &'r Request, name: &str) -> &'r str {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

impl Respond for FakeZid {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let path = req.url.path().to_owned();
        let method = req.method.to_string();
        s.seen.push((method.clone(), path.clone()));
        if path == "/oauth/token" {
            s.refreshes += 1;
            let form: BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
                .into_owned()
                .collect();
            if s.revoked || form.get("refresh_token") != Some(&s.refresh) {
                return ResponseTemplate::new(400).set_body_json(
                    json!({"error": "invalid_grant", "message": "The refresh token is invalid."}),
                );
            }
            let n = s.refreshes;
            s.manager = format!("manager-{n}");
            s.refresh = format!("refresh-{n}");
            return ResponseTemplate::new(200).set_body_json(json!({
                "access_token": s.manager, "refresh_token": s.refresh,
                "expires_in": 31_536_000, "token_type": "Bearer"
            }));
        }
        let now = Instant::now();
        let index = s.arrivals;
        s.arrivals += 1;
        if let Some(p) = &s.probe {
            p.lock().unwrap().arrivals.push(now);
        }
        if let Some((at, secs)) = s.throttle
            && at == index
        {
            if let Some(p) = &s.probe {
                p.lock().unwrap().throttled = Some((now, Duration::from_secs(secs)));
            }
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", secs.to_string().as_str())
                .set_body_json(json!({"status": "error", "message": {"type": "error", "description": "Too Many Attempts."}}));
        }
        if header(req, "authorization") != "Bearer partner-token"
            || header(req, "x-manager-token") != s.manager
        {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"status": "error", "message": "Unauthenticated."}));
        }
        let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["managers", "store", "orders"]) => {
                let page: u64 = param(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
                if s.fail_once_at == Some(page) {
                    s.fail_once_at = None;
                    return ResponseTemplate::new(500)
                        .set_body_json(json!({"message": "server error"}));
                }
                let pages = if s.pages.is_empty() {
                    vec![s.orders.keys().cloned().collect()]
                } else {
                    s.pages.clone()
                };
                let rows: Vec<Value> = pages
                    .get(page as usize - 1)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|id| s.orders.get(id).cloned())
                    .collect();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "object", "orders": rows}))
            }
            ("GET", ["managers", "store", "orders", id, "view"]) => match s.orders.get(*id) {
                Some(o) => ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "object", "order": o})),
                None => ResponseTemplate::new(404)
                    .set_body_json(json!({"status": "error", "message": "Not found"})),
            },
            ("POST", ["managers", "store", "orders", id, "add-order-comment"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let Some(o) = s.orders.get_mut(*id) else {
                    return ResponseTemplate::new(404)
                        .set_body_json(json!({"message": "Not found"}));
                };
                let c = body["comment"].as_str().unwrap_or_default().to_owned();
                if c.is_empty() || c.chars().count() > 100 {
                    return ResponseTemplate::new(422)
                        .set_body_json(json!({"message": "invalid comment"}));
                }
                match o["comments"].as_array_mut() {
                    Some(list) => list.push(json!({"comment": c})),
                    None => o["comments"] = json!([{"comment": c}]),
                }
                let o = o.clone();
                s.changes += 1;
                ResponseTemplate::new(200).set_body_json(json!({"status": "object", "order": o}))
            }
            ("GET", ["managers", "store", "customers", id]) => match s.customers.get(*id) {
                Some(c) => ResponseTemplate::new(200)
                    .set_body_json(json!({"status": "object", "customer": c})),
                None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not found"})),
            },
            ("GET", ["managers", "webhooks"]) => {
                ResponseTemplate::new(200).set_body_json(json!({"data": s.webhooks}))
            }
            ("POST", ["managers", "webhooks"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                s.webhooks.push(body.clone());
                s.changes += 1;
                ResponseTemplate::new(200).set_body_json(json!({"status": "object", "data": body}))
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "no such route"})),
        }
    }
}

/// The fixture order with another id and modification time (`2026-11-01 08:00:00`, UTC).
pub fn order_as(id: &str, updated_at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut o = super::fixture_json("order_indelivery.json");
    o["id"] = id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or(Value::String(id.into()));
    o["updated_at"] = json!(updated_at.format("%Y-%m-%d %H:%M:%S").to_string());
    o
}
