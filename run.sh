#!/usr/bin/env bash
# canon-remote developer entry point: installs what is missing, then runs a
# deno task.   ./run.sh demo   |   ./run.sh test   |   ./run.sh <task> [args]
#
# Needs: Node.js + npm (for Deno) and Debian/Ubuntu's apt (for libusb,
# umockdev, gphoto2, tshark; chromium for the browser tests). Nothing else is
# downloaded.
set -euo pipefail
cd "$(dirname "$0")"

say() { printf 'run.sh: %s\n' "$*" >&2; }

# The linker cache, read once. Not `ldconfig -p | grep -q`: grep -q exits at
# the first match, ldconfig dies of SIGPIPE writing the rest, and pipefail
# then calls a library that is there missing.
ld_cache="$(ldconfig -p 2>/dev/null || true)"
have_lib() { [[ "$ld_cache" == *"$1"* ]]; }

missing=()
have_lib 'libusb-1.0.so.0' || missing+=(libusb-1.0-0)
have_lib 'libumockdev.so.0' || missing+=(libumockdev0)
have_lib 'libumockdev-preload.so.0' || missing+=(umockdev)
command -v gphoto2 >/dev/null 2>&1 || missing+=(gphoto2)
command -v tshark >/dev/null 2>&1 || missing+=(tshark)

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages: ${missing[*]}; this script installs them only with apt-get."
    say "Install libusb-1.0, umockdev and gphoto2 with your package manager, then run it again."
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "missing: ${missing[*]}. As root, run: apt-get update && apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The browser tier (tests/browser_*) drives a headless Chromium: Debian's
# chromium, installed for the test tasks only; without it that tier is skipped.
case "${1:-}" in test | test:browser)
  if [ ! -x /usr/lib/chromium/chromium ] && ! command -v chromium >/dev/null 2>&1 &&
    command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
    say "installing chromium (for the browser tests) with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -qq chromium >/dev/null 2>&1 ||
      { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null 2>&1; } ||
      say "could not install chromium: the browser tests will be skipped"
  fi
  ;;
esac

if ! command -v deno >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then
    say "Deno is missing and so is npm: install Node.js (with npm) first, or Deno itself."
    exit 1
  fi
  say "installing Deno from npm (npm install -g deno)"
  npm install -g deno >/dev/null 2>&1 || {
    say "npm install -g deno failed; try: sudo npm install -g deno"
    exit 1
  }
  hash -r
fi

if [ $# -eq 0 ]; then
  say "usage: ./run.sh demo | test | check | emulate -- COMMAND | <any task in deno.json>"
  exit 2
fi
exec deno task "$@"
