//! A stand-in of a WooCommerce site's REST API, shaped as WooCommerce's documentation and
//! code show it:
//!
//! - `GET /wp-json/wc/v3/orders` — woocommerce-rest-api-docs `_orders.md` ("List all
//!   orders": `modified_after`, `dates_are_gmt`, `orderby`, `order`, `page`, `per_page`)
//!   and `WC_REST_CRUD_Controller::get_items` (woocommerce/woocommerce
//!   `includes/rest-api/Controllers/Version3/class-wc-rest-crud-controller.php`):
//!   `modified_after` is exclusive and compared with `date_modified_gmt` when
//!   `dates_are_gmt` is true, `orderby=modified` sorts by modification then id, the
//!   response has `X-WP-Total`, `X-WP-TotalPages` and `Link` with `rel="prev"`/`"next"`
//!   built from the request's query with `page` replaced; an order by a parameter outside
//!   the schema's enum is `400 rest_invalid_param`;
//! - `GET|PUT /wp-json/wc/v3/orders/{id}` — "Retrieve an order", "Update an order"
//!   (`meta_data: [{key, value}]` replaces the value of that key); an unknown id is `404`
//!   `woocommerce_rest_shop_order_invalid_id`;
//! - `GET|POST /wp-json/wc/v3/orders/{id}/notes` — `_order-notes.md`;
//! - `GET|PUT /wp-json/wc/v3/customers/{id}` — `_customers.md`;
//! - `GET /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings` — the Shipment
//!   Tracking extension's REST API (woocommerce.com/document/shipment-tracking/, "Understand
//!   Shipment Tracking REST API responses"); without the extension WordPress answers `404`
//!   `rest_no_route`;
//! - errors as `{"code", "message", "data": {"status"}}` (WordPress REST errors).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aftercare::conformance::platform::RateProbe;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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
    /// Customers by id.
    pub customers: BTreeMap<String, Value>,
    /// Notes by order id.
    pub notes: BTreeMap<String, Vec<Value>>,
    /// Tracking items by order id; `None`: the extension is not installed.
    pub tracking: Option<BTreeMap<String, Value>>,
    /// Writes that changed something (a meta value, a note added).
    pub writes: usize,
    /// Every request.
    pub seen: Vec<Seen>,
    /// Statuses to answer to the next requests instead of serving them.
    pub fail_next: Vec<(u16, Option<&'static str>)>,
    /// The next POST is served (and written), but its answer is held this long.
    pub delay_next_post: Option<Duration>,
    /// Statuses to answer to the next POSTs instead of serving them.
    pub fail_next_post: Vec<u16>,
    /// The first order list holding any of these ids answers a `500` instead.
    pub fail_list_once: Option<HashSet<String>>,
    /// `orderby=modified` is refused as older versions refuse it.
    pub refuse_orderby_modified: bool,
    /// Called after each order list is served (to change orders mid-pass).
    pub after_list: Option<AfterList>,
    /// A quota to announce and record against: `(limit, window, throttle the nth request)`.
    pub quota: Option<(u32, Duration, usize)>,
    /// What a rate-limited stand-in saw.
    pub probe: Arc<Mutex<RateProbe>>,
}

/// The stand-in.
#[derive(Clone)]
pub struct FakeWoo(pub Arc<Mutex<State>>);

impl FakeWoo {
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
pub async fn start(state: State) -> (MockServer, FakeWoo) {
    let server = MockServer::start().await;
    let fake = FakeWoo(Arc::new(Mutex::new(state)));
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

fn error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "code": code, "message": message, "data": { "status": status }
    }))
}

fn text<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// An order shaped like the docs' example (`order_created.json`), with another id,
/// number, key and modification time.
pub fn order(id: &str, modified_gmt: &str) -> Value {
    let mut o = super::fixture_json("order_created.json");
    let id_value: Value = id
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id));
    o["id"] = id_value;
    o["number"] = Value::from(id);
    o["order_key"] = Value::from(format!("wc_order_{id}"));
    o["date_modified_gmt"] = Value::from(modified_gmt);
    o["date_modified"] = Value::from(modified_gmt);
    o
}

