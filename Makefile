# One entry point for people and CI. Every target is safe to run on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export CHECKPOINT_DISABLE := 1
export DISABLE_VERSION_CHECK := 1

node_modules: package.json package-lock.json
	npm ci
	@touch node_modules

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

.PHONY: build
build: node_modules ## Build the service and the browser client into dist/
	npm run build

.PHONY: dev
dev: node_modules ## Run Redis, 3 instances and the Cloud Run-like front on http://localhost:8080 (INSTANCES=, PORT=, REQUEST_TIMEOUT=, REDIS=cluster)
	npm run build
	npx tsx local/dev.ts

.PHONY: check check-types check-lint
check: node_modules ## The fast loop, about a minute: formatting, types, lint, unused code, unit tests (no build, Redis or browser)
	npm run format:check
	@$(MAKE) --no-print-directory -j2 --output-sync=target check-types check-lint
	npm run knip
	npx jest --selectProjects unit
# tsc and ESLint side by side on two cores (the type-aware rules build a program of their own); the unit tests after
# them, alone, as some of them count timers.
check-types:
	npm run typecheck
check-lint:
	npm run lint -- --cache --cache-location node_modules/.cache/eslint/

.PHONY: test
test: node_modules ## Type-check, lint, build and run every test (what .ci/run runs)
	npm test

# One jest project at a time (jest.config.js, docs/development.md); the infra project: make infra-test.
.PHONY: test-unit test-integration test-faults test-browser
test-unit: node_modules ## Unit tests only: nothing but Node
	npx jest --selectProjects unit
test-integration: build ## Integration tests: real Redis and service instances on 127.0.0.1
	npx jest --selectProjects integration
test-faults: build ## Fault tests: instances, Redis and the front, killed and restarted
	npx jest --selectProjects faults
test-browser: build ## Browser tests: Debian's Chromium against real instances
	npx jest --selectProjects browser

.PHONY: bench
bench: build ## Ours against the plain Redis-adapter design, every delivery checked: ladder, overload, frames, Redis cost, scale-out, catch-up; writes bench/*.json and bench/RESULTS.md (bench/README.md; about an hour)
	npx tsx bench/compare.ts
	npx tsx bench/scale-out.ts
	npx tsx bench/catchup.ts
	npx tsx bench/report.ts

.PHONY: bench-report
bench-report: node_modules ## Render bench/RESULTS.md and bench/SOAK.md again from the JSON the benchmarks wrote (measures nothing)
	npx tsx bench/report.ts

.PHONY: bench-scale
bench-scale: build ## Scale-out alone: subscriber bytes per stroke and Redis traffic per instance at 3 and 6 instances, sharded vs plain adapter (SCALE_INSTANCES=, SCALE_LOADS=, SCALE_SECONDS=; about 10 minutes)
	npx tsx bench/scale-out.ts
	npx tsx bench/report.ts

.PHONY: bench-catchup
bench-catchup: build ## A large board drawn by a late joiner's page in Chromium; writes bench/CATCHUP.md (CATCHUP_ELEMENTS=, CATCHUP_VIEWS=, CATCHUP_SERVICE=1)
	npx tsx bench/catchup.ts

.PHONY: soak
soak: build ## 100 clients, 10 boards, 30 lines/s for 30 minutes (SOAK_MINUTES=): RSS, heap and Redis memory slopes; writes bench/SOAK.md
	npx tsx bench/soak.ts

.PHONY: load
load: build ## 750 clients through the front at 1,000 strokes/s for 60 s (CLIENTS=, SECONDS=, STROKES_PER_SECOND=); writes bench/LOAD.md
	npx tsx bench/load.ts

.PHONY: bench-replication
bench-replication: build ## What REDIS_WAIT_REPLICAS=1 costs: ack latency with 0 and 1, a primary and a replica; writes bench/REPLICATION.md (about 2 minutes)
	npx tsx bench/replication.ts

.PHONY: bench-abuse
bench-abuse: build ## An honest user's stroke-ack latency before and during each attack; writes bench/ABUSE.md (about 5 minutes)
	npx tsx bench/abuse.ts

