/**
 * s3_yaml_to_mwaa: when a sync writes its manifest (the last object of every sync), trigger the
 * archival DAG with the manifest's generation and commit as its conf — once per generation.
 *
 * Once: a conditional write of `TRIGGER#<dag>` / `GENERATION#<n>` in the runs table claims the
 * generation before MWAA is called; a duplicate event finds the claim and does nothing. A claim whose
 * trigger failed is released so the retry can take it; a claim left by a crashed invocation can be
 * taken over after `staleAfterMs`. The DAG run id is derived from the generation too, so even a
 * second trigger would be refused by Airflow itself. The same transaction raises `TRIGGER#<dag>` /
 * `LATEST` to the generation, so an older sync's event that arrives late is reported as superseded
 * and never starts a run over a newer one.
 *
 * How MWAA is called: `@aws-sdk/client-mwaa` 3.523.0 (the newest this project can install) has no
 * InvokeRestApi, so the handler uses CreateCliToken and POSTs the Airflow CLI command to the web
 * server's `/aws_mwaa/cli` endpoint — a documented MWAA API, signed by the SDK, and no hand-written
 * SigV4 code to maintain.
 */
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateCliTokenCommand, MWAAClient } from '@aws-sdk/client-mwaa';
import { randomUUID } from 'node:crypto';

export const MANIFEST_NAME = '_offload/manifest.json';

export interface TriggerConfig {
  bucket: string;
  prefix: string;
  runsTable: string;
  environment: string;
  dagId: string;
  /** @default 'https' (tests use http against a local server) */
  webServerScheme?: 'https' | 'http';
  /** A claim older than this is considered abandoned. @default 5 minutes */
  staleAfterMs?: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): TriggerConfig {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is not set`);
    return v;
  };
  return {
    bucket: need('OFFLOAD_CONFIG_BUCKET'),
    prefix: need('OFFLOAD_CONFIG_PREFIX'),
    runsTable: need('OFFLOAD_RUNS_TABLE'),
    environment: need('OFFLOAD_MWAA_ENVIRONMENT'),
    dagId: need('OFFLOAD_DAG_ID'),
  };
}

/** The part of an EventBridge "Object Created" event this handler reads. */
export interface ObjectCreatedEvent {
  'detail-type'?: string;
  detail?: { bucket?: { name?: string }; object?: { key?: string; 'version-id'?: string } };
}

export type TriggerOutcome =
  | { status: 'ignored'; reason: string }
  | { status: 'duplicate'; generation: number; runId: string }
  | { status: 'superseded'; generation: number; latest: number }
  | { status: 'triggered'; generation: number; commit: string; runId: string; stdout: string };

export interface Clients {
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  mwaa: MWAAClient;
  fetch: typeof fetch;
}

/** Airflow run id of a generation: the same generation always maps to the same DAG run. */
export const runIdOf = (generation: number) => `offload-sync-generation-${generation}`;

/** Quotes one argument for the shell-like parsing of the MWAA CLI endpoint. */
export const shellQuote = (s: string) => `'${s.replaceAll("'", `'"'"'`)}'`;

/** The Airflow CLI command the endpoint runs. */
export function triggerCommand(dagId: string, runId: string, conf: Record<string, unknown>): string {
  return `dags trigger ${shellQuote(dagId)} --run-id ${shellQuote(runId)} --conf ${shellQuote(JSON.stringify(conf))}`;
}

async function readManifest(s3: S3Client, bucket: string, key: string, versionId?: string) {
  const out = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
  );
  const text = await out.Body!.transformToString('utf8');
  const m = JSON.parse(text) as { generation?: unknown; commit?: unknown };
  if (typeof m.generation !== 'number' || !Number.isInteger(m.generation) || m.generation < 1)
    throw new Error(`s3://${bucket}/${key}: the manifest has no positive integer generation`);
  if (typeof m.commit !== 'string' || !m.commit) throw new Error(`s3://${bucket}/${key}: the manifest has no commit`);
  return { generation: m.generation, commit: m.commit };
}

/** Runs the CLI command through MWAA: a CLI token, then one POST to /aws_mwaa/cli. */
export async function runAirflowCli(clients: Clients, config: TriggerConfig, command: string) {
  const token = await clients.mwaa.send(new CreateCliTokenCommand({ Name: config.environment }));
  if (!token.CliToken || !token.WebServerHostname)
    throw new Error(`CreateCliToken for ${config.environment} returned no token or web server`);
  const url = `${config.webServerScheme ?? 'https'}://${token.WebServerHostname}/aws_mwaa/cli`;
  const res = await clients.fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token.CliToken}`, 'Content-Type': 'text/plain' },
    body: command,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`MWAA CLI endpoint answered ${res.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { stdout?: string; stderr?: string };
  const decode = (b64?: string) => (b64 ? Buffer.from(b64, 'base64').toString('utf8') : '');
  return { stdout: decode(body.stdout), stderr: decode(body.stderr) };
}

