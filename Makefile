# buffer_cg: the entry points. Every target installs what it needs first.
# Run as root on Debian 12. 'make help' lists them.

SCRIPTS := scripts

.PHONY: all demo check kernel debug-kernel tree initramfs guest-programs kunit \
	guest-check debug-check kcsan-kernel stress checkpatch patches patches-check shell clean help deps \
	bench bench-kernel bench-icount icount-plugin check-systemd systemd check-the-checks

all: demo ## Build, boot, and run the demo (the main job)

help: ## List the entry points
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the Debian packages the build and tests use
	@$(SCRIPTS)/install-deps.sh

tree: ## Unpack the base into build/linux and lay the overlay and patches over it
	@$(SCRIPTS)/prepare-tree.sh

kernel: tree ## Build the test kernel: build/bzImage and build/config
	@$(SCRIPTS)/build-kernel.sh test configs/base.config
	@cp build/kernel-test/arch/x86/boot/bzImage build/bzImage
	@cp build/kernel-test/.config build/config

debug-kernel: tree ## Build the debug kernel (lockdep, KASAN, fault injection, kmemleak, KUnit) and its test module
	@KERNEL_TARGETS="bzImage modules" $(SCRIPTS)/build-kernel.sh debug configs/base.config \
		configs/tests.config configs/debug.config

kcsan-kernel: tree ## Build the KCSAN kernel (data-race detector, fault injection, KUnit) and its test module
	@KERNEL_TARGETS="bzImage modules" $(SCRIPTS)/build-kernel.sh kcsan configs/base.config \
		configs/tests.config configs/kcsan.config

guest-programs: kernel ## Build the static test programs that run in the guest
	@$(SCRIPTS)/build-guest-programs.sh

initramfs: guest-programs ## Pack build/initramfs.cpio.gz
	@$(SCRIPTS)/build-initramfs.sh

demo: initramfs ## Boot the kernel and run the demo
	@STREAM=1 $(SCRIPTS)/run-guest.sh demo

shell: initramfs ## Boot the kernel to a shell on the console (exit with poweroff -f)
	@$(SCRIPTS)/run-guest.sh shell

check: ## Run every test; ends with 'N passed, N failed'
	@$(SCRIPTS)/check.sh

debug-check: initramfs debug-kernel ## Boot the debug kernel: KUnit, stress, faults, fuzzing (bounded)
	@$(SCRIPTS)/debug-check.sh debug.list

stress: initramfs debug-kernel kcsan-kernel ## A long stress, fault and fuzz run on the debug kernel, then on the KCSAN kernel
	@QUIET_TIMEOUT=300 $(SCRIPTS)/debug-check.sh stress.list
	@QUIET_TIMEOUT=300 KERNEL_NAME=kcsan $(SCRIPTS)/debug-check.sh kcsan.list

check-the-checks: ## Mutate the controller in a scratch copy: does each suite go red? (not in make check)
	@$(SCRIPTS)/check-the-checks.sh

systemd: ## Build Debian 12's systemd with tools/systemd/patches (BufferMax=)
	@tools/systemd/build-systemd.sh

check-systemd: guest-programs systemd ## Boot Debian with the patched systemd as PID 1 and test BufferMax=
	@$(SCRIPTS)/build-kernel.sh systemd configs/base.config configs/systemd.config
	@$(SCRIPTS)/build-debian-root.sh
	@$(SCRIPTS)/check-systemd.sh

bench-kernel: tree ## Build the bench kernel (the test kernel plus the KUnit charge-path benchmark)
	@$(SCRIPTS)/build-kernel.sh bench configs/base.config configs/bench.config

icount-plugin: ## Build build/icount.so, the QEMU plugin that counts guest instructions between marks
	@$(SCRIPTS)/build-icount-plugin.sh

bench-icount: initramfs icount-plugin ## Count guest instructions per buffer exactly, twice (part of make bench; the charge path too once bench-kernel is built)
	@$(SCRIPTS)/bench-icount.sh
	@python3 $(SCRIPTS)/bench-report.py --icount

bench: initramfs bench-kernel icount-plugin ## Measure the cost of accounting; writes build/bench.txt (not a test)
	@$(SCRIPTS)/bench-icount.sh
	@$(SCRIPTS)/bench-core-uml.sh
	@$(SCRIPTS)/bench-heap-uml.sh
	@$(SCRIPTS)/bench-profile-uml.sh
	@$(SCRIPTS)/bench-core-smp.sh
	@$(SCRIPTS)/bench-e2e.sh
	@python3 $(SCRIPTS)/bench-report.py

kunit: tree ## Run the KUnit suite under UML (fast, for development)
	@$(SCRIPTS)/kunit.sh

guest-check: initramfs ## Boot the kernel and run the in-guest tests only
	@$(SCRIPTS)/guest-check.sh

patches: tree ## Write the upstream-style series to build/patches/
	@$(SCRIPTS)/export-patches.sh

checkpatch: patches ## Run checkpatch.pl --strict over the series
	@$(SCRIPTS)/checkpatch.sh

patches-check: patches ## Build the kernel at every step of the series
	@$(SCRIPTS)/build-series-steps.sh

clean: ## Remove build/ (ccache keeps its cache)
	rm -rf build
