#!/usr/bin/env bash
# 'make patches-check': build the test kernel at every step of the series in
# build/series-git (made by 'make patches'), so that each patch builds on
# its own. Incremental: each step recompiles what its patch touched.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

repo=$BUILD/series-git
[ -d "$repo/.git" ] || die "no series in $repo: run 'make patches'"
head=$(git -C "$repo" rev-parse HEAD)
trap 'git -C "$repo" checkout -q "$head"' EXIT
step=0
for commit in $(git -C "$repo" rev-list --reverse base..HEAD); do
	step=$((step + 1))
	git -C "$repo" checkout -q "$commit"
	log "step $step: $(git -C "$repo" log -1 --format=%s)"
	TREE=$repo "$TOP/scripts/build-kernel.sh" series-steps "$TOP/configs/base.config" ||
		die "the kernel does not build at step $step: $(git -C "$repo" log -1 --format=%s)"
done
log "the kernel builds at each of the $step steps"
