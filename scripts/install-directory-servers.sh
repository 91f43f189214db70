#!/usr/bin/env bash
# Installs the directory servers the LDAP tests (and `npm run ldap:sandbox`) start on loopback: OpenLDAP
# slapd with ldap-utils, 389 Directory Server, and Samba's Active Directory domain controller with its
# provisioning files and ldb-tools. Debian / Ubuntu, as root; `npm test` runs it first (a no-op once they are installed).
# The packages' own services are not started (policy-rc.d): the tests run their own servers on their own
# ports, and a system slapd or samba on 389 would stand in the way of the Samba AD test.
set -euo pipefail

# samba-ad-provision holds the AD schema files samba-tool provisions from; ldb-tools the offline ldbmodify
# the Samba AD test loads its tenant with; 389-ds-base is 389 Directory Server.
packages=(slapd ldap-utils samba samba-ad-dc samba-ad-provision ldb-tools 389-ds-base)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "directory servers: ${packages[*]} already installed"
else
  if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "directory servers: missing ${missing[*]}, which the LDAP and Active Directory tests run;" \
      "install them as root: sudo bash scripts/install-directory-servers.sh (Debian/Ubuntu)" >&2
    exit 1
  fi
  policy=/usr/sbin/policy-rc.d
  had_policy=false
  [ -e "$policy" ] && had_policy=true
  if [ "$had_policy" = false ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
  fi
  trap '[ "$had_policy" = false ] && rm -f "$policy"' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "directory servers: installed ${missing[*]}"
fi
echo "slapd: $(slapd -VV 2>&1 | head -1 | sed 's/^.*slapd //')"
echo "samba: $(samba -V 2>&1)"