.PHONY: screenshot
screenshot: build ## Two browser pages on two instances, side by side: docs/screenshot.png
	npx tsx local/screenshot.ts

.PHONY: dashboard-preview
dashboard-preview: ## The Cloud Monitoring dashboard's layout (placeholder curves), offline: docs/dashboard.png
	npx tsx local/dashboard-preview.ts

# --- Infrastructure (infra/README.md) -------------------------------------------------------------------------
# ENV picks the environment (dev or prod) and so its committed settings file, infra/env/$(ENV).json, which holds every
# setting. PROJECT_ID fills the file's projectId when it is empty; REGION, STATE_BUCKET, DOMAINS, IMAGE and
# DELETION_PROTECTION may only repeat the file, unless named in OVERRIDE (e.g. OVERRIDE=DOMAINS,IMAGE) for one run.
# infra/main.ts and infra/scripts/settings.ts read them from the environment (make exports command-line variables).
ENV ?= dev
CDKTF := npx --no-install cdktf
INFRA_APP := node --require tsx/cjs infra/main.ts

.PHONY: synth
synth: node_modules ## Synthesize ENV's stacks from infra/env/ENV.json into cdktf.out/ (same output as `npx cdktf synth`)
	ENVIRONMENT=$(ENV) $(INFRA_APP)

.PHONY: infra-settings
infra-settings: node_modules ## Print ENV's resolved settings: infra/env/ENV.json with every default filled in
	@ENVIRONMENT=$(ENV) node --require tsx/cjs infra/scripts/settings.ts --json

.PHONY: infra-bootstrap
infra-bootstrap: node_modules ## Once per project and ENV: enable ENV's APIs, wait until they answer, create the state bucket
	ENVIRONMENT=$(ENV) bash infra/scripts/bootstrap.sh

.PHONY: infra-preflight
infra-preflight: node_modules ## Check settings, Terraform >= 1.5, gcloud logins and ENV's APIs before touching the cloud
	ENVIRONMENT=$(ENV) bash infra/scripts/preflight.sh deploy

.PHONY: plan
plan: node_modules infra-preflight ## Show what deploy would change in ENV (the app plan needs a deployed foundation)
	ENVIRONMENT=$(ENV) $(CDKTF) diff $(ENV)-foundation
	ENVIRONMENT=$(ENV) $(CDKTF) diff $(ENV)-app

.PHONY: deploy
deploy: node_modules infra-preflight ## Deploy ENV as infra/env/ENV.json says (PROJECT_ID= fills its empty projectId; OVERRIDE=NAME,... for one run)
	ENVIRONMENT=$(ENV) $(CDKTF) deploy $(ENV)-foundation $(ENV)-app --auto-approve \
		--outputs-file cdktf.out/outputs-$(ENV).json
	@echo "Outputs of $(ENV): cdktf.out/outputs-$(ENV).json"

.PHONY: smoke
smoke: node_modules ## After a deploy: two clients, a late joiner, a WebSocket held past a minute, headers, /metrics closed (ENV=, or URL=; SMOKE_HOLD_SECONDS=)
	ENV=$(ENV) npx tsx local/smoke/main.ts

.PHONY: destroy
destroy: node_modules ## Destroy ENV: app, then foundation; retries only what Google releases later (prod: see infra/README.md)
	ENVIRONMENT=$(ENV) bash infra/scripts/preflight.sh destroy
	ENVIRONMENT=$(ENV) bash infra/scripts/destroy.sh

.PHONY: infra-test
infra-test: node_modules ## Type-check, lint and run the infrastructure tests only
	npx tsc --noEmit
	npx eslint --max-warnings 0 infra test/infra
	npx jest test/infra --maxWorkers=2

.PHONY: infra-docs
infra-docs: node_modules ## Regenerate infra/README.md's configuration table from infra/config/settings.ts
	node --require tsx/cjs infra/scripts/settings-table.ts

.PHONY: infra-bench
infra-bench: node_modules ## Time `cdktf synth` and the infra tests (repeated runs; figures go in infra/README.md)
	bash infra/scripts/bench.sh
