//! A stand-in of a Magento store's REST API, shaped as Adobe's documentation and Magento's
//! code show it (developer.adobe.com/commerce/webapi/rest/; magento/magento2
//! `app/code/Magento/Sales/etc/webapi.xml`):
//!
//! - `GET /rest/V1/orders` — "Search using REST endpoints" (`performing-searches.md`):
//!   `searchCriteria[filter_groups][i][filters][j][field|value|condition_type]`
//!   (`gteq` compares `updated_at` as `YYYY-MM-DD HH:MM:SS` text, as MySQL does),
//!   `searchCriteria[sortOrders][k][field|direction]`, `pageSize`, `currentPage`; the
//!   answer is `{items, search_criteria, total_count}`;
//! - `GET /rest/V1/orders/{id}` — `OrderInterface`, with `status_histories` newest first;
//!   an unknown id is `404` `{"message": "The entity that was requested doesn't exist…"}`;
//! - `POST /rest/V1/orders/{id}/comments` — `{"statusHistory": {…}}`, answers `true`;
//! - `GET /rest/V1/shipments` — filtered on `order_id`, shipments with `tracks`;
//! - `GET /rest/V1/customers/{id}`, `GET /rest/V1/store/storeConfigs`;
//! - every request must carry a valid OAuth 1.0a `Authorization` header (a nonce used once),
//!   as Magento's `Magento\Framework\Oauth\Oauth::validateAccessTokenRequest` checks it;
//!   otherwise `401` `{"message": "The consumer isn't authorized to access %resources."}`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aftercare::conformance::platform::RateProbe;
use aftercare_magento::oauth::signature_base_string;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{CONSUMER_KEY, oauth};

/// Changes the orders after a list was served.
pub type AfterList = Box<dyn FnMut(&mut BTreeMap<String, Value>) + Send>;

/// A request the stand-in received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub authorization: Option<String>,
    pub at: tokio::time::Instant,
}

/// What the stand-in holds and how it misbehaves.
#[derive(Default)]
pub struct State {
    /// Orders by id.
    pub orders: BTreeMap<String, Value>,
    /// Shipments (with tracks) by order id.
    pub shipments: BTreeMap<String, Vec<Value>>,
    /// Customers by id.
    pub customers: BTreeMap<String, Value>,
    /// The store views' configuration; `None`: `404`.
    pub store_configs: Option<Value>,
    /// Comments written.
    pub writes: usize,
    /// Every request.
    pub seen: Vec<Seen>,
    /// Nonces seen.
    pub nonces: HashSet<String>,
    /// Statuses to answer to the next requests instead of serving them.
    pub fail_next: Vec<u16>,
    /// Statuses to answer to the next POSTs (after applying them).
    pub fail_next_post_after_write: Vec<u16>,
    /// The first order list holding any of these ids answers a `500` instead.
    pub fail_list_once: Option<HashSet<String>>,
    /// Called after each order list is served (to change orders mid-pass).
    pub after_list: Option<AfterList>,
    /// A quota to enforce and record against: `(limit, window, throttle the nth request)`.
    pub quota: Option<(u32, Duration, usize)>,
    /// What a rate-limited stand-in saw.
    pub probe: Arc<Mutex<RateProbe>>,
}

/// The stand-in.
#[derive(Clone)]
pub struct FakeMagento(pub Arc<Mutex<State>>);

impl FakeMagento {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn writes(&self) -> usize {
        self.state().writes
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state().seen.clone()
    }
}

/// Starts a stand-in with `state`.
pub async fn start(state: State) -> (MockServer, FakeMagento) {
    let server = MockServer::start().await;
    let fake = FakeMagento(Arc::new(Mutex::new(state)));
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

fn error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({ "message": message }))
}

fn not_found() -> ResponseTemplate {
    error(
        404,
        "The entity that was requested doesn't exist. Verify the entity and try again.",
    )
}

fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// An order shaped like `order.json`, with another id, number and update time
/// (`YYYY-MM-DD HH:MM:SS`).
pub fn order(id: &str, updated_at: &str) -> Value {
    let mut o = super::fixture_json("order.json");
    o["entity_id"] = id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id));
    o["increment_id"] = Value::from(format!("0000{id}"));
    o["updated_at"] = Value::from(updated_at);
    o
}

