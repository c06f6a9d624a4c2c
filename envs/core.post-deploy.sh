#!/usr/bin/env bash
# Run by `snakemake --sdm conda` inside the freshly created env: install the lemma package from the
# workflow checkout (editable, so the env follows the checkout; --no-deps: the env file pins them).
# LEMMA_WORKFLOW_DIR is set by rules/common.smk to the directory holding the Snakefile.
set -euo pipefail
: "${LEMMA_WORKFLOW_DIR:?is not set (rules/common.smk sets it); cannot find the lemma package}"
python -m pip install --no-deps -e "$LEMMA_WORKFLOW_DIR"
