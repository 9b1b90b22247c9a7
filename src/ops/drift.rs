//! `drift`: observe every object of Git (live + server-side dry-run), list the inventory's members and
//! scan the managed namespaces, then classify ([`crate::drift`]).

use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

use crate::cluster::Cluster;
use crate::diff::DiffOptions;
use crate::drift::across::Seen;
use crate::drift::{self, Class, DriftReport, Finding, InSync, classify};
use crate::inventory::{
    self, ApplySet, Contents, Inventory, InventoryError, LABEL_PART_OF, Listed, Member,
};
use crate::manifest::Manifest;
use crate::object::ObjectId;

/// Options of [`drift`].
#[derive(Debug, Clone)]
pub struct DriftOptions {
    /// Inventory name (`--inventory`).
    pub inventory: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Classes that fail the check.
    pub fail_on: BTreeSet<Class>,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            inventory: "default".into(),
            concurrency: 32,
            fail_on: Class::ALL.into(),
        }
    }
}

/// Compares the cluster with the manifest.
///
/// # Errors
/// The inventory name is invalid, its parent belongs to another tool, or its members cannot be listed.
/// Objects that cannot be verified and kinds that cannot be scanned are parts of the report.
pub async fn drift(
    cluster: &Cluster,
    manifest: &Manifest,
    opts: &DriftOptions,
) -> Result<DriftReport, InventoryError> {
    Ok(run(cluster, manifest, opts, false).await?.0)
}

/// [`drift`], and each object of Git as the cluster holds it (its ignored fields left out), for
/// comparing clusters with each other ([`crate::drift::across`]).
///
/// # Errors
/// As [`drift`].
pub async fn drift_seen(
    cluster: &Cluster,
    manifest: &Manifest,
    opts: &DriftOptions,
) -> Result<(DriftReport, Vec<Seen>), InventoryError> {
    run(cluster, manifest, opts, true).await
}

async fn run(
    cluster: &Cluster,
    manifest: &Manifest,
    opts: &DriftOptions,
    keep: bool,
) -> Result<(DriftReport, Vec<Seen>), InventoryError> {
    let started = Instant::now();
    let set = ApplySet::new(&opts.inventory)?;
    let (in_sync, mut findings, seen) =
        observe(cluster, manifest, &set, opts.concurrency, keep).await;
    let inventory = Inventory::load(cluster, set).await?;
    let current = Contents::of_objects(&manifest.objects);
    let mut members = inventory.members(cluster, &current).await?;
    let desired_ids: BTreeSet<ObjectId> = manifest.objects.iter().map(|o| o.id.clone()).collect();

    let namespaces = classify::managed_namespaces(&manifest.objects, &inventory.contents());
    let (scanned, warnings) = scan(cluster, &namespaces, opts.concurrency).await;
    // A member of a kind the parent does not record is still a member: the scan finds it.
    let set_id = inventory.set.id();
    let known: HashSet<ObjectId> = members.iter().map(|m| m.id.clone()).collect();
    members.extend(
        scanned
            .iter()
            .filter(|l| part_of(l) == Some(set_id.as_str()) && !known.contains(&l.id))
            .map(member),
    );
    findings.extend(classify::orphans(&members, &desired_ids));
    // Hooks left in the cluster (by their delete policy) are runs of the repository's charts, not drift.
    let accounted: BTreeSet<ObjectId> = desired_ids
        .iter()
        .cloned()
        .chain(
            manifest
                .releases
                .iter()
                .flat_map(|r| r.hooks.iter().map(|h| h.object.id.clone())),
        )
        .collect();
    findings.extend(classify::unmanaged(&scanned, &accounted));
    findings.sort_by(|a, b| (a.class, &a.id).cmp(&(b.class, &b.id)));
    let report = DriftReport {
        origin: manifest.revision.origin.clone(),
        revision: manifest.revision.commit.clone(),
        dirty: manifest.revision.dirty,
        server: cluster.server().to_string(),
        inventory: inventory.set.name().to_string(),
        checked: manifest.objects.len(),
        in_sync,
        findings,
        fail_on: opts.fail_on.clone(),
        warnings,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    };
    Ok((report, seen))
}

/// Every object of Git, observed with the labels an apply would add, classified; with `keep`, also as
/// the cluster holds it.
async fn observe(
    cluster: &Cluster,
    manifest: &Manifest,
    set: &ApplySet,
    concurrency: usize,
    keep: bool,
) -> (Vec<InSync>, Vec<Finding>, Vec<Seen>) {
    let labels = set.member_labels();
    let observations =
        super::observe::observe_manifest(cluster, manifest, &labels, concurrency, keep).await;
    let mut in_sync = Vec::new();
    let mut findings = Vec::new();
    let mut seen = Vec::new();
    // Secret values are never shown in drift reports, whatever the flags.
    let diff_opts = DiffOptions::default();
    for (obj, obs) in manifest.objects.iter().zip(&observations) {
        if keep {
            let ignored = manifest.rules.ignore.for_object(&obj.id, &obj.body);
            seen.push(Seen {
                id: obj.id.clone(),
                desired: obj.body.clone(),
                live: ignored.strip_pair(obs.live.as_ref(), None).0,
            });
        }
        match drift::classify::desired(obj, obs, &diff_opts) {
            Some(f) => findings.push(f),
            None => in_sync.push(InSync {
                id: obj.id.clone(),
                source: obj.source.to_string(),
            }),
        }
    }
    (in_sync, findings, seen)
}

/// Lists every listable namespaced kind in each managed namespace (metadata only). Kinds that cannot be
/// listed become warnings.
async fn scan(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    concurrency: usize,
) -> (Vec<Listed>, Vec<String>) {
    if namespaces.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut kinds: Vec<_> = inventory::served_kinds(cluster)
        .await
        .into_iter()
        .filter(|(gk, r)| r.namespaced && !drift::is_generated_kind(&gk.group, &gk.kind))
        .collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    let targets: Vec<_> = kinds
        .iter()
        .flat_map(|(_, r)| {
            namespaces
                .iter()
                .map(move |ns| (r.clone(), Some(ns.clone())))
        })
        .collect();
    let mut listed = Vec::new();
    let mut warnings = Vec::new();
    for result in inventory::list_many(cluster, targets, concurrency).await {
        match result {
            Ok(items) => listed.extend(items),
            Err(e) => warnings.push(format!(
                "{}: not scanned for unmanaged objects",
                crate::error::render(&e)
            )),
        }
    }
    (listed, warnings)
}

fn part_of(l: &Listed) -> Option<&str> {
    l.meta
        .labels
        .as_ref()?
        .get(LABEL_PART_OF)
        .map(String::as_str)
}

fn member(l: &Listed) -> Member {
    Member {
        id: l.id.clone(),
        api_version: l.api_version.clone(),
        uid: l.meta.uid.clone(),
        annotations: l.meta.annotations.clone().unwrap_or_default(),
    }
}