/// The `searchCriteria` filters of a query: (field, value, condition).
fn filters(q: &BTreeMap<String, String>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for g in 0..4 {
        for f in 0..4 {
            let p = format!("searchCriteria[filter_groups][{g}][filters][{f}]");
            if let Some(field) = q.get(&format!("{p}[field]")) {
                out.push((
                    field.clone(),
                    q.get(&format!("{p}[value]")).cloned().unwrap_or_default(),
                    q.get(&format!("{p}[condition_type]"))
                        .cloned()
                        .unwrap_or_else(|| "eq".into()),
                ));
            }
        }
    }
    out
}

fn matches(v: &Value, (field, value, cond): &(String, String, String)) -> bool {
    let have = text(v, field);
    match cond.as_str() {
        "eq" => have == *value,
        "gteq" => have.as_str() >= value.as_str(),
        "gt" => have.as_str() > value.as_str(),
        "lteq" => have.as_str() <= value.as_str(),
        "lt" => have.as_str() < value.as_str(),
        _ => false,
    }
}

fn page_of(items: Vec<Value>, q: &BTreeMap<String, String>) -> (Vec<Value>, usize) {
    let total = items.len();
    let size: usize = q
        .get("searchCriteria[pageSize]")
        .and_then(|p| p.parse().ok())
        .unwrap_or(total.max(1));
    let page: usize = q
        .get("searchCriteria[currentPage]")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    // Magento answers a page past the last with the last page (magento/magento2#25619).
    let pages = total.div_ceil(size.max(1)).max(1);
    let page = page.min(pages);
    (
        items
            .into_iter()
            .skip((page - 1) * size)
            .take(size)
            .collect(),
        total,
    )
}

