/**
 * The AWS target: config files in S3, normalized configs in the DynamoDB config table, Glue
 * connections. Credentials, region and endpoints come from the standard SDK chain
 * (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> included); throttling and transient errors are
 * retried by the SDK's standard retry strategy (exponential backoff with jitter).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  DynamoDBClient,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  CreateConnectionCommand,
  DeleteConnectionCommand,
  GetConnectionsCommand,
  GlueClient,
  UpdateConnectionCommand,
} from '@aws-sdk/client-glue';
import pLimit from 'p-limit';
import { UserError } from '../errors.js';
import type { OffloadSettings } from '../generated/settings.js';
import { hashConnection } from './desired.js';
import {
  MANIFEST_NAME,
  STATE_PK,
  parseManifest,
  type DesiredConnection,
  type DesiredFile,
  type RemoteConnection,
  type RemoteFile,
  type RemoteIssue,
  type RemoteItem,
  type Snapshot,
  type SyncState,
} from './model.js';
import { LostClaimError, LostRaceError, type Claim, type Fence, type ItemOp, type Target } from './target.js';
import { classifyItem, classifyKey } from './layout.js';
import { inputOfSpec, specOfConnection } from './connection.js';

export interface AwsTargetOptions {
  settings: OffloadSettings;
  /** Called once per HTTP attempt (retries included), e.g. to count requests by kind. */
  onRequest?: (service: string, command: string) => void;
  /** SDK attempts per call (first try included). Default 8. */
  maxAttempts?: number;
  /** Region override; default: the SDK chain, else the settings' region. */
  region?: string;
}

type AnyClient = { middlewareStack: { add: (mw: any, opts: any) => void } };

