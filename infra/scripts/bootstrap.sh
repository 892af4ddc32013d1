#!/usr/bin/env bash
# One-time project setup the stacks cannot do themselves: the two APIs Terraform needs to enable the others, and the
# optional state bucket (versioned, uniform access, public access prevented).
set -euo pipefail
project="${PROJECT_ID:?set PROJECT_ID}"
region="${REGION:-us-central1}"

gcloud services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com --project="$project"

if [ -n "${STATE_BUCKET:-}" ]; then
  if gcloud storage buckets describe "gs://$STATE_BUCKET" --project="$project" >/dev/null 2>&1; then
    echo "bootstrap: state bucket gs://$STATE_BUCKET exists"
  else
    gcloud storage buckets create "gs://$STATE_BUCKET" --project="$project" --location="$region" \
      --uniform-bucket-level-access --public-access-prevention
    gcloud storage buckets update "gs://$STATE_BUCKET" --versioning
  fi
fi
