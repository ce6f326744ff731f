#!/usr/bin/env bash
# 'make check-the-checks': do the tests catch a broken controller? For each
# mutation of the controller, kernel/cgroup/buffer_cg* (a charge skipped,
# every charge refused, an uncharge skipped, a transfer that moves 0 bytes,
# a refusal not counted, no cgroup below the root allocated, a device's
# state killed outside the lock that orders it against its
# re-registration), of memcg's dma-buf charge (in mm/memcontrol.c, the
# same first three; in drivers/dma-buf/dma-heap.c, dma_heap.mem_accounting
# ignored), or of buffer-cg (no hint to enable the controller, no buffer
# reported as a leak: the copy's buffer-cg replaces ours in the guest),
# applied to
# a scratch copy of this tree (build/mutants/src, never to the real
# sources), build the debug kernel, run in one boot of it the KUnit suite
# and every in-guest suite of 'make check' that runs with the controller
# enabled (check.list, then debug.list), in a second boot the memcg suites
# (memcg.list, with dma_heap.mem_accounting=1), and record for each
# (mutation, suite) whether the suite went red. One kernel a mutation: the
# debug kernel is the test kernel plus the detectors, and the suites are the
# same programs. The boot with cgroup_disable=buffer is left out: no
# mutation of the controller can show there. "none" is the unmutated copy:
# every suite must be green there, or a red means nothing.
# Writes the table to build/check-the-checks.txt; fails if the baseline is
# red, a mutation no longer applies or builds, or a mutation survives every
# suite. MUTANTS="none uncharge-skipped" runs a subset. Not part of 'make check'.
#
# The mutations anchor on these functions of the controller's files,
# each defined once with its body's opening brace alone on the next line
# (kernel style): pool_try_charge() (returns at once: a charge skipped; or
# refuses at once) and pool_uncharge() (a void function, returns at once),
# both in buffer_cg_internal.h; buffer_cg_css_alloc() (fails but for
# the root); pool_record_refusal() (a void function, returns at once);
# buffer_cg_charge_transfer() (its calls of buffer_cg_pool_charge()
# and pool_uncharge(), each of three arguments, the size last, move 0
# bytes); buffer_cg_unregister_device() (its percpu_ref_kill() right
# before its mutex_unlock(), which the mutation swaps, with a delay
# between them, so that a registration can find the state unbound and
# still alive: the race the KUnit case reregister_race exists for); in
# mm/memcontrol.c, mem_cgroup_charge_dmabuf(), mem_cgroup_uncharge_dmabuf()
# and the two halves of a move, mem_cgroup_charge_dmabuf_below() and
# mem_cgroup_uncharge_dmabuf_below(), each made to return at once;
# in drivers/dma-buf/dma-heap.c, dma_heap_ioctl_allocate()'s test of
# "dma_heap_mem_accounting &&". Those two are patched files, not overlay
# files: their mutation is the diff of the file as the series leaves
# it, added to the copy's local series. In tools/buffer-cg/buffer-cg.c,
# require_controller()'s "if (listed)" and leak_reason().
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mutants=${MUTANTS:-none charge-skipped charge-refused uncharge-skipped transfer-zero \
	event-uncounted css-alloc-fails \
	rereg-kill-unlocked memcg-charge-skipped memcg-uncharge-skipped memcg-move-zero \
	memcg-param-ignored cli-hint-dropped cli-leak-missed grant-kept-stale}
work=$BUILD/mutants
src=$work/src
table=$BUILD/check-the-checks.txt
mkdir -p "$work"

# The files a mutation may change: the controller's in the copy, or the
# copy of mm/memcontrol.c (memcg_copy).
mutable=()

# Perl that sets $def to match the definition of the function $ENV{FUNC}
# up to its body's opening brace, in kernel style (a declaration, which
# ends in ';', does not match).
# shellcheck disable=SC2016 # Perl's
perl_def='my $def = qr/^(?:[A-Za-z][^\n]*\b)?\Q$ENV{FUNC}\E\([^;{]*\)\n\{\n/m;'