function counting(client: AnyClient, service: string, onRequest?: AwsTargetOptions['onRequest']) {
  if (!onRequest) return;
  client.middlewareStack.add(
    (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      onRequest(service, (context.commandName ?? 'unknown').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'deserialize', name: 'offloadRequestCounter', override: true },
  );
}

/** The region from the SDK chain (env, profile, IMDS…), or the settings' region when the chain has none. */
export async function resolveRegion(settingsRegion: string): Promise<string> {
  const probe = new S3Client({});
  try {
    const r = await probe.config.region();
    if (!r) return settingsRegion;
    if (r !== settingsRegion)
      throw new UserError(
        `the AWS region from the environment (${r}) is not the settings' region (${settingsRegion}) ` +
          'where the config bucket, table and connections live; ' +
          'unset AWS_REGION/AWS_DEFAULT_REGION or fix offload.settings.yaml',
        2,
      );
    return r;
  } catch (e) {
    if (e instanceof UserError) throw e;
    return settingsRegion;
  } finally {
    probe.destroy();
  }
}

export async function createAwsTarget(opts: AwsTargetOptions): Promise<Target> {
  const region = opts.region ?? (await resolveRegion(opts.settings.region));
  const common = { region, maxAttempts: opts.maxAttempts ?? 8, retryMode: 'standard' as const };
  const s3Config: S3ClientConfig = { ...common };
  // Path-style addressing for emulators and private endpoints (bucket.127.0.0.1 does not resolve).
  if (process.env.AWS_ENDPOINT_URL || process.env.AWS_ENDPOINT_URL_S3) s3Config.forcePathStyle = true;
  const s3 = new S3Client(s3Config);
  const ddbBase = new DynamoDBClient(common);
  const ddb = DynamoDBDocumentClient.from(ddbBase, { marshallOptions: { removeUndefinedValues: true } });
  const glue = new GlueClient(common);
  counting(s3, 's3', opts.onRequest);
  counting(ddbBase, 'dynamodb', opts.onRequest);
  counting(glue, 'glue', opts.onRequest);
  return new AwsTarget(opts.settings, region, s3, ddb, glue);
}

const Bucket = (s: OffloadSettings) => s.config.bucket;

class AwsTarget implements Target {
  readonly maxItemsPerBatch = 99; // TransactWriteItems takes 100 actions; the claim or fence uses one
  readonly label: string;
  private readonly prefix: string;
  private readonly table: string;

  constructor(
    private readonly settings: OffloadSettings,
    region: string,
    private readonly s3: S3Client,
    private readonly ddb: DynamoDBDocumentClient,
    private readonly glue: GlueClient,
  ) {
    this.prefix = settings.config.prefix.replace(/^\/+|\/+$/g, '');
    this.table = settings.config.dynamodb_table;
    this.label = `aws (${region}): s3://${Bucket(settings)}/${this.prefix}/, dynamodb:${this.table}, glue connections`;
  }

  async read(): Promise<Snapshot> {
    const issues: RemoteIssue[] = [];
    // The sync state first, on its own: whatever a completed sync wrote is then visible to the reads
    // below, and any sync still writing shows up as an unfinished claim (see plan's lock check).
    const state = await this.readState();
    const [items, listing, connections] = await Promise.all([
      this.scanTable(issues),
      this.listFiles(issues),
      this.listConnections(),
    ]);
    if (state.malformed) issues.push({ kind: 'state', id: STATE_PK, problem: 'malformed', message: state.malformed });
    const snapshot: Snapshot = { files: listing.files, items, connections, state, issues };
    if (listing.manifest) {
      const text = await wrap(
        `reading s3://${Bucket(this.settings)}/${listing.manifest}`,
        async () => {
          const out = await this.s3.send(
            new GetObjectCommand({ Bucket: Bucket(this.settings), Key: listing.manifest }),
          );
          return out.Body!.transformToString('utf8');
        },
        { notFound: () => undefined },
      );
      if (text !== undefined) {
        const m = parseManifest(text);
        if (typeof m === 'string')
          issues.push({
            kind: 'manifest',
            id: listing.manifest,
            problem: 'malformed',
            message: `manifest unreadable (${m}); it is treated as absent and rewritten on apply`,
          });
        else snapshot.manifest = m;
      }
    }
    return snapshot;
  }

  private async readState(): Promise<SyncState> {
    const out = await wrap(`reading the DynamoDB table ${this.table}`, () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: STATE_PK }, ConsistentRead: true })),
    );
    if (!out.Item) return { exists: false, generation: 0 };
    const c = classifyItem(out.Item as Record<string, unknown>);
    return c.kind === 'state' ? c.state : { exists: true, generation: 0, malformed: 'unreadable sync state' };
  }

  private async scanTable(issues: RemoteIssue[]): Promise<Map<string, RemoteItem>> {
    const items = new Map<string, RemoteItem>();
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await wrap(`reading the DynamoDB table ${this.table}`, () =>
        this.ddb.send(new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey })),
      );
      for (const raw of page.Items ?? []) {
        const c = classifyItem(raw as Record<string, unknown>);
        if (c.kind === 'item') items.set(c.item.pk, c.item);
        else if (c.kind === 'issue') issues.push(c.issue);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  private async listFiles(issues: RemoteIssue[]): Promise<{ files: Map<string, RemoteFile>; manifest?: string }> {
    const files = new Map<string, RemoteFile>();
    let manifest: string | undefined;
    let ContinuationToken: string | undefined;
    do {
      const page = await wrap(`listing s3://${Bucket(this.settings)}/${this.prefix}/`, () =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: Bucket(this.settings),
            Prefix: `${this.prefix}/`,
            ContinuationToken,
            MaxKeys: 1000,
          }),
        ),
      );
      for (const o of page.Contents ?? []) {
        const key = o.Key ?? '';
        const kind = classifyKey(this.prefix, key);
        if (kind === 'manifest') manifest = key;
        else if (kind === 'config') files.set(key, { key, etag: o.ETag ?? '' });
        else
          issues.push({
            kind: 'file',
            id: key,
            problem: 'foreign',
            message: 'not a config file sync manages; left alone',
          });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return { files, manifest };
  }

  private async listConnections(): Promise<Map<string, RemoteConnection>> {
    const out = new Map<string, RemoteConnection>();
    let NextToken: string | undefined;
    do {
      const page = await wrap('listing Glue connections', () =>
        this.glue.send(new GetConnectionsCommand({ HidePassword: true, MaxResults: 1000, NextToken })),
      );
      for (const c of page.ConnectionList ?? []) {
        if (!c.Name) continue;
        const spec = specOfConnection(c);
        out.set(c.Name, { name: c.Name, spec, sha256: hashConnection(spec) });
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return out;
  }

  async fileSha256(keys: string[]): Promise<Map<string, string | undefined>> {
    const limit = pLimit(16);
    const out = new Map<string, string | undefined>();
    await Promise.all(
      keys.map((Key) =>
        limit(async () => {
          const h = await wrap(
            `reading s3://${Bucket(this.settings)}/${Key}`,
            () => this.s3.send(new HeadObjectCommand({ Bucket: Bucket(this.settings), Key })),
            { notFound: () => undefined },
          );
          out.set(Key, h?.Metadata?.['content-sha256']);
        }),
      ),
    );
    return out;
  }

  async claim(claim: Claim): Promise<void> {
    const u = claimUpdate(this.table, claim);
    try {
      await this.ddb.send(new UpdateCommand(u));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw lostClaim(claim);
      throw await wrapError(`claiming the sync generation in ${this.table}`, e);
    }
  }

  async writeItemBatch(ops: ItemOp[], fence: Fence, claim?: Claim): Promise<void> {
    const first: NonNullable<TransactWriteCommandInput['TransactItems']>[number] = claim
      ? { Update: claimUpdate(this.table, claim) }
      : {
          ConditionCheck: {
            TableName: this.table,
            Key: { pk: STATE_PK },
            ConditionExpression: '#g = :g AND #o = :o',
            ExpressionAttributeNames: { '#g': 'generation', '#o': 'lock_owner' },
            ExpressionAttributeValues: { ':g': fence.generation, ':o': fence.runId },
          },
        };
    const TransactItems: NonNullable<TransactWriteCommandInput['TransactItems']> = [first];
    for (const op of ops) {
      const cond = op.expect.exists
        ? op.expect.rawVersion === undefined
          ? {
              ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#v)',
              ExpressionAttributeNames: { '#v': 'version' },
            }
          : {
              ConditionExpression: '#v = :v',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':v': op.expect.rawVersion },
            }
        : { ConditionExpression: 'attribute_not_exists(pk)' };
      TransactItems.push(
        op.put
          ? { Put: { TableName: this.table, Item: op.put, ...cond } }
          : { Delete: { TableName: this.table, Key: { pk: op.pk }, ...cond } },
      );
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.ddb.send(new TransactWriteCommand({ TransactItems }));
        return;
      } catch (e) {
        if (e instanceof TransactionCanceledException) {
          const reasons = e.CancellationReasons ?? [];
          // Another transaction was touching the same items at that instant: retry, it is not a lost race yet.
          if (reasons.some((r) => r.Code === 'TransactionConflict') && attempt < 5) {
            await sleep(100 * 2 ** attempt * Math.random());
            continue;
          }
          const i = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
          if (i === 0) throw claim ? lostClaim(claim) : await this.lostFence(fence);
          if (i > 0)
            throw new LostRaceError(
              `the table item ${ops[i - 1]!.pk} changed since this sync read it ` +
                '(another sync or a hand edit wrote it).',
            );
        }
        throw await wrapError(`writing to the DynamoDB table ${this.table}`, e);
      }
    }
  }

  private async stateItem(): Promise<Record<string, unknown> | undefined> {
    const out = await wrap(`reading the DynamoDB table ${this.table}`, () =>
      this.ddb.send(new GetCommand({ TableName: this.table, Key: { pk: STATE_PK }, ConsistentRead: true })),
    );
    return out.Item as Record<string, unknown> | undefined;
  }

  private async lostFence(fence: Fence): Promise<LostClaimError> {
    const s = await this.stateItem().catch(() => undefined);
    return new LostClaimError(`the config table ${this.table}`, fence, {
      generation: s?.generation,
      owner: s?.lock_owner,
      commit: s?.lock_commit,
    });
  }

  async fenced<T>(fence: Fence, fn: () => Promise<T>): Promise<T> {
    // S3 and Glue writes cannot be conditional on a DynamoDB item: re-read the claim (one consistent
    // GetItem) right before the batch. A takeover while the batch is in flight is the remaining window.
    const s = await this.stateItem();
    if (s?.generation !== fence.generation || s?.lock_owner !== fence.runId)
      throw new LostClaimError(`the config table ${this.table}`, fence, {
        generation: s?.generation,
        owner: s?.lock_owner,
        commit: s?.lock_commit,
      });
    return fn();
  }

  async release(fence: Fence, at: string): Promise<boolean> {
    try {
      await this.ddb.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: STATE_PK },
          UpdateExpression: 'SET lock_expires_at = :at, lock_released_at = :at',
          ConditionExpression: '#g = :g AND lock_owner = :o',
          ExpressionAttributeNames: { '#g': 'generation' },
          ExpressionAttributeValues: { ':g': fence.generation, ':o': fence.runId, ':at': at },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw await wrapError(`releasing the sync claim in ${this.table}`, e);
    }
  }

  async putConnection(c: DesiredConnection, exists: boolean): Promise<void> {
    const ConnectionInput = inputOfSpec(c.name, c.spec);
    const update = () =>
      wrap(`updating Glue connection ${c.name}`, () =>
        this.glue.send(new UpdateConnectionCommand({ Name: c.name, ConnectionInput })),
      );
    const create = () =>
      wrap(`creating Glue connection ${c.name}`, () =>
        this.glue.send(new CreateConnectionCommand({ ConnectionInput, Tags: c.tags })),
      );
    // Reconcile, whatever happened since the plan read: created meanwhile → update; deleted → create.
    try {
      await (exists ? update() : create());
    } catch (e) {
      const name = (e as Error).name;
      if (!exists && name === 'AlreadyExistsException') await update();
      else if (exists && name === 'EntityNotFoundException') await create();
      else throw e;
    }
  }

  async deleteConnection(name: string): Promise<void> {
    await wrap(
      `deleting Glue connection ${name}`,
      () => this.glue.send(new DeleteConnectionCommand({ ConnectionName: name })),
      { notFound: () => undefined },
    );
  }

  async putFile(f: DesiredFile, meta: { commit: string; generation: number }): Promise<string> {
    const out = await wrap(`uploading s3://${Bucket(this.settings)}/${f.key}`, () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: Bucket(this.settings),
          Key: f.key,
          Body: f.body,
          ContentType: 'application/yaml',
          Metadata: {
            'content-sha256': f.sha256,
            'git-commit': meta.commit,
            'offload-generation': String(meta.generation),
          },
        }),
      ),
    );
    return out.ETag ?? '';
  }

  async deleteFile(key: string): Promise<void> {
    await wrap(`deleting s3://${Bucket(this.settings)}/${key}`, () =>
      this.s3.send(new DeleteObjectCommand({ Bucket: Bucket(this.settings), Key: key })),
    );
  }

  async putManifest(body: string): Promise<void> {
    const Key = `${this.prefix}/${MANIFEST_NAME}`;
    await wrap(`uploading s3://${Bucket(this.settings)}/${Key}`, () =>
      this.s3.send(
        new PutObjectCommand({ Bucket: Bucket(this.settings), Key, Body: body, ContentType: 'application/json' }),
      ),
    );
  }
}

