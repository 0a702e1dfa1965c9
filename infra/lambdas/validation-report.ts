/**
 * validation_report: builds a run's report from the DynamoDB run ledger (`{ "run_id": … }`, what the
 * archival DAG's last task sends; the same `reportFromLedger` as `offload report RUN`), or reads one
 * already written (`{ "key": "<prefix>/…json" }`, schema/run-report.schema.json), renders it as JSON,
 * Markdown and self-contained HTML with the same renderer as `offload report`, writes them to
 * `<prefix>/<run id>/`, and notifies the SNS topic when any table failed or any validation found a mismatch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import runReportSchema from '../../schema/run-report.schema.json' with { type: 'json' };
import type { LedgerEntry } from '../../tools/src/generated/ledger-entry.js';
import type { RunReport } from '../../tools/src/generated/run-report.js';
import type { ValidationResultRecord } from '../../tools/src/generated/validation-result.js';
import type { WorkUnit } from '../../tools/src/generated/work-unit.js';
import { createDynamoLedger } from '../../tools/src/ledger/dynamodb.js';
import { reportFromLedger, runsInLedger } from '../../tools/src/report/from-ledger.js';
// The renderer module itself rather than the core entry point: the bundle needs no policy engine.
import { renderHtml, renderJson, renderMarkdown } from '../../tools/src/report/render.js';

export interface ReportConfig {
  bucket: string;
  /** Reports prefix, without slashes at either end. */
  prefix: string;
  topicArn: string;
  /** DynamoDB run ledger (`ledgerTableName` of tools/src/config/naming.ts); needed to report by run id. */
  ledgerTable?: string;
  /**
   * Bucket of the validation records the validate jobs wrote (the config bucket: the DAG passes
   * `--result_path s3://<config bucket>/pipeline/results/<run id>/`), for the differing keys of a mismatch.
   */
  resultsBucket?: string;
}

const RESULTS_PREFIX = 'pipeline/results';
/** Where the discover Lambda writes a run's work units (infra/lambdas/discover.ts). */
const UNITS_PREFIX = 'pipeline/work-units';

/** `run_id`: build the report from the run ledger; `key`: read a run report file from the reports bucket. */
export interface ReportEvent {
  run_id?: unknown;
  key?: unknown;
}

type Clients = { s3: S3Client; sns: SNSClient; ddb?: DynamoDBClient };

export interface ReportOutput {
  run_id: string;
  status: RunReport['status'];
  keys: { json: string; markdown: string; html: string };
  /** `database.schema.table: reason` of every failed table or validation mismatch. */
  problems: string[];
  notified: boolean;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ReportConfig {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is not set`);
    return v;
  };
  return {
    bucket: need('OFFLOAD_REPORTS_BUCKET'),
    prefix: (env.OFFLOAD_REPORTS_PREFIX ?? 'reports').replace(/^\/+|\/+$/g, ''),
    topicArn: need('OFFLOAD_ALARM_TOPIC_ARN'),
    ...(env.OFFLOAD_LEDGER_TABLE ? { ledgerTable: env.OFFLOAD_LEDGER_TABLE } : {}),
    ...(env.OFFLOAD_RESULTS_BUCKET ? { resultsBucket: env.OFFLOAD_RESULTS_BUCKET } : {}),
  };
}

let validator: ValidateFunction | undefined;
function reportProblems(doc: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // CommonJS default export under ESM (as in tools/src/work/validate-unit.ts).
    type AddFormats = (a: Ajv2020) => unknown;
    const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
      addFormatsModule) as unknown as AddFormats;
    addFormats(ajv);
    validator = ajv.compile(runReportSchema);
  }
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

/** Every table that failed, and every validation mismatch, one line each. */
export function problemsOf(report: RunReport): string[] {
  const out: string[] = [];
  for (const t of report.tables) {
    const name = `${t.database}.${t.schema}.${t.table}`;
    if (t.state === 'failed') out.push(`${name}: ${t.action} failed${t.error ? ` (${JSON.stringify(t.error)})` : ''}`);
    if (t.validation?.status === 'failed')
      out.push(
        `${name}: validation mismatch` +
          `${t.validation.mismatches.length ? ` in ${t.validation.mismatches.join(', ')}` : ''}`,
      );
  }
  return out;
}

const RUN_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The run report file at `key` in the reports bucket, checked against schema/run-report.schema.json. */
async function reportFromFile(key: unknown, config: ReportConfig, s3: S3Client): Promise<RunReport> {
  if (typeof key !== 'string' || !key.startsWith(`${config.prefix}/`) || key.split('/').includes('..'))
    throw new Error(`\`key\` must name a run report under ${config.prefix}/ in s3://${config.bucket}`);
  const obj = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
  let doc: unknown;
  try {
    doc = JSON.parse(await obj.Body!.transformToString('utf8'));
  } catch (e) {
    throw new Error(`s3://${config.bucket}/${key} is not JSON: ${(e as Error).message}`);
  }
  const invalid = reportProblems(doc);
  if (invalid.length)
    throw new Error(`s3://${config.bucket}/${key} is not a run report: ${invalid.slice(0, 5).join('; ')}`);
  return doc as RunReport;
}

