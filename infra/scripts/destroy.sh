#!/usr/bin/env bash
# Destroys one environment in reverse dependency order: the app stack (Cloud Run, image build record, load
# balancer), then the foundation stack (Redis, network, registry, secret, identities).
#
# The foundation destroy is retried, but only for the two errors Google clears by itself later:
#   - a Serverless VPC Access connector's firewall rules (named aet-...) still in use after the connector is deleted:
#       Error waiting for Deleting Network: The network resource 'projects/P/global/networks/N' is already being
#       used by 'projects/P/global/firewalls/aet-<region>-<connector>-...'
#   - a Direct VPC egress subnet whose addresses Cloud Run still holds, 1 to 2 hours after the service is gone:
#       The subnetwork resource 'projects/P/regions/R/subnetworks/S' is already being used by
#       'projects/P/regions/R/addresses/serverless-ipv4-...'
#   - Memorystore for Redis's peering (redis-peer-...), which the producer removes some time after the instance:
#       The network resource 'projects/P/global/networks/N' is already being used by
#       'projects/P/global/networks/N/peerings/redis-peer-...' (or "... has peering redis-peer-...")
#   - the Redis Cluster's Private Service Connect subnet (<base>-redis-psc), briefly held by the endpoints' forwarding
#     rules and addresses after the cluster is deleted:
#       The subnetwork resource '.../subnetworks/<base>-redis-psc' is already being used by '.../forwardingRules/...'
#       (or '.../addresses/...')
# (infra/README.md cites the public reports of the last two.)
# Any other failure (deletion protection, prevent_destroy, permission denied, an API turned off, anything unknown)
# stops at once with what to do: retrying cannot fix it. Re-running `make destroy` resumes with what is left.
#
# Environment: ENVIRONMENT (required), DESTROY_WAIT_MINUTES (150), DESTROY_RETRY_SECONDS (300), CDKTF (the command
# that runs cdktf; default `npx --no-install cdktf`, the tests put a stub on PATH and set CDKTF=cdktf).
set -euo pipefail
env_name="${ENVIRONMENT:?set ENVIRONMENT}"
wait_minutes="${DESTROY_WAIT_MINUTES:-150}"
retry_seconds="${DESTROY_RETRY_SECONDS:-300}"
read -r -a cdktf <<<"${CDKTF:-npx --no-install cdktf}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# The "in use" errors that clear by themselves (see above).
transient_pattern="already being used by '[^']*/(global/firewalls/aet-|addresses/serverless-ipv4-|peerings/redis-peer-)|peering redis-peer-|subnetworks/[a-z0-9-]*-redis-psc' is already being used by '[^']*/(forwardingRules|addresses)/"
# Lines that report an error; cdktf's own closing line repeats that Terraform failed and is not counted.
error_lines() { grep -E '(^|[^[:alnum:]_])Error: ' "$1" | grep -v 'Invoking Terraform CLI failed' || true; }

# Retry only when every error of the run is a known transient one.
is_transient() {
  local errors transient
  errors="$(error_lines "$1" | wc -l)"
  transient="$(grep -Ec "$transient_pattern" "$1" || true)"
  [ "$transient" -ge 1 ] && [ "$errors" -le "$transient" ]
}

# Explains a permanent failure: what it is and what to do.
explain() { # stack, log file
  local stack="$1" file="$2"
  echo "destroy: $stack failed with an error that waiting cannot fix; not retried." >&2
  if grep -q "deletion_protection=false" "$file"; then
    echo "destroy: deletion protection is on (Cloud Run service or secret). Turn it off in state first, then destroy with the same setting:" >&2
    echo "destroy:   make deploy  ENV=$env_name DELETION_PROTECTION=false OVERRIDE=DELETION_PROTECTION" >&2
    echo "destroy:   make destroy ENV=$env_name DELETION_PROTECTION=false OVERRIDE=DELETION_PROTECTION" >&2
    echo "destroy: (or set \"deletionProtection\": false in infra/env/$env_name.json, deploy, destroy)" >&2
  elif grep -Eq "prevent_destroy|Instance cannot be destroyed" "$file"; then
    echo "destroy: Redis has lifecycle.prevent_destroy (deletion protection). Destroy with protection off:" >&2
    echo "destroy:   make destroy ENV=$env_name DELETION_PROTECTION=false OVERRIDE=DELETION_PROTECTION" >&2
  elif grep -Eq "has not been used in project|SERVICE_DISABLED|accessNotConfigured" "$file"; then
    echo "destroy: a Google API is turned off in the project; enable it again (make infra-bootstrap ENV=$env_name), then re-run make destroy." >&2
  elif grep -Eiq "Error 403|PERMISSION_DENIED|permission denied|does not have permission|does not have [a-z.]+ access|denied on resource" "$file"; then
    echo "destroy: permission denied: the account Terraform uses (gcloud auth application-default login) lacks a role;" >&2
    echo "destroy: see 'Roles needed to deploy' in infra/README.md, then re-run make destroy." >&2
  else
    echo "destroy: not one of the known transient errors (connector firewall rules, a Direct VPC subnet, Redis's peering or the cluster's PSC subnet still in use); see the error above, fix it, then re-run make destroy." >&2
  fi
}

run() { # stack, extra arguments...
  local stack="$1"
  shift
  set +e
  "${cdktf[@]}" destroy "$stack" --auto-approve "$@" 2>&1 | tee "$log"
  local status="${PIPESTATUS[0]}"
  set -e
  return "$status"
}

if ! run "$env_name-app"; then
  explain "$env_name-app" "$log"
  exit 1
fi

deadline=$((SECONDS + wait_minutes * 60))
attempt=1
until run "$env_name-foundation" --ignore-missing-stack-dependencies --skip-synth; do
  if ! is_transient "$log"; then
    explain "$env_name-foundation" "$log"
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "destroy: the foundation of $env_name still has resources Google holds after $wait_minutes minutes." >&2
    echo "destroy: run 'make destroy ENV=$env_name' again later; Terraform resumes with what is left." >&2
    exit 1
  fi
  echo "destroy: attempt $attempt hit a resource Google releases later (connector firewall rules, a Direct VPC subnet, Redis's peering or the PSC subnet); retrying in $retry_seconds s" >&2
  attempt=$((attempt + 1))
  sleep "$retry_seconds"
done
echo "destroy: $env_name is gone (APIs stay enabled on purpose; see infra/README.md)"