# The mutable file that defines FUNC; fails unless exactly one does.
defining_file() {
	local file found=()
	for file in "${mutable[@]}"; do
		[[ $file != *_test.c && $file != *_bench.c ]] || continue
		FUNC=$1 perl -0777 -ne "$perl_def"'exit(/$def/ ? 0 : 1)' "$file" && found+=("$file")
	done
	[ ${#found[@]} = 1 ] || die "$1() is defined in ${#found[@]} of ${mutable[*]}, want 1"
	echo "${found[0]}"
}

# mutate FUNC FIRST [BEFORE AFTER]: in the copy's file that defines FUNC,
# make FIRST the first statement of FUNC's body, BEFORE the lines before its
# definition, AFTER those after its closing brace. Fails unless FUNC is
# defined once.
mutate() {
	local file
	file=$(defining_file "$1")
	FUNC=$1 FIRST=$2 BEFORE=${3:-} AFTER=${4:-} perl -0777 -i -pe "$perl_def"'
		my ($f, $first, $before, $after) = @ENV{qw(FUNC FIRST BEFORE AFTER)};
		my $n = () = /$def/g;
		die "$f: $n definitions found, want 1\n" unless $n == 1;
		s/($def)(.*?\n\}\n)/$before$1$first$2$after/s;
	' "$file"
}

# body_calls FUNC REGEX: FUNC's body calls something REGEX matches.
body_calls() {
	local file
	file=$(defining_file "$1")
	FUNC=$1 CALL=$2 perl -0777 -ne "$perl_def"'
		exit(/$def(.*?)\n\}\n/s && $1 =~ /$ENV{CALL}/ ? 0 : 1);
	' "$file"
}

# patched_copy FILE: a file of the series' (not of the overlay) as the
# series leaves it (our tree, which 'make initramfs' above brought up to
# date), twice: a/ stays, b/ is mutated.
patched_copy() {
	rm -rf "$work/patched"
	mkdir -p "$work/patched/a/$(dirname "$1")" "$work/patched/b/$(dirname "$1")"
	cp "$TREE/$1" "$work/patched/a/$1"
	cp "$TREE/$1" "$work/patched/b/$1"
	mutable=("$work/patched/b/$1")
	patched=$1
}

# patched_patch: the mutation of that file, last in the copy's local series.
patched_patch() {
	local patch=9999-mutant.patch
	if (cd "$work/patched" && diff -u "a/$patched" "b/$patched") \
		>"$src/patches/local/$patch"; then
		die "the mutation changed nothing in $patched"
	fi
	echo "$patch" >>"$src/patches/local/series"
	cat "$src/patches/local/$patch" >&2
}

# replace_in FUNC OLD NEW [BEFORE]: in FUNC's body, OLD (which must be
# there) becomes NEW; BEFORE goes before FUNC's definition.
replace_in() {
	local file
	file=$(defining_file "$1")
	FUNC=$1 OLD=$2 NEW=$3 BEFORE=${4:-} perl -0777 -i -pe "$perl_def"'
		my ($f, $old, $new, $before) = @ENV{qw(FUNC OLD NEW BEFORE)};
		s{($def)(.*?\n\}\n)}{
			my ($head, $body) = ($1, $2);
			$body =~ s/\Q$old\E/$new/ or die "$f: its body has no \"$old\"\n";
			"$before$head$body";
		}se or die "$f: no definition found\n";
	' "$file"
}

