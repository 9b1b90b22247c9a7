//! Counting writes the way the API server and etcd see them, not the way rekube reports them: the
//! API server's own `apiserver_request_total`, and the keys etcd holds.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::time::Duration;

use base64::Engine as _;
use rekube::Object;

/// The resources of the synthetic repository (and of the inventory), as the metrics name them.
pub const RESOURCES: &[&str] = &[
    "namespaces",
    "customresourcedefinitions",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "services",
    "deployments",
    "widgets",
    "gadgets",
    "gizmos",
    "sprockets",
];

/// Server-side apply requests (not dry-run, not on a subresource) to [`RESOURCES`]: all of them and
/// those that created the object (201).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Writes {
    pub applies: u64,
    pub creates: u64,
}

/// The API server's `/metrics`, within `limit` (a frozen server never answers).
pub async fn scrape(client: &kube::Client, limit: Duration) -> Option<Writes> {
    let request = http::Request::get("/metrics").body(Vec::new()).ok()?;
    let text = tokio::time::timeout(limit, client.request_text(request))
        .await
        .ok()?
        .ok()?;
    Some(writes(&text))
}

/// How many requests the API server refused with 429 (its `apiserver_request_total`).
pub async fn throttled(client: &kube::Client) -> u64 {
    let request = http::Request::get("/metrics")
        .body(Vec::new())
        .expect("a valid request");
    let text = client.request_text(request).await.expect("metrics");
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total{") && l.contains("code=\"429\""))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Sums the apply requests of `apiserver_request_total` in a metrics text.
pub fn writes(metrics: &str) -> Writes {
    let mut w = Writes::default();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |key: &str| {
            labels
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.trim_matches('"').to_string())
                .unwrap_or_default()
        };
        if label("verb") != "APPLY"
            || !label("dry_run").is_empty()
            || !label("subresource").is_empty()
            || !RESOURCES.contains(&label("resource").as_str())
        {
            continue;
        }
        let n = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        w.applies += n;
        if label("code") == "201" {
            w.creates += n;
        }
    }
    w
}

/// The etcd key of an object of the synthetic repository.
pub fn etcd_key(o: &Object) -> String {
    let id = &o.id;
    let resource = match (id.group.as_str(), id.kind.as_str()) {
        ("", "Namespace") => return format!("/registry/namespaces/{}", id.name),
        ("apiextensions.k8s.io", _) => {
            return format!(
                "/registry/apiextensions.k8s.io/customresourcedefinitions/{}",
                id.name
            );
        }
        ("", "Service") => "services/specs".to_string(),
        ("", "ServiceAccount") => "serviceaccounts".to_string(),
        ("", kind) => format!("{}s", kind.to_lowercase()),
        ("apps", kind) => format!("{}s", kind.to_lowercase()),
        (group, kind) => format!("{group}/{}s", kind.to_lowercase()),
    };
    format!(
        "/registry/{resource}/{}/{}",
        id.namespace.as_deref().unwrap_or_default(),
        id.name
    )
}

/// Every key etcd holds under `/registry/` (read through etcd's JSON gateway, keys only).
pub fn etcd_keys(etcd_url: &str) -> BTreeSet<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let body = format!(
        r#"{{"key":"{}","range_end":"{}","keys_only":true}}"#,
        b64("/registry/"),
        b64("/registry0")
    );
    let addr = etcd_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("etcd listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // HTTP/1.0: the answer comes whole, without chunked encoding, and the connection closes.
    let request = format!(
        "POST /v3/kv/range HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write to etcd");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read from etcd");
    let json = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(json).expect("etcd answers JSON");
    value["kvs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|kv| kv["key"].as_str())
        .filter_map(|k| base64::engine::general_purpose::STANDARD.decode(k).ok())
        .map(|k| String::from_utf8_lossy(&k).into_owned())
        .collect()
}

/// The keys of what a rebuild writes: the repository's objects, the inventory's Namespace and parent.
pub fn written_keys(objects: &[Object], all: &BTreeSet<String>) -> usize {
    let wanted: BTreeSet<String> = objects.iter().map(etcd_key).collect();
    all.iter()
        .filter(|k| {
            wanted.contains(*k)
                || k.as_str() == "/registry/namespaces/rekube-system"
                || k.starts_with("/registry/secrets/rekube-system/")
        })
        .count()
}
