#!/usr/bin/env bash
# One-time project setup, before the first `make deploy` of an environment (and again after a settings change that
# needs another API, which `make deploy`'s preflight reports):
#   1. enables every API the environment uses (the list comes from infra/env/<ENVIRONMENT>.json through
#      infra/scripts/settings.ts), in one `gcloud services enable`, which waits for the operation to finish;
#   2. waits until each API answers a read call: enablement is eventually consistent, and an API enabled seconds ago
#      can still answer "has not been used in project ... or it is disabled ... wait a few minutes for the action to
#      propagate" (a first apply that enabled vpcaccess, redis and run itself failed on exactly that);
#   3. creates the state bucket (versioned, uniform access, public access prevented) if the file names one.
# The foundation stack still declares the same APIs (google_project_service, never disabled on destroy), so the
# configuration says what it uses; on a bootstrapped project those resources change nothing.
#
# Environment: ENVIRONMENT (dev), PROJECT_ID and the other variables of infra/main.ts (they must agree with the file),
# BOOTSTRAP_WAIT_SECONDS (600: how long to wait for the APIs), BOOTSTRAP_PROBE_INTERVAL (10). INFRA_SETTINGS, when
# set, replaces the settings.ts call with its output (the tests resolve the settings once for several runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
settings="${INFRA_SETTINGS:-$(node --require tsx/cjs infra/scripts/settings.ts)}"
eval "$settings"
wait_seconds="${BOOTSTRAP_WAIT_SECONDS:-600}"
interval="${BOOTSTRAP_PROBE_INTERVAL:-10}"
q=(--project="$PROJECT_ID" --quiet)

# serviceusage and cloudresourcemanager first: Terraform and gcloud need them to enable the rest.
gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com "${q[@]}"
read -r -a apis <<<"$APIS"
echo "bootstrap: enabling ${apis[*]}"
gcloud services enable "${apis[@]}" "${q[@]}"

# A read call that succeeds only once the API serves this project. Unknown APIs are not probed.
probe() {
  case "$1" in
    artifactregistry.googleapis.com) gcloud artifacts repositories list --location="$REGION" --limit=1 --format=none "${q[@]}" ;;
    cloudbuild.googleapis.com) gcloud builds list --region="$REGION" --limit=1 --format=none "${q[@]}" ;;
    cloudresourcemanager.googleapis.com) gcloud projects describe "$PROJECT_ID" --format=none --quiet ;;
    compute.googleapis.com) gcloud compute networks list --limit=1 --format=none "${q[@]}" ;;
    iam.googleapis.com) gcloud iam service-accounts list --limit=1 --format=none "${q[@]}" ;;
    logging.googleapis.com) gcloud logging metrics list --limit=1 --format=none "${q[@]}" ;;
    monitoring.googleapis.com) gcloud monitoring uptime list-configs --limit=1 --format=none "${q[@]}" ;;
    redis.googleapis.com) gcloud redis instances list --region="$REGION" --limit=1 --format=none "${q[@]}" ;;
    run.googleapis.com) gcloud run services list --region="$REGION" --limit=1 --format=none "${q[@]}" ;;
    secretmanager.googleapis.com) gcloud secrets list --limit=1 --format=none "${q[@]}" ;;
    storage.googleapis.com) gcloud storage buckets list --format=none "${q[@]}" ;;
    vpcaccess.googleapis.com) gcloud compute networks vpc-access connectors list --region="$REGION" --limit=1 --format=none "${q[@]}" ;;
    *) return 0 ;;
  esac
}

deadline=$((SECONDS + wait_seconds))
pending=("${apis[@]}")
while [ "${#pending[@]}" -gt 0 ]; do
  still=()
  for api in "${pending[@]}"; do
    probe "$api" >/dev/null 2>&1 || still+=("$api")
  done
  pending=("${still[@]+"${still[@]}"}")
  [ "${#pending[@]}" -eq 0 ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "bootstrap: after ${wait_seconds}s these APIs still refuse calls: ${pending[*]}" >&2
    echo "bootstrap: check them with: gcloud services list --enabled --project=$PROJECT_ID; then run make infra-bootstrap again" >&2
    exit 1
  fi
  echo "bootstrap: waiting for ${pending[*]} to answer (enablement propagates within minutes)"
  sleep "$interval"
done
echo "bootstrap: every API of ${ENVIRONMENT:-dev} answers in $PROJECT_ID"

if [ -n "$STATE_BUCKET" ]; then
  if gcloud storage buckets describe "gs://$STATE_BUCKET" "${q[@]}" >/dev/null 2>&1; then
    echo "bootstrap: state bucket gs://$STATE_BUCKET exists"
  else
    gcloud storage buckets create "gs://$STATE_BUCKET" --location="$REGION" \
      --uniform-bucket-level-access --public-access-prevention "${q[@]}"
    gcloud storage buckets update "gs://$STATE_BUCKET" --versioning "${q[@]}"
  fi
fi
