/** The run-report renderer: JSON valid against its schema, Markdown and a self-contained HTML page. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SCHEMA_DIR } from '../../scripts/generate-types.js';
import type { RunReport } from '../../src/generated/run-report.js';
import {
  formatBytes,
  type ReportTable,
  renderHtml,
  renderJson,
  renderMarkdown,
  summarize,
} from '../../src/report/render.js';

const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, 'run-report.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(schema);

const tables: ReportTable[] = [
  {
    database: 'alpha',
    schema: 'pay',
    table: 'txn_202001',
    policy: 'monthly',
    action: 'archive',
    state: 'validated',
    archive_table: 'archive_alpha.pay__txn_202001',
    snapshot_id: 11,
    rows: 3000,
    bytes: 4096,
    duration_ms: 2500,
    validation: { status: 'passed', mode: 'full', mismatches: [], source_rows: 3000, archive_rows: 3000 },
    error: null,
  },
  {
    database: 'beta',
    schema: 'pay',
    table: 'txn_202002',
    policy: 'monthly',
    action: 'archive',
    state: 'archived',
    archive_table: 'archive_beta.pay__txn_202002',
    snapshot_id: 12,
    rows: 1000,
    bytes: 1024,
    duration_ms: 900,
    validation: {
      status: 'failed',
      mode: 'full',
      mismatches: ['row_hash', 'column:amount'],
      source_rows: 1000,
      archive_rows: 1000,
      differing_keys: [{ key: { id: '42' }, kind: 'changed', columns: ['amount'] }],
      truncated: false,
    },
    error: { code: 'validation_failed', message: 'row_hash differs for 1 key' },
  },
  {
    database: 'beta',
    schema: 'audit',
    table: '<script>alert(1)</script>',
    policy: 'audit_yearly',
    action: 'archive',
    state: 'failed',
    archive_table: null,
    rows: null,
    bytes: null,
    duration_ms: 120,
    validation: null,
    error: { code: 'unarchivable_value', message: 'column "x" holds NaN' },
  },
];

function report(ts: ReportTable[] = tables): RunReport {
  const { totals, status } = summarize(ts, 61_000);
  return {
    schema_version: 1,
    run_id: 'run-1',
    runtime: 'local',
    started_at: '2026-12-02T02:00:00.000Z',
    finished_at: '2026-12-02T02:01:01.000Z',
    status,
    config_commit: 'abc1234',
    as_of: '2026-12-02',
    totals,
    tables: ts,
  };
}

test('summarize: totals and status counted from the entries', () => {
  const r = report();
  assert.equal(r.totals, {
    tables: 3,
    archived: 2, // validated + archived; the failed one is not
    validated: 1,
    failed: 2, // the mismatch and the failure
    cleaned_up: 0,
    purged: 0,
    rows_archived: 4000,
    bytes_archived: 5120,
    source_bytes_freed: 0,
    duration_ms: 61000,
  });
  assert.is(r.status, 'partial');
  assert.is(report([]).status, 'no_op');
  assert.is(report([tables[0] as ReportTable]).status, 'succeeded');
  assert.is(report([tables[2] as ReportTable]).status, 'failed');
});

test('JSON output is valid against schema/run-report.schema.json and round-trips', () => {
  const text = renderJson(report());
  const parsed = JSON.parse(text) as Record<string, unknown>;
  assert.ok(validate(parsed), JSON.stringify(validate.errors));
  assert.equal(parsed, report());
  const broken = { ...parsed, status: 'fine' };
  assert.not.ok(validate(broken), 'an unknown status is refused');
});

test('Markdown: summary, what needs attention with the differing key, per-database totals', () => {
  const md = renderMarkdown(report());
  assert.match(
    md,
    /^# Run run-1 partial: 3 tables — 2 archived, 1 validated, 2 FAILED; 4,000 rows, 5\.0 KiB in 1 min 1 s/,
  );
  const attention = md.slice(md.indexOf('## Needs attention'), md.indexOf('## Per database'));
  assert.match(attention, /beta\.pay\.txn_202002\*\* \(archive\): VALIDATION MISMATCH/);
  assert.match(attention, /key id=42: changed \(amount\)/);
  assert.match(attention, /unarchivable_value: column "x" holds NaN/);
  assert.not.match(attention, /alpha/);
  assert.match(md, /\| alpha \| 1 \| 3,000 \| 4\.0 KiB \| 0 B \|/);
  assert.match(md, /\| beta \| 2 \| 1,000 \| 1\.0 KiB \| 0 B \|/);
});

test('HTML is one self-contained page: no script, no external resource, text escaped', () => {
  const html = renderHtml(report());
  assert.not.match(html, /<script/i, 'no script element (the hostile table name is escaped)');
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.not.match(html, /<link|<img|@import|url\(/i);
  const urls = html.match(/https?:\/\/[^"' )]+/g) ?? [];
  assert.equal([...new Set(urls)], ['http://www.w3.org/2000/svg'], 'only the SVG namespace');
  assert.is((html.match(/<svg /g) ?? []).length, 6, 'outcome strip + five charts');
  assert.is((html.match(/<svg /g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length);
});

test('HTML charts: bars scale to the largest value; one tile per table coloured by outcome', () => {
  const html = renderHtml(report());
  const chart = html.slice(html.indexOf('aria-label="Rows archived per database"'));
  const first = chart.slice(0, chart.indexOf('</svg>'));
  // plot width = 640 - 200 (labels) - 90 (values) = 350; alpha 3000 rows → 350, beta 1000 → round(350/3) = 117
  const widths = [...first.matchAll(/<rect x="200" y="\d+" width="(\d+)"/g)].map((m) => Number(m[1]));
  assert.equal(widths, [350, 117]);
  assert.match(first, /<title>alpha: 3,000<\/title>/);
  const tiles = [...html.matchAll(/<rect class="tile"[^>]*fill="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(tiles, ['#2e8540', '#c62828', '#8e0000']);
  assert.match(html, /key id=42: changed \(amount\)/);
});

test('formatBytes', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(1536), '1.5 KiB');
  assert.is(formatBytes(5 * 1024 ** 3), '5.0 GiB');
});

test.run();
