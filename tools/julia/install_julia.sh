#!/usr/bin/env bash
# Install a private Julia 1.5.3 (Debian bullseye's packages) into build/julia when no `julia` is on
# PATH. Debian bookworm and PyPI carry no Julia; bullseye's julia 1.5.3 runs on bookworm when it is
# unpacked together with bullseye's libunwind8 1.3.2 (bookworm's libunwind 1.6 makes every thrown
# Julia exception segfault). Nothing is installed into the system: the packages are fetched with
# `apt-get download` from a temporary sources list (the host's own Debian mirror, suite bullseye),
# unpacked with `dpkg-deb -x`, and a wrapper build/julia/bin/julia sets LD_LIBRARY_PATH.
#
# Usage: tools/julia/install_julia.sh [--force]     (JULIA_DIR=... overrides the target folder)
# Prints the julia executable to use on its last line; exits non-zero, saying why, on failure.
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${JULIA_DIR:-$ROOT/build/julia}"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

say() { echo "install_julia: $*" >&2; }
die() { say "FAILED: $*"; say "Julia is not available; the Julia tests cannot run (the no-Julia checks still do)."; exit 1; }

if [ "$FORCE" = 0 ] && command -v julia >/dev/null 2>&1; then
  say "julia already on PATH: $(command -v julia)"
  command -v julia
  exit 0
fi
# The wrapper bin/julia, and an empty package registry in a second, read-only depot: Julia 1.5's
# Pkg clones the General registry (network) whenever a depot has none, even with
# JULIA_PKG_OFFLINE=true, so without it `Pkg.develop(path="julia")` fails offline in a fresh depot.
# MX depends on standard libraries only, so an empty registry is all its resolution needs.
write_wrapper() {
  mkdir -p "$DEST/bin" "$DEST/offline-depot/registries/MXOffline"
  cat > "$DEST/offline-depot/registries/MXOffline/Registry.toml" <<'REG'
name = "MXOffline"
uuid = "7c9b4b8e-2f2a-4d61-9c55-3a3e6c1f0d21"
repo = ""
description = "Empty registry (tools/julia/install_julia.sh): Pkg resolves stdlib-only packages offline."

[packages]
REG
  cat > "$DEST/bin/julia" <<WRAP
#!/bin/sh
# Private Julia 1.5.3 from Debian bullseye (tools/julia/install_julia.sh). The bundled
# libunwind 1.3.2 must come before the host's; offline-depot holds an empty registry.
HERE="\$(cd "\$(dirname "\$0")/.." && pwd)"
LIB="\$HERE/root/usr/lib/x86_64-linux-gnu"
export LD_LIBRARY_PATH="\$LIB:\$LIB/julia\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export JULIA_DEPOT_PATH="\${JULIA_DEPOT_PATH:-\$HERE/depot}:\$HERE/offline-depot"
exec "\$HERE/root/usr/bin/julia" "\$@"
WRAP
  chmod +x "$DEST/bin/julia"
}

if [ "$FORCE" = 0 ] && [ -x "$DEST/bin/julia" ] && "$DEST/bin/julia" --startup-file=no -e 'exit(0)' >/dev/null 2>&1; then
  grep -q offline-depot "$DEST/bin/julia" || write_wrapper   # trees installed before it existed
  say "using the existing private Julia in $DEST"
  echo "$DEST/bin/julia"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (this script needs a Debian-based system)"
done
[ "$(dpkg --print-architecture 2>/dev/null)" = "amd64" ] || die "only amd64 is supported (got $(dpkg --print-architecture 2>/dev/null))"

# The Debian mirror URI from the system's own configuration (deb822 or one-line format); never a
# hard-coded host name. Security and third-party entries are skipped.
find_uri() {
  local f uri=""
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri="$(awk '
      BEGIN { RS=""; FS="\n" }
      {
        u=""; s=""; t=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { u=$i; sub(/^URIs:[ \t]*/, "", u) }
          if ($i ~ /^Suites:/) { s=$i }
          if ($i ~ /^Types:/)  { t=$i }
        }
        if (t ~ /deb([ \t]|$)/ && u != "" && u !~ /security/ && s !~ /security/) { split(u, a, /[ \t]+/); print a[1]; exit }
      }' "$f")"
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri="$(awk '$1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($i !~ /security/ && ($i ~ /debian/)) { print $i; exit } }' "$f")"
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  return 1
}
URI="$(find_uri)" || die "no Debian source entry found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources"
say "Debian mirror from the system's sources: $URI"

KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || die "$KEYRING missing (package debian-archive-keyring)"

TMP="$(mktemp -d)" || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/lists/partial" "$TMP/cache/archives/partial" "$TMP/debs" "$TMP/etc/preferences.d"
chmod -R a+rwx "$TMP" # apt's download sandbox user (_apt) writes into lists/partial
echo "deb [signed-by=$KEYRING] $URI bullseye main" > "$TMP/sources.list"

APT_OPTS=(
  -o "Dir::Etc::sourcelist=$TMP/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::Etc::preferencesparts=$TMP/etc/preferences.d"
  -o "Dir::State::Lists=$TMP/lists"
  -o "Dir::Cache=$TMP/cache"
  -o "Dir::Cache::pkgcache=$TMP/cache/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$TMP/cache/srcpkgcache.bin"
  -o "APT::Get::List-Cleanup=0"
  -o "Debug::NoLocking=1"
  -o "Acquire::Languages=none"
)
[ "$(id -u)" = 0 ] || APT_OPTS+=(-o "APT::Sandbox::User=$(id -un)")

say "apt-get update (temporary list: bullseye main only)"
apt-get "${APT_OPTS[@]}" update >"$TMP/update.log" 2>&1 || { cat "$TMP/update.log" >&2; die "apt-get update for bullseye failed"; }

PKGS=(julia libjulia1 julia-common libllvm9 libgit2-1.1 libmbedtls12 libmbedcrypto3 libmbedx509-0
      libdsfmt-19937-1 libopenlibm3 libutf8proc2 libffi7 libunwind8=1.3.2-2)
say "apt-get download ${PKGS[*]}"
( cd "$TMP/debs" && apt-get "${APT_OPTS[@]}" download "${PKGS[@]}" ) >"$TMP/download.log" 2>&1 \
  || { cat "$TMP/download.log" >&2; die "apt-get download failed"; }

rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp/root" || die "cannot create $DEST.tmp"
for deb in "$TMP"/debs/*.deb; do
  dpkg-deb -x "$deb" "$DEST.tmp/root" || die "dpkg-deb -x $deb failed"
done

R="$DEST.tmp/root"
LIBDIR="$R/usr/lib/x86_64-linux-gnu"
[ -x "$R/usr/bin/julia" ] || die "the julia package did not contain usr/bin/julia"

# Julia's private folder (usr/lib/x86_64-linux-gnu/julia) holds symlinks to system libraries
# (openblas, gmp, mpfr, pcre2, libgit2, ...). Those the unpacked packages provide resolve inside
# the tree; the rest are pointed at the host's copies (same file name, else same soname prefix).
HOST_DIRS=(/usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/lib /lib /usr/lib/x86_64-linux-gnu/openblas-pthread)
find_host_lib() {
  local name="$1" d c base
  for d in "${HOST_DIRS[@]}"; do [ -e "$d/$name" ] && { echo "$d/$name"; return 0; }; done
  base="${name%%.so*}.so"
  for d in "${HOST_DIRS[@]}"; do
    for c in "$d/$base".*; do [ -e "$c" ] && { echo "$c"; return 0; }; done
  done
  return 1
}
missing=()
while IFS= read -r link; do
  [ -e "$link" ] && continue                       # resolves inside the tree
  target="$(readlink "$link")"
  host="$(find_host_lib "$(basename "$target")")" || host="$(find_host_lib "$(basename "$link")")" || { missing+=("$(basename "$link") -> $target"); continue; }
  ln -sfn "$host" "$link"
done < <(find "$LIBDIR" -type l)
[ "${#missing[@]}" = 0 ] || say "warning: no host library for: ${missing[*]} (julia may still run without them)"

rm -rf "$DEST"
mv "$DEST.tmp" "$DEST" || die "cannot move the tree into $DEST"
R="$DEST/root"
LIBDIR="$R/usr/lib/x86_64-linux-gnu"
write_wrapper

# Smoke test: start, and survive a thrown exception (the libunwind problem).
if ! out="$("$DEST/bin/julia" --startup-file=no -e 'try; error("x"); catch e; end; print(VERSION)' 2>&1)"; then
  echo "$out" >&2
  die "the unpacked julia does not run (see above)"
fi
say "Julia $out installed in $DEST"
echo "$DEST/bin/julia"
