#!/usr/bin/env bash
# Every check and test, as CI runs them (.ci/run). On a fresh Debian machine it first installs
# what the tests need: PostgreSQL's server binaries (the integration tests start their own
# throwaway cluster; nothing is started here), Chromium and ChromeDriver for the browser test,
# and the C.UTF-8 locale.
#
#   bash scripts/test.sh
#
# HIDAMARI_TEST_DATABASE_URL=postgres://USER@HOST:PORT/postgres makes the PostgreSQL stories use
# that server instead of their own cluster (then PostgreSQL need not be installed here).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

# Runs a command as root: directly when we are root (CI), through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "scripts/test.sh: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

apt_updated=no
apt_install() {
    if [ "$apt_updated" = no ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update
        apt_updated=yes
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

have_initdb() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

if [ -z "${HIDAMARI_TEST_DATABASE_URL:-}" ] && ! have_initdb; then
    say "installing PostgreSQL (the tests start their own cluster with it)"
    apt_install postgresql
    have_initdb || { echo "scripts/test.sh: no initdb under /usr/lib/postgresql/*/bin after installing" >&2; exit 1; }
fi

# The browser test (tests/it/browser.rs) drives Debian's Chromium through ChromeDriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    say "installing Chromium and ChromeDriver (the browser test drives them)"
    apt_install chromium chromium-driver
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] ||
        { echo "scripts/test.sh: no /usr/bin/chromium or /usr/bin/chromedriver after installing" >&2; exit 1; }
fi

# The test cluster is created with --locale=C.UTF-8 (built into glibc on current Debian).
if ! locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
    say "adding the C.UTF-8 locale"
    apt_install locales
    locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' || as_root localedef -i C -f UTF-8 C.UTF-8 ||
        as_root localedef -i en_US -f UTF-8 C.UTF-8
fi

for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        say "adding the $component component"
        rustup component add "$component"
    fi
done

say "cargo fmt --check"
cargo fmt --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

# Unit tests, doc tests and the integration tests (tests/it: every story on SQLite and on
# PostgreSQL). Not `--all-targets`: that would also run bench/main.rs (harness = false), i.e.
# the whole benchmark; clippy above already builds it.
say "cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test 2>&1 | tee "$log"

# One closing line for the whole run (cargo prints one per test binary, the last being the
# doc tests, which are few).
passed=$(grep -E '^test result: ' "$log" | grep -oE '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep -E '^test result: ' "$log" | grep -oE '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
say "all checks passed"
echo "tests: $passed passed, $failed failed"
