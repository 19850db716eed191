#!/usr/bin/env bash
# Deploys the localstack stage (lib/config/stage-config.ts) into a running LocalStack with cdklocal, the
# aws-cdk-local dev dependency pinned in package.json (it drives the pinned aws-cdk CLI): nothing is fetched
# at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
STAGE="${STAGE:-localstack}"
CDKLOCAL=node_modules/.bin/cdklocal
if [ ! -x "$CDKLOCAL" ]; then
  echo "cdklocal is not installed: run npm ci first" >&2
  exit 1
fi
"$CDKLOCAL" bootstrap -c stage="$STAGE"
"$CDKLOCAL" deploy -c stage="$STAGE" --require-approval never --outputs-file localstack/outputs.json
