/** The synced configs as a ConfigSource: the same files `offload sync` published, read from S3. */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { kindOf } from '../../tools/src/config/load.js';
import type { ConfigSource } from '../../tools/src/config/source.js';

export function s3Source(s3: S3Client, bucket: string, prefix: string): ConfigSource {
  return {
    label: `s3://${bucket}/${prefix}`,
    async listFiles() {
      const out: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${prefix}/`,
            ...(ContinuationToken ? { ContinuationToken } : {}),
          }),
        );
        for (const o of page.Contents ?? []) {
          const rel = o.Key!.slice(prefix.length + 1);
          // The settings file and databases/*.yaml, policies/*.yaml — the files a checkout holds.
          if (kindOf(rel) && rel.split('/').length <= 2) out.push(rel);
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return out.sort();
    },
    async readFile(rel) {
      try {
        const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${rel}` }));
        return await o.Body!.transformToByteArray();
      } catch (e) {
        if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
        throw e;
      }
    },
  };
}
