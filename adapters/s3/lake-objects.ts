/**
 * Replacing and deleting lake objects for an erasure, so that nothing of the old object stays:
 *
 * - A PUT to the same key replaces the object atomically (S3 has strong read-after-write consistency: a reader
 *   gets the old object or the new one, never a mix).
 * - In a versioned bucket that PUT (or a DELETE) keeps the previous version as a noncurrent version, which a
 *   lifecycle rule would delete only after `noncurrentVersionExpirationDays`. So every version of the key
 *   except the new current one is deleted by its VersionId (a DELETE with a VersionId removes that version
 *   for good and adds no delete marker). Delete markers of the key are removed the same way.
 * - Object Lock would refuse those deletes; the lake's buckets do not enable it (pinned by an infrastructure
 *   test).
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export class S3LakeObjects {
  constructor(private readonly s3: S3Client) {}

  /** The object's bytes, or undefined when there is none. */
  async get(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async exists(bucket: string, key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 || (err as Error).name === 'NotFound') return false;
      throw err;
    }
  }

  /** Puts `body` at `key` (or deletes the key when null), then removes every other version of the key. */
  async replace(bucket: string, key: string, body: Buffer | null, contentType?: string): Promise<void> {
    let current: string | undefined;
    if (body) {
      const out = await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
      current = out.VersionId;
    } else {
      await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
    await this.purgeOtherVersions(bucket, key, current);
  }

  /** Deletes every version and delete marker of `key` but `keep`. Returns how many. */
  async purgeOtherVersions(bucket: string, key: string, keep: string | undefined): Promise<number> {
    let deleted = 0;
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      } catch (err) {
        // An S3 without versioning support (the local emulator answers 405) keeps no old versions to delete.
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 501 || status === 405 || (err as Error).name === 'NotImplemented' || (err as Error).name === 'MethodNotAllowed') return 0;
        throw err;
      }
      const all = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
      for (const v of all) {
        if (v.Key !== key || !v.VersionId || v.VersionId === 'null' || v.VersionId === keep) continue;
        await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.VersionId }));
        deleted++;
      }
      if (!page.IsTruncated) return deleted;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
  }
}
