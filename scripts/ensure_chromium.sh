#!/bin/sh
# Make sure Debian's chromium is present for the browser tests (tests/e2e/browser).
# Idempotent and quiet: does nothing when /usr/bin/chromium exists. Never downloads a
# Playwright-managed browser; Playwright drives this system binary via executable_path.
# Exit status: 0 when chromium is (now) installed, 1 when it cannot be installed here.
set -eu

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ensure_chromium: $CHROMIUM is missing and installing it needs root (apt-get install -y chromium)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: $CHROMIUM is missing and apt-get is not available on this system" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when the first attempt fails (a fresh image has none).
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
        echo "ensure_chromium: apt-get install chromium failed" >&2
        exit 1
    fi
fi
test -x "$CHROMIUM" || { echo "ensure_chromium: installed, but $CHROMIUM is still missing" >&2; exit 1; }
