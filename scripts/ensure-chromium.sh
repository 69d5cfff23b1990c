#!/bin/sh
# Install Debian's chromium for the HTML-report browser test (tests/test_report_browser.py).
# Idempotent and quiet: does nothing when chromium is already on PATH. Needs root (CI runs as
# root with Debian's package registry reachable); elsewhere it says what to run and exits 0, and
# the browser test skips with that reason.
set -eu
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: chromium not found; install it (Debian: apt-get install -y chromium) to run the browser test" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# A failed install must not fail the suite: the browser test then skips and says why.
if ! { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }; then
    echo "ensure-chromium: apt-get install chromium failed; the browser test will skip" >&2
fi
exit 0
