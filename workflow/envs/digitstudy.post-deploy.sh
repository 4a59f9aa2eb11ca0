#!/usr/bin/env bash
# Snakemake runs this in each conda environment of this folder once it is made (--sdm conda;
# report.post-deploy.sh is a link to this file): it installs the workflow's library, the package
# digitstudy, editable from the clone this file belongs to, so that the environment's jobs run the
# clone's code as it is now. The pinned dependencies come from the environment file;
# tests/test_cluster.py runs this script.
set -euo pipefail
clone="$(cd "$(dirname "$0")/../.." && pwd)"
if ! grep -qs '^name = "digitstudy"$' "$clone/pyproject.toml"; then
    echo "digitstudy: --software-deployment-method conda installs the package from the clone the workflow" \
        "comes from, and $clone is none: use a clone, or run the jobs in the environment where the package" \
        "is installed (docs/usage.md)" >&2
    exit 1
fi
pip install --quiet --no-deps --editable "$clone"
