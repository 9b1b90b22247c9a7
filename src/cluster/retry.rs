//! Which request errors are transient, and how long to wait before the next try.

use std::time::Duration;

/// Exponential backoff with a cap; 429's `retryAfterSeconds` wins when the server gives it.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before try number `attempt + 1` after `error`, or `None` when it must not be retried.
    pub fn next_delay(&self, attempt: u32, error: &kube::Error) -> Option<Duration> {
        if attempt + 1 >= self.attempts {
            return None;
        }
        let backoff = self
            .initial
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max);
        match classify(error) {
            Transient::No => None,
            Transient::Backoff => Some(backoff),
            Transient::RetryAfter(d) => Some(d.min(self.max).max(self.initial)),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Transient {
    No,
    Backoff,
    RetryAfter(Duration),
}

fn classify(error: &kube::Error) -> Transient {
    match error {
        kube::Error::Api(s) => match s.code {
            429 => s
                .details
                .as_ref()
                .map(|d| u64::from(d.retry_after_seconds))
                .filter(|&secs| secs > 0)
                .map_or(Transient::Backoff, |secs| {
                    Transient::RetryAfter(Duration::from_secs(secs))
                }),
            // 409 on an apply is "the object has been modified" or a deletion in progress; 5xx are the
            // server's own transient failures (etcd leader change, timeouts).
            409 | 500 | 502 | 503 | 504 => Transient::Backoff,
            _ => Transient::No,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => Transient::Backoff,
        _ => Transient::No,
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
                Transient::RetryAfter(Duration::from_secs(3)),
            ),
            ("429 without", api(429, 0), Transient::Backoff),
            ("503", api(503, 0), Transient::Backoff),
            ("404 is final", api(404, 0), Transient::No),
            ("422 invalid is final", api(422, 0), Transient::No),
        ];
        for (name, err, want) in cases {
            assert_eq!(classify(&err), want, "{name}");
        }
    }

    #[test]
    fn backoff_grows_and_stops() {
        let p = RetryPolicy::default();
        let e = api(503, 0);
        assert_eq!(p.next_delay(0, &e), Some(Duration::from_millis(100)));
        assert_eq!(p.next_delay(3, &e), Some(Duration::from_millis(800)));
        assert_eq!(p.next_delay(7, &e), None);
        assert_eq!(p.next_delay(0, &api(404, 0)), None);
    }
}
