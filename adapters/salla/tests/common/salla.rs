//! A stateful stand-in of Salla's Admin API v2 and OAuth refresh endpoint, shaped as
//! docs.salla.dev shows them (see `tests/fixtures/README.md`): orders, the orders list with
//! `pagination`, customers, order histories and tags, the leaky bucket with
//! `X-RateLimit-*` / `Retry-After`, and single-use refresh tokens.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aftercare::conformance::platform::RateProbe;
use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

/// A leaky bucket: `size` requests, leaking `leak` per second.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    pub size: f64,
    pub leak: f64,
}

#[derive(Default)]
pub struct State {
    /// Orders by id (the `data` of `GET orders/{id}`).
    pub orders: BTreeMap<String, Value>,
    /// The orders list's pages of ids; one page of every order when empty.
    pub pages: Vec<Vec<String>>,
    pub customers: BTreeMap<String, Value>,
    pub histories: BTreeMap<String, Vec<String>>,
    /// Writes that changed something.
    pub changes: usize,
    /// This list page (1-based) answers 500 once.
    pub fail_once_at: Option<u64>,
    pub bucket: Option<Bucket>,
    pub level: f64,
    pub last: Option<Instant>,
    /// The request with this index answers 429 with `Retry-After` of this many seconds.
    pub throttle: Option<(usize, u64)>,
    pub probe: Option<Arc<Mutex<RateProbe>>>,
    pub arrivals: usize,
    /// The access token accepted; the refresh token that is still valid.
    pub access: String,
    pub refresh: String,
    /// Every refresh grant received; when set, the refresh endpoint answers invalid_grant.
    pub refreshes: usize,
    pub revoked: bool,
    /// A delay of the refresh answer (to overlap concurrent callers).
    pub refresh_delay: Duration,
    /// (method, path) of every request.
    pub seen: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct FakeSalla(Arc<Mutex<State>>);

impl FakeSalla {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }
}

pub async fn start(state: State) -> (MockServer, FakeSalla) {
    let fake = FakeSalla(Arc::new(Mutex::new(state)));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

fn ok(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"status": 200, "success": true, "data": data}))
}

fn err(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "status": status, "success": false, "error": {"code": code, "message": message}
    }))
}

