//! The tracking page, `GET /t/{token}`: order number, items, carrier and tracking number, a
//! status timeline, estimated delivery, the carrier's link, support and tutorial links.
//! Server-rendered, no JavaScript, mobile-first, localized, right-to-left where it must be.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::html::{escape, safe_url};
use crate::clock::Clock;
use crate::content::ContentMap;
use crate::flows::tracking::TrackingClaims;
use crate::model::{OrderId, Shipment, ShipmentStatus};
use crate::platform::OrderSource;
use crate::store::SnapshotStore;
use crate::token::{TokenError, TokenSigner};

/// Text for the pages, per locale. The sdk's catalogs implement it.
pub trait PageText: Send + Sync {
    /// The text of `id` in `locale` (after fallback), plain (it is escaped by the page).
    fn text(&self, locale: &str, id: &str) -> String;
    /// The text of `id` in `locale` with named values (`days` → `90`), plain. Without an
    /// implementation, the text without them.
    fn text_with(&self, locale: &str, id: &str, args: &[(&str, String)]) -> String {
        let _ = args;
        self.text(locale, id)
    }
    /// A date and time formatted for `locale`, in the time zone `zone`, with the zone's
    /// abbreviation.
    fn datetime(
        &self,
        locale: &str,
        at: chrono::DateTime<chrono::Utc>,
        zone: chrono_tz::Tz,
    ) -> String {
        let _ = locale;
        at.with_timezone(&zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }
    /// The shop's branding for the pages, if it has one.
    fn branding(&self) -> Option<&crate::branding::Branding> {
        None
    }
}

/// The tracking page's state.
#[derive(Clone)]
pub struct TrackingPage {
    orders: Arc<dyn OrderSource>,
    tokens: TokenSigner,
    text: Arc<dyn PageText>,
    clock: Arc<dyn Clock>,
    content: ContentMap,
    support_url: Option<String>,
    default_locale: String,
    snapshots: Option<Arc<dyn SnapshotStore>>,
    links: Option<crate::links::ShortLinks>,
}

impl std::fmt::Debug for TrackingPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackingPage").finish_non_exhaustive()
    }
}

impl TrackingPage {
    /// A page reading orders from `orders`, checking tokens with `tokens` (purpose
    /// `tracking`, the same signer as the flow's).
    pub fn new(
        orders: Arc<dyn OrderSource>,
        tokens: TokenSigner,
        text: Arc<dyn PageText>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            orders,
            tokens,
            text,
            clock,
            content: ContentMap::default(),
            support_url: None,
            default_locale: "en".into(),
            snapshots: None,
            links: None,
        }
    }

    /// Shows the shipment as the flows last stored it, merged with the platform's: the events
    /// of a carrier-tracking source (its text and places), its estimate and pickup point.
    pub fn shipments_from(mut self, snapshots: Arc<dyn SnapshotStore>) -> Self {
        self.snapshots = Some(snapshots);
        self
    }

    /// Tutorials to show per product.
    pub fn content(mut self, content: ContentMap) -> Self {
        self.content = content;
        self
    }

    /// The shop's support link.
    pub fn support_url(mut self, url: impl Into<String>) -> Self {
        self.support_url = Some(url.into());
        self
    }

    /// The locale when the order has none.
    pub fn default_locale(mut self, locale: impl Into<String>) -> Self {
        self.default_locale = locale.into();
        self
    }

    /// Resolves short link ids ([`crate::links`]) from this store, the flow's.
    pub fn short_links(mut self, store: std::sync::Arc<dyn crate::store::SnapshotStore>) -> Self {
        self.links = Some(crate::links::ShortLinks::new(store));
        self
    }

    /// The router serving `/t/{token}`.
    pub fn into_router(self) -> Router {
        let branding = self.text.branding().cloned();
        // Product pictures come from the platforms' image hosts (`https:` only).
        super::headers::page_headers_with_images(
            Router::new()
                .route("/t/{token}", get(show))
                .with_state(Arc::new(self)),
            branding.as_ref(),
        )
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn status_id(s: &ShipmentStatus) -> &'static str {
    match s {
        ShipmentStatus::Confirmed => "status-confirmed",
        ShipmentStatus::LabelCreated => "status-label-created",
        ShipmentStatus::PickedUp => "status-picked-up",
        ShipmentStatus::InTransit => "status-in-transit",
        ShipmentStatus::OutForDelivery => "status-out-for-delivery",
        ShipmentStatus::AttemptedDelivery => "status-attempted-delivery",
        ShipmentStatus::ReadyForPickup => "status-ready-for-pickup",
        ShipmentStatus::Delivered => "status-delivered",
        ShipmentStatus::Delayed => "status-delayed",
        ShipmentStatus::Exception => "status-exception",
        ShipmentStatus::Returned => "status-returned",
        ShipmentStatus::Cancelled => "status-cancelled",
        _ => "status-unknown",
    }
}

