#!/bin/sh
# Boot probe: proves the guest reached userspace.
echo "guest-probe-ok" >/dev/ttyS1
