//! Stateful stand-ins of the store's API (wiremock responders) for what a fixed response
//! cannot show: the order list with `min_date_modified`, `sort`, `page` and `limit`
//! (`orders.v2.oas2.yml` `GET /orders`; `204 No Content` past the last page), the
//! store-wide quota headers ("API rate limits" page), and the write-back resources (staff
//! notes on `PUT /v2/orders/{id}`, order and customer metafields, `orders.v3.yml` /
//! `customers.v3.yml`).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::{Request, Respond, ResponseTemplate};

use super::order_json;

/// RFC 2822 as the v2 API writes dates (`Mon, 11 Mar 2019 15:17:25 +0000`).
pub fn rfc2822(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// The store-wide quota, counted over a sliding window: `X-Rate-Limit-Requests-Left` is the
/// quota less the requests of the last `window`, and `X-Rate-Limit-Time-Reset-Ms` the time
/// until the oldest of them leaves it. (The docs give the headers, not how the window
/// moves; a sliding window is the strictest reading, and what the kit's check measures.)
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    pub quota: u32,
    pub window: Duration,
}

/// `(id, date_modified)` of the orders served.
pub type Orders = Vec<(String, DateTime<Utc>)>;
/// A change made to the orders after a page is served.
pub type AfterPage = Box<dyn FnMut(&mut Orders) + Send>;

#[derive(Default)]
pub struct OrdersState {
    /// `(id, date_modified)`, any order; served sorted by `date_modified` (stable).
    pub orders: Vec<(String, DateTime<Utc>)>,
    /// Answer 500 to the first request whose page would contain this order.
    pub fail_once_with: Option<String>,
    /// Answer 429 (with the quota headers, asking for this wait) to the request of this
    /// index (0-based).
    pub throttle: Option<(usize, Duration)>,
    pub quota: Option<Quota>,
    /// Every request's `(min_date_modified, page, limit)`.
    pub queries: Vec<(String, u32, usize)>,
    pub arrivals: Vec<Instant>,
    /// When the 429 was answered and the wait it asked for.
    pub throttled: Option<(Instant, Duration)>,
    /// Requests the quota did not allow (answered 429).
    pub over_quota: usize,
    /// The kit's probe, told of every arrival and of the 429.
    pub probe: Option<Arc<Mutex<aftercare::conformance::platform::RateProbe>>>,
    /// Called after each served page with the orders, e.g. to modify one mid-pass.
    pub after_page: Option<AfterPage>,
}

#[derive(Clone, Default)]
pub struct OrdersApi(pub Arc<Mutex<OrdersState>>);

