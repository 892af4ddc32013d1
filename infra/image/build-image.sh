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

# Retried only when the build failed because a grant the foundation just made to the build service account is not in
# effect yet (IAM changes take up to a few minutes to propagate). The messages Cloud Build and gcloud print then:
#   - fetching the uploaded source: "<build account> does not have storage.objects.get access to the Google Cloud
#     Storage object" (or storage.objects.list, on the bucket)
#   - opening the log file in the staging bucket: "Failure setting up GCS logging: ... <build account> does not have
#     storage.objects.create access"
#   - pushing the image: denied: Permission "artifactregistry.repositories.uploadArtifacts" denied on resource
#   - writing logs: "The service account running this build ... does not have permission to write logs"
# Anything else (a failing Dockerfile step, the deployer's own missing role, a quota) fails at once, with its log.
retry_seconds="${BUILD_RETRY_SECONDS:-30}"
attempts=3
output="$workdir/gcloud.out"
propagation_pattern="${BUILD_SERVICE_ACCOUNT//./\\.} does not have storage\.objects\.(get|list|create) access|Permission \"artifactregistry\.repositories\.uploadArtifacts\" denied|service account running this build.*does not have permission to write logs"

for attempt in $(seq "$attempts"); do
  set +e
  gcloud builds submit "$workdir/context.tgz" \
    --project="$PROJECT_ID" \
    --region="$REGION" \
    --tag="$IMAGE" \
    --service-account="projects/$PROJECT_ID/serviceAccounts/$BUILD_SERVICE_ACCOUNT" \
    --gcs-source-staging-dir="gs://$STAGING_BUCKET/source" \
    --gcs-log-dir="gs://$STAGING_BUCKET/logs" \
    --timeout=1800s 2>&1 | tee "$output"
  status="${PIPESTATUS[0]}"
  set -e
  [ "$status" -eq 0 ] && exit 0

  if grep -Eq "$propagation_pattern" "$output"; then
    if [ "$attempt" -lt "$attempts" ]; then
      echo "build-image: attempt $attempt failed because a new IAM grant of $BUILD_SERVICE_ACCOUNT is not in effect yet; retrying in $((attempt * retry_seconds)) s" >&2
      sleep $((attempt * retry_seconds))
      continue
    fi
    echo "build-image: Cloud Build failed $attempts times for $IMAGE on a permission of $BUILD_SERVICE_ACCOUNT; its grants are in the foundation stack (make deploy applies them), check them with: gcloud projects get-iam-policy $PROJECT_ID" >&2
    exit 1
  fi

  # Not a propagation error: one attempt, and the build's log where the user sees it.
  build_id="$(sed -nE 's#.*/builds/([0-9a-fA-F-]{8,})\]?.*#\1#p' "$output" | head -n 1)"
  if [ -n "$build_id" ] && ! grep -q "^Step #\|^BUILD$\|^FETCHSOURCE$" "$output"; then
    # gcloud did not stream the log (for example the stream was cut): fetch it.
    gcloud builds log "$build_id" --region="$REGION" --project="$PROJECT_ID" >"$workdir/build.log" 2>&1 || true
    cat "$workdir/build.log" >>"$output"
  fi
  {
    echo "build-image: Cloud Build failed for $IMAGE (not an IAM propagation error, so not retried)."
    if grep -Eq "iam\.serviceAccounts\.actAs|act as service account" "$output"; then
      echo "build-image: you (the deployer) may not act as $BUILD_SERVICE_ACCOUNT: you need roles/iam.serviceAccountUser (see infra/README.md)."
    fi
    echo "build-image: last lines of the build's output:"
    tail -n 40 "$output" | sed 's/^/  | /'
    if [ -n "$build_id" ]; then
      echo "build-image: full log: gcloud builds log $build_id --region=$REGION --project=$PROJECT_ID"
    fi
  } >&2
  exit 1
done
