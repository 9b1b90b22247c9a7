//! The rule table and one check function per rule. An object check returns `None` when the rule does
//! not apply to the object, else its findings (none: it passes).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::select::{blocks_eviction, matches};
use super::storage::no_snapshot_class;
use super::{LiveState, Rule, Severity};
use crate::object::Object;

/// How a rule is checked.
#[derive(Clone, Copy)]
pub enum Check {
    /// On each object of the repository, with the index of the others.
    Object(fn(&Object, &Index) -> Option<Vec<String>>),
    /// On the live control plane; reported on the object (kind, namespace, name) it is about.
    Live(
        fn(&LiveState) -> Vec<String>,
        (&'static str, Option<&'static str>, &'static str),
    ),
}

/// Every rule of the audit: id, severity, what it asks, how it is checked.
pub const RULES: &[Rule] = &[
    Rule {
        id: "single-replica",
        severity: Severity::High,
        description: "A Deployment or StatefulSet runs more than one replica (or an autoscaler in the repository keeps minReplicas above one), so losing a node does not stop it.",
        check: Check::Object(single_replica),
    },
    Rule {
        id: "no-disruption-budget",
        severity: Severity::Medium,
        description: "A PodDisruptionBudget in the repository selects the pods of each Deployment and StatefulSet, so a node drain cannot evict them all at once.",
        check: Check::Object(no_disruption_budget),
    },
    Rule {
        id: "budget-blocks-eviction",
        severity: Severity::Medium,
        description: "The PodDisruptionBudgets of a workload allow at least one eviction (not maxUnavailable 0, not minAvailable of every replica), so nodes can be drained.",
        check: Check::Object(budget_blocks_eviction),
    },
    Rule {
        id: "no-spread",
        severity: Severity::Medium,
        description: "A workload of two replicas or more has topologySpreadConstraints or pod anti-affinity, so its replicas do not share one node or zone.",
        check: Check::Object(no_spread),
    },
    Rule {
        id: "no-readiness-probe",
        severity: Severity::Medium,
        description: "Every container of a Deployment, StatefulSet or DaemonSet has a readinessProbe, so a replacement gets traffic only once it serves.",
        check: Check::Object(no_readiness_probe),
    },
    Rule {
        id: "no-resource-requests",
        severity: Severity::Medium,
        description: "Every container requests cpu and memory, so the scheduler can place the pods of a lost node on the others.",
        check: Check::Object(no_resource_requests),
    },
    Rule {
        id: "image-not-pinned",
        severity: Severity::Medium,
        description: "Every container image is pinned by digest (@sha256:), so a rebuild runs the same bits.",
        check: Check::Object(image_not_pinned),
    },
    Rule {
        id: "no-snapshot-class",
        severity: Severity::High,
        description: "The StorageClass of every PersistentVolumeClaim (and StatefulSet volumeClaimTemplate) is in the repository with a VolumeSnapshotClass of the same driver, so its data can be snapshotted and restored.",
        check: Check::Object(no_snapshot_class),
    },
    Rule {
        id: "apiserver-endpoints",
        severity: Severity::High,
        description: "Live: the `kubernetes` Service has three API server endpoints or more, so the control plane survives the loss of one.",
        check: Check::Live(
            apiserver_endpoints,
            ("Endpoints", Some("default"), "kubernetes"),
        ),
    },
    Rule {
        id: "nodes-one-zone",
        severity: Severity::High,
        description: "Live: the Nodes span two zones or more (topology.kubernetes.io/zone), so a zone loss leaves nodes to run on.",
        check: Check::Live(nodes_one_zone, ("Node", None, "*")),
    },
];

/// What the checks look up across the repository.
#[derive(Default)]
pub struct Index<'a> {
    pub(super) budgets: Vec<&'a Object>,
    pub(super) autoscalers: Vec<&'a Object>,
    /// StorageClass name → provisioner.
    pub(super) classes: BTreeMap<&'a str, &'a str>,
    pub(super) default_class: Option<&'a str>,
    /// Drivers of the VolumeSnapshotClasses.
    pub(super) snapshot_drivers: BTreeSet<&'a str>,
}

