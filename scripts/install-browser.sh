#!/usr/bin/env bash
# Installs the browser the web portal's browser tests drive (test/helpers/browser.ts): Debian's chromium,
# run headless through playwright-core (Playwright's own browser downloads are not used). Debian / Ubuntu,
# as root; `npm test` runs it first (a no-op once it is installed). Another Chromium can be used instead by
# setting CHROMIUM_PATH.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ]; then
  if [ ! -x "$CHROMIUM_PATH" ]; then
    echo "browser: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
    exit 1
  fi
  version=$("$CHROMIUM_PATH" --version 2>/dev/null || echo 'version unknown')
  echo "browser: CHROMIUM_PATH=$CHROMIUM_PATH (${version% })"
  exit 0
fi

# fonts-liberation (Arial / Helvetica / Times metrics) is only a recommendation of chromium, which
# --no-install-recommends leaves out; without it pages and the README's screenshots render in fallbacks.
packages=(chromium fonts-liberation)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "browser: ${packages[*]} already installed"
else
  if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "browser: missing ${missing[*]}, which the web portal's browser tests need;" \
      "install them as root: sudo bash scripts/install-browser.sh (Debian/Ubuntu)," \
      "or set CHROMIUM_PATH to a Chromium or Chrome binary" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "browser: installed ${missing[*]}"
fi
# The binary itself: the /usr/bin/chromium launcher script sources /etc/chromium.d, which can print shell
# warnings on the way.
version=$(/usr/lib/chromium/chromium --version 2>/dev/null || dpkg-query -W -f='${Version}' chromium)
echo "chromium: ${version% }"
