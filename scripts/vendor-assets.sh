#!/usr/bin/env bash
# Vendor the front-end libraries the pages use into dangjian/static/vendor/.
#
# The product never needs npm or a CDN at run time: the files this script writes are
# committed. Run it (`make assets`) only to refresh them after changing a pin below.
# Each package is fetched from the npm registry with `npm pack`, its tarball checked against
# the sha512 integrity pinned here, and only the listed files copied out. Idempotent: running
# it again rewrites the same bytes. Any mismatch stops it before a file is touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/dangjian/static/vendor"

# name  version  integrity (npm view NAME@VERSION dist.integrity)
HTMX_VERSION="2.0.7"
HTMX_INTEGRITY="sha512-YiJqF3U5KyO28VC5mPfehKJPF+n1Gni+cupK+D69TF0nm7wY6AXn3a4mPWIikfAXtl1u1F1+ZhSCS7KT8pVmqA=="
ECHARTS_VERSION="5.6.0"
ECHARTS_INTEGRITY="sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA=="

die() { echo "vendor-assets: $*" >&2; exit 1; }

command -v npm >/dev/null || die "npm is required to refresh vendored assets"
command -v openssl >/dev/null || command -v python3 >/dev/null \
    || die "openssl or python3 is required to check integrity"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

sha512_b64() {
    if command -v openssl >/dev/null; then
        openssl dgst -sha512 -binary "$1" | base64 -w0
    else
        python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode(), end="")' "$1"
    fi
}

# vendor PACKAGE VERSION INTEGRITY DEST SRC:NAME...
vendor() {
    local pkg="$1" version="$2" integrity="$3" dest="$4"
    shift 4
    local dir="$WORK/$pkg"
    mkdir -p "$dir"
    echo "vendor-assets: fetching $pkg@$version"
    (cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null 2>"$dir/npm.log") \
        || { cat "$dir/npm.log" >&2; die "npm pack $pkg@$version failed"; }
    local tarballs=("$dir"/*.tgz)
    [ "${#tarballs[@]}" -eq 1 ] && [ -f "${tarballs[0]}" ] || die "no tarball for $pkg@$version"
    local tarball="${tarballs[0]}"

    local actual="sha512-$(sha512_b64 "$tarball")"
    if [ "$actual" != "$integrity" ]; then
        die "INTEGRITY MISMATCH for $pkg@$version
  expected $integrity
  got      $actual"
    fi
    echo "vendor-assets: $pkg@$version integrity OK"

    tar -xzf "$tarball" -C "$dir"
    # Check every file exists before writing any of them.
    local spec src
    for spec in "$@"; do
        src="${spec%%:*}"
        [ -f "$dir/package/$src" ] || die "$pkg@$version has no $src"
    done
    mkdir -p "$dest"
    for spec in "$@"; do
        src="${spec%%:*}"
        install -m 0644 "$dir/package/$src" "$dest/${spec##*:}"
    done
    printf '%s@%s\n%s\n' "$pkg" "$version" "$integrity" >"$dest/VERSION"
}

vendor htmx.org "$HTMX_VERSION" "$HTMX_INTEGRITY" "$VENDOR/htmx" \
    dist/htmx.min.js:htmx.min.js LICENSE:LICENSE
vendor echarts "$ECHARTS_VERSION" "$ECHARTS_INTEGRITY" "$VENDOR/echarts" \
    dist/echarts.min.js:echarts.min.js LICENSE:LICENSE NOTICE:NOTICE \
    licenses/LICENSE-d3:LICENSE-d3

echo "vendor-assets: done"
ls -l "$VENDOR"/*/
