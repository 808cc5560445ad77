//! `aftercare::http::serve` over real TCP: slow headers, slow bodies, idle connections, the
//! connection cap and graceful shutdown. Timeouts are configured short so the tests take a
//! few seconds; the bounds asserted leave room for a loaded machine.

use std::net::SocketAddr;
use std::time::Duration;

use aftercare::http::{ServeOptions, serve, serve_with_shutdown};
use axum::Router;
use axum::routing::{get, post};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/echo",
            post(|body: String| async move { body.len().to_string() }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "done"
            }),
        )
}

/// Long timeouts everywhere, so a test shortens only the one it is about.
fn patient() -> ServeOptions {
    ServeOptions::default()
        .header_read_timeout(Duration::from_secs(60))
        .body_read_timeout(Duration::from_secs(60))
        .idle_timeout(Duration::from_secs(60))
}

async fn start(options: ServeOptions) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app(), options));
    addr
}

/// Reads one response (head, then `Content-Length` bytes of body): status and body.
async fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head[9..12].parse().unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            return (
                status,
                String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string(),
            );
        }
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Waits until the server closes the connection (end of stream or reset), up to `limit`;
/// returns how long that took, or `None` if it stayed open.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut chunk = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| start.elapsed())
}

async fn get_ok(addr: SocketAddr) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut s).await, (200, "ok".into()));
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_client_is_cut_off_while_others_are_served() {
    let addr = start(patient().header_read_timeout(Duration::from_millis(1500))).await;
    let opened = Instant::now();
    let s = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = s.into_split();
    // One header byte a second, for longer than any timeout under test.
    let drip = tokio::spawn(async move {
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if write.write_all(&[*b]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(1000)).await;
        }
        false
    });
    // Meanwhile another connection is answered at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(get_ok(addr).await < Duration::from_secs(1));

    let mut chunk = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match read.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the slow client was never cut off");
    let after = opened.elapsed();
    assert!(
        after >= Duration::from_millis(1200) && after < Duration::from_secs(5),
        "cut off after {after:?}, the header read timeout is 1.5 s"
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(3), drip)
            .await
            .unwrap()
            .unwrap(),
        "writing on fails once the server closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickling_in_is_cut_off_at_the_body_deadline() {
    let addr = start(patient().body_read_timeout(Duration::from_millis(1200))).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n")
        .await
        .unwrap();
    // One byte every 300 ms: each gap is well under the timeout (a per-frame timeout such as
    // tower-http's `RequestBodyTimeoutLayer` would never fire), the whole body is not.
    let (mut read, mut write) = s.into_split();
    let drip = tokio::spawn(async move {
        for _ in 0..100 {
            if write.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut got))
        .await
        .expect("the connection is closed after the answer")
        .ok();
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert!(
        took >= Duration::from_millis(1100) && took < Duration::from_secs(5),
        "answered after {took:?}, the body read timeout is 1.2 s"
    );
    drip.abort();

    // A body that arrives in time is read as usual.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    assert_eq!(read_response(&mut s).await, (200, "5".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let addr = start(patient().max_connections(2)).await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    for s in [&mut first, &mut second] {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_response(s).await.0, 200, "kept alive afterwards");
    }
    // The third connection is made (the kernel's backlog) but not served...
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(700), third.read(&mut byte))
            .await
            .is_err(),
        "a third connection is not served while two are open"
    );
    // ...until one of the two closes.
    drop(first);
    let answered = tokio::time::timeout(Duration::from_secs(5), read_response(&mut third))
        .await
        .expect("served once a connection closed");
    assert_eq!(answered, (200, "ok".into()));
    // The second is still served on its kept-alive connection.
    second
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut second).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let addr = start(patient().idle_timeout(Duration::from_millis(800))).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut s).await, (200, "ok".into()));
    let took = closed_within(&mut s, Duration::from_secs(10))
        .await
        .expect("the idle connection was never closed");
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(4),
        "closed after {took:?} idle, the idle timeout is 0.8 s"
    );

    // A connection that never sends anything is closed too.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(10))
            .await
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slower_than_the_idle_timeout_still_answers() {
    let addr = start(patient().idle_timeout(Duration::from_millis(400))).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut s).await, (200, "done".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_requests_finish_and_stops_accepting() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(listener, app(), patient(), async {
        let _ = stopped.await;
    }));
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut idle).await.0, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    // The idle connection closes at once, the request in progress is answered.
    assert!(
        closed_within(&mut idle, Duration::from_secs(1))
            .await
            .is_some()
    );
    assert_eq!(read_response(&mut busy).await, (200, "done".into()));
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns after the shutdown")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drops_what_outlasts_the_grace_period() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = patient().shutdown_grace(Duration::from_millis(300));
    let server = tokio::spawn(serve_with_shutdown(listener, app(), options, async {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }));
    let mut busy = TcpStream::connect(addr).await.unwrap();
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns after the grace period")
        .unwrap()
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(1400),
        "not waiting for the 1.5 s handler"
    );
    assert!(
        closed_within(&mut busy, Duration::from_secs(2))
            .await
            .is_some()
    );
}
