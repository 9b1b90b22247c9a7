#!/bin/sh
# Drift check for any CI system: compares a cluster with the repository and fails on drift.
#
#   drift.sh [REPOSITORY]        (default: the current folder; a Git URL works too, with REKUBE_REF)
#
# Environment:
#   KUBECONFIG        kubeconfig of the cluster to check (required without REKUBE_CLUSTERS; e.g.
#                     written from a CI secret); with REKUBE_CLUSTERS, for the clusters that name no
#                     kubeconfig of their own
#   REKUBE_CLUSTERS   clusters of rekube.yaml's `clusters:` to check, comma-separated, or `all`: each one
#                     against Git, and those of one role against each other (active/active)
#   REKUBE_CONTEXT    kubeconfig context (optional; not with REKUBE_CLUSTERS: each has its own)
#   REKUBE_INVENTORY  inventory the cluster was applied with (default: default)
#   REKUBE_REF        branch, tag or commit to compare with (optional)
#   REKUBE_FAIL_ON    drift classes that fail (default: all of them)
#   REKUBE_REPORT     where the JUnit report goes (default: rekube-drift.xml)
#
# Exit codes are rekube's: 0 in sync, 1 drift (or clusters of one role that differ), 2 error. The JUnit report is written in every case,
# so the CI shows one test per object, the drifted ones failed.
set -u

repository="${1:-.}"
report="${REKUBE_REPORT:-rekube-drift.xml}"
clusters="${REKUBE_CLUSTERS:-}"
if [ -z "$clusters" ]; then
    : "${KUBECONFIG:?set KUBECONFIG to the kubeconfig of the cluster to check}"
fi

set -- drift "$repository" --output junit \
    --inventory "${REKUBE_INVENTORY:-default}" \
    --fail-on "${REKUBE_FAIL_ON:-modified,missing,orphaned,unmanaged,unverifiable}"
if [ -n "${KUBECONFIG:-}" ]; then set -- "$@" --kubeconfig "$KUBECONFIG"; fi
if [ -n "${REKUBE_CONTEXT:-}" ]; then set -- "$@" --context "$REKUBE_CONTEXT"; fi
case "$clusters" in
    "") ;;
    all) set -- "$@" --all-clusters ;;
    *)
        old_ifs=$IFS
        IFS=,
        for name in $clusters; do set -- "$@" --cluster "$name"; done
        IFS=$old_ifs
        ;;
esac
if [ -n "${REKUBE_REF:-}" ]; then set -- "$@" --ref "$REKUBE_REF"; fi

rekube "$@" > "$report"
code=$?

case "$code" in
    0) echo "rekube drift: the cluster matches the repository (report: $report)" ;;
    1) echo "rekube drift: DRIFT found (or clusters that differ), see $report; run 'rekube drift $repository' for the diffs" >&2 ;;
    *) echo "rekube drift: the check failed (exit $code); see the messages above" >&2 ;;
esac
exit "$code"
