#!/usr/bin/env bash
# Builds and pushes the service image with Cloud Build.
#
# Terraform runs this (local-exec on the image's terraform_data resource) from the repository root during
# `cdktf deploy`, only when the content hash of the build context (the image tag) has changed. It packs exactly the
# entries the hash covers, with the same excluded folder names, and submits that archive.
#
# Environment (set by the stack): IMAGE, PROJECT_ID, REGION, BUILD_SERVICE_ACCOUNT, STAGING_BUCKET, CONTEXT_ENTRIES
# (space-separated), EXCLUDED_NAMES (space-separated).
set -euo pipefail

for name in IMAGE PROJECT_ID REGION BUILD_SERVICE_ACCOUNT STAGING_BUCKET CONTEXT_ENTRIES EXCLUDED_NAMES; do
  if [ -z "${!name:-}" ]; then
    echo "build-image: $name is not set" >&2
    exit 2
  fi
done

# Same tag already pushed (for instance the state was lost): nothing to build.
if gcloud artifacts docker images describe "$IMAGE" --project="$PROJECT_ID" >/dev/null 2>&1; then
  echo "build-image: $IMAGE already exists, not rebuilding"
  exit 0
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

read -r -a entries <<<"$CONTEXT_ENTRIES"
excludes=()
for excluded in $EXCLUDED_NAMES; do
  excludes+=("--exclude=$excluded")
done
# COPYFILE_DISABLE keeps macOS tar from adding ._ metadata files.
COPYFILE_DISABLE=1 tar -czf "$workdir/context.tgz" "${excludes[@]}" -- "${entries[@]}"
echo "build-image: context $(du -h "$workdir/context.tgz" | cut -f1) from: ${entries[*]}"

# New IAM grants on the build service account can take a minute or two to apply, so retry a failed submission.
for attempt in 1 2 3; do
  if gcloud builds submit "$workdir/context.tgz" \
    --project="$PROJECT_ID" \
    --region="$REGION" \
    --tag="$IMAGE" \
    --service-account="projects/$PROJECT_ID/serviceAccounts/$BUILD_SERVICE_ACCOUNT" \
    --gcs-source-staging-dir="gs://$STAGING_BUCKET/source" \
    --gcs-log-dir="gs://$STAGING_BUCKET/logs" \
    --timeout=1800s; then
    exit 0
  fi
  if [ "$attempt" -lt 3 ]; then
    echo "build-image: attempt $attempt failed, retrying in $((attempt * 30)) s" >&2
    sleep $((attempt * 30))
  fi
done
echo "build-image: Cloud Build failed 3 times for $IMAGE" >&2
exit 1
