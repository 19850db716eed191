/**
 * Stands in for @aws-sdk/credential-provider-node in every deployed bundle (an esbuild alias that
 * PlatformFunction sets, PLATFORM_BUNDLE_ALIASES). A Lambda function always receives its role's credentials in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the default chain's SSO, INI, process,
 * web-identity and container providers, with the STS/SSO clients they carry, are dead weight: about 135 KB
 * of the bundle and their import time on every cold start. Source runs (tests, the local runtime) keep the
 * full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}): AwsCredentialIdentityProvider => fromEnv(init);

/** Environment credentials are refreshed by Lambda between invocations, never by the SDK. */
export const credentialsWillNeedRefresh = (): boolean => false;
export const credentialsTreatedAsExpired = (): boolean => false;