apply() {
	mutable=("$src"/kernel/cgroup/buffer_cg*.[ch])
	case $1 in
	memcg-param-ignored) patched_copy drivers/dma-buf/dma-heap.c ;;
	memcg-*) patched_copy mm/memcontrol.c ;;
	cli-*) mutable=("$src/tools/buffer-cg/buffer-cg.c") ;;
	esac
	case $1 in
	none) ;;
	rereg-kill-unlocked)
		replace_in buffer_cg_unregister_device \
			$'\tpercpu_ref_kill(&state->ref);\n\tmutex_unlock(&buffer_cg_mutex);\n' \
			$'\tmutex_unlock(&buffer_cg_mutex);\n\tudelay(50); /* mutant: killed unlocked, the window widened */\n\tpercpu_ref_kill(&state->ref);\n' \
			$'#include <linux/delay.h>\n' ;;
	memcg-param-ignored)
		replace_in dma_heap_ioctl_allocate 'dma_heap_mem_accounting &&' \
			'/* mutant: dma_heap.mem_accounting ignored */' ;;
	memcg-charge-skipped)
		mutate mem_cgroup_charge_dmabuf $'\treturn 0; /* mutant: memcg charge skipped */\n' ;;
	memcg-uncharge-skipped)
		mutate mem_cgroup_uncharge_dmabuf $'\treturn; /* mutant: memcg uncharge skipped */\n' ;;
	memcg-move-zero)
		mutate mem_cgroup_charge_dmabuf_below $'\treturn 0; /* mutant: memcg moves nothing */\n'
		mutate mem_cgroup_uncharge_dmabuf_below $'\treturn; /* mutant: memcg moves nothing */\n' ;;
	grant-kept-stale)
		replace_in buffer_cg_grant_valid $'\treturn grant &&' \
			$'\treturn grant; /* mutant: a grant outlives what it was decided on */\n\treturn grant &&' ;;
	charge-skipped) mutate pool_try_charge $'\treturn 0; /* mutant: charge skipped */\n' ;;
	charge-refused) mutate pool_try_charge $'\treturn pool; /* mutant: every charge refused */\n' ;;
	css-alloc-fails)
		mutate buffer_cg_css_alloc \
			$'\tif (parent_css) /* mutant: no cgroup below the root */\n\t\treturn ERR_PTR(-ENOMEM);\n' ;;
	uncharge-skipped) mutate pool_uncharge $'\treturn; /* mutant: uncharge skipped */\n' ;;
	event-uncounted) mutate pool_record_refusal $'\treturn; /* mutant: refusal not counted */\n' ;;
	transfer-zero)
		body_calls buffer_cg_charge_transfer '\bbuffer_cg_pool_charge\(' &&
			body_calls buffer_cg_charge_transfer '\bpool_uncharge\(' ||
			die "buffer_cg_charge_transfer() no longer calls buffer_cg_pool_charge()/pool_uncharge()"
		mutate buffer_cg_charge_transfer '' \
			$'/* mutant: a transfer moves 0 bytes */\n#define buffer_cg_pool_charge(p, s, n) buffer_cg_pool_charge(p, s, 0)\n#define pool_uncharge(p, s, n) pool_uncharge(p, s, 0)\n' \
			$'#undef buffer_cg_pool_charge\n#undef pool_uncharge\n' ;;
	cli-hint-dropped)
		replace_in require_controller $'\tif (listed)\n' \
			$'\tif (listed && false) /* mutant: no hint to enable the controller */\n' ;;
	cli-leak-missed)
		mutate leak_reason $'\treturn NULL; /* mutant: no buffer is a leak */\n' ;;
	*) die "unknown mutation '$1'" ;;
	esac
	case $1 in
	memcg-*) patched_patch ;;
	esac
}

# memcg_boot: the copy's debug kernel again, with memcg's dma-buf accounting
# on, for memcg.list; KUnit ran in the first boot.
memcg_boot() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	env -u BUILD -u TREE -u PATCHES bash -c '
		. "$1/scripts/lib.sh"
		KERNEL=$BUILD/kernel-debug/arch/x86/boot/bzImage CMA=64M QUIET_TIMEOUT=180 \
			guest_suites "$RESULTS" guest-memcg "$TOP/scripts/guest/memcg.list" \
			"the debug kernel boots with memcg accounting, no splat, clean poweroff" \
			check list=memcg.list dma_heap.mem_accounting=1 kunit.enable=0' _ "$src"
}

# The copy shares the unpacked base; its tree and objects live in its own
# build/, at the same relative paths as ours, so ccache serves its builds.
prepare_copy() {
	mkdir -p "$src/build"
	rsync -a --delete --exclude=/build --exclude=/.git "$TOP/" "$src/"
	[ -d "$BUILD/base" ] || "$TOP/scripts/prepare-tree.sh"
	ln -sfn "$BUILD/base" "$src/build/base"
	[ -d "$src/build/linux" ] || cp -al "$PRISTINE" "$src/build/linux"
	cp "$work/initramfs/tests/mutant.list" "$src/scripts/guest/"
	{
		cat "$BUILD/initramfs.cpio.gz"
		(cd "$work/initramfs" && echo tests/mutant.list |
			cpio -o -H newc --quiet -R 0:0 | gzip -1)
	} >"$src/build/initramfs.cpio.gz"
}

# cli_initramfs: the copy's buffer-cg in the copy's initramfs, over ours (a
# later entry of the archive replaces an earlier one of the same path).
cli_initramfs() {
	local root=$work/cli
	rm -rf "$root"
	mkdir -p "$root/usr/bin"
	make -s -C "$src/tools" UAPI="$BUILD/kernel-test/usr/include" OUT="$root/usr/bin" \
		CC="ccache gcc" "$root/usr/bin/buffer-cg"
	(cd "$root" && echo usr/bin/buffer-cg | cpio -o -H newc --quiet -R 0:0 | gzip -1) \
		>>"$src/build/initramfs.cpio.gz"
}