/**
 * The validation record of each table the run validated, where the DAG's validate step reads it
 * (`<results prefix>/<run id>/<namespace>.<table>.<archive run id>.validation.json`); a missing one is
 * left out (the report then shows the ledger's outcome without the differing keys).
 */
async function validationRecords(
  runId: string,
  entries: readonly LedgerEntry[],
  config: ReportConfig,
  s3: S3Client,
): Promise<Map<string, ValidationResultRecord>> {
  const out = new Map<string, ValidationResultRecord>();
  const bucket = config.resultsBucket;
  if (!bucket) return out;
  const validated = entries.filter(
    (e) => e.archive_namespace && e.archive_table && e.history.some((t) => t.run_id === runId && t.validation),
  );
  if (!validated.length) return out;
  // Listed first: without s3:ListBucket on the whole bucket a missing object is a 403, not a NoSuchKey.
  const present = new Set(await listKeys(s3, bucket, `${RESULTS_PREFIX}/${runId}/`));
  await Promise.all(
    validated.map(async (e) => {
      const key =
        `${RESULTS_PREFIX}/${runId}/${e.archive_namespace}.${e.archive_table}.` +
        `${e.archive_run_id ?? runId}.validation.json`;
      if (!present.has(key)) return;
      let text: string;
      try {
        text = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return;
        throw err;
      }
      let doc: { mismatches?: unknown; row_hash?: { keys?: unknown } } | undefined;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        throw new Error(`s3://${bucket}/${key} is not JSON: ${(err as Error).message}`);
      }
      if (!Array.isArray(doc?.mismatches) || (doc.row_hash && !Array.isArray(doc.row_hash.keys)))
        throw new Error(`s3://${bucket}/${key} is not a validation record (no mismatches list or row_hash.keys)`);
      out.set(JSON.stringify([e.database, e.schema, e.table]), doc as unknown as ValidationResultRecord);
    }),
  );
  return out;
}

/** Every key under `prefix` in `bucket`. */
async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

/**
 * The run's work units that the report uses (the discover Lambda wrote them under
 * `pipeline/work-units/<run id>/`): the first (the configs' commit and as-of date every unit of a run shares)
 * and the source cleanups (a dropped table's size at discovery). None when the run has no units there.
 */
async function runUnits(runId: string, config: ReportConfig, s3: S3Client): Promise<WorkUnit[]> {
  const bucket = config.resultsBucket;
  if (!bucket) return [];
  const keys = (await listKeys(s3, bucket, `${UNITS_PREFIX}/${runId}/`)).sort();
  const wanted = keys.filter((k, i) => i === 0 || k.endsWith('-cleanup_source.json'));
  const units: WorkUnit[] = [];
  for (let i = 0; i < wanted.length; i += 16) {
    const batch = await Promise.all(
      wanted.slice(i, i + 16).map(async (key) => {
        const text = await (
          await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        ).Body!.transformToString();
        let doc: Partial<WorkUnit> | undefined;
        try {
          doc = JSON.parse(text);
        } catch (err) {
          throw new Error(`s3://${bucket}/${key} is not JSON: ${(err as Error).message}`);
        }
        if (doc?.run_id !== runId || typeof doc.config_commit !== 'string' || !doc.source || !doc.decision)
          throw new Error(`s3://${bucket}/${key} is not a work unit of run ${runId}`);
        return doc as WorkUnit;
      }),
    );
    units.push(...batch);
  }
  return units;
}