fn set_meta(resource: &mut Value, key: &str, value: &Value) -> bool {
    let Some(meta) = resource.get_mut("meta_data").and_then(Value::as_array_mut) else {
        resource["meta_data"] = json!([{ "id": 1, "key": key, "value": value }]);
        return true;
    };
    if let Some(m) = meta.iter_mut().find(|m| text(m, "key") == key) {
        if &m["value"] == value {
            return false;
        }
        m["value"] = value.clone();
        return true;
    }
    let id = meta.len() + 1;
    meta.push(json!({ "id": id, "key": key, "value": value }));
    true
}

impl State {
    fn list(&mut self, req: &Request, q: &BTreeMap<String, String>) -> ResponseTemplate {
        let orderby = q.get("orderby").map_or("date", String::as_str);
        if orderby == "modified" && self.refuse_orderby_modified {
            return error(400, "rest_invalid_param", "Invalid parameter(s): orderby");
        }
        let gmt = q.get("dates_are_gmt").is_some_and(|v| v == "true");
        let field = if gmt {
            "date_modified_gmt"
        } else {
            "date_modified"
        };
        let mut orders: Vec<Value> = self
            .orders
            .values()
            .filter(|o| match q.get("modified_after") {
                Some(after) => text(o, field) > after.as_str(),
                None => true,
            })
            .cloned()
            .collect();
        let key = |o: &Value| -> (String, u64) {
            let t = if orderby == "modified" {
                text(o, "date_modified_gmt")
            } else {
                text(o, "date_created_gmt")
            };
            (t.to_owned(), o["id"].as_u64().unwrap_or(u64::MAX))
        };
        orders.sort_by_key(key);
        if q.get("order").map(String::as_str) != Some("asc") {
            orders.reverse();
        }
        let per_page: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(10);
        let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let total = orders.len();
        let pages = total.div_ceil(per_page.max(1));
        let items: Vec<Value> = orders
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        if let Some(ids) = &self.fail_list_once
            && items
                .iter()
                .any(|o| ids.contains(&o["id"].to_string().trim_matches('"').to_owned()))
        {
            self.fail_list_once = None;
            return error(
                500,
                "internal_server_error",
                "There has been a critical error on this website.",
            );
        }
        let mut links = Vec::new();
        let link_to = |p: usize| {
            let mut u = req.url.clone();
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| k != "page")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            u.query_pairs_mut()
                .clear()
                .extend_pairs(pairs)
                .append_pair("page", &p.to_string());
            u.to_string()
        };
        if page > 1 {
            links.push(format!(
                "<{}>; rel=\"prev\"",
                link_to((page - 1).min(pages.max(1)))
            ));
        }
        if pages > page {
            links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
        }
        if let Some(f) = self.after_list.as_mut() {
            f(&mut self.orders);
        }
        let mut r = ResponseTemplate::new(200)
            .insert_header("X-WP-Total", total.to_string().as_str())
            .insert_header("X-WP-TotalPages", pages.to_string().as_str())
            .set_body_json(Value::Array(items));
        if !links.is_empty() {
            r = r.insert_header("Link", links.join(", ").as_str());
        }
        r
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
            ("GET", ["wp-json", "wc", "v3", "orders"]) => self.list(req, &q),
            (m, ["wp-json", "wc", "v3", "orders", id]) => {
                let Some(o) = self.orders.get_mut(*id) else {
                    return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
                };
                if m == "PUT" {
                    for meta in body["meta_data"].as_array().cloned().unwrap_or_default() {
                        if set_meta(o, text(&meta, "key"), &meta["value"]) {
                            self.writes += 1;
                        }
                    }
                }
                ResponseTemplate::new(200).set_body_json(o.clone())
            }
            (m, ["wp-json", "wc", "v3", "orders", id, "notes"]) => {
                if !self.orders.contains_key(*id) {
                    return error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.");
                }
                let notes = self.notes.entry((*id).to_owned()).or_default();
                if m == "POST" {
                    let n = json!({
                        "id": 281 + notes.len(),
                        "author": "system",
                        "date_created": "2017-03-21T16:46:41",
                        "date_created_gmt": "2017-03-21T19:46:41",
                        "note": body["note"].clone(),
                        "customer_note": body["customer_note"].as_bool().unwrap_or(false),
                    });
                    notes.push(n.clone());
                    self.writes += 1;
                    return ResponseTemplate::new(201).set_body_json(n);
                }
                ResponseTemplate::new(200).set_body_json(Value::Array(notes.clone()))
            }
            (m, ["wp-json", "wc", "v3", "customers", id]) => {
                let Some(c) = self.customers.get_mut(*id) else {
                    return error(404, "woocommerce_rest_invalid_id", "Invalid resource ID.");
                };
                if m == "PUT" {
                    for meta in body["meta_data"].as_array().cloned().unwrap_or_default() {
                        if set_meta(c, text(&meta, "key"), &meta["value"]) {
                            self.writes += 1;
                        }
                    }
                }
                ResponseTemplate::new(200).set_body_json(c.clone())
            }
            (
                "GET",
                [
                    "wp-json",
                    "wc-shipment-tracking",
                    "v3",
                    "orders",
                    id,
                    "shipment-trackings",
                ],
            ) => match &self.tracking {
                None => error(
                    404,
                    "rest_no_route",
                    "No route was found matching the URL and request method.",
                ),
                Some(t) => ResponseTemplate::new(200)
                    .set_body_json(t.get(*id).cloned().unwrap_or(json!([]))),
            },
            _ => error(
                404,
                "rest_no_route",
                "No route was found matching the URL and request method.",
            ),
        }
    }
}

