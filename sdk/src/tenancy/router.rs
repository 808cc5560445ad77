//! `/shops/{shop}/...`: each installed shop's own router (webhooks, pages, dashboard), built
//! from its [`ShopScope`] — its store, its secrets, its link and dashboard keys — and nothing
//! else. A shop not installed is `404`; an uninstalled shop's router is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tracing::Instrument as _;

use super::scope::{ShopScope, Tenancy};
use crate::Error;
use crate::model::ShopId;

/// Builds one shop's router from its scope.
pub type BuildShopRouter = dyn Fn(&ShopScope) -> Result<Router, Error> + Send + Sync;

/// Every shop's routes under `/shops/{shop}`.
#[derive(Clone)]
pub struct ShopRoutes {
    tenancy: Arc<Tenancy>,
    build: Arc<BuildShopRouter>,
    built: Arc<Mutex<HashMap<ShopId, (ShopScope, Router)>>>,
}

impl std::fmt::Debug for ShopRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopRoutes").finish_non_exhaustive()
    }
}

impl ShopRoutes {
    /// Routes for the shops of `tenancy`, each built by `build` from its scope.
    pub fn new(
        tenancy: Arc<Tenancy>,
        build: impl Fn(&ShopScope) -> Result<Router, Error> + Send + Sync + 'static,
    ) -> Self {
        Self {
            tenancy,
            build: Arc::new(build),
            built: Arc::default(),
        }
    }

    /// The router: `/shops/{shop}` and everything under it.
    pub fn into_router(self) -> Router {
        Router::new()
            .route("/shops/{shop}/{*rest}", axum::routing::any(route))
            .with_state(self)
    }

    fn router_for(&self, scope: &ShopScope) -> Result<Router, Error> {
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, r)) = built.get(scope.shop())
            && s.same_install(scope)
        {
            return Ok(r.clone());
        }
        let router = (self.build)(scope)?;
        built.insert(scope.shop().clone(), (scope.clone(), router.clone()));
        Ok(router)
    }
}

async fn route(
    State(routes): State<ShopRoutes>,
    Path((shop, rest)): Path<(String, String)>,
    req: Request<Body>,
) -> Response {
    let shop = ShopId::new(shop);
    let scope = match routes.tenancy.scope(&shop).await {
        Ok(s) => s,
        Err(Error::NotFound { .. }) => {
            routes
                .built
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&shop);
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(e) => {
            tracing::error!(shop = %shop, error = %e, "shop could not be opened");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let router = match routes.router_for(&scope) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(shop = %shop, error = %e, "shop's routes could not be built");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let inner = match req.uri().query() {
        Some(q) => format!("/{rest}?{q}"),
        None => format!("/{rest}"),
    };
    let Ok(uri) = inner.parse::<Uri>() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    // A new request for the shop's router: the outer route's path parameters (kept in the
    // request's extensions) must not reach the inner router's extractors; the peer
    // address is carried over.
    let (parts, body) = req.into_parts();
    let mut inner_req = Request::new(body);
    *inner_req.method_mut() = parts.method;
    *inner_req.uri_mut() = uri;
    *inner_req.version_mut() = parts.version;
    *inner_req.headers_mut() = parts.headers;
    if let Some(peer) = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        inner_req.extensions_mut().insert(*peer);
    }
    let req = inner_req;
    let span = tracing::info_span!("shop_request", shop = %shop);
    match router.oneshot(req).instrument(span).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}
