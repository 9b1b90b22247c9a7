//! Counting requests from the API server's own `/metrics` (`apiserver_request_total`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use kube::Client;

use crate::Error;

/// Request counts from `apiserver_request_total`, main resources only (no `status` subresource, which
/// controllers write), for the workload's resource names plus the tools' inventories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// Non-dry-run POST, PUT, PATCH, APPLY, DELETE.
    pub writes: u64,
    /// The same verbs with `dryRun=All`.
    pub dry_runs: u64,
    /// GET and LIST.
    pub reads: u64,
    /// GET and LIST of other resources (e.g. drift's scan of every namespaced kind for objects outside
    /// Git), except those the control plane's own components poll.
    pub other_reads: u64,
}

/// Resources the control plane's components read and write on their own while a tool runs.
const CONTROL_PLANE_RESOURCES: [&str; 4] = ["leases", "events", "nodes", "pods"];

/// Request counters by class and `VERB resource`, as scraped.
#[derive(Debug, Clone, Default)]
pub struct Counters(BTreeMap<(Class, String), u64>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Write,
    DryRun,
    Read,
    OtherRead,
}

impl Counters {
    /// What was counted after `before`.
    pub fn since(&self, before: &Counters) -> Counters {
        Counters(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.saturating_sub(*before.0.get(k).unwrap_or(&0))))
                .filter(|(_, v)| *v > 0)
                .collect(),
        )
    }

    pub fn summary(&self) -> Requests {
        let mut r = Requests::default();
        for ((class, _), n) in &self.0 {
            match class {
                Class::Write => r.writes += n,
                Class::DryRun => r.dry_runs += n,
                Class::Read => r.reads += n,
                Class::OtherRead => r.other_reads += n,
            }
        }
        r
    }

    /// `APPLY secrets ×2, …`: which writes, for the log.
    pub fn writes(&self) -> String {
        let v: Vec<String> = self
            .0
            .iter()
            .filter(|((c, _), _)| *c == Class::Write)
            .map(|((_, k), n)| format!("{k} ×{n}"))
            .collect();
        v.join(", ")
    }
}

/// Scrapes `/metrics` with the admin client and keeps the request counters of `resources`.
pub async fn requests(client: &Client, resources: &BTreeSet<String>) -> Result<Counters, Error> {
    let req = http::Request::get("/metrics").body(Vec::new())?;
    let text = client.request_text(req).await?;
    let mut c = Counters::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("apiserver_request_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let labels = parse_labels(labels);
        let get = |k: &str| labels.get(k).copied().unwrap_or("");
        let resource = get("resource");
        if !get("subresource").is_empty() || resource.is_empty() {
            continue;
        }
        let ours = resources.contains(resource);
        let n = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        let dry = !get("dry_run").is_empty();
        let verb = get("verb");
        let class = match verb {
            _ if !ours => match verb {
                "GET" | "LIST" if !CONTROL_PLANE_RESOURCES.contains(&resource) => Class::OtherRead,
                _ => continue,
            },
            "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE" | "DELETECOLLECTION" if dry => {
                Class::DryRun
            }
            "POST" | "PUT" | "PATCH" | "APPLY" | "DELETE" | "DELETECOLLECTION" => Class::Write,
            "GET" | "LIST" => Class::Read,
            _ => continue,
        };
        // Counters are split by response code (and group/version): sum them.
        *c.0.entry((class, format!("{verb} {}", get("resource"))))
            .or_default() += n;
    }
    Ok(c)
}

/// `a="x",b="y"` (Prometheus text format; the apiserver's label values hold no quotes or commas).
fn parse_labels(s: &str) -> HashMap<&str, &str> {
    s.split("\",")
        .filter_map(|pair| pair.split_once("=\""))
        .map(|(k, v)| (k, v.trim_end_matches('"')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let l = parse_labels(
            r#"code="201",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="APPLY",version="v1""#,
        );
        assert_eq!(l["verb"], "APPLY");
        assert_eq!(l["dry_run"], "");
        assert_eq!(l["resource"], "configmaps");
    }
}
