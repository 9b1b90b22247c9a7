#!/usr/bin/env bash
# Builds the Helm that rekube renders charts with: helm.sh/helm/v4's cmd/helm at the version pinned in
# go.mod (the `tool` directive), from the Go module proxy, with the version stamps upstream's Makefile
# sets so that `helm version` prints the full version. Beside it, the Kustomize pinned in
# kustomize/go.mod, for kustomizations with `helmCharts:` (Kustomize >= 5.8 drives Helm v4).
#
# The binaries land in
#   ${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rekube}/helm/<version>-linux-<arch>/{helm,kustomize}
# Binaries already built from the same sources are reused at once, without Go. Helm's path is printed
# on the last line of stdout; progress and timings go to stderr.
# Exit codes: 0 built or up to date, 3 Go missing or too old, 1 any other failure.
#
# Why from source: no prebuilt release binaries can be downloaded here, but the Go module proxy works.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$src"

die() {
  echo "helm build: $*" >&2
  exit 1
}
die_go() {
  echo "helm build: $*" >&2
  exit 3
}

helm_version="$(awk '$1 == "helm.sh/helm/v4" && $2 ~ /^v/ { print $2; exit }' go.mod)"
[[ -n $helm_version ]] || die "helm.sh/helm/v4 is not required in $src/go.mod"
kustomize_version="$(awk '$1 == "sigs.k8s.io/kustomize/kustomize/v5" && $2 ~ /^v/ { print $2; exit }' kustomize/go.mod)"
[[ -n $kustomize_version ]] || die "sigs.k8s.io/kustomize/kustomize/v5 is not required in $src/kustomize/go.mod"
need_go="$(printf '%s\n' "$(awk '$1 == "go" { print $2; exit }' go.mod)" \
  "$(awk '$1 == "go" { print $2; exit }' kustomize/go.mod)" | sort -V | tail -n1)"

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine architecture $(uname -m) (amd64 and arm64 are supported)" ;;
esac
os="$(uname -s | tr '[:upper:]' '[:lower:]')"

cache="${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/rekube}"
dest="$cache/helm/${helm_version#v}-$os-$arch"

# The stamp identifies the sources: a binary built from other sources (a version bump) is rebuilt.
stamp="$(sha256sum build.sh go.mod go.sum kustomize/go.mod kustomize/go.sum | sha256sum | cut -d' ' -f1)"

up_to_date() {
  [[ -f "$dest/.rekube-stamp" && "$(cat "$dest/.rekube-stamp")" == "$stamp" && -x "$dest/helm" &&
    -x "$dest/kustomize" ]]
}

if up_to_date; then
  echo "$dest/helm"
  exit 0
fi

# Go is needed only from here on: a cached binary runs without it.
if ! command -v go > /dev/null 2>&1; then
  die_go "Go is not installed: install Go >= $need_go (https://go.dev/doc/install), or set REKUBE_HELM" \
    "to a Helm v4 binary"
fi
have_go="$(GOTOOLCHAIN=local go env GOVERSION)"
have_go="${have_go#go}"
if [[ "$(printf '%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]]; then
  die_go "Go $have_go is too old to build Helm $helm_version: install Go >= $need_go, or set REKUBE_HELM" \
    "to a Helm v4 binary"
fi

mkdir -p "$(dirname "$dest")"
# One build at a time (several rekube processes or test binaries may start at once); the second
# waits, then finds the binary up to date.
if command -v flock > /dev/null 2>&1; then
  exec 9> "$dest.lock"
  flock 9
  if up_to_date; then
    echo "$dest/helm"
    exit 0
  fi
  rm -rf "$dest".build.*
fi

export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

pkg=helm.sh/helm/v4/internal/version
ldflags="-s -w -X $pkg.version=$helm_version -X $pkg.gitTreeState=clean"

tmp="$(mktemp -d "$dest.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
echo "helm build: building Helm $helm_version and Kustomize $kustomize_version into $dest" \
  "(a cold build takes a few minutes)" >&2
go build -trimpath -ldflags "$ldflags" -o "$tmp/helm" helm.sh/helm/v4/cmd/helm
(cd kustomize && go build -trimpath -ldflags "-s -w" -o "$tmp/kustomize" sigs.k8s.io/kustomize/kustomize/v5)

chmod 755 "$tmp"
echo "$stamp" > "$tmp/.rekube-stamp"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "helm build: built in $((SECONDS - started)) s" >&2
echo "$dest/helm"