impl Respond for FakeWoo {
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
        let mut announce = None;
        if let Some((limit, window, throttle_nth)) = st.quota {
            let n = st.seen.len();
            let mut p = st.probe.lock().unwrap_or_else(|e| e.into_inner());
            p.quota = limit;
            p.window = window;
            p.arrivals.push(now);
            if n == throttle_nth {
                p.throttled = Some((now, Duration::from_secs(1)));
                return error(429, "too_many_requests", "Too many requests.")
                    .insert_header("Retry-After", "1");
            }
            // A host's fixed window, announced as `X-RateLimit-*` (what the client's
            // `quota_headers` reads).
            let start = p.arrivals[0];
            let elapsed = now.duration_since(start);
            let windows = elapsed.as_nanos() / window.as_nanos().max(1);
            let window_start = start + window * u32::try_from(windows).unwrap_or(u32::MAX);
            let used = p.arrivals.iter().filter(|t| **t >= window_start).count();
            let left = (limit as usize).saturating_sub(used);
            let reset = (window_start + window).duration_since(now).as_secs().max(1);
            announce = Some((limit, left, reset));
        }
        if !st.fail_next.is_empty() {
            let (status, retry_after) = st.fail_next.remove(0);
            let mut r = error(status, "internal_server_error", "Try again.");
            if let Some(ra) = retry_after {
                r = r.insert_header("Retry-After", ra);
            }
            return r;
        }
        if req.method == "POST" && !st.fail_next_post.is_empty() {
            let status = st.fail_next_post.remove(0);
            return error(status, "internal_server_error", "Try again.");
        }
        let mut r = st.serve(req);
        if req.method == "POST"
            && let Some(d) = st.delay_next_post.take()
        {
            r = r.set_delay(d);
        }
        match announce {
            Some((limit, left, reset)) => r
                .insert_header("X-RateLimit-Limit", limit.to_string().as_str())
                .insert_header("X-RateLimit-Remaining", left.to_string().as_str())
                .insert_header("X-RateLimit-Reset", reset.to_string().as_str()),
            None => r,
        }
    }
}
