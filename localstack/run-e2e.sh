#!/usr/bin/env bash
# The end-to-end suite against LocalStack: start it, deploy the localstack stage, point the suite at the stack's
# resources through the standard AWS variables and the PDP_* names, run test/e2e, stop LocalStack.
# Needs Docker (and npm ci). What LocalStack's free edition cannot do is skipped with a printed reason: the
# table is docs/localstack.md, the registry test/e2e/support/localstack-gaps.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE="docker compose -f localstack/docker-compose.yml"
cleanup() { $COMPOSE down -v >/dev/null 2>&1 || true; }
trap cleanup EXIT

$COMPOSE up -d
echo "waiting for LocalStack..."
healthy=0
for _ in $(seq 1 60); do
  if curl -fs http://localhost:4566/_localstack/health >/dev/null; then healthy=1; break; fi
  sleep 2
done
if [ "$healthy" != 1 ]; then
  echo "LocalStack did not become healthy within 2 minutes:" >&2
  $COMPOSE logs --tail 50 >&2 || true
  exit 1
fi

export STAGE="${STAGE:-localstack}"
localstack/deploy.sh

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ENDPOINT_URL=http://localhost:4566
STACK="PersonalizationPlatform-${STAGE}"
output() { node -e "const o=require('./localstack/outputs.json')['$STACK']; const k=Object.keys(o).find(k=>k.includes('$1')); if(!k) process.exit(1); console.log(o[k])"; }
export PDP_E2E_TARGET=external
export PDP_E2E_PLATFORM=localstack
export PDP_RAW_STREAM="$(output RawStreamName)"
export PDP_PROFILE_TABLE="$(output ProfileTableName)"
export PDP_RAW_BUCKET="$(output RawBucketName)"
export PDP_CURATED_BUCKET="$(output CuratedBucketName)"
export PDP_QUARANTINE_BUCKET="$(output QuarantineBucketName)"
# Per-batch profiles are quick; Firehose and LocalStack's Lambda containers are slower than the local runtime.
export PDP_E2E_SETTLE_SECONDS="${PDP_E2E_SETTLE_SECONDS:-300}"
env | grep '^PDP_' | sort
node_modules/.bin/vitest run test/e2e --testTimeout=600000 --hookTimeout=600000