/** The run's report built from every ledger entry with a transition made by the run. */
async function reportFromRunLedger(
  runId: string,
  config: ReportConfig,
  s3: S3Client,
  ddb?: DynamoDBClient,
): Promise<RunReport> {
  if (!config.ledgerTable)
    throw new Error('OFFLOAD_LEDGER_TABLE is not set: a report by `run_id` is built from the run ledger');
  const ledger = createDynamoLedger({ table: config.ledgerTable, ...(ddb ? { client: ddb } : {}) });
  try {
    const entries = await ledger.list();
    const runs = runsInLedger(entries);
    if (!runs.includes(runId))
      throw new Error(
        `run ${runId} is not in the run ledger (DynamoDB table ${config.ledgerTable}); ` +
          `recent runs: ${runs.slice(0, 5).join(', ') || 'none'}`,
      );
    const [records, units] = await Promise.all([
      validationRecords(runId, entries, config, s3),
      runUnits(runId, config, s3),
    ]);
    return reportFromLedger({
      runId,
      runtime: 'aws',
      entries,
      units,
      validationRecord: (e) => records.get(JSON.stringify([e.database, e.schema, e.table])),
    });
  } finally {
    ledger.close();
  }
}

export async function renderReport(event: ReportEvent, config: ReportConfig, clients: Clients): Promise<ReportOutput> {
  const runId = event?.run_id;
  if (runId !== undefined && (typeof runId !== 'string' || !RUN_ID.test(runId)))
    throw new Error(`run_id ${JSON.stringify(runId)} cannot name an S3 folder (letters, digits, . _ - only)`);
  let report: RunReport;
  if (event?.key !== undefined) {
    report = await reportFromFile(event.key, config, clients.s3);
    if (runId !== undefined && report.run_id !== runId)
      throw new Error(`s3://${config.bucket}/${String(event.key)} is the report of run ${report.run_id}, not ${runId}`);
  } else if (typeof runId === 'string') report = await reportFromRunLedger(runId, config, clients.s3, clients.ddb);
  else throw new Error('give `run_id` (the report is built from the run ledger) or `key` (a run report file)');
  if (!RUN_ID.test(report.run_id)) throw new Error(`run_id ${JSON.stringify(report.run_id)} cannot name an S3 folder`);
  const base = `${config.prefix}/${report.run_id}`;
  const keys = { json: `${base}/report.json`, markdown: `${base}/report.md`, html: `${base}/report.html` };
  const put = (k: string, body: string, type: string) =>
    clients.s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: k, Body: body, ContentType: type }));
  await Promise.all([
    put(keys.json, renderJson(report), 'application/json'),
    put(keys.markdown, renderMarkdown(report), 'text/markdown; charset=utf-8'),
    put(keys.html, renderHtml(report), 'text/html; charset=utf-8'),
  ]);
  const problems = problemsOf(report);
  if (problems.length)
    await clients.sns.send(
      new PublishCommand({
        TopicArn: config.topicArn,
        Subject: `offload run ${report.run_id}: ${problems.length} table(s) failed or mismatched`.slice(0, 99),
        Message: [
          `Run ${report.run_id} (${report.status}), report: s3://${config.bucket}/${keys.html}`,
          '',
          ...problems,
        ].join('\n'),
      }),
    );
  return { run_id: report.run_id, status: report.status, keys, problems, notified: problems.length > 0 };
}

let clients: Clients | undefined;

/** The Lambda entry point: `{ "run_id": "<run id>" }` (from the ledger) or `{ "key": "<prefix>/….json" }`. */
export async function handler(event: ReportEvent): Promise<ReportOutput> {
  clients ??= { s3: new S3Client({}), sns: new SNSClient({}), ddb: new DynamoDBClient({ maxAttempts: 8 }) };
  return renderReport(event, configFromEnv(), clients);
}
