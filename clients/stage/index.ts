/**
 * Finding a deployed stage's names: from a `cdk deploy --outputs-file` file, from the stack's outputs
 * (CloudFormation DescribeStacks), or from its SSM parameters (`/<prefix>/<stage>/`). Services use SSM at run
 * time; `npm run verify` uses whichever the platform engineer has.
 */
export * from './resolve';
export { STAGE_VALUES, STAGE_VALUE_NAMES, parameterPathOf, stackNameOf, type StageValueName, type StageValues } from '../../core/discovery/catalog';
