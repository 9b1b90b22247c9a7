//! Objects that Kubernetes, its controllers and other tools create without ownerReferences: found in a
//! managed namespace, they are neither in Git nor owned by anything, yet nobody should declare them, so
//! they are never **unmanaged** drift. One table, one entry per rule, each saying who makes the objects.

use std::collections::{BTreeSet, HashSet};

use crate::inventory::Listed;
use crate::object::ObjectId;

/// Which objects of a kind a rule covers.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    /// Every object of the kind: such kinds are not even listed by the scan.
    Every,
    /// The object with this name.
    Named(&'static str),
    /// Objects carrying this annotation.
    Annotated(&'static str),
    /// Objects whose name starts with the prefix and that carry the label (key, value).
    PrefixLabelled(&'static str, (&'static str, &'static str)),
    /// `<template>-<statefulset>-<ordinal>`: the claims a StatefulSet of the same namespace makes from
    /// its volumeClaimTemplates (they are owned by it only under a `Delete` retention policy).
    StatefulSetClaim,
}

/// One rule: objects of (group, kind) that `which` covers are made by `by`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub group: &'static str,
    pub kind: &'static str,
    pub which: Which,
    pub by: &'static str,
}

const fn rule(group: &'static str, kind: &'static str, which: Which, by: &'static str) -> Rule {
    Rule {
        group,
        kind,
        which,
        by,
    }
}

const HELM_RELEASE: Which = Which::PrefixLabelled("sh.helm.release.v1.", ("owner", "helm"));

/// The table: (group, kind, which objects, made by whom).
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    rule("", "Event", Which::Every, "every component, recording what happened"),
    rule("events.k8s.io", "Event", Which::Every, "every component, recording what happened"),
    rule("", "Endpoints", Which::Every, "the endpoints controller, for each Service"),
    rule("discovery.k8s.io", "EndpointSlice", Which::Every, "the EndpointSlice controller"),
    rule("coordination.k8s.io", "Lease", Which::Every, "leader election and node heartbeats"),
    rule("apps", "ControllerRevision", Which::Every, "StatefulSet and DaemonSet controllers"),
    rule("", "ConfigMap", Which::Named("kube-root-ca.crt"), "the root CA publisher"),
    rule("", "ServiceAccount", Which::Named("default"), "the ServiceAccount controller"),
    rule("", "Secret", Which::Annotated("kubernetes.io/service-account.name"), "the token controller"),
    rule("", "Secret", HELM_RELEASE, "Helm, as the record of a release"),
    rule("", "ConfigMap", HELM_RELEASE, "Helm's configmap driver, as the record of a release"),
    rule("", "PersistentVolumeClaim", Which::StatefulSetClaim, "the StatefulSet controller"),
];

/// True when every object of the kind is made by Kubernetes (the scan does not list it).
pub fn is_generated_kind(group: &str, kind: &str) -> bool {
    RULES
        .iter()
        .any(|r| r.group == group && r.kind == kind && matches!(r.which, Which::Every))
}

/// What the rules need to know beyond one object: the StatefulSets of each namespace, from Git and
/// from the cluster.
#[derive(Debug, Default)]
pub struct Context {
    statefulsets: HashSet<(String, String)>,
}

impl Context {
    pub fn new(listed: &[Listed], desired: &BTreeSet<ObjectId>) -> Context {
        let statefulsets = listed
            .iter()
            .map(|l| &l.id)
            .chain(desired)
            .filter(|id| id.group == "apps" && id.kind == "StatefulSet")
            .filter_map(|id| Some((id.namespace.clone()?, id.name.clone())))
            .collect();
        Context { statefulsets }
    }
}

/// The rule that covers `l`, if any.
pub fn generated_by(l: &Listed, ctx: &Context) -> Option<&'static Rule> {
    RULES
        .iter()
        .filter(|r| r.group == l.id.group && r.kind == l.id.kind)
        .find(|r| covers(r.which, l, ctx))
}

fn covers(which: Which, l: &Listed, ctx: &Context) -> bool {
    let meta = &l.meta;
    match which {
        Which::Every => true,
        Which::Named(name) => l.id.name == name,
        Which::Annotated(key) => meta
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(key)),
        Which::PrefixLabelled(prefix, (key, value)) => {
            l.id.name.starts_with(prefix)
                && meta
                    .labels
                    .as_ref()
                    .is_some_and(|m| m.get(key).map(String::as_str) == Some(value))
        }
        Which::StatefulSetClaim => {
            l.id.namespace
                .as_ref()
                .is_some_and(|ns| is_claim_of_statefulset(&l.id.name, ns, ctx))
        }
    }
}

/// `<template>-<set>-<ordinal>` with a non-empty template name and a StatefulSet `<set>` in `ns`.
/// Template and set names may hold dashes, so every split is tried.
fn is_claim_of_statefulset(name: &str, ns: &str, ctx: &Context) -> bool {
    let Some((rest, ordinal)) = name.rsplit_once('-') else {
        return false;
    };
    if ordinal.is_empty() || !ordinal.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    rest.match_indices('-').any(|(i, _)| {
        i > 0
            && ctx
                .statefulsets
                .contains(&(ns.to_string(), rest[i + 1..].to_string()))
    })
}
