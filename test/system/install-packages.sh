#!/usr/bin/env bash
# Installs the Debian packages that the tests drive for real (tcpdump, chromium, …),
# listed one per line in test/system/packages.txt. npm's pretest runs it, so that
# `npm ci && npm test` is the whole set-up on a fresh machine (and on CI).
# Already installed: nothing to do. Missing and root with apt-get: installed. Otherwise
# the script says what is missing and goes on; the tests that need it say so too.
set -euo pipefail
list="$(dirname "$0")/packages.txt"
missing=()
while IFS= read -r line; do
  pkg="${line%%#*}"
  pkg="${pkg//[[:space:]]/}"
  [ -z "$pkg" ] && continue
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done < "$list"
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
  echo "test/system: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq > /dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
else
  echo "test/system: missing ${missing[*]} (not root or no apt-get: install them by hand)" >&2
fi
