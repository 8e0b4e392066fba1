#!/usr/bin/env bash
# Builds the release artifacts in dist/ (or --output DIR):
#   statehouse-VERSION-OS-ARCH.tar.gz   bin/statehoused, bin/statehousectl, packaging/statehoused.service,
#                                       statehouse.conf.example, README.md, docs/, python/ (the SDK's wheel and
#                                       sdist) and SHA256SUMS of every file in it
#   statehouse-SDKVERSION-py3-none-any.whl, statehouse-SDKVERSION.tar.gz   the Python SDK, also on their own
#   SHA256SUMS                          of the three above (sha256sum -c SHA256SUMS)
# VERSION is what the packaged statehoused --version prints; OS and ARCH are uname's (linux-x86_64).
#
# Usage: scripts/package.sh [--configuration release|debug] [--bin-dir DIR] [--output DIR] [--progress|--quiet]
#   --configuration C  build the binaries with `swift build -c C --static-swift-stdlib` (default release; the
#                      static Swift runtime lets them run where no Swift toolchain is installed)
#   --bin-dir DIR      package the statehoused and statehousectl already in DIR instead; nothing is compiled
#   --output DIR       where the artifacts go (default dist/ in the repository)
#   --no-strip         keep the binaries' symbols (by default the packaged copies are stripped: a release binary
#                      with the static runtime is 178 MB with them, 87 MB without)
#   --progress/--quiet show each step (and the compiler's output), or only errors (default: progress on a terminal)
# The SDK is built with `python -m build` in a venv under .build/package-venv (made once; needs PyPI that time).
# The artifacts' paths are printed on stdout, one a line.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
fail() { echo "package.sh: $*" >&2; exit 1; }

configuration=release
bin_dir=""
output="$repo/dist"
progress=auto
strip_binaries=yes
while [ $# -gt 0 ]; do
    case "$1" in
        -c|--configuration) [ $# -ge 2 ] || fail "$1 needs a value"; configuration="$2"; shift 2 ;;
        --bin-dir) [ $# -ge 2 ] || fail "$1 needs a value"; bin_dir="$2"; shift 2 ;;
        -o|--output) [ $# -ge 2 ] || fail "$1 needs a value"; output="$2"; shift 2 ;;
        --progress) progress=yes; shift ;;
        --no-strip) strip_binaries=no; shift ;;
        -q|--quiet) progress=no; shift ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown argument $1 (see --help)" ;;
    esac
done
case "$configuration" in release|debug) ;; *) fail "--configuration is release or debug, not $configuration" ;; esac
if [ "$progress" = auto ]; then
    if [ -t 2 ]; then progress=yes; else progress=no; fi
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/statehouse-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

step() {
    if [ "$progress" = yes ]; then printf '==> %s\n' "$*" >&2; fi
}

# Runs a command with its output in a log that is shown only when it fails.
quietly() {
    "$@" >"$work/step.log" 2>&1 || {
        local status=$?
        echo "package.sh: '$*' failed with status $status:" >&2
        tail -n 60 "$work/step.log" >&2
        exit "$status"
    }
}

# The same, except that with progress the command's own output shows (the compiler's, which takes minutes).
visibly() {
    if [ "$progress" = yes ]; then "$@" >&2; else quietly "$@"; fi
}

# 1. The binaries.
if [ -z "$bin_dir" ]; then
    command -v swift >/dev/null 2>&1 || fail "swift is not on PATH (or give --bin-dir DIR with built binaries)"
    build=(swift build --package-path "$repo" -c "$configuration" --static-swift-stdlib)
    for product in statehoused statehousectl; do
        step "building $product (${build[*]:0:2} -c $configuration --static-swift-stdlib --product $product)"
        visibly "${build[@]}" --product "$product"
    done
    bin_dir="$("${build[@]}" --show-bin-path)"
fi
bin_dir="$(cd "$bin_dir" 2>/dev/null && pwd)" || fail "--bin-dir: no such directory"
for binary in statehoused statehousectl; do
    [ -x "$bin_dir/$binary" ] || fail "$bin_dir/$binary is missing or not executable"
