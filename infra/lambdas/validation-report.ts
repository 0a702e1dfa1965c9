/**
 * validation_report: takes a run's report (schema/run-report.schema.json, written by the archival
 * DAG's last task under the reports prefix), renders it as JSON, Markdown and self-contained HTML with
 * the same renderer as `offload report`, writes them to `<prefix>/<run id>/`, and notifies the SNS
 * topic when any table failed or any validation found a mismatch.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import runReportSchema from '../../schema/run-report.schema.json' with { type: 'json' };
import type { RunReport } from '../../tools/src/generated/run-report.js';
// The renderer module itself rather than the core entry point: the bundle needs no policy engine.
import { renderHtml, renderJson, renderMarkdown } from '../../tools/src/report/render.js';

export interface ReportConfig {
  bucket: string;
  /** Reports prefix, without slashes at either end. */
  prefix: string;
  topicArn: string;
}

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

export async function renderReport(
  event: { key?: unknown },
  config: ReportConfig,
  clients: { s3: S3Client; sns: SNSClient },
): Promise<ReportOutput> {
  const key = event?.key;
  if (typeof key !== 'string' || !key.startsWith(`${config.prefix}/`) || key.split('/').includes('..'))
    throw new Error(`\`key\` must name a run report under ${config.prefix}/ in s3://${config.bucket}`);
  const obj = await clients.s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
  let doc: unknown;
  try {
    doc = JSON.parse(await obj.Body!.transformToString('utf8'));
  } catch (e) {
    throw new Error(`s3://${config.bucket}/${key} is not JSON: ${(e as Error).message}`);
  }
  const invalid = reportProblems(doc);
  if (invalid.length)
    throw new Error(`s3://${config.bucket}/${key} is not a run report: ${invalid.slice(0, 5).join('; ')}`);
  const report = doc as RunReport;
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(report.run_id))
    throw new Error(`run_id ${JSON.stringify(report.run_id)} cannot name an S3 folder`);
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

let clients: { s3: S3Client; sns: SNSClient } | undefined;

/** The Lambda entry point: `{ "key": "<reports prefix>/runs/<run id>.json" }`. */
export async function handler(event: { key?: unknown }): Promise<ReportOutput> {
  clients ??= { s3: new S3Client({}), sns: new SNSClient({}) };
  return renderReport(event, configFromEnv(), clients);
}