impl OrdersApi {
    pub fn new(orders: Vec<(String, DateTime<Utc>)>) -> Self {
        let s = OrdersState {
            orders,
            ..OrdersState::default()
        };
        Self(Arc::new(Mutex::new(s)))
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, OrdersState> {
        self.0.lock().unwrap()
    }
}

fn param(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Respond for OrdersApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let now = Instant::now();
        let index = s.arrivals.len();
        s.arrivals.push(now);
        if let Some(p) = &s.probe {
            p.lock().unwrap().arrivals.push(now);
        }
        let mut headers: Vec<(&str, String)> = Vec::new();
        let mut over = false;
        let mut reset_now = Duration::ZERO;
        if let Some(q) = s.quota {
            let inside: Vec<Instant> = s
                .arrivals
                .iter()
                .copied()
                .filter(|t| now.duration_since(*t) < q.window)
                .collect();
            over = inside.len() > q.quota as usize;
            let left = (q.quota as usize).saturating_sub(inside.len());
            let reset = inside
                .first()
                .map_or(q.window, |t| (*t + q.window).duration_since(now));
            reset_now = reset;
            headers = vec![
                (
                    "X-Rate-Limit-Time-Window-Ms",
                    q.window.as_millis().to_string(),
                ),
                ("X-Rate-Limit-Time-Reset-Ms", reset.as_millis().to_string()),
                ("X-Rate-Limit-Requests-Quota", q.quota.to_string()),
                ("X-Rate-Limit-Requests-Left", left.to_string()),
            ];
        }
        let with = |mut t: ResponseTemplate, h: &[(&str, String)]| {
            for (k, v) in h {
                t = t.insert_header(*k, v.as_str());
            }
            t
        };
        if let Some((at, wait)) = s.throttle
            && at == index
        {
            // Never less than what the window needs to free a request: a platform telling
            // the client to come back sooner would make it exceed the quota.
            let wait = wait.max(reset_now);
            s.throttled = Some((now, wait));
            if let Some(p) = &s.probe {
                p.lock().unwrap().throttled = Some((now, wait));
            }
            let mut h = headers.clone();
            h.retain(|(k, _)| !k.ends_with("Reset-Ms") && !k.ends_with("Left"));
            h.push(("X-Rate-Limit-Time-Reset-Ms", wait.as_millis().to_string()));
            h.push(("X-Rate-Limit-Requests-Left", "0".into()));
            return with(ResponseTemplate::new(429), &h);
        }
        if over {
            s.over_quota += 1;
            return with(ResponseTemplate::new(429), &headers);
        }
        if param(req, "sort").as_deref() != Some("date_modified:asc") {
            return ResponseTemplate::new(400).set_body_json(
                json!([{"status": 400, "message": "expected sort=date_modified:asc"}]),
            );
        }
        let min = param(req, "min_date_modified").unwrap_or_default();
        let Ok(min_t) = DateTime::parse_from_rfc3339(&min)
            .or_else(|_| DateTime::parse_from_rfc2822(&min))
            .map(|d| d.with_timezone(&Utc))
        else {
            return ResponseTemplate::new(400);
        };
        let page: u32 = param(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let limit: usize = param(req, "limit")
            .and_then(|p| p.parse().ok())
            .unwrap_or(50);
        s.queries.push((min.clone(), page, limit));
        let mut sorted: Vec<(String, DateTime<Utc>)> = s
            .orders
            .iter()
            .filter(|(_, t)| *t >= min_t)
            .cloned()
            .collect();
        sorted.sort_by_key(|(_, t)| *t);
        let start = (page.max(1) as usize - 1) * limit;
        let slice: Vec<(String, DateTime<Utc>)> =
            sorted.into_iter().skip(start).take(limit).collect();
        if let Some(f) = s.fail_once_with.clone()
            && slice.iter().any(|(id, _)| *id == f)
        {
            s.fail_once_with = None;
            return with(ResponseTemplate::new(500), &headers);
        }
        if let Some(mut hook) = s.after_page.take() {
            hook(&mut s.orders);
            s.after_page = Some(hook);
        }
        if slice.is_empty() {
            return with(ResponseTemplate::new(204), &headers);
        }
        let body: Vec<Value> = slice
            .iter()
            .map(|(id, t)| {
                let mut o = order_json(id, 11, "USD", "10.0000");
                o["date_modified"] = json!(rfc2822(*t));
                o
            })
            .collect();
        with(ResponseTemplate::new(200).set_body_json(body), &headers)
    }
}

/// The write-back resources of one store: orders' `staff_notes` and metafields of orders
/// and customers, with a count of the writes that changed something.
#[derive(Default)]
pub struct WritesState {
    pub staff_notes: std::collections::HashMap<String, String>,
    /// `(id, base path, namespace, key, value)`.
    pub metafields: Vec<(u64, String, String, String, String)>,
    pub changes: usize,
    pub posts: usize,
    pub puts: usize,
    /// Answer the next metafield POST with 409 after creating the metafield behind the
    /// client's back (another writer won the race).
    pub race_next_post: bool,
}

#[derive(Clone, Default)]
pub struct WritesApi(pub Arc<Mutex<WritesState>>);

impl WritesApi {
    pub fn state(&self) -> std::sync::MutexGuard<'_, WritesState> {
        self.0.lock().unwrap()
    }
}

fn metafield_json(m: &(u64, String, String, String, String)) -> Value {
    json!({
        "id": m.0,
        "permission_set": "app_only",
        "namespace": m.2,
        "key": m.3,
        "value": m.4,
        "description": "",
        "resource_type": "order",
        "date_created": "2026-03-01T10:00:00+00:00",
        "date_modified": "2026-03-01T10:00:00+00:00",
        "owner_client_id": "m9r6keqmo7h7f23btnpwernbez1kglkl",
    })
}

