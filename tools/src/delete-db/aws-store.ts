/**
 * The AWS runtime's archives: Iceberg tables in the Glue Data Catalog (`metadata_location` parameter)
 * with their files in S3, audit records under an S3 prefix. Files are deleted version by version (an
 * Object Lock bucket is always versioned: deleting the current object alone would leave every version
 * behind a delete marker). Object Lock is read per object version when the bucket has it enabled.
 */
import {
  DeleteDatabaseCommand,
  DeleteTableCommand,
  GetDatabaseCommand,
  GetTablesCommand,
  type GetTablesCommandOutput,
  GlueClient,
  type Table,
} from '@aws-sdk/client-glue';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { UserError } from '../errors.js';
import { lineageOf } from './local-store.js';
import type { ArchiveTable, LockedObject } from './model.js';
import type { ArchiveStore } from './store.js';

const S3_URI = /^s3a?:\/\/([^/]+)\/?(.*)$/;

function parseS3(uri: string): { bucket: string; key: string } {
  const m = S3_URI.exec(uri);
  if (!m) throw new UserError(`${uri} is not an s3:// location`);
  return { bucket: m[1]!, key: m[2]! };
}
/** The key prefix of a table location, always ending with `/` (so `t1` never matches `t10`). */
const prefixOf = (location: string) => {
  const { bucket, key } = parseS3(location);
  return { bucket, prefix: key === '' || key.endsWith('/') ? key : `${key}/` };
};
const notFound = (e: unknown) => (e as { name?: string }).name === 'EntityNotFoundException';

interface Version {
  Key: string;
  VersionId?: string;
  Size?: number;
  marker: boolean;
}

