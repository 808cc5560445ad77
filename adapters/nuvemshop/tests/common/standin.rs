//! Stateful stand-ins of the store's API (wiremock responders) for what a fixed response
//! cannot show: `GET /orders` paging (`page`, `per_page`, `Link`, and the 404 Nuvemshop
//! answers past the last page: `{"code":404,"message":"Not Found","description":"Last page
//! is N"}`), the leaky bucket of the README's "Rate limiting" (40 leaking 2/s in
//! production; smaller here) with its `X-Rate-Limit-*` headers, and `owner_note` / customer
//! `note` write-back (`PUT /orders/{id}`, `PUT /customers/{id}`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;
use wiremock::{Request, Respond, ResponseTemplate};

/// A leaky bucket: `size` requests, leaking `rate` per second.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    pub size: f64,
    pub rate: f64,
}

#[derive(Default)]
pub struct OrdersState {
    /// The pages served, in order (page 1 first).
    pub pages: Vec<Vec<Value>>,
    /// Answer 500 the first time this page (0-based) is asked for.
    pub fail_once_at: Option<usize>,
    pub failed: bool,
    pub bucket: Option<Bucket>,
    pub level: f64,
    pub last: Option<Instant>,
    /// Answer 429 to the request of this index (0-based), asking for this wait.
    pub throttle: Option<(usize, Duration)>,
    pub arrivals: Vec<Instant>,
    pub over_bucket: usize,
    pub probe: Option<Arc<Mutex<aftercare::conformance::platform::RateProbe>>>,
    /// The `page` of every request.
    pub pages_asked: Vec<u32>,
}

#[derive(Clone, Default)]
pub struct OrdersApi(pub Arc<Mutex<OrdersState>>);

impl OrdersApi {
    pub fn new(pages: Vec<Vec<Value>>) -> Self {
        Self(Arc::new(Mutex::new(OrdersState {
            pages,
            ..OrdersState::default()
        })))
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
            let mut p = p.lock().unwrap();
            p.arrivals.push(now);
            p.costs.push(1.0);
        }
        let mut headers: Vec<(&str, String)> = Vec::new();
        if let Some(b) = s.bucket {
            if let Some(last) = s.last {
                s.level = (s.level - b.rate * now.duration_since(last).as_secs_f64()).max(0.0);
            }
            s.last = Some(now);
            let forced = s.throttle.filter(|(i, _)| *i == index).map(|(_, w)| w);
            if let Some(wait) = forced {
                // The refused request counts against the bucket, as the kit counts it (the
                // docs do not say; counting it is the stricter reading).
                s.level = (s.level + 1.0).min(b.size);
                if let Some(p) = &s.probe {
                    p.lock().unwrap().throttled = Some((now, wait));
                }
                return ResponseTemplate::new(429)
                    .insert_header("X-Rate-Limit-Limit", b.size.to_string())
                    .insert_header("X-Rate-Limit-Remaining", "0")
                    .insert_header("X-Rate-Limit-Reset", wait.as_millis().to_string())
                    .set_body_json(json!({"code":429,"message":"Too Many Requests","description":"Rate limit exceeded"}));
            }
            if s.level + 1.0 > b.size + 1e-9 {
                s.over_bucket += 1;
                let reset = ((s.level + 1.0 - b.size) / b.rate * 1000.0).ceil() as u64;
                return ResponseTemplate::new(429)
                    .insert_header("X-Rate-Limit-Limit", b.size.to_string())
                    .insert_header("X-Rate-Limit-Remaining", "0")
                    .insert_header("X-Rate-Limit-Reset", reset.to_string());
            }
            s.level += 1.0;
            let reset = (s.level / b.rate * 1000.0).ceil() as u64;
            headers = vec![
                ("X-Rate-Limit-Limit", (b.size as u64).to_string()),
                (
                    "X-Rate-Limit-Remaining",
                    ((b.size - s.level).floor().max(0.0) as u64).to_string(),
                ),
                ("X-Rate-Limit-Reset", reset.to_string()),
            ];
        }
        let page: u32 = param(req, "page").and_then(|p| p.parse().ok()).unwrap_or(1);
        s.pages_asked.push(page);
        let n = s.pages.len();
        if page == 0 || page as usize > n {
            let mut r = ResponseTemplate::new(404).set_body_json(json!({
                "code": 404, "message": "Not Found", "description": format!("Last page is {n}")
            }));
            for (k, v) in headers {
                r = r.insert_header(k, v);
            }
            return r;
        }
        let i = page as usize - 1;
        if s.fail_once_at == Some(i) && !s.failed {
            s.failed = true;
            return ResponseTemplate::new(500)
                .set_body_json(json!({"code":500,"message":"Internal Server Error"}));
        }
        let host = req
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned();
        let base = format!("http://{host}{}", req.url.path());
        let per_page = param(req, "per_page").unwrap_or_else(|| "30".into());
        let since = param(req, "updated_at_min").unwrap_or_default();
        let at = |p: usize| {
            let mut u = url::Url::parse(&base).unwrap();
            u.query_pairs_mut()
                .append_pair("updated_at_min", &since)
                .append_pair("per_page", &per_page)
                .append_pair("page", &p.to_string());
            u.to_string()
        };
        let mut links = vec![
            format!("<{}>; rel=\"first\"", at(1)),
            format!("<{}>; rel=\"last\"", at(n)),
        ];
        if page as usize > 1 {
            links.push(format!("<{}>; rel=\"prev\"", at(page as usize - 1)));
        }
        if (page as usize) < n {
            links.push(format!("<{}>; rel=\"next\"", at(page as usize + 1)));
        }
        let total: usize = s.pages.iter().map(Vec::len).sum();
        let mut r = ResponseTemplate::new(200)
            .set_body_json(Value::Array(s.pages[i].clone()))
            .insert_header("Link", links.join(", "))
            .insert_header("X-Total-Count", total.to_string());
        for (k, v) in headers {
            r = r.insert_header(k, v);
        }
        r
    }
}

