#!/usr/bin/env bash
# Checks what `make plan`, `make deploy` and `make destroy` need before Terraform starts, with a hint for each gap:
# the environment's settings (infra/env/<ENVIRONMENT>.json and the command line agree), Terraform 1.5 or newer, both
# gcloud logins and, before a plan or deploy (`preflight.sh deploy`), that every API the environment uses is enabled
# (`make infra-bootstrap` enables them and waits until they answer; see infra/scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${1:-deploy}"
fail=0
problem() { echo "preflight: $*" >&2; fail=1; }

# The same rules as synth: a contradiction between the command line and the file stops here, before Terraform.
if settings="$(node --require tsx/cjs infra/scripts/settings.ts)"; then
  eval "$settings"
else
  problem "the settings of ${ENVIRONMENT:-dev} are invalid (above)"
  PROJECT_ID=""
fi

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
  if ! gcloud auth print-access-token >/dev/null 2>&1; then
    problem "gcloud is not logged in (run: gcloud auth login)"
  elif [ "$mode" = deploy ] && [ -n "$PROJECT_ID" ]; then
    enabled="$(gcloud services list --enabled --project="$PROJECT_ID" --format='value(config.name)' 2>/dev/null || true)"
    missing=()
    for api in $APIS; do
      grep -qx "$api" <<<"$enabled" || missing+=("$api")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
      problem "APIs not enabled in $PROJECT_ID: ${missing[*]} (run: make infra-bootstrap ENV=${ENVIRONMENT:-dev}; it waits until they answer)"
    fi
  fi
  gcloud auth application-default print-access-token >/dev/null 2>&1 ||
    problem "no Application Default Credentials for Terraform (run: gcloud auth application-default login)"
else
  problem "gcloud is not on PATH (install the Google Cloud CLI; Cloud Build is started with it)"
fi

exit "$fail"
