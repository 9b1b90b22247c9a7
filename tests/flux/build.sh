#!/usr/bin/env bash
# Builds `flux-apply` (cmd/flux-apply here) against Flux's apply engine github.com/fluxcd/pkg/ssa, pinned in
# go.mod, from the Go module proxy: the Flux peer of rekube's benchmark (examples/bench.rs).
#
# The binary lands in ${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rekube}/flux/<ssa version>-linux-amd64/
# flux-apply, beside the control plane. A binary already built from the same sources is reused at once, without Go.
# Its path is printed on the last line of stdout; progress and timings go to stderr.
# Exit codes: 0 built or up to date, 3 Go missing or too old, 1 any other failure.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$src"

die() {
  echo "flux build: $*" >&2
  exit 1
}
die_go() {
  echo "flux build: $*" >&2
  exit 3
}

version="$(awk '$1 == "github.com/fluxcd/pkg/ssa" && $2 ~ /^v/ { print $2; exit }' go.mod)"
[[ -n $version ]] || die "github.com/fluxcd/pkg/ssa is not required in $src/go.mod"
need_go="$(awk '$1 == "go" { print $2; exit }' go.mod)"

cache="${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/rekube}"
dest="$cache/flux/${version#v}-linux-amd64"

# The stamp identifies the sources: a binary built from other sources (a version bump) is rebuilt.
stamp="$(sha256sum build.sh go.mod go.sum cmd/flux-apply/*.go | sha256sum | cut -d' ' -f1)"

up_to_date() {
  [[ -f "$dest/.rekube-stamp" && "$(cat "$dest/.rekube-stamp")" == "$stamp" && -x "$dest/flux-apply" ]]
}

if up_to_date; then
  echo "$dest/flux-apply"
  exit 0
fi

# Go is needed only from here on: a cached binary runs without it.
if ! command -v go > /dev/null 2>&1; then
  die_go "Go is not installed: install Go >= $need_go (https://go.dev/doc/install, or the golang-go package" \
    "if your distribution ships >= $need_go); the benchmark builds its Flux peer with it"
fi
have_go="$(GOTOOLCHAIN=local go env GOVERSION)"
have_go="${have_go#go}"
if [[ "$(printf '%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]]; then
  die_go "Go $have_go is too old: install Go >= $need_go"
fi

mkdir -p "$(dirname "$dest")"
# One build at a time (several test binaries may start at once); the second waits, then finds it built.
if command -v flock > /dev/null 2>&1; then
  exec 9> "$dest.lock"
  flock 9
  if up_to_date; then
    echo "$dest/flux-apply"
    exit 0
  fi
  rm -rf "$dest".build.*
fi

export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

tmp="$(mktemp -d "$dest.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
echo "flux build: building flux-apply (fluxcd/pkg/ssa $version) into $dest" >&2
go build -trimpath -ldflags "-s -w" -o "$tmp/flux-apply" ./cmd/flux-apply

chmod 755 "$tmp"
echo "$stamp" > "$tmp/.rekube-stamp"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "flux build: built in $((SECONDS - started)) s" >&2
echo "$dest/flux-apply"
