#!/bin/sh
# Interactive shell on the console, for poking at a booted kernel.
setsid cttyhack sh