fn param(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Respond for FakeSalla {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let path = req.url.path().to_owned();
        let method = req.method.to_string();
        s.seen.push((method.clone(), path.clone()));
        if path == "/oauth2/token" {
            return refresh(&mut s, req);
        }
        let now = Instant::now();
        let index = s.arrivals;
        s.arrivals += 1;
        if let Some(p) = &s.probe {
            let mut p = p.lock().unwrap();
            p.arrivals.push(now);
            p.costs.push(1.0);
        }
        let mut headers: Vec<(&str, String)> = Vec::new();
        if let Some(b) = s.bucket {
            let leaked = s
                .last
                .map_or(0.0, |l| now.duration_since(l).as_secs_f64() * b.leak);
            s.level = (s.level - leaked).max(0.0);
            s.last = Some(now);
            let over = s.level + 1.0 > b.size + 1e-9;
            if !over {
                s.level += 1.0;
            }
            let drain = (s.level / b.leak).ceil() as i64;
            let reset = chrono::Utc::now().timestamp() + drain.max(1);
            headers = vec![
                ("X-RateLimit-Limit", (b.size as u64).to_string()),
                (
                    "X-RateLimit-Remaining",
                    ((b.size - s.level).floor().max(0.0) as u64).to_string(),
                ),
                ("X-RateLimit-Reset", reset.to_string()),
            ];
            if over {
                return with(err(429, "Too Many Requests", "rate limited"), &headers);
            }
        }
        if let Some((at, secs)) = s.throttle
            && at == index
        {
            if let Some(p) = &s.probe {
                p.lock().unwrap().throttled = Some((now, Duration::from_secs(secs)));
            }
            headers.push(("Retry-After", secs.to_string()));
            return with(err(429, "Too Many Requests", "rate limited"), &headers);
        }
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if auth != format!("Bearer {}", s.access) {
            return with(
                err(401, "Unauthorized", "The access token is invalid"),
                &headers,
            );
        }
        let parts: Vec<&str> = path.trim_start_matches("/admin/v2/").split('/').collect();
        let t = match (method.as_str(), parts.as_slice()) {
            ("GET", ["orders"]) => list(&mut s, req),
            ("GET", ["orders", id]) => match s.orders.get(*id) {
                Some(o) => ok(o.clone()),
                None => err(404, "NotFound", "order not found"),
            },
            ("GET", ["orders", id, "histories"]) => {
                if !s.orders.contains_key(*id) {
                    return err(404, "NotFound", "order not found");
                }
                let rows: Vec<Value> = s
                    .histories
                    .get(*id)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| json!({"comment": c, "status": null}))
                    .collect();
                ok(json!(rows))
            }
            ("POST", ["orders", id, "histories"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let Some(c) = body["comment"].as_str() else {
                    return err(422, "validation", "comment is required");
                };
                s.histories
                    .entry((*id).to_owned())
                    .or_default()
                    .push(c.to_owned());
                s.changes += 1;
                ResponseTemplate::new(201)
                    .set_body_json(json!({"status": 201, "success": true, "data": {"comment": c}}))
            }
            ("POST", ["orders", id, "tags"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let Some(order) = s.orders.get_mut(*id) else {
                    return err(404, "NotFound", "order not found");
                };
                let mut changed = false;
                for t in body["tags"].as_array().cloned().unwrap_or_default() {
                    let tags = order["tags"].as_array_mut();
                    match tags {
                        Some(tags) if !tags.contains(&t) => {
                            tags.push(t);
                            changed = true;
                        }
                        Some(_) => {}
                        None => {
                            order["tags"] = json!([t]);
                            changed = true;
                        }
                    }
                }
                if changed {
                    s.changes += 1;
                }
                ok(json!({"tags": body["tags"]}))
            }
            ("GET", ["customers", id]) => match s.customers.get(*id) {
                Some(c) => ok(c.clone()),
                None => err(404, "NotFound", "customer not found"),
            },
            _ => err(404, "NotFound", "no such route"),
        };
        with(t, &headers)
    }
}

fn with(mut t: ResponseTemplate, headers: &[(&str, String)]) -> ResponseTemplate {
    for (k, v) in headers {
        t = t.insert_header(*k, v.as_str());
    }
    t
}

fn list(s: &mut State, req: &Request) -> ResponseTemplate {
    let per_page: usize = param(req, "per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(15);
    if per_page > 60 {
        return err(422, "validation", "per_page may not be greater than 60");
    }
    let page: u64 = param(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
    if s.fail_once_at == Some(page) {
        s.fail_once_at = None;
        return err(500, "ServerError", "try again");
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
        .into_iter()
        .map(|id| json!({"id": id.parse::<u64>().map(Value::from).unwrap_or(Value::String(id))}))
        .collect();
    let total: usize = pages.iter().map(Vec::len).sum();
    ResponseTemplate::new(200).set_body_json(json!({
        "status": 200, "success": true, "data": rows,
        "pagination": {"count": rows.len(), "total": total, "perPage": per_page,
            "currentPage": page, "totalPages": pages.len(), "links": {}}
    }))
}

fn refresh(s: &mut State, req: &Request) -> ResponseTemplate {
    s.refreshes += 1;
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let given = form.get("refresh_token").cloned().unwrap_or_default();
    if s.revoked
        || form.get("grant_type").map(String::as_str) != Some("refresh_token")
        || given != s.refresh
    {
        return ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The refresh token is invalid."
        }));
    }
    let n = s.refreshes;
    s.access = format!("access-{n}");
    s.refresh = format!("refresh-{n}");
    ResponseTemplate::new(200)
        .set_delay(s.refresh_delay)
        .set_body_json(json!({
            "access_token": s.access, "refresh_token": s.refresh,
            "expires_in": 1_209_600, "token_type": "bearer"
        }))
}

/// An order of the fixtures with another id and modification time.
pub fn order_as(id: &str, updated_at: chrono::DateTime<chrono::Utc>) -> Value {
    let mut o = super::fixture_json("order_created.json")["data"].clone();
    o["id"] = id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or(Value::String(id.into()));
    o["updated_at"] = json!(updated_at.to_rfc3339());
    o
}
