//! Which request errors are transient, how long to wait before the next try, and how many retries a
//! run made (reported in the summary).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Exponential backoff with a cap and jitter. A 429 (the API server throttling, API Priority and
/// Fairness or max-in-flight) is waited out as its Retry-After says, for up to `throttled_for` in all,
/// without counting against `attempts`: being throttled is not failing.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries in all for other transient errors, the first included.
    pub attempts: u32,
    pub initial: Duration,
    pub max: Duration,
    /// How long one request may wait on 429s in all before it fails.
    pub throttled_for: Duration,
    /// How long one try may take before it counts as a transient failure (a frozen API server
    /// accepts connections and never answers).
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            // 0.1 s doubling to 10 s: about 33 s of retries, enough for an API server restart.
            attempts: 10,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            throttled_for: Duration::from_secs(300),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before the next try after `error`, or `None` when it must not be retried.
    /// `attempt` counts the failed tries so far (429s excluded), `throttled` the time already waited
    /// on 429s.
    pub fn next_delay(
        &self,
        attempt: u32,
        throttled: Duration,
        error: &kube::Error,
    ) -> Option<Duration> {
        let backoff = self.backoff(attempt);
        match classify(error) {
            Transient::No => None,
            Transient::Throttled(_) if throttled >= self.throttled_for => None,
            Transient::Throttled(Some(d)) => Some(jitter(d.clamp(self.initial, self.max))),
            Transient::Throttled(None) => Some(jitter(backoff)),
            Transient::Backoff if attempt + 1 >= self.attempts => None,
            Transient::Backoff => Some(jitter(backoff)),
        }
    }

    /// The capped exponential delay after `attempt` failures, without jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.initial
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max)
    }
}

/// True when `error` is worth another try (the server is restarting, overloaded or throttling).
pub fn is_transient(error: &kube::Error) -> bool {
    classify(error) != Transient::No
}

/// True when `error` is the API server throttling (429).
pub fn is_throttled(error: &kube::Error) -> bool {
    matches!(classify(error), Transient::Throttled(_))
}

#[derive(Debug, PartialEq)]
enum Transient {
    No,
    Backoff,
    /// 429, with the server's Retry-After when it gave one.
    Throttled(Option<Duration>),
}

fn classify(error: &kube::Error) -> Transient {
    match error {
        kube::Error::Api(s) => match s.code {
            429 => Transient::Throttled(
                s.details
                    .as_ref()
                    .map(|d| u64::from(d.retry_after_seconds))
                    .filter(|&secs| secs > 0)
                    .map(Duration::from_secs),
            ),
            // 409 on an apply is "the object has been modified" or a deletion in progress; 5xx are the
            // server's own transient failures (etcd leader change, timeouts).
            409 | 500 | 502 | 503 | 504 => Transient::Backoff,
            _ => Transient::No,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => Transient::Backoff,
        _ => Transient::No,
    }
}

/// `d` plus up to half of it, so that clients throttled together do not all come back together.
pub fn jitter(d: Duration) -> Duration {
    use std::hash::BuildHasher;
    // Each RandomState has fresh keys: a cheap random number without a dependency.
    let r = std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now());
    d + d.mul_f64((r % 1000) as f64 / 2000.0)
}

/// Retries made by one connection, counted as they happen.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    retries: AtomicU64,
    throttled: AtomicU64,
}

impl Counters {
    pub(crate) fn record(&self, error: &kube::Error) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        if is_throttled(error) {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> Retries {
        Retries {
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }
}

/// How many requests and watches were tried again, and how many of those because the API server
/// throttled (429).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Retries {
    pub retries: u64,
    pub throttled: u64,
}

impl Retries {
    /// The retries made since `earlier` was taken.
    pub fn since(self, earlier: Retries) -> Retries {
        Retries {
            retries: self.retries.saturating_sub(earlier.retries),
            throttled: self.throttled.saturating_sub(earlier.throttled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::StatusDetails;

    fn api(code: u16, retry_after: i32) -> kube::Error {
        let mut s = Status::failure("x", "y");
        s.code = code;
        if retry_after > 0 {
            s.details = Some(StatusDetails {
                name: String::new(),
                group: String::new(),
                kind: String::new(),
                uid: String::new(),
                causes: Vec::new(),
                retry_after_seconds: retry_after.try_into().unwrap_or_default(),
            });
        }
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn classification() {
        let cases = [
            (
                "429 with retry-after",
                api(429, 3),
                Transient::Throttled(Some(Duration::from_secs(3))),
            ),
            ("429 without", api(429, 0), Transient::Throttled(None)),
            ("503", api(503, 0), Transient::Backoff),
            ("404 is final", api(404, 0), Transient::No),
            ("422 invalid is final", api(422, 0), Transient::No),
        ];
        for (name, err, want) in cases {
            assert_eq!(classify(&err), want, "{name}");
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_stops() {
        let p = RetryPolicy::default();
        let e = api(503, 0);
        let zero = Duration::ZERO;
        let within = |d: Option<Duration>, base: u64| {
            d.is_some_and(|d| {
                d >= Duration::from_millis(base) && d <= Duration::from_millis(base * 3 / 2)
            })
        };
        assert!(within(p.next_delay(0, zero, &e), 100));
        assert!(within(p.next_delay(3, zero, &e), 800));
        assert!(within(p.next_delay(8, zero, &e), 10_000), "capped");
        assert_eq!(p.next_delay(9, zero, &e), None);
        assert_eq!(p.next_delay(0, zero, &api(404, 0)), None);
    }

    #[test]
    fn throttling_waits_as_told_and_does_not_use_up_attempts() {
        let p = RetryPolicy::default();
        let e = api(429, 2);
        let d = p.next_delay(50, Duration::from_secs(10), &e);
        assert!(
            d.is_some_and(|d| d >= Duration::from_secs(2) && d <= Duration::from_secs(3)),
            "Retry-After honoured: {d:?}"
        );
        assert_eq!(
            p.next_delay(0, p.throttled_for, &e),
            None,
            "bounded in time"
        );
    }

    #[test]
    fn retries_since() {
        let a = Retries {
            retries: 3,
            throttled: 1,
        };
        let b = Retries {
            retries: 10,
            throttled: 4,
        };
        assert_eq!(
            b.since(a),
            Retries {
                retries: 7,
                throttled: 3
            }
        );
    }
}
