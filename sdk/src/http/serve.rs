//! Serving a router on a TCP listener with the limits a server on the internet needs.
//!
//! `axum::serve` sets no timeout: a client sending one header byte every two seconds holds
//! a connection (and its task and memory) forever, and a few hundred such clients starve the
//! server. [`serve`] runs every connection through hyper's HTTP/1 server with:
//!
//! | Limit | Default | What happens |
//! |---|---|---|
//! | [`header_read_timeout`](ServeOptions::header_read_timeout) | 10 s | The request's head (request line and headers) must be complete this long after the connection opened, or after the previous response on a kept-alive connection; else the connection is closed (hyper's own timer). |
//! | [`body_read_timeout`](ServeOptions::body_read_timeout) | 30 s | The whole body must arrive this long after the head; else the handler's read fails and the client gets `408 Request Timeout` and the connection is closed. |
//! | [`idle_timeout`](ServeOptions::idle_timeout) | 5 s | A connection on which no byte moved either way for this long while no handler was running is closed: a kept-alive connection waiting for its next request, a client that stopped reading its response. |
//! | [`max_connections`](ServeOptions::max_connections) | 512 | Connections served at once. Further connections are not accepted until one closes: they wait in the operating system's listen backlog (1,024 with tokio), and beyond that the kernel drops their handshakes, which clients retry. |
//! | [`shutdown_grace`](ServeOptions::shutdown_grace) | 10 s | After the shutdown signal: no new connection is accepted, idle connections close, requests in progress get this long to finish before their connections are dropped. |
//!
//! Only HTTP/1.1 is served (no TLS here: a reverse proxy or load balancer terminates it).
//!
//! Why some of this is written here rather than taken from a crate: hyper offers the header
//! read timeout (used as is) but no idle timeout and no connection cap, and
//! `tower_http::timeout::RequestBodyTimeoutLayer` times the gap *between* body frames, so a
//! body trickling in one byte at a time never trips it; the body deadline here covers the
//! whole body.
//!
//! ```no_run
//! # async fn demo(router: axum::Router) -> std::io::Result<()> {
//! use std::time::Duration;
//! use aftercare::http::{ServeOptions, serve_with_shutdown};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let options = ServeOptions::default()
//!     .header_read_timeout(Duration::from_secs(5))
//!     .max_connections(256);
//! serve_with_shutdown(listener, router, options, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

/// The limits [`serve`] applies; the defaults are in the [module's table](self).
///
/// ```
/// use std::time::Duration;
/// let o = aftercare::http::ServeOptions::default().idle_timeout(Duration::from_secs(30));
/// assert_eq!(o.get_idle_timeout(), Duration::from_secs(30));
/// assert_eq!(o.get_max_connections(), 512);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeOptions {
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    idle_timeout: Duration,
    max_connections: usize,
    shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: Self::DEFAULT_BODY_READ_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: Self::DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl ServeOptions {
    /// 10 seconds.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// 30 seconds.
    pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);
    /// 5 seconds.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    /// 512 connections.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
    /// 10 seconds.
    pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

    /// How long a request's head may take to arrive, from the connection's opening or the
    /// end of the previous response. At least a millisecond.
    pub fn header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// How long the whole body may take to arrive after the head. At least a millisecond.
    pub fn body_read_timeout(mut self, d: Duration) -> Self {
        self.body_read_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// How long a connection may stay silent (nothing read or written) while no handler
    /// runs. Between requests hyper's header timer runs too, so a kept-alive connection
    /// closes after the shorter of this and the header read timeout. At least a millisecond.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d.max(Duration::from_millis(1));
        self
    }

    /// Connections served at once (at least 1); more wait to be accepted.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long requests in progress may take to finish after the shutdown signal.
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }

    /// The header read timeout.
    pub fn get_header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }

    /// The body read timeout.
    pub fn get_body_read_timeout(&self) -> Duration {
        self.body_read_timeout
    }

    /// The idle timeout.
    pub fn get_idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The connection cap.
    pub fn get_max_connections(&self) -> usize {
        self.max_connections
    }

    /// The shutdown grace period.
    pub fn get_shutdown_grace(&self) -> Duration {
        self.shutdown_grace
    }
}

/// Serves `router` on `listener` with `options` until the task is dropped.
///
/// The error type is kept for the future: accept errors (a client resetting the connection,
/// too many open files) are logged and the loop goes on, as `axum::serve` does.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
) -> std::io::Result<()> {
    serve_with_shutdown(listener, router, options, std::future::pending()).await
}

/// Serves `router` on `listener` with `options` until `shutdown` completes, then stops
/// accepting, lets requests in progress finish within the grace period, and returns.
pub async fn serve_with_shutdown<F>(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let permits = Arc::new(Semaphore::new(options.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        // A connection is only accepted when it can be served: the others wait in the
        // listen backlog.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        connections.spawn(connection(
            stream,
            router.clone(),
            options.clone(),
            stop_rx.clone(),
            permit,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(options.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            grace = ?options.shutdown_grace,
            "connections still busy after the shutdown grace period are closed"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// As `axum::serve`: a failed handshake is the client's problem; anything else (out of file
/// descriptors) is logged and the loop pauses a second so it does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn connection(
    stream: TcpStream,
    router: Router,
    options: ServeOptions,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        activity: activity.clone(),
    });
    let body_timeout = options.body_read_timeout;
    let a = activity.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        handle(router.clone(), req, body_timeout, a.clone())
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let conn = builder.serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    loop {
        let check = activity.last() + options.idle_timeout;
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(check) => {
                if activity.busy() {
                    // A handler is running: its time is not idle time.
                    activity.touch();
                } else if activity.last() + options.idle_timeout <= Instant::now() {
                    tracing::debug!(idle = ?options.idle_timeout, "closing an idle connection");
                    return;
                }
            }
        }
    }
}

/// When a connection last moved a byte, and whether a handler is running on it.
struct Activity {
    origin: Instant,
    last_ms: AtomicU64,
    handlers: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_ms: AtomicU64::new(0),
            handlers: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.origin + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    fn busy(&self) -> bool {
        self.handlers.load(Ordering::Relaxed) > 0
    }
}

/// Counts a running handler; its end counts as activity.
struct Running(Arc<Activity>);

impl Running {
    fn new(a: Arc<Activity>) -> Self {
        a.handlers.fetch_add(1, Ordering::Relaxed);
        Self(a)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.touch();
        self.0.handlers.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn handle(
    router: Router,
    req: Request<Incoming>,
    body_timeout: Duration,
    activity: Arc<Activity>,
) -> Result<Response<Body>, Infallible> {
    let _running = Running::new(activity);
    let expired = Arc::new(AtomicBool::new(false));
    let req = req.map(|b| {
        Body::new(Deadline {
            inner: Body::new(b),
            sleep: Box::pin(tokio::time::sleep(body_timeout)),
            expired: expired.clone(),
        })
    });
    let response = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    if expired.load(Ordering::Relaxed) {
        tracing::info!(timeout = ?body_timeout, "a request body did not arrive in time; closing the connection");
        return Ok(too_slow());
    }
    Ok(response)
}

fn too_slow() -> Response<Body> {
    let mut r = Response::new(Body::from("the request body did not arrive in time\n"));
    *r.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let h = r.headers_mut();
    h.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// A request body that fails once its deadline passes, however the bytes trickle in.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive within the body read timeout",
            )))));
        }
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map(|f| f.map(|r| r.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The TCP stream, noting each byte read or written in the connection's [`Activity`].
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
