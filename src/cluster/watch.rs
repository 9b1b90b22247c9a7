//! A watch that outlives its connection: when the stream ends it is started again, and transient
//! errors (the API server restarting, frozen or throttling) are retried with backoff, the watcher
//! re-listing as needed. Only a permanent error (forbidden, not served) is handed to the caller, so a
//! wait always ends with a verdict: done, failed, or its own timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher;

use super::Cluster;
use super::retry::{is_throttled, is_transient, jitter};

/// Watches are cheap to retry and someone waits on them: their backoff stays short.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

pub(crate) struct Watch {
    cluster: Cluster,
    api: Api<DynamicObject>,
    config: watcher::Config,
    stream: BoxStream<'static, Result<watcher::Event<DynamicObject>, watcher::Error>>,
    /// Failed polls in a row.
    failures: u32,
    /// The wait before the next poll, after a failure.
    pause: Option<Duration>,
    /// The last error while the watch is failing, for timeout messages; cleared by the next event.
    trouble: Arc<Mutex<Option<String>>>,
}

impl Watch {
    pub(crate) fn new(
        cluster: &Cluster,
        api: Api<DynamicObject>,
        config: watcher::Config,
    ) -> Watch {
        let stream = watcher(api.clone(), config.clone()).boxed();
        Watch {
            cluster: cluster.clone(),
            api,
            config,
            stream,
            failures: 0,
            pause: None,
            trouble: Arc::default(),
        }
    }

    /// Reports the watch's trouble into `sink` too (a store shared by many waiters).
    pub(crate) fn sharing_trouble(mut self, sink: Arc<Mutex<Option<String>>>) -> Watch {
        self.trouble = sink;
        self
    }

    /// Why the watch is failing, while it is.
    pub(crate) fn trouble(&self) -> Option<String> {
        self.trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The backoff after the failures so far, with jitter.
    fn backoff(&self) -> Duration {
        let policy = self.cluster.retry_policy();
        jitter(
            policy
                .backoff(self.failures.saturating_sub(1))
                .min(MAX_BACKOFF),
        )
    }

    fn set_trouble(&self, trouble: Option<String>) {
        *self.trouble.lock().unwrap_or_else(|p| p.into_inner()) = trouble;
    }

    /// The next event. Transient errors and the end of the stream are handled here (never returned);
    /// a permanent error is returned, and calling again retries after the backoff.
    pub(crate) async fn next(&mut self) -> Result<watcher::Event<DynamicObject>, kube::Error> {
        loop {
            if let Some(pause) = self.pause.take() {
                tokio::time::sleep(pause).await;
            }
            match self.stream.try_next().await {
                Ok(Some(event)) => {
                    if self.failures > 0 {
                        self.failures = 0;
                        self.set_trouble(None);
                    }
                    return Ok(event);
                }
                Ok(None) => {
                    // The stream ended (it should not): a new watcher lists again.
                    self.failures += 1;
                    self.pause = Some(self.backoff());
                    self.set_trouble(Some("the watch ended".into()));
                    self.stream = watcher(self.api.clone(), self.config.clone()).boxed();
                }
                Err(e) => {
                    let e = into_kube(e);
                    self.failures += 1;
                    self.set_trouble(Some(super::error::describe(&e)));
                    self.cluster.record_retry(&e);
                    // 410 Gone: the resourceVersion expired; the watcher lists again.
                    let gone = matches!(&e, kube::Error::Api(s) if s.code == 410);
                    if !is_transient(&e) && !gone {
                        self.pause = Some(self.backoff());
                        return Err(e);
                    }
                    let pause = if is_throttled(&e) {
                        // As long as the server asks (a watch's initial list is throttled too).
                        let policy = self.cluster.retry_policy();
                        policy.next_delay(0, Duration::ZERO, &e)
                    } else {
                        None
                    }
                    .unwrap_or_else(|| self.backoff());
                    tracing::debug!("watch: transient error, retrying in {pause:?}: {e}");
                    self.pause = Some(pause);
                }
            }
        }
    }
}

/// The API error behind a watcher error.
pub(crate) fn into_kube(e: watcher::Error) -> kube::Error {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        watcher::Error::WatchError(status) => kube::Error::Api(status),
        other => kube::Error::Service(Box::new(other)),
    }
}