async fn show(
    State(p): State<Arc<TrackingPage>>,
    Path(token): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let now = p.clock.now();
    // Until the order is known, the browser's language (among the built-in ones).
    let loc = super::accepted_locale(&headers, &p.default_locale);
    let fail = |status: StatusCode, locale: &str, id: &str| {
        html(
            status,
            super::error_page(p.text.as_ref(), locale, id, p.support_url.as_deref()),
        )
    };
    let token = match &p.links {
        Some(links) => match links.resolve("tracking", &token).await {
            Ok(t) => t.unwrap_or(token),
            Err(e) => {
                tracing::error!(error = %e, "tracking page could not resolve a short link");
                return fail(StatusCode::SERVICE_UNAVAILABLE, &loc, "page-unavailable");
            }
        },
        None => token,
    };
    let claims: TrackingClaims = match p.tokens.verify(&token, now) {
        Ok(c) => c,
        Err(e) => {
            let (status, id) = match e {
                TokenError::Expired(_) => (StatusCode::GONE, "page-link-expired"),
                _ => (StatusCode::NOT_FOUND, "page-link-invalid"),
            };
            return fail(status, &loc, id);
        }
    };
    let order = match p.orders.order(&OrderId::new(claims.o.clone())).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return fail(StatusCode::NOT_FOUND, &loc, "page-link-invalid");
        }
        Err(e) => {
            tracing::error!(error = %e, "tracking page could not load the order");
            return fail(StatusCode::SERVICE_UNAVAILABLE, &loc, "page-unavailable");
        }
    };
    let shipments = p.orders.shipments(&order.id).await.unwrap_or_default();
    let mut shipment: Option<Shipment> = shipments.into_iter().find(|s| s.id.0 == claims.s);
    // The stored history (a tracking source's events, estimate, pickup point) over the
    // platform's record; alone when the platform does not list the shipment.
    if let Some(store) = &p.snapshots {
        match store.snapshot("shipment", &claims.s).await {
            Ok(Some(snap)) => {
                if let Ok(stored) = serde_json::from_value::<Shipment>(snap.data)
                    && stored.order_id == order.id
                {
                    shipment = Some(match shipment {
                        Some(s) => crate::tracking_source::merge::merge(Some(&stored), &s),
                        None => stored,
                    });
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "tracking page could not read the shipment's history")
            }
        }
    }
    let shipment = shipment.as_ref();
    let locale = order.locale.clone().unwrap_or(loc);
    // Times in the customer's zone when it can be told, else UTC; always labelled.
    let zone = crate::tz::infer(order.shipping_address.as_ref(), order.phone.as_deref())
        .unwrap_or(chrono_tz::UTC);
    let t = |id: &str| crate::html::escape_isolated(&p.text.text(&locale, id));
    let mut b = String::new();
    b.push_str(&format!(
        "<h1>{} <bdi class=\"ltr\">{}</bdi></h1>\n",
        t("page-order"),
        escape(&order.number)
    ));
    if let Some(s) = shipment {
        b.push_str("<section class=\"card\" aria-labelledby=\"shipment-h\">\n");
        b.push_str(&format!(
            "<h2 id=\"shipment-h\">{}: {}</h2>\n<dl>\n",
            t("page-status"),
            t(status_id(&s.status))
        ));
        if let Some(c) = &s.carrier {
            b.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                t("page-carrier"),
                escape(c)
            ));
        }
        for n in &s.tracking_numbers {
            b.push_str(&format!(
                "<dt>{}</dt><dd><bdi class=\"ltr\" dir=\"ltr\">{}</bdi></dd>\n",
                t("page-tracking-number"),
                escape(n)
            ));
        }
        if let Some(eta) = s.estimated_delivery {
            b.push_str(&format!(
                "<dt>{}</dt><dd><time datetime=\"{}\">{}</time></dd>\n",
                t("page-estimated-delivery"),
                eta.to_rfc3339(),
                crate::html::escape_isolated(&p.text.datetime(&locale, eta, zone))
            ));
        }
        if let Some(point) = s
            .pickup_point
            .as_deref()
            .filter(|_| s.status == ShipmentStatus::ReadyForPickup)
        {
            b.push_str(&format!(
                "<dt>{}</dt><dd>{}</dd>\n",
                t("page-pickup-point"),
                escape(point)
            ));
        }
        b.push_str("</dl>\n");
        // The same carrier link a message would carry (platform URL, else the named or
        // uniquely detected carrier's), so the page never has less than the message had.
        let carrier_link = crate::carrier::tracking_link(
            s.tracking_urls.first().map(String::as_str),
            s.carrier.as_deref(),
            s.tracking_numbers.first().map_or("", String::as_str),
        )
        .url;
        if let Some(url) = carrier_link.as_deref().filter(|u| safe_url(u)) {
            b.push_str(&format!(
                "<p><a class=\"button\" href=\"{}\" rel=\"noopener noreferrer\">{}</a></p>\n",
                escape(url),
                t("page-track-on-carrier")
            ));
        }
        b.push_str("</section>\n");
        b.push_str(&format!(
            "<section class=\"card\" aria-labelledby=\"timeline-h\">\n<h2 id=\"timeline-h\">{}</h2>\n<ol class=\"timeline\">\n",
            t("page-timeline")
        ));
        let mut events = s.events.clone();
        events.sort_by_key(|e| std::cmp::Reverse(e.happened_at));
        if events.is_empty() {
            b.push_str(&format!(
                "<li class=\"current\">{}</li>\n",
                t(status_id(&s.status))
            ));
        }
        for (i, e) in events.iter().enumerate() {
            let mut line = t(status_id(&e.status));
            // The carrier's own words (a weather delay, "customer not home").
            if let Some(m) = e.message.as_deref().filter(|m| !m.trim().is_empty()) {
                line.push_str(&format!(" · <q>{}</q>", escape(m)));
            }
            if let Some(loc) = &e.location {
                line.push_str(&format!(" · {}", escape(loc)));
            }
            b.push_str(&format!(
                "<li{}>{line}<time datetime=\"{}\">{}</time></li>\n",
                if i == 0 {
                    " class=\"current\" aria-current=\"step\""
                } else {
                    ""
                },
                e.happened_at.to_rfc3339(),
                crate::html::escape_isolated(&p.text.datetime(&locale, e.happened_at, zone))
            ));
        }
        b.push_str("</ol>\n</section>\n");
    }
    b.push_str(&format!(
        "<section class=\"card\" aria-labelledby=\"items-h\">\n<h2 id=\"items-h\">{}</h2>\n",
        t("page-items")
    ));
    b.push_str(&crate::html::line_items(&order.line_items));
    let tutorials = p.content.links_for(&order.line_items, &locale);
    if !tutorials.is_empty() {
        b.push_str(&format!("<h2>{}</h2>\n<ul>\n", t("page-tutorials")));
        for l in tutorials.iter().filter(|l| safe_url(&l.url)) {
            b.push_str(&format!(
                "<li><a href=\"{}\">{}</a> <span>(<bdi>{}</bdi>)</span></li>\n",
                escape(&l.url),
                escape(&l.title),
                escape(&l.product)
            ));
        }
        b.push_str("</ul>\n");
    }
    b.push_str("</section>\n");
    // The footer carries the branding's support link; another one is shown here.
    let footer_link = p.text.branding().and_then(|b| b.support_link());
    if let Some(s) = p
        .support_url
        .as_deref()
        .filter(|u| safe_url(u))
        .filter(|u| footer_link.as_deref() != Some(*u))
    {
        b.push_str(&format!(
            "<p><a class=\"button\" href=\"{}\">{}</a></p>\n",
            escape(s),
            t("page-support")
        ));
    }
    let title = format!("{} {}", p.text.text(&locale, "page-order"), order.number);
    html(
        StatusCode::OK,
        super::shell(p.text.as_ref(), &locale, &title, &b),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use async_trait::async_trait;
    use axum::body::Body;
    use axum::http::Request;
    use chrono::{DateTime, Utc};
    use futures::stream::BoxStream;
    use tower::ServiceExt as _;

    use super::*;
    use crate::model::{ImageUrl, LineItem, Order};
    use crate::webhook::Secret;

    struct OneOrder(Order);

    #[async_trait]
    impl OrderSource for OneOrder {
        async fn order(&self, id: &OrderId) -> Result<Option<Order>, crate::Error> {
            Ok((*id == self.0.id).then(|| self.0.clone()))
        }
        fn updated_since(&self, _: DateTime<Utc>) -> BoxStream<'_, Result<Order, crate::Error>> {
            Box::pin(futures::stream::empty())
        }
        async fn shipments(&self, _: &OrderId) -> Result<Vec<Shipment>, crate::Error> {
            Ok(Vec::new())
        }
    }

    fn line(title: &str, image: Option<&str>) -> LineItem {
        let mut l = LineItem::new(title, 2);
        l.image = image.map(|u| ImageUrl::parse(u).unwrap());
        l
    }

    /// The page of an order with these lines, and its `Content-Security-Policy`.
    async fn page(lines: Vec<LineItem>) -> (String, String) {
        let mut order = Order::new("1001", "#1001");
        order.line_items = lines;
        let tokens = TokenSigner::new(Secret::from("k"), "tracking");
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let token = tokens.sign(
            &TrackingClaims {
                o: "1001".into(),
                s: "s1".into(),
            },
            clock.now() + chrono::Duration::days(1),
        );
        let app = TrackingPage::new(
            Arc::new(OneOrder(order)),
            tokens,
            Arc::new(crate::l10n::Catalogs::new("Dukkan")),
            clock,
        )
        .into_router();
        let resp = app
            .oneshot(
                Request::get(format!("/t/{token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let csp = resp.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (String::from_utf8(body.to_vec()).unwrap(), csp)
    }

    #[tokio::test]
    async fn product_pictures_show_with_their_name_in_a_fixed_lazy_box() {
        let (html, csp) = page(vec![
            line(
                "Mug \"Deluxe\"",
                Some("https://cdn.example/mug.jpg?v=2&s=64"),
            ),
            line("Beans", None),
            line("Filter", Some("http://shop.example/filter.jpg")),
        ])
        .await;
        assert!(
            html.contains(
                r#"<li><img class="thumb" src="https://cdn.example/mug.jpg?v=2&amp;s=64" alt="Mug &quot;Deluxe&quot;" width="64" height="64" loading="lazy" decoding="async"><span>Mug &quot;Deluxe&quot; × <bdi>2</bdi></span></li>"#
            ),
            "{html}"
        );
        // Only the https picture; the others keep an empty box of the same size.
        assert_eq!(html.matches("<img").count(), 1, "{html}");
        assert_eq!(html.matches(r#"<span class="thumb"></span>"#).count(), 2);
        assert!(!html.contains("http://shop.example"));
        assert!(html.contains(r#"<ul class="items">"#));
        // The box is sized by the stylesheet too, before the picture arrives.
        assert!(crate::html::STYLE.contains(".thumb { flex: none; width: 64px; height: 64px;"));
        assert!(csp.contains("; img-src https:;"), "{csp}");
    }

    #[tokio::test]
    async fn without_pictures_the_items_are_text_alone() {
        let (html, _) = page(vec![line("Beans", None), line("Filter", None)]).await;
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("thumb\""), "{html}");
        assert!(html.contains("<li>Beans × <bdi>2</bdi></li>"), "{html}");
    }
}