export async function trigger(event: ObjectCreatedEvent, config: TriggerConfig, clients: Clients, now = Date.now()) {
  const bucket = event.detail?.bucket?.name;
  const key = event.detail?.object?.key;
  const manifestKey = `${config.prefix}/${MANIFEST_NAME}`;
  if (bucket !== config.bucket || key !== manifestKey)
    return {
      status: 'ignored',
      reason: `not the sync manifest s3://${config.bucket}/${manifestKey}`,
    } as TriggerOutcome;
  const { generation, commit } = await readManifest(clients.s3, bucket, key, event.detail?.object?.['version-id']);
  const runId = runIdOf(generation);
  const item = { pk: `TRIGGER#${config.dagId}`, sk: `GENERATION#${String(generation).padStart(12, '0')}` };
  const claim = randomUUID();
  const latestKey = { pk: item.pk, sk: 'LATEST' };
  try {
    await clients.ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: config.runsTable,
              Item: { ...item, status: 'triggering', claim, claimed_at: now, generation, commit, run_id: runId },
              ConditionExpression: 'attribute_not_exists(pk) OR (#s = :triggering AND claimed_at < :stale)',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: {
                ':triggering': 'triggering',
                ':stale': now - (config.staleAfterMs ?? 300_000),
              },
            },
          },
          {
            Update: {
              TableName: config.runsTable,
              Key: latestKey,
              UpdateExpression: 'SET generation = :g',
              ConditionExpression: 'attribute_not_exists(generation) OR generation <= :g',
              ExpressionAttributeValues: { ':g': generation },
            },
          },
        ],
      }),
    );
  } catch (e) {
    if (!(e instanceof TransactionCanceledException)) throw e;
    const [claimed, latest] = (e.CancellationReasons ?? []).map((r) => r.Code);
    if (latest === 'ConditionalCheckFailed') {
      const got = await clients.ddb.send(
        new GetCommand({ TableName: config.runsTable, Key: latestKey, ConsistentRead: true }),
      );
      return { status: 'superseded', generation, latest: Number(got.Item?.generation) } as TriggerOutcome;
    }
    if (claimed === 'ConditionalCheckFailed') return { status: 'duplicate', generation, runId } as TriggerOutcome;
    throw e;
  }
  const conf = { generation, commit, config_bucket: bucket, config_prefix: config.prefix };
  let stdout: string;
  try {
    const out = await runAirflowCli(clients, config, triggerCommand(config.dagId, runId, conf));
    if (/already exists/i.test(out.stderr)) return { status: 'duplicate', generation, runId } as TriggerOutcome;
    if (/(error|exception|traceback)/i.test(out.stderr) && !out.stdout.includes(runId))
      throw new Error(`airflow dags trigger failed: ${out.stderr.slice(0, 1000)}`);
    stdout = out.stdout;
  } catch (e) {
    // Release the claim so the retry of this event (or the next one) can trigger.
    await clients.ddb
      .send(
        new DeleteCommand({
          TableName: config.runsTable,
          Key: item,
          ConditionExpression: 'claim = :claim',
          ExpressionAttributeValues: { ':claim': claim },
        }),
      )
      .catch(() => undefined);
    throw e;
  }
  await clients.ddb.send(
    new UpdateCommand({
      TableName: config.runsTable,
      Key: item,
      UpdateExpression: 'SET #s = :done, triggered_at = :now',
      ConditionExpression: 'claim = :claim',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':done': 'triggered', ':now': new Date(now).toISOString(), ':claim': claim },
    }),
  );
  return { status: 'triggered', generation, commit, runId, stdout } as TriggerOutcome;
}

let clients: Clients | undefined;

/** The Lambda entry point (EventBridge, asynchronous: failures are retried, then dead-lettered). */
export async function handler(event: ObjectCreatedEvent): Promise<TriggerOutcome> {
  clients ??= {
    s3: new S3Client({}),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    mwaa: new MWAAClient({}),
    fetch,
  };
  const outcome = await trigger(event, configFromEnv(), clients);
  console.log(JSON.stringify(outcome));
  return outcome;
}
