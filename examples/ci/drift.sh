#!/bin/sh
# Drift check for any CI system: compares a cluster with the repository and fails on drift.
#
#   drift.sh [REPOSITORY]        (default: the current folder; a Git URL works too, with REKUBE_REF)
#
# Environment:
#   KUBECONFIG        kubeconfig of the cluster to check (required; e.g. written from a CI secret)
#   REKUBE_CONTEXT    kubeconfig context (optional)
#   REKUBE_INVENTORY  inventory the cluster was applied with (default: default)
#   REKUBE_REF        branch, tag or commit to compare with (optional)
#   REKUBE_FAIL_ON    drift classes that fail (default: all of them)
#   REKUBE_REPORT     where the JUnit report goes (default: rekube-drift.xml)
#
# Exit codes are rekube's: 0 in sync, 1 drift, 2 error. The JUnit report is written in every case,
# so the CI shows one test per object, the drifted ones failed.
set -u

repository="${1:-.}"
report="${REKUBE_REPORT:-rekube-drift.xml}"
: "${KUBECONFIG:?set KUBECONFIG to the kubeconfig of the cluster to check}"

set -- drift "$repository" --kubeconfig "$KUBECONFIG" --output junit \
    --inventory "${REKUBE_INVENTORY:-default}" \
    --fail-on "${REKUBE_FAIL_ON:-modified,missing,orphaned,unmanaged,unverifiable}"
if [ -n "${REKUBE_CONTEXT:-}" ]; then set -- "$@" --context "$REKUBE_CONTEXT"; fi
if [ -n "${REKUBE_REF:-}" ]; then set -- "$@" --ref "$REKUBE_REF"; fi

rekube "$@" > "$report"
code=$?

case "$code" in
    0) echo "rekube drift: the cluster matches the repository (report: $report)" ;;
    1) echo "rekube drift: DRIFT found, see $report; run 'rekube drift $repository' for the diffs" >&2 ;;
    *) echo "rekube drift: the check failed (exit $code); see the messages above" >&2 ;;
esac
exit "$code"
