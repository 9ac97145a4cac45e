#!/usr/bin/env bash
# Everything the project needs on a fresh Debian 12 machine (as root, or with sudo): the Debian
# packages, PL/Python for the installed server's own version, and the Python packages the
# database imports (into .pylib, for Debian's /usr/bin/python3, which PL/Python runs). Safe to run
# again: it installs only what is missing. `.ci/run` and the README's set-up line run it.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"

install() {  # install PACKAGE[=VERSION]…: the ones not installed yet
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "${pkg%%=*}" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || return 0
  echo "setup: installing ${missing[*]}"
  [ -n "${updated:-}" ] || { $sudo apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install postgresql-15 postgresql-contrib postgresql-15-pgtap pgtap libpq-dev wrk curl python3-pip
# Pinned to the server that is installed: an unpinned install would upgrade the server under a
# running cluster.
server=$(dpkg-query -W -f='${Version}' postgresql-15)
install "postgresql-plpython3-15=$server"

# The database's Python packages, once per set of requirements.
stamp=.pylib/.requirements.sha256
wanted=$(sha256sum scripts/db-requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing the database's Python packages into .pylib"
  rm -rf .pylib
  /usr/bin/python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target .pylib \
    -r scripts/db-requirements.txt
  echo "$wanted" > "$stamp"
fi

# The tests check the OpenAPI document with openapi-spec-validator (PyPI), for the python3 on PATH.
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q openapi-spec-validator
