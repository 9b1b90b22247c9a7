#!/usr/bin/env bash
# Builds an OCI registry (github.com/distribution/distribution/v3's cmd/registry, pinned in go.mod) for
# the tests of oci:// charts: rekube itself never runs it. From the Go module proxy, into
#   ${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rekube}/oci-registry/<version>-linux-<arch>/registry
# A binary built from the same sources is reused at once. Its path is the last line of stdout.
# Exit codes: 0 built or up to date, 3 Go missing or too old, 1 any other failure.
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$src"

version="$(awk '$1 == "github.com/distribution/distribution/v3" && $2 ~ /^v/ { print $2; exit }' go.mod)"
[[ -n $version ]] || { echo "oci-registry build: distribution/v3 is not required in go.mod" >&2; exit 1; }
need_go="$(awk '$1 == "go" { print $2; exit }' go.mod)"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "oci-registry build: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
cache="${REKUBE_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/rekube}"
dest="$cache/oci-registry/${version#v}-linux-$arch"
stamp="$(sha256sum build.sh go.mod go.sum | sha256sum | cut -d' ' -f1)"
up_to_date() {
  [[ -f "$dest/.rekube-stamp" && "$(cat "$dest/.rekube-stamp")" == "$stamp" && -x "$dest/registry" ]]
}
if up_to_date; then
  echo "$dest/registry"
  exit 0
fi
if ! command -v go > /dev/null 2>&1; then
  echo "oci-registry build: Go is not installed: install Go >= $need_go" >&2
  exit 3
fi
have_go="$(GOTOOLCHAIN=local go env GOVERSION)"
have_go="${have_go#go}"
if [[ "$(printf '%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]]; then
  echo "oci-registry build: Go $have_go is too old: install Go >= $need_go" >&2
  exit 3
fi
mkdir -p "$(dirname "$dest")"
if command -v flock > /dev/null 2>&1; then
  exec 9> "$dest.lock"
  flock 9
  if up_to_date; then
    echo "$dest/registry"
    exit 0
  fi
  rm -rf "$dest".build.*
fi
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
tmp="$(mktemp -d "$dest.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
echo "oci-registry build: building distribution $version into $dest" >&2
go build -trimpath -ldflags "-s -w" -o "$tmp/registry" github.com/distribution/distribution/v3/cmd/registry
chmod 755 "$tmp"
echo "$stamp" > "$tmp/.rekube-stamp"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "oci-registry build: built in $((SECONDS - started)) s" >&2
echo "$dest/registry"
