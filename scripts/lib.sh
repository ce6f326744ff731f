# shellcheck shell=bash
# Common paths and helpers for the build scripts. Sourced, never run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
BASE_TARBALL=/usr/src/linux-source-6.12.tar.xz
PRISTINE=$BUILD/base/linux-source-6.12
TREE=${TREE:-$BUILD/linux}
PATCHES=${PATCHES:-$TOP/patches}
RESULTS=$BUILD/results
LOGS=$BUILD/logs
ARCH=x86_64
export ARCH
# Cache entries keyed by paths relative to the checkout, so that a fresh
# clone elsewhere (as CI makes) still hits the cache.
export CCACHE_BASEDIR=$TOP

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The kernel's version as "6.12.N", read from the pristine Makefile.
base_version() {
	awk '/^VERSION =/ {v=$3} /^PATCHLEVEL =/ {p=$3} /^SUBLEVEL =/ {s=$3}
	     END {print v "." p "." s}' "$PRISTINE/Makefile"
}

# Patch file names from patches/series, comments and blank lines skipped:
# the upstream series, which 'make patches' exports.
series_patches() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PATCHES/series"
}

# The local series (patches/local/series: the benchmarks), as paths under
# patches/: applied to the tree after the upstream series, never exported.
local_patches() {
	[ -f "$PATCHES/local/series" ] || return 0
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's|^|local/|' "$PATCHES/local/series"
}

# Every patch the tree gets, in order.
tree_patches() {
	series_patches
	local_patches
}

# patches/overlay.map without comments: "FILE PATCH" gives the patch that
# adds an overlay file, "ifdef SERIES_X PATCH" the patch that turns on the
# regions of overlay files marked SERIES_X (see scripts/overlay-render.pl).
overlay_map() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$PATCHES/overlay.map"
}

# The patch that adds overlay file $1.
overlay_patch() {
	overlay_map | awk -v f="$1" '$1 == f {print $2}'
}

# The SERIES_ symbols of patch $1 (all of them without $1).
series_symbols() {
	overlay_map | awk -v p="${1:-}" '$1 == "ifdef" && (p == "" || $3 == p) {print $2}'
}

# overlay_render FILE SYMBOL...: overlay file FILE as it reads once the
# patches that turn on SYMBOL... are applied.
overlay_render() {
	local file=$1
	shift
	SERIES_KNOWN="$(series_symbols | tr '\n' ' ')" SERIES_DEFINED="$*" \
		perl "$TOP/scripts/overlay-render.pl" "$TOP/$file"
}

jobs() { nproc; }

# Overlay directories of this repository and where each lands in the tree.
OVERLAY_DIRS=(kernel include lib drivers uapi docs selftests)
overlay_target() {
	case $1 in
	uapi/*) echo "include/$1" ;;
	docs/*) echo "Documentation/${1#docs/}" ;;
	selftests/*) echo "tools/testing/selftests/${1#selftests/}" ;;
	*) echo "$1" ;;
	esac
}

# Every file of the overlay, as a path in this repository.
overlay_files() {
	local dir
	for dir in "${OVERLAY_DIRS[@]}"; do
		[ -d "$TOP/$dir" ] && (cd "$TOP" && find "$dir" -type f)
	done | LC_ALL=C sort
}

# kunit_py ARGS...: the kernel tree's kunit.py, run from the tree, with no
# ARCH (kunit.py builds UML unless told otherwise).
kunit_py() {
	(unset ARCH; cd "$TREE" && python3 tools/testing/kunit/kunit.py "$@")
}

# guest_suites OUT NAME LIST WHAT JOB [KERNEL-ARGS...]: one boot of the
# guest job JOB (scripts/guest/run-JOB.sh) through run-guest.sh, with
# KERNEL, INITRD, CMA, MEM and QUIET_TIMEOUT from the environment, logged as
# build/logs/NAME.*. The boot is a test case of its own, OUT/NAME-boot.tap:
# "ok 1 NAME: WHAT", or "not ok" with run-guest.sh's complaint. Then the
# results port is split into OUT/guest-SUITE.tap, one per suite of the list
# file LIST (a path). Fails if the boot failed.
guest_suites() {
	local out=$1 name=$2 list=$3 what=$4 status=0
	shift 4
	mkdir -p "$out" "$LOGS"
	if "$TOP/scripts/run-guest.sh" "$1" "$name" "${@:2}" 2>"$LOGS/$name.err"; then
		echo "ok 1 $name: $what" >"$out/$name-boot.tap"
	else
		status=1
		cat "$LOGS/$name.err" >&2
		{
			echo "not ok 1 $name: $what"
			sed 's/^/# /' "$LOGS/$name.err"
		} >"$out/$name-boot.tap"
	fi
	python3 "$TOP/scripts/tap.py" split-guest "$LOGS/$name.results" "$list" "$out" ||
		status=1
	return $status
}
