#!/usr/bin/env bash
# The end-to-end suite against LocalStack: start it, deploy the stack, point the suite at the stack's
# resources through the standard AWS variables and the PDP_* names, run test/e2e, stop LocalStack.
# Needs Docker. Glue/Athena are not in LocalStack's free edition: those parts are skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPOSE="docker compose -f localstack/docker-compose.yml"
cleanup() { $COMPOSE down -v >/dev/null 2>&1 || true; }
trap cleanup EXIT

$COMPOSE up -d
echo "waiting for LocalStack..."
for _ in $(seq 1 60); do
  curl -fs http://localhost:4566/_localstack/health >/dev/null && break
  sleep 2
done

localstack/deploy.sh

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_ENDPOINT_URL=http://localhost:4566
STACK="PersonalizationPlatform-${STAGE:-dev}"
output() { node -e "const o=require('./localstack/outputs.json')['$STACK']; const k=Object.keys(o).find(k=>k.includes('$1')); if(!k) process.exit(1); console.log(o[k])"; }
export PDP_E2E_TARGET=external
export PDP_RAW_STREAM="$(output RawStreamName)"
export PDP_PROFILE_TABLE="$(output ProfileTableName)"
export PDP_RAW_BUCKET="$(output RawBucketName)"
export PDP_CURATED_BUCKET="$(output CuratedBucketName)"
export PDP_QUARANTINE_BUCKET="$(output QuarantineBucketName)"
# Deployed windows (30 s) and Firehose buffers (60 s) are slower than the local runtime's.
export PDP_E2E_SETTLE_SECONDS="${PDP_E2E_SETTLE_SECONDS:-300}"
env | grep '^PDP_' | sort
npx vitest run test/e2e --testTimeout=600000 --hookTimeout=600000
