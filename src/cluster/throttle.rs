//! The API server says how long to wait when it throttles (429) in the `Retry-After` header; its
//! body is plain text ("Too many requests, please try again later."), which the client turns into a
//! Status without the delay. This layer copies the header into the Status's
//! `details.retryAfterSeconds`, where [`super::RetryPolicy`] reads it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::Bytes;
use kube::client::DynBody;
use tower_layer::Layer;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The response body after this layer: the server's, or the Status written here.
pub(super) type Body = UnsyncBoxBody<Bytes, BoxError>;

#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RetryAfterLayer;

impl<S> Layer<S> for RetryAfterLayer {
    type Service = RetryAfter<S>;

    fn layer(&self, inner: S) -> RetryAfter<S> {
        RetryAfter(inner)
    }
}

#[derive(Debug, Clone)]
pub(super) struct RetryAfter<S>(S);

impl<S, B> Service<Request<B>> for RetryAfter<S>
where
    S: Service<Request<B>, Response = Response<Box<DynBody>>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let response = self.0.call(req);
        Box::pin(async move { response.await.map(with_retry_after) })
    }
}

fn with_retry_after(res: Response<Box<DynBody>>) -> Response<Body> {
    let seconds = (res.status() == StatusCode::TOO_MANY_REQUESTS)
        .then(|| res.headers().get(http::header::RETRY_AFTER))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok());
    match seconds {
        Some(seconds) => {
            let (parts, _) = res.into_parts();
            let body = Full::new(Bytes::from(status(seconds).to_string()))
                .map_err(|never| match never {})
                .boxed_unsync();
            Response::from_parts(parts, body)
        }
        None => res.map(|b| b.boxed_unsync()),
    }
}

/// The Status the API server sends with a 429 when it has a body to say it in.
fn status(seconds: u32) -> serde_json::Value {
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": format!("the API server is throttling requests (429 Too Many Requests), retry after {seconds}s"),
        "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": seconds},
        "code": 429,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(
        code: u16,
        retry_after: Option<&str>,
        body: &'static str,
    ) -> Response<Box<DynBody>> {
        let mut b = Response::builder().status(code);
        if let Some(r) = retry_after {
            b = b.header("Retry-After", r);
        }
        let body: Box<DynBody> = Box::new(
            Full::new(Bytes::from_static(body.as_bytes())).map_err(|never| match never {}),
        );
        b.body(body).expect("a valid response")
    }

    async fn text(res: Response<Body>) -> String {
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn the_header_becomes_the_status_details() {
        let out = with_retry_after(response(429, Some("3"), "Too many requests"));
        assert_eq!(out.status(), 429);
        let status: kube::core::Status = serde_json::from_str(&text(out).await).expect("a Status");
        assert_eq!(status.code, 429);
        assert_eq!(status.details.map(|d| d.retry_after_seconds), Some(3));
    }

    #[tokio::test]
    async fn other_responses_pass_unchanged() {
        let ok = with_retry_after(response(200, Some("3"), "{}"));
        assert_eq!(text(ok).await, "{}");
        let no_header = with_retry_after(response(429, None, "Too many requests"));
        assert_eq!(text(no_header).await, "Too many requests");
    }
}