function claimUpdate(TableName: string, claim: Claim) {
  return {
    TableName,
    Key: { pk: STATE_PK },
    UpdateExpression:
      'SET #g = :to, #kind = :kind, lock_owner = :run, lock_desired_hash = :h, lock_commit = :c, ' +
      'lock_expires_at = :exp, started_at = :st REMOVE lock_released_at',
    ConditionExpression: !claim.stateExists
      ? 'attribute_not_exists(pk)'
      : claim.fromRaw === undefined
        ? 'attribute_not_exists(#g)'
        : '#g = :from',
    ExpressionAttributeNames: { '#g': 'generation', '#kind': 'kind' },
    ExpressionAttributeValues: {
      ':to': claim.toGeneration,
      ':kind': 'sync-state',
      ':run': claim.runId,
      ':h': claim.desiredHash,
      ':c': claim.commit,
      ':exp': claim.expiresAt,
      ':st': claim.startedAt,
      ...(claim.stateExists && claim.fromRaw !== undefined ? { ':from': claim.fromRaw } : {}),
    },
  };
}

function lostClaim(claim: Claim): LostRaceError {
  return new LostRaceError(
    "another sync moved the config table's sync generation since this one read it " +
      `(expected ${claim.stateExists ? claim.fromGeneration : 'no sync state yet'}).`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'EntityNotFoundException']);

