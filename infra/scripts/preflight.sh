#!/usr/bin/env bash
# Checks what `make plan`, `make deploy` and `make destroy` need before Terraform starts, with a hint for each gap.
set -euo pipefail
fail=0
problem() { echo "preflight: $*" >&2; fail=1; }

project="${PROJECT_ID:-${GOOGLE_CLOUD_PROJECT:-}}"
[ -n "$project" ] || problem "PROJECT_ID is not set (make deploy PROJECT_ID=<your-project-id>)"

if command -v terraform >/dev/null 2>&1; then
  version="$(terraform version 2>/dev/null | head -n1 | sed -E 's/^Terraform v([0-9]+\.[0-9]+).*/\1/')"
  major="${version%%.*}"
  minor="${version#*.}"
  if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 5 ]; }; then
    problem "Terraform 1.5 or newer is needed (found: $(terraform version 2>/dev/null | head -n1))"
  fi
else
  problem "terraform is not on PATH (install Terraform 1.5 or newer)"
fi

if command -v gcloud >/dev/null 2>&1; then
  gcloud auth print-access-token >/dev/null 2>&1 || problem "gcloud is not logged in (run: gcloud auth login)"
  gcloud auth application-default print-access-token >/dev/null 2>&1 ||
    problem "no Application Default Credentials for Terraform (run: gcloud auth application-default login)"
else
  problem "gcloud is not on PATH (install the Google Cloud CLI; Cloud Build is started with it)"
fi

exit "$fail"
