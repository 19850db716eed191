/** The typed profile reader for personalization services. */
export {
  ProfileReader,
  ProfileBatch,
  ReadDeadlineError,
  BATCH_GET_LIMIT,
  PROFILE_READ_RETRY_POLICY,
  type ProfileReaderOptions,
  type ReadOptions,
  type UnreadReason,
  type UnreadUsers,
  type UserProfile,
} from './reader';
export type { DerivedFeatures, CategoryAffinity } from '@internal/core/profiles/derive';
export type { FeatureFreshness } from '@internal/core/profiles/freshness';
export type { Profile as ProfileItem } from '@internal/core/profiles/model';
export type { RetryPolicy } from '@internal/core/retry-policy';
