/** The typed profile reader for personalization services. */
export { ProfileReader, UnprocessedKeysError, BATCH_GET_LIMIT, PROFILE_READ_RETRY_POLICY, type ProfileReaderOptions, type ReadOptions, type UserProfile } from './reader';
export type { DerivedFeatures, CategoryAffinity } from '@internal/core/profiles/derive';
