#!/usr/bin/env bash
# Destroys one environment in reverse dependency order: the app stack (Cloud Run, image build record, load
# balancer), then the foundation stack (Redis, network, registry, secret, identities).
#
# The foundation destroy is retried: Google releases some network attachments only after a delay. With Direct VPC
# egress, Cloud Run holds the subnet's addresses for 1 to 2 hours after the service is deleted (documented Cloud Run
# behaviour), and the subnet and VPC cannot be deleted before. Waiting here is what makes `make destroy` leave nothing
# behind. DESTROY_WAIT_MINUTES (default 150) caps the wait; re-running `make destroy` later resumes where it stopped.
set -euo pipefail
env_name="${ENVIRONMENT:?set ENVIRONMENT}"
wait_minutes="${DESTROY_WAIT_MINUTES:-150}"
retry_seconds="${DESTROY_RETRY_SECONDS:-300}"
cdktf=(npx --no-install cdktf)

"${cdktf[@]}" destroy "$env_name-app" --auto-approve

deadline=$((SECONDS + wait_minutes * 60))
attempt=1
until "${cdktf[@]}" destroy "$env_name-foundation" --auto-approve --ignore-missing-stack-dependencies --skip-synth; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "destroy: the foundation of $env_name is not fully deleted after $wait_minutes minutes." >&2
    echo "destroy: run 'make destroy ENV=$env_name' again later; Terraform resumes with what is left." >&2
    exit 1
  fi
  echo "destroy: attempt $attempt failed (typically a subnet Cloud Run still holds); retrying in $retry_seconds s" >&2
  attempt=$((attempt + 1))
  sleep "$retry_seconds"
done
echo "destroy: $env_name is gone (APIs stay enabled on purpose; see infra/README.md)"
