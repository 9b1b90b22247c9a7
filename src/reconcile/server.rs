//! The HTTP endpoints every replica serves: `/metrics` (OpenMetrics text), `/healthz` (liveness) and
//! `/readyz` (readiness).
//!
//! Liveness: `/healthz` fails when the leader has made no progress by the deadline of what it is doing
//! (a fetch, a load, an object's apply; [`Health::allow`], [`Health::progressed`]), and after it gave up
//! the Lease for that reason, until it makes progress again.
//!
//! Readiness: a follower is ready as soon as it runs (it serves metrics and stands by for the Lease, so a
//! Service over all replicas keeps working); the leader is ready once its first reconcile pass is done.
//! `/readyz` says which it is in its body; `rekube_leader` says it to Prometheus.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    refused: Mutex<Option<String>>,
    progress: Mutex<Progress>,
    /// The head commit while it is rejected, and why (`/readyz` says it; so does a metric).
    rejected: Mutex<Option<(String, &'static str)>>,
}

/// Whether the leader is getting anywhere.
#[derive(Default)]
struct Progress {
    /// The leader is stuck unless it makes progress before this instant (`None`: not leading).
    due: Option<Instant>,
    /// When it last made progress.
    last: Option<Instant>,
    /// Why the last step failed (a fetch error), for the liveness answer.
    why: Option<String>,
    /// It gave up the Lease for lack of progress: liveness stays failed until it makes progress again,
    /// so the kubelet restarts a process whose threads may be wedged.
    stalled: bool,
}

impl Health {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The leader starts a step that may take up to `within` (a new term, or what follows progress).
    pub fn allow(&self, within: Duration) {
        self.progress().due = Some(Instant::now() + within);
    }

    /// The leader made progress (a fetch answered, an object applied, a pass done); the next step may
    /// take up to `within`.
    pub fn progressed(&self, within: Duration) {
        let mut p = self.progress();
        p.due = Some(Instant::now() + within);
        p.last = Some(Instant::now());
        p.why = None;
        p.stalled = false;
    }

    /// Why the leader is not getting anywhere (shown by `/healthz` once it is stuck).
    pub fn failing(&self, why: String) {
        self.progress().why = Some(why);
    }

    /// Not leading any more: no progress is expected.
    pub fn stand_by(&self) {
        self.progress().due = None;
    }

    /// True once the leader has let its deadline pass.
    pub fn stuck(&self) -> bool {
        self.progress().due.is_some_and(|d| Instant::now() >= d)
    }

    /// The leader gave up the Lease for lack of progress.
    pub fn stalled(&self) {
        let mut p = self.progress();
        p.stalled = true;
        p.due = None;
    }

    fn live(&self) -> (bool, String) {
        let p = self.progress();
        let overdue = p.due.is_some_and(|d| Instant::now() >= d);
        if !(overdue || p.stalled) {
            return (true, "ok\n".into());
        }
        let since = match p.last {
            Some(at) => format!("for {}s", at.elapsed().as_secs()),
            None => "since it took the Lease".into(),
        };
        let what = if p.stalled { "gave up the Lease: " } else { "" };
        let why = p
            .why
            .as_deref()
            .map(|w| format!(" (last: {w})"))
            .unwrap_or_default();
        (
            false,
            format!("not live: {what}no reconcile progress {since}{why}\n"),
        )
    }

    /// Records (or clears) why the leader refuses the branch head: `/readyz` says it.
    pub fn refuse(&self, why: Option<String>) {
        if let Ok(mut refused) = self.refused.lock() {
            *refused = why;
        }
    }

    /// The head commit is rejected for `reason`: the last good revision is kept.
    pub fn rejected(&self, commit: &str, reason: &'static str) {
        *self.rejected.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((commit.to_string(), reason));
        self.metrics.set_rejected(Some((commit, reason)));
    }

    /// The head commit loaded and validated.
    pub fn accepted(&self) {
        *self.rejected.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.metrics.set_rejected(None);
    }

    /// An untrusted head makes the leader unready; a head rejected otherwise leaves it ready (it keeps
    /// reconciling the last good revision, and the metrics Service must keep it): the body says why.
    fn ready(&self) -> (bool, String) {
        let refused = self.refused.lock().ok().and_then(|r| r.clone());
        match (
            self.leader.load(Ordering::Relaxed),
            self.synced.load(Ordering::Relaxed),
            refused,
        ) {
            (false, _, _) => (true, "ready (follower)\n".into()),
            (true, _, Some(why)) => (false, format!("not ready: {why}\n")),
            (true, true, None) => {
                let rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
                match &*rejected {
                    None => (true, "ready (leader)\n".into()),
                    Some((commit, reason)) => (
                        true,
                        format!(
                            "ready (leader); head {} rejected ({reason}): the last good revision is kept\n",
                            &commit[..commit.len().min(12)]
                        ),
                    ),
                }
            }
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
        "/healthz" | "/livez" => {
            let (live, body) = health.live();
            let code = if live {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            response(code, "text/plain", body)
        }
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
        h.rejected("0123456789abcdef", "yaml");
        assert_eq!(
            h.ready(),
            (
                true,
                "ready (leader); head 0123456789ab rejected (yaml): the last good revision is kept\n"
                    .into()
            )
        );
        h.accepted();
        assert_eq!(h.ready().1, "ready (leader)\n");
    }

    #[test]
    fn liveness_fails_past_the_deadline_until_progress() {
        let h = Health::default();
        assert!(h.live().0, "a follower is live");
        h.allow(Duration::from_secs(60));
        assert!(h.live().0 && !h.stuck());
        h.allow(Duration::ZERO);
        h.failing("fetch timed out".into());
        assert!(h.stuck());
        let (live, body) = h.live();
        assert!(!live);
        assert!(
            body.contains("no reconcile progress") && body.contains("fetch timed out"),
            "{body}"
        );
        h.stalled();
        assert!(!h.stuck(), "no deadline once it stood down");
        assert!(h.live().1.contains("gave up the Lease"), "{}", h.live().1);
        h.progressed(Duration::from_secs(60));
        assert!(h.live().0, "progress clears it");
    }
}
