#!/usr/bin/env bash
# Offline check of the image build step, with real Terraform and a stub gcloud (no cloud account needed):
# synthesizes the dev app stack against a copy of the test fixture context, keeps only its terraform_data build
# resource (built into Terraform, so `terraform init` downloads nothing), then
#   1. apply: the local-exec provisioner runs build-image.sh, which packs the hashed files and calls
#      `gcloud builds submit` with the expected flags;
#   2. apply again: nothing changes, nothing is rebuilt;
#   3. change a source file, re-synthesize, apply: the tag changes and the build runs again.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] && cat "$work/gcloud.log"; rm -rf "$work"' EXIT

mkdir -p "$work/root/infra/image" "$work/bin"
cp -R "$repo/test/infra/fixtures/build-context/." "$work/root/"
cp "$repo/infra/image/build-image.sh" "$work/root/infra/image/"

# Stub gcloud: images never exist yet; a build records its flags and the archive's file list.
cat >"$work/bin/gcloud" <<'STUB'
#!/usr/bin/env bash
echo "gcloud $*" >>"$GCLOUD_LOG"
if [ "$1 $2" = "artifacts docker" ]; then exit 1; fi
if [ "$1 $2" = "builds submit" ]; then tar -tzf "$3" | sort >>"$GCLOUD_LOG"; fi
exit 0
STUB
chmod +x "$work/bin/gcloud"
export GCLOUD_LOG="$work/gcloud.log" PATH="$work/bin:$PATH" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
: >"$GCLOUD_LOG"

synth() {
  # Synthesize with the copied context, keep the terraform_data resource only, and place it where cdktf would.
  (cd "$repo" && node --require tsx/cjs -e '
    const { App } = require("cdktf");
    const { addWhiteboardStacks } = require("./infra/app");
    const { parseInfraConfig } = require("./infra/config/schema");
    const fs = require("node:fs");
    const os = require("node:os");
    const path = require("node:path");
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-build-"));
    const app = new App({ outdir });
    addWhiteboardStacks(app, { configs: [parseInfraConfig({ projectId: "verify-project" })], rootFromStackDir: "../../..", buildContextDir: process.argv[1] });
    app.synth();
    const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks/dev-app/cdk.tf.json"), "utf8"));
    fs.rmSync(outdir, { recursive: true, force: true });
    const only = { resource: { terraform_data: json.resource.terraform_data } };
    fs.mkdirSync(process.argv[2], { recursive: true });
    fs.writeFileSync(path.join(process.argv[2], "main.tf.json"), JSON.stringify(only, null, 2));
  ' "$work/root" "$work/root/cdktf.out/stacks/dev-app")
}

builds() { grep -c "^gcloud builds submit" "$GCLOUD_LOG" || true; }
stack="$work/root/cdktf.out/stacks/dev-app"

synth
terraform -chdir="$stack" init -input=false >/dev/null
terraform -chdir="$stack" apply -auto-approve -input=false >/dev/null
[ "$(builds)" = 1 ] || { echo "verify: first apply did not build once" >&2; cat "$GCLOUD_LOG" >&2; exit 1; }
for flag in --tag=us-central1-docker.pkg.dev/verify-project/whiteboard-dev/whiteboard: \
  --service-account=projects/verify-project/serviceAccounts/whiteboard-dev-build@verify-project.iam.gserviceaccount.com \
  --gcs-source-staging-dir=gs://verify-project-whiteboard-dev-build/source --gcs-log-dir=gs://verify-project-whiteboard-dev-build/logs \
  --region=us-central1 --project=verify-project; do
  grep -q -- "$flag" "$GCLOUD_LOG" || { echo "verify: missing $flag" >&2; cat "$GCLOUD_LOG" >&2; exit 1; }
done
grep -qx "service/main.ts" "$GCLOUD_LOG" || { echo "verify: archive lacks service/main.ts" >&2; exit 1; }

terraform -chdir="$stack" apply -auto-approve -input=false >/dev/null
[ "$(builds)" = 1 ] || { echo "verify: an unchanged context was rebuilt" >&2; exit 1; }

echo "// changed" >>"$work/root/service/main.ts"
synth
terraform -chdir="$stack" apply -auto-approve -input=false >/dev/null
[ "$(builds)" = 2 ] || { echo "verify: a changed context was not rebuilt" >&2; exit 1; }
[ "$(grep "^gcloud builds submit" "$GCLOUD_LOG" | sed -E 's/.*--tag=([^ ]+).*/\1/' | sort -u | wc -l)" = 2 ] ||
  { echo "verify: the two builds did not use two tags" >&2; exit 1; }

echo "verify-image-build: ok (built once, skipped when unchanged, rebuilt with a new tag after a change)"
