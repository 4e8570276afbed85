#!/usr/bin/env bash
# `npm test`: the one test command of CONTRIBUTING.md's quick start. On a fresh Debian machine with only Node it sets up what
# the suites need, then runs them. `.ci/run` calls it too, so CI and CONTRIBUTING.md cannot drift apart.
#   1. Debian's `chromium` (unless CHROMIUM_PATH is set), `firefox-esr`, `webkit2gtk-driver` (WebKitWebDriver
#      and MiniBrowser), `xvfb` (xvfb-run) and the `sqlite3` CLI, if missing (apt-get; sudo when not root);
#   2. `npm ci`, if node_modules is missing or older than package-lock.json;
#   3. typecheck, build, the docs site (docs:build: TypeDoc's API reference, then VitePress), the packed tarball's lint (publint, attw), unit tests in Node, edge tests in
#      workerd, browser tests in Chromium, the Firefox and WebKit runs, then the sync scenarios (Chromium
#      devices against a local workerd sync server).
# Sourcing this file defines the functions without running anything (to try one in isolation).
set -euo pipefail

# The paths the tests use: playwright.config.ts (when CHROMIUM_PATH is unset) and the native SQLite
# tests (test/unit/native-sqlite.test.ts, search-migration.test.ts) take these exact files, so
# something else of that name on PATH would not do.
DEBIAN_CHROMIUM=/usr/bin/chromium
DEBIAN_SQLITE3=/usr/bin/sqlite3
# The Firefox and WebKit runs (test/browsers/firefox-driver.ts, webkit-driver.ts) take these paths.
DEBIAN_FIREFOX=/usr/bin/firefox-esr
DEBIAN_WEBKIT_DRIVER=/usr/bin/WebKitWebDriver
DEBIAN_MINIBROWSER=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser
DEBIAN_XVFB_RUN=/usr/bin/xvfb-run

# Prints the Debian packages the suites need and this machine lacks, space-separated.
missing_packages() {
  local missing=()
  # A CHROMIUM_PATH is the browser Playwright will use, so Debian's would not help; check_chromium_path
  # reports it if it is wrong.
  if [[ -z "${CHROMIUM_PATH:-}" && ! -x "$DEBIAN_CHROMIUM" ]]; then missing+=(chromium); fi
  if [[ ! -x "$DEBIAN_SQLITE3" ]]; then missing+=(sqlite3); fi
  if [[ -z "${FIREFOX_PATH:-}" && ! -x "$DEBIAN_FIREFOX" ]]; then missing+=(firefox-esr); fi
  if [[ -z "${WEBKIT_DRIVER_PATH:-}" && ( ! -x "$DEBIAN_WEBKIT_DRIVER" || ! -x "$DEBIAN_MINIBROWSER" ) ]]; then missing+=(webkit2gtk-driver); fi
  if [[ ! -x "$DEBIAN_XVFB_RUN" ]]; then missing+=(xvfb); fi
  # xvfb-run needs xauth, which xvfb only recommends.
  if [[ ! -x /usr/bin/xauth ]]; then missing+=(xauth); fi
  echo "${missing[*]}"
}

# A CHROMIUM_PATH that is not an executable would fail every browser test; say so before the long build.
check_chromium_path() {
  if [[ -n "${CHROMIUM_PATH:-}" && ! -x "$CHROMIUM_PATH" ]]; then
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable. Point it at a Chromium, or unset it to use Debian's ($DEBIAN_CHROMIUM, installed if missing)." >&2
    return 1
  fi
}

# Runs a command as root: directly, or through sudo (which may ask for a password).
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "Not root, and there is no sudo." >&2
    return 1
  fi
}

# Installs the given Debian packages: one `apt-get update`, then a noninteractive install (CI has no stdin).
install_packages() {
  local packages=("$@")
  echo "== installing ${packages[*]} from Debian (apt-get)"
  if ! as_root apt-get update -qq ||
     ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null; then
    echo "Could not install ${packages[*]}, which the tests need. As root: apt-get install ${packages[*]}; then run npm test again." >&2
    return 1
  fi
}

# True when node_modules is missing or older than package-lock.json (npm writes
# node_modules/.package-lock.json on every install), i.e. when `npm ci` must run.
deps_stale() {
  [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]
}

# The suites, in the order that fails fastest.
run_suites() {
  local step
  for step in typecheck build docs:build check:package test:unit test:edge test:e2e test:browsers test:sync; do
    echo "== npm run $step"
    npm run "$step"
  done
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  check_chromium_path
  local missing
  missing=$(missing_packages)
  # Word splitting is intended: package names have no spaces.
  # shellcheck disable=SC2086
  if [[ -n "$missing" ]]; then install_packages $missing; fi
  if deps_stale; then
    echo "== npm ci (node_modules is missing or older than package-lock.json)"
    npm ci --no-audit --no-fund
  fi
  run_suites
}

# Run only when executed, not when sourced.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