impl State {
    fn authorized(&mut self, req: &Request) -> bool {
        let Some(h) = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some(rest) = h.strip_prefix("OAuth ") else {
            return false;
        };
        let mut params: Vec<(String, String)> = Vec::new();
        let mut signature = None;
        for part in rest.split(", ") {
            let Some((k, v)) = part.split_once('=') else {
                return false;
            };
            let v = v.trim_matches('"');
            let v: String =
                url::form_urlencoded::parse(format!("x={}", v.replace('+', "%2B")).as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
            if k == "oauth_signature" {
                signature = Some(v);
            } else {
                params.push((k.to_owned(), v));
            }
        }
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("oauth_consumer_key").as_deref() != Some(CONSUMER_KEY)
            || get("oauth_signature_method").as_deref() != Some("HMAC-SHA256")
        {
            return false;
        }
        let Some(nonce) = get("oauth_nonce") else {
            return false;
        };
        if !self.nonces.insert(nonce) {
            return false;
        }
        // Magento rebuilds the URL from the `Host` header (with its port), as PHP sees it.
        let mut url = req.url.clone();
        if let Some(host) = req.headers.get("host").and_then(|v| v.to_str().ok())
            && let Ok(u) = format!("http://{host}{}", &req.url[url::Position::BeforePath..])
                .parse::<url::Url>()
        {
            url = u;
        }
        let base = signature_base_string(req.method.as_str(), &url, &params, &[]);
        let ok = signature
            .as_deref()
            .is_some_and(|s| s == oauth().signature(&base));
        if !ok {
            eprintln!(
                "OAuth refused: {h}\nbase: {base}\nwant: {}",
                oauth().signature(&base)
            );
        }
        ok
    }

    fn serve(&mut self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_owned();
        let q: BTreeMap<String, String> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let method = req.method.to_string();
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["rest", "V1", "orders"]) => {
                let fs = filters(&q);
                let mut items: Vec<Value> = self
                    .orders
                    .values()
                    .filter(|o| fs.iter().all(|f| matches(o, f)))
                    .cloned()
                    .collect();
                if q.get("searchCriteria[sortOrders][0][field]")
                    .map(String::as_str)
                    == Some("updated_at")
                {
                    items.sort_by_key(|o| {
                        (
                            text(o, "updated_at"),
                            o["entity_id"].as_u64().unwrap_or(u64::MAX),
                        )
                    });
                }
                let (items, total) = page_of(items, &q);
                if let Some(ids) = &self.fail_list_once
                    && items.iter().any(|o| ids.contains(&text(o, "entity_id")))
                {
                    self.fail_list_once = None;
                    return error(
                        500,
                        "Internal Error. Details are available in Magento log file.",
                    );
                }
                if let Some(f) = self.after_list.as_mut() {
                    f(&mut self.orders);
                }
                ResponseTemplate::new(200).set_body_json(json!({
                    "items": items,
                    "search_criteria": { "filter_groups": [] },
                    "total_count": total,
                }))
            }
            ("GET", ["rest", "V1", "orders", id]) => match self.orders.get(*id) {
                Some(o) => ResponseTemplate::new(200).set_body_json(o.clone()),
                None => not_found(),
            },
            ("POST", ["rest", "V1", "orders", id, "comments"]) => {
                let Some(o) = self.orders.get_mut(*id) else {
                    return not_found();
                };
                let h = &body["statusHistory"];
                if h["comment"].as_str().is_none() || h.get("is_customer_notified").is_none() {
                    return error(400, "\"statusHistory\" is required. Enter and try again.");
                }
                let list = o["status_histories"]
                    .as_array_mut()
                    .map(std::mem::take)
                    .unwrap_or_default();
                let mut list = list;
                list.insert(
                    0,
                    json!({
                        "comment": h["comment"],
                        "entity_name": "order",
                        "is_customer_notified": h["is_customer_notified"],
                        "is_visible_on_front": h["is_visible_on_front"],
                        "parent_id": id,
                        "status": h.get("status").cloned().unwrap_or(Value::Null),
                    }),
                );
                o["status_histories"] = Value::Array(list);
                self.writes += 1;
                if !self.fail_next_post_after_write.is_empty() {
                    let s = self.fail_next_post_after_write.remove(0);
                    return error(s, "Internal Error.");
                }
                ResponseTemplate::new(200).set_body_json(json!(true))
            }
            ("GET", ["rest", "V1", "shipments"]) => {
                let fs = filters(&q);
                let items: Vec<Value> = self
                    .shipments
                    .values()
                    .flatten()
                    .filter(|s| fs.iter().all(|f| matches(s, f)))
                    .cloned()
                    .collect();
                let (items, total) = page_of(items, &q);
                ResponseTemplate::new(200).set_body_json(json!({
                    "items": items, "search_criteria": {}, "total_count": total,
                }))
            }
            ("GET", ["rest", "V1", "customers", id]) => match self.customers.get(*id) {
                Some(c) => ResponseTemplate::new(200).set_body_json(c.clone()),
                None => error(404, "No such entity with customerId = 99"),
            },
            ("GET", ["rest", "V1", "store", "storeConfigs"]) => match &self.store_configs {
                Some(c) => ResponseTemplate::new(200).set_body_json(c.clone()),
                None => error(404, "Request does not match any route."),
            },
            _ => error(404, "Request does not match any route."),
        }
    }
}

impl Respond for FakeMagento {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut st = self.state();
        let now = tokio::time::Instant::now();
        st.seen.push(Seen {
            method: req.method.to_string(),
            path: req.url.path().to_owned(),
            query: req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            authorization: req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            at: now,
        });
        if let Some((limit, window, throttle_nth)) = st.quota {
            let n = st.seen.len();
            let mut p = st.probe.lock().unwrap_or_else(|e| e.into_inner());
            p.quota = limit;
            p.window = window;
            p.arrivals.push(now);
            if n == throttle_nth {
                p.throttled = Some((now, Duration::from_secs(1)));
                // Fastly in front of Adobe Commerce Cloud answers 429 with Retry-After.
                return error(429, "Too Many Requests").insert_header("Retry-After", "1");
            }
        }
        if !st.authorized(req) {
            return ResponseTemplate::new(401).set_body_json(json!({
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": { "resources": "Magento_Sales::actions_view" }
            }));
        }
        if !st.fail_next.is_empty() {
            let status = st.fail_next.remove(0);
            return error(
                status,
                "Internal Error. Details are available in Magento log file.",
            );
        }
        st.serve(req)
    }
}
