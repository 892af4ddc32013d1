#!/usr/bin/env bash
# Waits until Cloud Monitoring knows a user-defined metric created moments ago, so that the alert policy reading it can
# be created in the same apply. A log-based metric is not visible to the Monitoring API for up to about 10 minutes
# after it is created; an alert policy created meanwhile is refused with
#   Error 404: Cannot find metric(s) that match type = "logging.googleapis.com/user/...". If a metric was created
#   recently, it could take up to 10 minutes to become available.
# and provider 6.50.0 retries alert-policy creation only on HTTP 409 (hashicorp/terraform-provider-google#11102).
#
# Asks metricDescriptors.get every METRIC_WAIT_INTERVAL seconds (15) until it answers 200, for at most
# METRIC_WAIT_SECONDS (900). 404 (not visible yet), 429, 5xx and a failed connection are waited out; any other answer
# (403: the deploying account may not read metric descriptors) stops at once. Run by Terraform (terraform_data
# local-exec in the app stack) only when the metric is created or replaced; a later deploy does not wait.
#
# Environment: PROJECT_ID, METRIC_TYPE (e.g. logging.googleapis.com/user/whiteboard-dev-error-logs),
# METRIC_WAIT_SECONDS, METRIC_WAIT_INTERVAL. Uses gcloud (an access token of the deploying account) and curl.
set -euo pipefail
project="${PROJECT_ID:?set PROJECT_ID}"
metric="${METRIC_TYPE:?set METRIC_TYPE}"
wait_seconds="${METRIC_WAIT_SECONDS:-900}"
interval="${METRIC_WAIT_INTERVAL:-15}"
url="https://monitoring.googleapis.com/v3/projects/${project}/metricDescriptors/${metric//\//%2F}"

deadline=$((SECONDS + wait_seconds))
while :; do
  token="$(gcloud auth print-access-token --quiet)"
  status="$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' --max-time 20 \
    --header "Authorization: Bearer ${token}" "$url" || echo 000)"
  case "$status" in
    200)
      echo "wait-for-metric: Cloud Monitoring knows ${metric}"
      exit 0
      ;;
    404 | 000 | 429 | 5??) ;;
    *)
      echo "wait-for-metric: metricDescriptors.get of ${metric} answered HTTP ${status}; not waiting for that" >&2
      exit 1
      ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "wait-for-metric: ${metric} is still unknown to Cloud Monitoring after ${wait_seconds}s (last answer HTTP ${status})." >&2
    echo "wait-for-metric: run make deploy again later; Terraform creates the alert policy then." >&2
    exit 1
  fi
  echo "wait-for-metric: ${metric} not visible yet (HTTP ${status}); asking again in ${interval}s"
  sleep "$interval"
done