/** Turns AWS errors the user can act on into UserErrors with what was being done. */
async function wrap<T, U = never>(
  what: string,
  fn: () => Promise<T>,
  opts: { notFound?: () => U } = {},
): Promise<T | U> {
  try {
    return await fn();
  } catch (e) {
    if (opts.notFound && NOT_FOUND.has((e as Error).name)) return opts.notFound();
    throw await wrapError(what, e);
  }
}

async function wrapError(what: string, e: unknown): Promise<Error> {
  if (e instanceof UserError) return e;
  const err = e as Error & { $metadata?: { httpStatusCode?: number } };
  const name = err?.name ?? 'Error';
  const userFacing: Record<string, string> = {
    NoSuchBucket:
      'the config bucket does not exist (it is deployed by infra/; check config.bucket in offload.settings.yaml)',
    ResourceNotFoundException:
      'the DynamoDB config table does not exist (it is deployed by infra/; check config.dynamodb_table)',
    AccessDenied: 'access denied: the credentials lack a permission sync needs',
    AccessDeniedException: 'access denied: the credentials lack a permission sync needs',
    CredentialsProviderError:
      'no AWS credentials found ' +
      '(set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where a role is available)',
    ExpiredToken: 'the AWS credentials have expired',
    ExpiredTokenException: 'the AWS credentials have expired',
    UnrecognizedClientException: 'the AWS credentials are not valid',
    InvalidAccessKeyId: 'the AWS credentials are not valid',
    ThrottlingException: 'still throttled after every retry',
    SlowDown: 'still throttled after every retry',
    ProvisionedThroughputExceededException: 'still throttled after every retry',
  };
  const hint = userFacing[name];
  if (hint) return new UserError(`${what}: ${hint} (${name}: ${err.message})`, 2);
  const code = (e as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || name === 'TimeoutError')
    return new UserError(
      `${what}: cannot reach the AWS endpoint (${code ?? name}: ${err.message}); ` +
        'check AWS_ENDPOINT_URL and the network',
      2,
    );
  return err instanceof Error ? err : new Error(String(e));
}