impl<'a> Index<'a> {
    pub fn new(objects: &'a [Object]) -> Index<'a> {
        let mut index = Index::default();
        let text = |o: &'a Object, p: &str| o.get(p).and_then(Value::as_str);
        for o in objects {
            match (o.id.group.as_str(), o.kind()) {
                ("policy", "PodDisruptionBudget") => index.budgets.push(o),
                ("autoscaling", "HorizontalPodAutoscaler") => index.autoscalers.push(o),
                ("storage.k8s.io", "StorageClass") => {
                    index
                        .classes
                        .insert(o.name(), text(o, "/provisioner").unwrap_or_default());
                    let default = "storageclass.kubernetes.io/is-default-class";
                    if o.annotation(default) == Some("true") {
                        index.default_class = Some(o.name());
                    }
                }
                ("snapshot.storage.k8s.io", "VolumeSnapshotClass") => {
                    if let Some(driver) = text(o, "/driver") {
                        index.snapshot_drivers.insert(driver);
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// The replicas a workload keeps at least: an autoscaler's minReplicas (default 1), else its own.
    fn replicas(&self, o: &Object) -> (i64, Option<String>) {
        let hpa = self.autoscalers.iter().find(|h| {
            h.namespace() == o.namespace()
                && h.get("/spec/scaleTargetRef/kind").and_then(Value::as_str) == Some(o.kind())
                && h.get("/spec/scaleTargetRef/name").and_then(Value::as_str) == Some(o.name())
        });
        match hpa {
            Some(h) => (
                h.get("/spec/minReplicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1),
                Some(h.id.to_string()),
            ),
            None => (
                o.get("/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
                None,
            ),
        }
    }

    /// The PodDisruptionBudgets of the workload's namespace that select its pod template.
    fn budgets_of(&self, o: &Object) -> Vec<&'a Object> {
        let empty = Map::new();
        let labels = o
            .get("/spec/template/metadata/labels")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        self.budgets
            .iter()
            .filter(|b| b.namespace() == o.namespace())
            .filter(|b| b.get("/spec/selector").is_some_and(|s| matches(s, labels)))
            .copied()
            .collect()
    }
}

/// Deployments and StatefulSets: the workloads whose replicas rekube declares.
fn replicated(o: &Object) -> bool {
    o.id.group == "apps" && matches!(o.kind(), "Deployment" | "StatefulSet")
}

/// The pod spec of any kind that runs pods.
fn pod_spec(o: &Object) -> Option<&Value> {
    let pointer = match (o.id.group.as_str(), o.kind()) {
        ("", "Pod") => "/spec",
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    };
    o.get(pointer)
}

/// `(name, container)` of the containers (and init containers, with `init`).
fn containers(spec: &Value, init: bool) -> Vec<(&str, &Value)> {
    let lists: &[&str] = if init {
        &["initContainers", "containers"]
    } else {
        &["containers"]
    };
    lists
        .iter()
        .filter_map(|l| spec.get(l).and_then(Value::as_array))
        .flatten()
        .map(|c| (c.get("name").and_then(Value::as_str).unwrap_or("?"), c))
        .collect()
}

fn single_replica(o: &Object, index: &Index) -> Option<Vec<String>> {
    if !replicated(o) {
        return None;
    }
    let (replicas, hpa) = index.replicas(o);
    Some(match (replicas, hpa) {
        (1, Some(hpa)) => vec![format!(
            "{hpa} keeps minReplicas 1: losing its node stops the workload until the pod is rescheduled"
        )],
        (1, None) => vec![
            "1 replica: losing its node stops the workload until the pod is rescheduled".into(),
        ],
        _ => vec![],
    })
}

fn no_disruption_budget(o: &Object, index: &Index) -> Option<Vec<String>> {
    if !replicated(o) || index.replicas(o).0 < 1 {
        return None;
    }
    Some(if index.budgets_of(o).is_empty() {
        vec![
            "no PodDisruptionBudget selects its pods: a node drain may evict them all at once"
                .into(),
        ]
    } else {
        vec![]
    })
}

fn budget_blocks_eviction(o: &Object, index: &Index) -> Option<Vec<String>> {
    if !replicated(o) {
        return None;
    }
    let budgets = index.budgets_of(o);
    if budgets.is_empty() {
        return None;
    }
    let replicas = index.replicas(o).0;
    Some(
        budgets
            .iter()
            .filter_map(|b| {
                let why = blocks_eviction(b.get("/spec")?, replicas)?;
                Some(format!(
                    "{} ({}) allows no eviction ({why}): draining its node never ends",
                    b.id, b.source
                ))
            })
            .collect(),
    )
}

fn no_spread(o: &Object, index: &Index) -> Option<Vec<String>> {
    if !replicated(o) || index.replicas(o).0 < 2 {
        return None;
    }
    let spec = pod_spec(o)?;
    let spread = spec
        .get("topologySpreadConstraints")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    let anti = spec.pointer("/affinity/podAntiAffinity").is_some_and(|a| {
        a.as_object().is_some_and(|m| {
            m.values()
                .any(|v| v.as_array().is_some_and(|t| !t.is_empty()))
        })
    });
    Some(if spread || anti {
        vec![]
    } else {
        vec!["no topologySpreadConstraints and no podAntiAffinity: its replicas may all run on one node or in one zone".into()]
    })
}

fn no_readiness_probe(o: &Object, _: &Index) -> Option<Vec<String>> {
    if !(replicated(o) || matches!(o.kind(), "DaemonSet" | "ReplicaSet")) {
        return None;
    }
    let spec = pod_spec(o)?;
    Some(
        containers(spec, false)
            .into_iter()
            .filter(|(_, c)| c.get("readinessProbe").is_none())
            .map(|(name, _)| {
                format!("container `{name}` has no readinessProbe: a replacement gets traffic before it can serve")
            })
            .collect(),
    )
}

fn no_resource_requests(o: &Object, _: &Index) -> Option<Vec<String>> {
    let spec = pod_spec(o)?;
    Some(
        containers(spec, true)
            .into_iter()
            .filter_map(|(name, c)| {
                let requests = c.pointer("/resources/requests");
                let missing: Vec<&str> = ["cpu", "memory"]
                    .into_iter()
                    .filter(|r| requests.and_then(|q| q.get(r)).is_none())
                    .collect();
                (!missing.is_empty()).then(|| {
                    format!(
                        "container `{name}` requests no {}: the scheduler cannot tell where its pods fit after a node loss",
                        missing.join(" and no ")
                    )
                })
            })
            .collect(),
    )
}

fn image_not_pinned(o: &Object, _: &Index) -> Option<Vec<String>> {
    let spec = pod_spec(o)?;
    Some(
        containers(spec, true)
            .into_iter()
            .filter_map(|(name, c)| {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                (!image.contains("@sha256:")).then(|| {
                    format!("container `{name}` image `{image}` is not pinned by digest: a rebuild may run other bits")
                })
            })
            .collect(),
    )
}

fn apiserver_endpoints(live: &LiveState) -> Vec<String> {
    match live.apiserver_endpoints {
        n if n >= 3 => vec![],
        0 => vec![
            "the `kubernetes` Service publishes no API server endpoint (no EndpointSlice, no Endpoints): no redundancy of the control plane can be seen".into(),
        ],
        n => vec![format!(
            "{n} API server endpoint(s): fewer than three, so {}",
            if n == 1 {
                "losing its node stops the control plane"
            } else {
                "losing one leaves no spare for the next"
            }
        )],
    }
}

fn nodes_one_zone(live: &LiveState) -> Vec<String> {
    let nodes: usize = live.nodes_by_zone.values().sum();
    let zones: Vec<&str> = live
        .nodes_by_zone
        .keys()
        .filter(|z| !z.is_empty())
        .map(String::as_str)
        .collect();
    match zones.as_slice() {
        _ if nodes == 0 => vec!["no Nodes: nothing can run".into()],
        [] => vec![format!(
            "none of the {nodes} Node(s) has topology.kubernetes.io/zone: they count as one zone, and a zone loss takes them all"
        )],
        [zone] => {
            let unlabelled = live.nodes_by_zone.get("").copied().unwrap_or(0);
            let rest = if unlabelled > 0 {
                format!(" ({unlabelled} without the label)")
            } else {
                String::new()
            };
            vec![format!(
                "the {nodes} Node(s) are in one zone, {zone}{rest}: a zone loss takes them all"
            )]
        }
        _ => vec![],
    }
}
