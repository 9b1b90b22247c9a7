#!/usr/bin/env bash
# Builds rekube's local control plane from upstream Go modules: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler (k8s.io/kubernetes, pinned in go.mod) and kwok (kwok/go.mod).
#
# The binaries land in the KUBEBUILDER_ASSETS layout, one folder per Kubernetes version:
#   ${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rekube}/control-plane/k8s/<version>-linux-<arch>/
# Beside them, kwok-stages.yaml: kwok's default node and pod lifecycles (the ones kwokctl uses), taken
# from the pinned kwok module. A folder already built from the same sources is reused at once, without
# Go. The folder is printed on the last line of stdout; progress and timings go to stderr.
# Exit codes: 0 built or up to date, 3 Go missing or too old, 1 any other failure.
#
# Why from source: no prebuilt release binaries can be downloaded here, but the Go module proxy works.
# The Go build cache (GOCACHE) makes a rebuild after a small change much faster than a cold one.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$src"

die() {
  echo "control-plane build: $*" >&2
  exit 1
}
die_go() {
  echo "control-plane build: $*" >&2
  exit 3
}

# Version of a module as required by a go.mod (first match, `require` lines only).
required_version() {
  awk -v m="$2" '$1 == "require" && $2 == m { print $3; exit } $1 == m && $2 ~ /^v/ { print $2; exit }' "$1"
}
# The `go` directive of a go.mod.
go_directive() {
  awk '$1 == "go" { print $2; exit }' "$1"
}

k8s_version="$(required_version go.mod k8s.io/kubernetes)"
[[ -n $k8s_version ]] || die "k8s.io/kubernetes is not required in $src/go.mod"
kwok_version="$(required_version kwok/go.mod sigs.k8s.io/kwok)"
[[ -n $kwok_version ]] || die "sigs.k8s.io/kwok is not required in $src/kwok/go.mod"

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported machine architecture $(uname -m) (amd64 and arm64 are supported)" ;;
esac
[[ "$(uname -s)" == Linux ]] || die "the local control plane runs on Linux only"

cache="${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/rekube}"
dest="$cache/control-plane/k8s/${k8s_version#v}-linux-$arch"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

# The stamp identifies the sources: a folder built from other sources (say, a kwok bump) is rebuilt.
stamp="$(sha256sum build.sh go.mod go.sum kwok/go.mod kwok/go.sum cmd/*/main.go kwok/main.go |
  sha256sum | cut -d' ' -f1)"

up_to_date() {
  [[ -f "$dest/.rekube-stamp" && "$(cat "$dest/.rekube-stamp")" == "$stamp" ]] || return 1
  local b
  for b in "${binaries[@]}"; do
    [[ -x "$dest/$b" ]] || return 1
  done
  [[ -f "$dest/kwok-stages.yaml" ]]
}

if up_to_date; then
  echo "$dest"
  exit 0
fi

# Go is needed only from here on: cached binaries run without it.
need_go="$(printf '%s\n' "$(go_directive go.mod)" "$(go_directive kwok/go.mod)" | sort -V | tail -n1)"
if ! command -v go > /dev/null 2>&1; then
  die_go "Go is not installed: install Go >= $need_go (https://go.dev/doc/install, or the golang-go package" \
    "if your distribution ships >= $need_go), or set KUBEBUILDER_ASSETS to a folder holding etcd and kube-apiserver"
fi
have_go="$(GOTOOLCHAIN=local go env GOVERSION)"
have_go="${have_go#go}"
if [[ "$(printf '%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]]; then
  die_go "Go $have_go is too old: install Go >= $need_go"
fi

mkdir -p "$(dirname "$dest")"
# One build at a time per folder (several test binaries may start at once); the second waits, then
# finds the folder up to date.
if command -v flock > /dev/null 2>&1; then
  exec 9> "$dest.lock"
  flock 9
  if up_to_date; then
    echo "$dest"
    exit 0
  fi
  # Left by a build that was killed (nobody else builds while we hold the lock).
  rm -rf "$dest".build.*
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH="$arch"
export GOFLAGS="-mod=readonly -buildvcs=false"

# The version stamps upstream's hack/lib/version.sh sets, so `kubectl version` reports the real
# server version. The build date is the release's commit time, which keeps the build reproducible.
major="${k8s_version#v}"
major="${major%%.*}"
minor="${k8s_version#v*.}"
minor="${minor%%.*}"
build_date="$(go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
ldflags=(-s -w)
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=(
    "-X $pkg.gitVersion=$k8s_version"
    "-X $pkg.gitMajor=$major"
    "-X $pkg.gitMinor=$minor"
    "-X $pkg.gitTreeState=clean"
    "-X $pkg.buildDate=${build_date:-1970-01-01T00:00:00Z}"
  )
done

tmp="$(mktemp -d "$dest.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
echo "control-plane build: building Kubernetes $k8s_version and kwok $kwok_version into $dest" \
  "(a cold build takes a while)" >&2

# One `go build` for the four Kubernetes binaries, so shared packages compile once.
go build -trimpath -ldflags "${ldflags[*]}" -o "$tmp/" \
  ./cmd/etcd ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler
(cd kwok && go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}" -o "$tmp/kwok" .)

# kwok runs no lifecycle without Stage objects; these are its defaults: fast node start with leases,
# pods Ready at once, Job pods completing, deleted pods going away.
kwok_src="$(cd kwok && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
  pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  echo "---"
  cat "$kwok_src/kustomize/stage/$stage.yaml"
done > "$tmp/kwok-stages.yaml"

chmod 755 "$tmp"
echo "$stamp" > "$tmp/.rekube-stamp"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "control-plane build: built in $((SECONDS - started)) s" >&2
echo "$dest"