# The guest's programs are ours (but buffer-cg under a cli-* mutation), with
# the list of both kernels' suites (debug.list's test_buffer is check.list's
# again) appended.
make -C "$TOP" -s initramfs
rm -rf "$work/initramfs"
mkdir -p "$work/initramfs/tests"
cat "$TOP/scripts/guest/check.list" "$TOP/scripts/guest/debug.list" |
	grep -v '^debug-test_buffer' >"$work/initramfs/tests/mutant.list"

# counts M SUITE: a red of SUITE under mutation M is a catch. A cli-*
# mutation changes only buffer-cg, so only its suites (tap.py names them
# guest-buffer-cg and guest-buffer-cg-fresh) can catch it; any other red
# under it is noise (reported, not counted).
counts() {
	[[ $1 != cli-* || $2 == guest-buffer-cg* ]]
}

declare -A verdict
suites=()
failed=0
for m in $mutants; do
	log "mutation '$m'"
	prepare_copy
	# errexit is off in a condition, subshell or not: run apply with it on.
	set +e
	(set -e; apply "$m") 2>"$work/$m.apply"
	rc=$?
	set -e
	if [ $rc != 0 ]; then
		cat "$work/$m.apply" >&2
		verdict[$m,build]="no longer applies"
		failed=1
		continue
	fi
	mutated=kernel/cgroup
	[[ $m != cli-* ]] || mutated=tools/buffer-cg
	if [ "$m" != none ] && [[ $m != memcg-* ]] &&
		diff -rq "$TOP/$mutated" "$src/$mutated" >/dev/null; then
		die "mutation '$m' changed nothing"
	fi
	diff -ru "$TOP/$mutated" "$src/$mutated" >&2 || true
	[[ $m != cli-* ]] || cli_initramfs
	rm -rf "$src/build/results"
	if ! env -u BUILD -u TREE -u PATCHES make -C "$src" -s debug-kernel \
		>"$work/$m.build.log" 2>&1; then
		tail -n 20 "$work/$m.build.log" >&2
		verdict[$m,build]="does not build"
		failed=1
		continue
	fi
	env -u BUILD -u TREE -u PATCHES "$src/scripts/debug-check.sh" mutant.list \
		>"$work/$m.run.log" 2>&1 || true
	memcg_boot >>"$work/$m.run.log" 2>&1 || true
	rm -rf "$work/$m"
	cp -r "$src/build/results" "$work/$m"
	cp -r "$src/build/logs" "$work/$m/logs"
	while read -r suite red; do
		[[ " ${suites[*]} " == *" $suite "* ]] || suites+=("$suite")
		verdict[$m,$suite]=$red
	done < <(python3 "$TOP/scripts/tap.py" summary "$work/$m" |
		awk '/ passed +[0-9]+ failed +[0-9]+ skipped$/ {print $1, ($4 > 0 ? "RED" : "green")}')
done

{
	printf '%-30s' suite
	for m in $mutants; do printf ' %-17s' "$m"; done
	echo
	for s in "${suites[@]}"; do
		printf '%-30s' "$s"
		caught=0
		for m in $mutants; do
			printf ' %-17s' "${verdict[$m,$s]:--}"
			[ "$m" = none ] || [ "${verdict[$m,$s]:-}" != RED ] ||
				! counts "$m" "$s" || caught=1
		done
		[ $caught = 1 ] || printf '  (catches no mutation)'
		echo
	done
	for m in $mutants; do
		if [ -n "${verdict[$m,build]:-}" ]; then
			echo "mutation '$m': ${verdict[$m,build]}"
			continue
		fi
		reds=0
		noise=()
		for s in "${suites[@]}"; do
			[ "${verdict[$m,$s]:-}" = RED ] || continue
			if counts "$m" "$s"; then
				reds=$((reds + 1))
			else
				noise+=("$s")
			fi
		done
		[ ${#noise[@]} = 0 ] ||
			echo "mutation '$m': red but not counted (it changes only buffer-cg): ${noise[*]}"
		if [ "$m" = none ]; then
			echo "baseline: $reds suites red (must be 0)"
			[ $reds = 0 ] || failed=1
		else
			echo "mutation '$m': caught by $reds suites"
			[ $reds -gt 0 ] || failed=1
		fi
	done
} >"$table"
cat "$table"
echo "table in $table; results and logs of each mutation in $work/MUTATION/"
exit $failed
