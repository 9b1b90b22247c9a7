//! The HTTP endpoints every replica serves: `/metrics` (OpenMetrics text), `/healthz` (liveness) and
//! `/readyz` (readiness).
//!
//! Readiness: a follower is ready as soon as it runs (it serves metrics and stands by for the Lease, so a
//! Service over all replicas keeps working); the leader is ready once its first reconcile pass is done.
//! `/readyz` says which it is in its body; `rekube_leader` says it to Prometheus.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::metrics::Metrics;

/// What the endpoints report, shared with the reconcile loop.
#[derive(Default)]
pub struct Health {
    pub metrics: Metrics,
    /// This replica holds the Lease.
    pub leader: AtomicBool,
    /// The leader finished its first pass since it took the Lease.
    pub synced: AtomicBool,
    /// Why the head of the branch is refused (`--verify-commit`), while it is.
    refused: std::sync::Mutex<Option<String>>,
}

impl Health {
    /// Records (or clears) why the leader refuses the branch head: `/readyz` says it.
    pub fn refuse(&self, why: Option<String>) {
        if let Ok(mut refused) = self.refused.lock() {
            *refused = why;
        }
    }

    fn ready(&self) -> (bool, String) {
        let refused = self.refused.lock().ok().and_then(|r| r.clone());
        match (
            self.leader.load(Ordering::Relaxed),
            self.synced.load(Ordering::Relaxed),
            refused,
        ) {
            (false, _, _) => (true, "ready (follower)\n".into()),
            (true, true, None) => (true, "ready (leader)\n".into()),
            (true, _, Some(why)) => (false, format!("not ready: {why}\n")),
            (true, false, None) => (
                false,
                "not ready: the leader's first reconcile is running\n".into(),
            ),
        }
    }
}

/// Serves until `stop` turns true, finishing requests in flight.
pub async fn serve(listener: TcpListener, health: Arc<Health>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (stream, _) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!("accept: {e}");
                continue;
            }
        };
        let health = health.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let health = health.clone();
                async move { Ok::<_, Infallible>(route(&req, &health)) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("http connection: {e}");
            }
        });
    }
}

/// Binds `addr`, logging the address actually bound (port 0 picks a free one).
///
/// # Errors
/// The address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    super::say(&format!(
        "serving /metrics, /healthz and /readyz on http://{local}"
    ));
    Ok(listener)
}

fn route(req: &Request<Incoming>, health: &Health) -> Response<Full<Bytes>> {
    match req.uri().path() {
        "/metrics" => response(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            health.metrics.encode(),
        ),
        "/healthz" | "/livez" => response(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" => {
            let (ready, body) = health.ready();
            let code = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            response(code, "text/plain", body)
        }
        _ => response(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

fn response(code: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_are_ready_and_a_leader_after_its_first_pass() {
        let h = Health::default();
        assert!(h.ready().0);
        h.leader.store(true, Ordering::Relaxed);
        assert!(!h.ready().0);
        h.synced.store(true, Ordering::Relaxed);
        assert_eq!(h.ready(), (true, "ready (leader)\n".to_string()));
        h.refuse(Some("commit 0123abc refused: it is not signed".into()));
        assert_eq!(
            h.ready(),
            (
                false,
                "not ready: commit 0123abc refused: it is not signed\n".to_string()
            )
        );
        h.refuse(None);
        assert!(h.ready().0);
    }
}
