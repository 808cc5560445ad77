//! A local stand-in for a shop's Admin API that enforces Shopify's rate limits, for tests
//! and benches (127.0.0.1 only).
//!
//! - GraphQL (`POST /admin/api/{v}/graphql.json`): a cost bucket (`maximumAvailable`,
//!   `restoreRate`) as described at https://shopify.dev/docs/api/usage/rate-limits. The
//!   `orders` query costs `2 + first` points. A request arriving without enough points is
//!   refused as Shopify does (HTTP 200, `errors[].extensions.code == "THROTTLED"`,
//!   `actualQueryCost: null`) and counted in `refused`.
//! - REST (`GET /admin/api/{v}/orders.json`): a leaky bucket (`X-Shopify-Shop-Api-Call-Limit:
//!   used/size`, 429 with `Retry-After: 2.0` when full), `Link` pagination with `page_info`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
pub struct Counters {
    pub served: u64,
    pub refused: u64,
    pub points_spent: f64,
    pub first_at: Option<Instant>,
    pub last_at: Option<Instant>,
    /// Points available when the first counted request arrived.
    pub available_at_first: f64,
    pub rest_served: u64,
    pub rest_refused: u64,
}

struct St {
    orders: usize,
    max: f64,
    available: f64,
    rate: f64,
    at: Instant,
    rest_size: f64,
    rest_leak: f64,
    rest_used: f64,
    rest_at: Instant,
    c: Counters,
}

#[derive(Clone)]
pub struct MockShop {
    st: Arc<Mutex<St>>,
    pub addr: SocketAddr,
}

pub const FIRST_ID: u64 = 820_982_911_946_154_500;

fn order_json(i: usize) -> Value {
    let id = FIRST_ID + i as u64;
    json!({
        "id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{}", 1000 + i),
        "email": null, "phone": null, "customerLocale": "en",
        "createdAt": "2024-05-01T00:00:00Z",
        "updatedAt": format!("2024-05-02T00:{:02}:{:02}Z", (i / 60) % 60, i % 60),
        "cancelledAt": null, "tags": [], "customer": null,
        "totalPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "USD"}},
        "shippingAddress": null,
        "lineItems": {"nodes": []}
    })
}

impl MockShop {
    /// A shop with `orders` orders, a GraphQL bucket of `max` points restoring `rate`/s, and a
    /// REST bucket of `rest_size` leaking `rest_leak`/s.
    pub async fn start(orders: usize, max: f64, rate: f64, rest_size: u32, rest_leak: f64) -> Self {
        let now = Instant::now();
        let st = Arc::new(Mutex::new(St {
            orders,
            max,
            available: max,
            rate,
            at: now,
            rest_size: f64::from(rest_size),
            rest_leak,
            rest_used: 0.0,
            rest_at: now,
            c: Counters {
                served: 0,
                refused: 0,
                points_spent: 0.0,
                first_at: None,
                last_at: None,
                available_at_first: 0.0,
                rest_served: 0,
                rest_refused: 0,
            },
        }));
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/admin/api/{version}/orders.json", get(rest_orders))
            .with_state(st.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { st, addr }
    }

    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).unwrap()
    }

    pub fn counters(&self) -> Counters {
        let s = self.st.lock().unwrap();
        s.c
    }

    /// Points spent over points the bucket allowed between the first and last request
    /// (points available at the first request + restore over the elapsed time).
    pub fn fraction_of_allowed(&self) -> f64 {
        let s = self.st.lock().unwrap();
        let (Some(a), Some(b)) = (s.c.first_at, s.c.last_at) else {
            return 0.0;
        };
        let allowed = s.c.available_at_first + s.rate * b.duration_since(a).as_secs_f64();
        s.c.points_spent / allowed
    }

    pub fn reset_counters(&self) {
        let mut s = self.st.lock().unwrap();
        s.c = Counters {
            served: 0,
            refused: 0,
            points_spent: 0.0,
            first_at: None,
            last_at: None,
            available_at_first: 0.0,
            rest_served: 0,
            rest_refused: 0,
        };
    }
}

async fn graphql(State(st): State<Arc<Mutex<St>>>, body: axum::body::Bytes) -> Response {
    let req: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let vars = req.get("variables").cloned().unwrap_or(Value::Null);
    let first = vars.get("first").and_then(Value::as_u64).unwrap_or(1) as usize;
    let after: usize = vars
        .get("after")
        .and_then(Value::as_str)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let cost = 2.0 + first as f64;
    let mut s = st.lock().unwrap();
    let now = Instant::now();
    let dt = now.duration_since(s.at).as_secs_f64();
    s.available = (s.available + dt * s.rate).min(s.max);
    s.at = now;
    if s.c.first_at.is_none() {
        s.c.first_at = Some(now);
        s.c.available_at_first = s.available;
    }
    s.c.last_at = Some(now);
    if s.available < cost {
        s.c.refused += 1;
        return axum::Json(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": null,
                "throttleStatus": {"maximumAvailable": s.max, "currentlyAvailable": s.available.floor(), "restoreRate": s.rate}}}
        }))
        .into_response();
    }
    s.available -= cost;
    s.c.points_spent += cost;
    s.c.served += 1;
    let end = (after + first).min(s.orders);
    let nodes: Vec<Value> = (after..end).map(order_json).collect();
    let has_next = end < s.orders;
    axum::Json(json!({
        "data": {"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": has_next, "endCursor": if has_next { Some(end.to_string()) } else { None }}}},
        "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
            "throttleStatus": {"maximumAvailable": s.max, "currentlyAvailable": s.available.floor(), "restoreRate": s.rate}}}
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
struct RestQ {
    page_info: Option<usize>,
    limit: Option<usize>,
}

async fn rest_orders(
    State(st): State<Arc<Mutex<St>>>,
    headers: HeaderMap,
    Query(q): Query<RestQ>,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let mut s = st.lock().unwrap();
    let now = Instant::now();
    let dt = now.duration_since(s.rest_at).as_secs_f64();
    s.rest_used = (s.rest_used - dt * s.rest_leak).max(0.0);
    s.rest_at = now;
    if s.rest_used + 1.0 > s.rest_size {
        s.c.rest_refused += 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "2.0")],
            axum::Json(json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."})),
        )
            .into_response();
    }
    s.rest_used += 1.0;
    s.c.rest_served += 1;
    let limit = q.limit.unwrap_or(50).min(250);
    let start = q.page_info.unwrap_or(0);
    let end = (start + limit).min(s.orders);
    let orders: Vec<Value> = (start..end)
        .map(|i| json!({"id": FIRST_ID + i as u64, "name": format!("#{}", 1000 + i)}))
        .collect();
    let mut resp = axum::Json(json!({ "orders": orders })).into_response();
    let h = resp.headers_mut();
    h.insert(
        "x-shopify-shop-api-call-limit",
        HeaderValue::from_str(&format!(
            "{}/{}",
            s.rest_used.ceil() as u32,
            s.rest_size as u32
        ))
        .unwrap(),
    );
    if end < s.orders {
        let link = format!(
            "<http://{host}/admin/api/2026-10/orders.json?limit={limit}&page_info={end}>; rel=\"next\""
        );
        h.insert("link", HeaderValue::from_str(&link).unwrap());
    }
    resp
}