done
said="$("$bin_dir/statehoused" --version 2>&1)" || true
read -r _ version _ <<<"$said" || true  # "statehoused 0.1.0", perhaps followed by the commit
[[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+-]*$ ]] || fail "cannot read the version from $bin_dir/statehoused --version: $said"
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
arch="$(uname -m)"
name="statehouse-$version-$os-$arch"
step "packaging $name from $bin_dir"
for binary in statehoused statehousectl; do
    libraries="$(ldd "$bin_dir/$binary" 2>/dev/null || true)"
    if [[ "$libraries" == *libswiftCore.so* ]]; then
        echo "package.sh: note: $binary links the Swift runtime dynamically: it runs only where that toolchain is" \
            "installed (builds by this script link it statically)" >&2
    fi
done

# Dates in the artifacts: the last commit's (or SOURCE_DATE_EPOCH). The wheel and the tarball's own metadata come
# out the same for the same inputs; setuptools' sdist still records the time it was built, and so the tarball too.
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}"

# 2. The Python SDK: sdist, then the wheel built from that sdist, from a copy of python/ (the checkout is left as
# it is). The build tools live in their own venv; --no-isolation keeps later runs off the network.
venv="$repo/.build/package-venv"
mkdir -p "$repo/.build"
(
    flock 9
    if [ ! -f "$venv/.ready" ]; then
        step "making $venv (python -m build, setuptools; first run only)"
        rm -rf "$venv"
        quietly "${PYTHON:-python3}" -m venv "$venv"
        quietly "$venv/bin/python" -m pip install --disable-pip-version-check -q "build>=1" "setuptools>=68"
        touch "$venv/.ready"
    fi
) 9>"$repo/.build/package-venv.lock"
step "building the Python SDK (sdist and wheel)"
mkdir "$work/python-src" "$work/python-dist"
tar -C "$repo/python" -cf - --exclude=./build --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache \
    --exclude=.venv . | tar -C "$work/python-src" -xf -
SOURCE_DATE_EPOCH="$epoch" quietly "$venv/bin/python" -m build --no-isolation --outdir "$work/python-dist" "$work/python-src"
wheel="$(find "$work/python-dist" -name 'statehouse-*.whl' | head -n 1)"
sdist="$(find "$work/python-dist" -name 'statehouse-*.tar.gz' | head -n 1)"
if [ -z "$wheel" ] || [ -z "$sdist" ]; then fail "python -m build made no wheel or no sdist"; fi

# 3. The tree of the tarball, with SHA256SUMS of everything in it.
stage="$work/stage/$name"
mkdir -p "$stage/bin" "$stage/packaging" "$stage/docs" "$stage/python"
install -m 0755 "$bin_dir/statehoused" "$bin_dir/statehousectl" "$stage/bin/"
if [ "$strip_binaries" = yes ]; then
    if command -v strip >/dev/null 2>&1; then
        step "stripping the packaged binaries (--no-strip keeps their symbols)"
        strip "$stage/bin/statehoused" "$stage/bin/statehousectl"
    else
        echo "package.sh: note: strip (binutils) is not installed; the binaries keep their symbols" >&2
    fi
fi
install -m 0644 "$repo/packaging/statehoused.service" "$stage/packaging/"
install -m 0644 "$repo/statehouse.conf.example" "$repo/README.md" "$stage/"
install -m 0644 "$repo"/docs/*.md "$stage/docs/"
install -m 0644 "$wheel" "$sdist" "$stage/python/"
(cd "$stage" && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum >"$work/SHA256SUMS.inner")
mv "$work/SHA256SUMS.inner" "$stage/SHA256SUMS"

# 4. The tarball: sorted, owned by root, dated $epoch.
mkdir -p "$output"
output="$(cd "$output" && pwd)"
tarball="$output/$name.tar.gz"
step "writing $tarball"
tar -C "$work/stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --mode='u+rwX,go+rX,go-w' -cf - "$name" | gzip -n -6 >"$tarball.partial"
mv "$tarball.partial" "$tarball"
install -m 0644 "$wheel" "$sdist" "$output/"
artifacts=("$(basename "$tarball")" "$(basename "$wheel")" "$(basename "$sdist")")
(cd "$output" && sha256sum "${artifacts[@]}" >SHA256SUMS.partial && mv SHA256SUMS.partial SHA256SUMS)

if [ "$progress" = yes ]; then
    (cd "$output" && du -h "${artifacts[@]}" SHA256SUMS | sed 's/^/    /') >&2
    step "done in $((SECONDS - started)) s"
fi
for artifact in "${artifacts[@]}" SHA256SUMS; do
    echo "$output/$artifact"
done