#[derive(Default)]
pub struct WritesState {
    pub owner_notes: BTreeMap<String, Option<String>>,
    pub customer_notes: BTreeMap<String, Option<String>>,
    /// Writes that changed something.
    pub changes: usize,
    /// Every `PUT` body.
    pub puts: Vec<Value>,
}

/// `GET|PUT /orders/{id}` and `GET|PUT /customers/{id}` on the notes.
#[derive(Clone, Default)]
pub struct WritesApi(pub Arc<Mutex<WritesState>>);

impl WritesApi {
    pub fn state(&self) -> std::sync::MutexGuard<'_, WritesState> {
        self.0.lock().unwrap()
    }
}

impl Respond for WritesApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        let parts: Vec<&str> = req.url.path().trim_matches('/').split('/').collect();
        // v1 / {store} / {resource} / {id}
        let (Some(resource), Some(id)) = (parts.get(2), parts.get(3)) else {
            return ResponseTemplate::new(404);
        };
        let (field, map) = match *resource {
            "orders" => ("owner_note", &mut s.owner_notes),
            "customers" => ("note", &mut s.customer_notes),
            _ => return ResponseTemplate::new(404),
        };
        let Some(current) = map.get(*id).cloned() else {
            return ResponseTemplate::new(404)
                .set_body_json(json!({"code":404,"message":"Not Found"}));
        };
        let id_num: u64 = id.parse().unwrap();
        match req.method.as_str() {
            "GET" => {
                ResponseTemplate::new(200).set_body_json(json!({"id": id_num, field: current}))
            }
            "PUT" => {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let new = body.get(field).and_then(Value::as_str).map(str::to_owned);
                let changed = new != current;
                map.insert((*id).to_owned(), new.clone());
                s.puts.push(body);
                if changed {
                    s.changes += 1;
                }
                ResponseTemplate::new(200).set_body_json(json!({"id": id_num, field: new}))
            }
            _ => ResponseTemplate::new(405),
        }
    }
}
