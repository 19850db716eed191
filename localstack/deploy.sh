#!/usr/bin/env bash
# Deploys the dev stage's stack into a running LocalStack with cdklocal (aws-cdk-local wraps the pinned CDK CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://localhost:4566}"
STAGE="${STAGE:-dev}"
npx --yes aws-cdk-local@3 bootstrap -c stage="$STAGE"
npx --yes aws-cdk-local@3 deploy -c stage="$STAGE" --require-approval never --outputs-file localstack/outputs.json