impl Respond for WritesApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let path = req.url.path().to_owned();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let not_found = || {
            ResponseTemplate::new(404).set_body_json(
                json!([{"status": 404, "message": "The requested resource was not found."}]),
            )
        };
        match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["stores", _, "v2", "orders", id]) => {
                let Some(notes) = s.staff_notes.get(*id) else {
                    return not_found();
                };
                let mut o = order_json(id, 11, "USD", "69.8400");
                o["staff_notes"] = json!(notes);
                ResponseTemplate::new(200).set_body_json(o)
            }
            ("PUT", ["stores", _, "v2", "orders", id]) => {
                let id = (*id).to_owned();
                let Some(notes) = s.staff_notes.get(&id).cloned() else {
                    return not_found();
                };
                s.puts += 1;
                let new = body["staff_notes"].as_str().unwrap_or_default().to_owned();
                if new != notes {
                    s.changes += 1;
                    s.staff_notes.insert(id.clone(), new.clone());
                }
                let mut o = order_json(&id, 11, "USD", "69.8400");
                o["staff_notes"] = json!(new);
                ResponseTemplate::new(200).set_body_json(o)
            }
            ("GET", ["stores", _, "v3", kind, id, "metafields"]) => {
                let base = format!("{kind}/{id}");
                let ns = param(req, "namespace");
                let key = param(req, "key");
                let data: Vec<Value> = s
                    .metafields
                    .iter()
                    .filter(|m| m.1 == base)
                    .filter(|m| ns.as_ref().is_none_or(|n| *n == m.2))
                    .filter(|m| key.as_ref().is_none_or(|k| *k == m.3))
                    .map(metafield_json)
                    .collect();
                let n = data.len();
                ResponseTemplate::new(200).set_body_json(json!({
                    "data": data,
                    "meta": {"pagination": {"total": n, "count": n, "per_page": 50, "current_page": 1, "total_pages": 1, "links": {}}}
                }))
            }
            ("POST", ["stores", _, "v3", kind, id, "metafields"]) => {
                s.posts += 1;
                let base = format!("{kind}/{id}");
                let ns = body["namespace"].as_str().unwrap_or_default().to_owned();
                let key = body["key"].as_str().unwrap_or_default().to_owned();
                let value = body["value"].as_str().unwrap_or_default().to_owned();
                if body["permission_set"].as_str().is_none() {
                    return ResponseTemplate::new(422);
                }
                let next = s.metafields.len() as u64 + 1;
                if s.race_next_post {
                    s.race_next_post = false;
                    s.metafields
                        .push((next, base, ns, key, "someone else's".into()));
                    return ResponseTemplate::new(409).set_body_json(json!({"status": 409, "title": "The metafield conflicts with another metafield", "type": "/api-docs/getting-started/api-status-codes"}));
                }
                if s.metafields
                    .iter()
                    .any(|m| m.1 == base && m.2 == ns && m.3 == key)
                {
                    return ResponseTemplate::new(409);
                }
                let m = (next, base, ns, key, value);
                s.changes += 1;
                let out = json!({"data": metafield_json(&m), "meta": {}});
                s.metafields.push(m);
                ResponseTemplate::new(200).set_body_json(out)
            }
            ("PUT", ["stores", _, "v3", kind, id, "metafields", mid]) => {
                s.puts += 1;
                let base = format!("{kind}/{id}");
                let mid: u64 = mid.parse().unwrap_or(0);
                let value = body["value"].as_str().unwrap_or_default().to_owned();
                let Some(i) = s.metafields.iter().position(|m| m.0 == mid && m.1 == base) else {
                    return not_found();
                };
                if s.metafields[i].4 != value {
                    s.changes += 1;
                    s.metafields[i].4 = value;
                }
                let out = json!({"data": metafield_json(&s.metafields[i]), "meta": {}});
                ResponseTemplate::new(200).set_body_json(out)
            }
            _ => not_found(),
        }
    }
}