export function createAwsArchiveStore(opts: { region: string; audit: string }): ArchiveStore {
  const glue = new GlueClient({ region: opts.region, maxAttempts: 8 });
  const s3 = new S3Client({ region: opts.region, maxAttempts: 8, forcePathStyle: !!process.env.AWS_ENDPOINT_URL });
  const audit = prefixOf(opts.audit);

  async function versions(location: string): Promise<Version[]> {
    const { bucket, prefix } = prefixOf(location);
    const out: Version[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, VersionIdMarker }),
      );
      for (const v of page.Versions ?? [])
        out.push({ Key: v.Key!, ...(v.VersionId ? { VersionId: v.VersionId } : {}), Size: v.Size ?? 0, marker: false });
      for (const d of page.DeleteMarkers ?? [])
        out.push({ Key: d.Key!, ...(d.VersionId ? { VersionId: d.VersionId } : {}), marker: true });
      KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (KeyMarker);
    return out;
  }

  async function readMetadata(uri: string): Promise<Record<string, string>> {
    const { bucket, key } = parseS3(uri);
    const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return lineageOf(await o.Body!.transformToString('utf8'));
  }

  async function lockEnabled(bucket: string): Promise<boolean> {
    try {
      const c = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      return c.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch (e) {
      if (/ObjectLockConfigurationNotFound/.test((e as { name?: string }).name ?? '')) return false;
      throw e;
    }
  }

  // No legal hold on a version: S3 answers 404 NoSuchObjectLockConfiguration. Anything else (AccessDenied
  // above all) stops the command before anything is deleted.
  const absent = (e: unknown) =>
    /NoSuchObjectLockConfiguration|ObjectLockConfigurationNotFound|NoSuchKey/.test(
      `${(e as { name?: string }).name} ${(e as { Code?: string }).Code ?? ''}`,
    );
  const denied = (e: unknown) => /AccessDenied|Forbidden/.test(`${(e as { name?: string }).name}`);

  /**
   * Retention is read from HeadObject's object-lock headers, which S3 sends only to callers allowed
   * s3:GetObjectRetention: a GetObjectRetention probe first, so a caller without it is stopped, not
   * shown "no retention". (moto answers GetObjectRetention with the object's body, so its answer is
   * used only as the permission check.)
   */
  async function probeRetentionPermission(bucket: string, key: string, versionId?: string) {
    try {
      await s3.send(
        new GetObjectRetentionCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
      );
    } catch (e) {
      if (denied(e))
        throw new UserError(
          `reading Object Lock retention of s3://${bucket}/${key} was denied: the caller needs s3:GetObjectRetention ` +
            'and s3:GetObjectLegalHold on the archive bucket (nothing was deleted)',
        );
    }
  }

  return {
    label: `aws (${opts.region}): glue + s3`,
    async databaseExists(db) {
      try {
        await glue.send(new GetDatabaseCommand({ Name: db }));
        return true;
      } catch (e) {
        if (notFound(e)) return false;
        throw e;
      }
    },
    async listTables(db) {
      const tables: Table[] = [];
      let NextToken: string | undefined;
      do {
        let page: GetTablesCommandOutput;
        try {
          page = await glue.send(new GetTablesCommand({ DatabaseName: db, NextToken }));
        } catch (e) {
          if (notFound(e)) return [];
          throw e;
        }
        tables.push(...(page.TableList ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
      const out: ArchiveTable[] = [];
      for (const t of tables.sort((a, b) => (a.Name! < b.Name! ? -1 : 1))) {
        const metadata = t.Parameters?.metadata_location;
        const location = t.StorageDescriptor?.Location ?? metadata?.replace(/\/metadata\/[^/]+$/, '');
        if (!location)
          throw new UserError(`${db}.${t.Name} has neither a location nor a metadata_location: delete it by hand`);
        if (prefixOf(location).prefix === '')
          throw new UserError(
            `${db}.${t.Name} is located at a bucket's root (${location}): refusing to delete a bucket`,
          );
        // Every version is deleted, so every version counts (files = object versions, bytes = their sizes).
        const current = (await versions(location)).filter((v) => !v.marker);
        let properties: Record<string, string> | undefined;
        let problem: string | undefined;
        try {
          if (!metadata) problem = 'no metadata_location (not an Iceberg table)';
          else properties = await readMetadata(metadata);
        } catch (e) {
          problem = `${metadata}: ${(e as Error).name}: ${(e as Error).message}`;
        }
        out.push({
          name: t.Name!,
          location: location.replace(/^s3a:/, 's3:'),
          properties,
          ...(problem ? { problem } : {}),
          files: current.length,
          bytes: current.reduce((n, v) => n + (v.Size ?? 0), 0),
        });
      }
      return out;
    },
    async lockedObjects(locations) {
      const out: LockedObject[] = [];
      const enabled = new Map<string, boolean>();
      const now = Date.now();
      for (const location of locations) {
        const { bucket } = prefixOf(location);
        if (!enabled.has(bucket)) enabled.set(bucket, await lockEnabled(bucket));
        if (!enabled.get(bucket)) continue;
        const found = (await versions(location)).filter((x) => !x.marker);
        if (found[0]) await probeRetentionPermission(bucket, found[0].Key, found[0].VersionId);
        for (const v of found) {
          const ref = { Bucket: bucket, Key: v.Key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) };
          const lock: LockedObject = {
            uri: `s3://${bucket}/${v.Key}`,
            ...(v.VersionId ? { versionId: v.VersionId } : {}),
          };
          const head = await s3.send(new HeadObjectCommand(ref));
          const until = head.ObjectLockRetainUntilDate;
          if (until && until.getTime() > now) {
            lock.retainUntil = until.toISOString();
            if (head.ObjectLockMode) lock.mode = head.ObjectLockMode;
          }
          try {
            const h = await s3.send(new GetObjectLegalHoldCommand(ref));
            if (h.LegalHold?.Status === 'ON') lock.legalHold = true;
          } catch (e) {
            if (!absent(e)) throw e;
          }
          if (lock.retainUntil || lock.legalHold) out.push(lock);
        }
      }
      return out;
    },
    async countFiles(location) {
      return (await versions(location)).length;
    },
    async deleteFiles(location) {
      const { bucket } = prefixOf(location);
      const all = await versions(location);
      for (let i = 0; i < all.length; i += 1000) {
        const Objects = all
          .slice(i, i + 1000)
          .map((v) => ({ Key: v.Key, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }));
        const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }));
        const first = out.Errors?.[0];
        if (first)
          throw new UserError(
            `S3 refused to delete ${out.Errors!.length} object version(s) under ${location}, e.g. ` +
              `${first.Key} ${first.VersionId ?? ''}: ${first.Code} ${first.Message}; ` +
              'what came before was deleted and recorded: run the command again once the cause is fixed',
            1,
          );
      }
    },
    async dropTableEntry(db, table) {
      try {
        await glue.send(new DeleteTableCommand({ DatabaseName: db, Name: table }));
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },
    async dropDatabase(db) {
      try {
        await glue.send(new DeleteDatabaseCommand({ Name: db }));
      } catch (e) {
        if (!notFound(e)) throw e;
      }
    },
    async writeAudit(name, record) {
      const Key = `${audit.prefix}${name}`;
      await s3.send(
        new PutObjectCommand({
          Bucket: audit.bucket,
          Key,
          Body: `${JSON.stringify(record, null, 2)}\n`,
          ContentType: 'application/json',
        }),
      );
      return `s3://${audit.bucket}/${Key}`;
    },
    async readAudits(prefix) {
      const out: Record<string, unknown>[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: audit.bucket, Prefix: `${audit.prefix}${prefix}`, ContinuationToken }),
        );
        for (const o of (page.Contents ?? []).sort((a, b) => (a.Key! < b.Key! ? -1 : 1))) {
          const body = await s3.send(new GetObjectCommand({ Bucket: audit.bucket, Key: o.Key! }));
          out.push(JSON.parse(await body.Body!.transformToString('utf8')) as Record<string, unknown>);
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return out;
    },
    close() {
      glue.destroy();
      s3.destroy();
    },
  };
}
