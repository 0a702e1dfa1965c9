/**
 * The one report renderer: a run report (schema/run-report.schema.json) to JSON, Markdown and one
 * self-contained HTML page with inline SVG charts. Shared by `offload run`, `offload report RUN` and
 * the AWS validation_report Lambda. Pure: no I/O, no clock.
 */
import type { RunReport } from '../generated/run-report.js';
import { barChart, escapeHtml as esc, type Tile, tileStrip } from './svg.js';

export type ReportTable = RunReport['tables'][number];

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
/** 1536 → "1.5 KiB" (binary units). */
export function formatBytes(n: number): string {
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${n < 0 ? '-' : ''}${i === 0 ? v : v.toFixed(1)} ${UNITS[i]}`;
}
const count = (n: number) => n.toLocaleString('en-US');
function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** Outcome of one table for colouring and counting: what a reader wants to know first. */
type Outcome = 'passed' | 'mismatch' | 'failed' | 'done' | 'skipped' | 'pending';
function outcomeOf(t: ReportTable): Outcome {
  if (t.validation?.status === 'failed') return 'mismatch';
  if (t.state === 'failed') return 'failed';
  if (t.state === 'skipped') return 'skipped';
  if (t.validation?.status === 'passed') return 'passed';
  if (['archived', 'validated', 'source_renamed', 'source_dropped', 'purged'].includes(t.state)) return 'done';
  return 'pending';
}
const OUTCOME_COLOR: Record<Outcome, string> = {
  passed: '#2e8540',
  done: '#6aa84f',
  mismatch: '#c62828',
  failed: '#8e0000',
  skipped: '#9e9e9e',
  pending: '#f0ad4e',
};
const OUTCOME_WORD: Record<Outcome, string> = {
  passed: 'validated',
  done: 'done',
  mismatch: 'VALIDATION MISMATCH',
  failed: 'FAILED',
  skipped: 'skipped',
  pending: 'not finished',
};

const tableName = (t: ReportTable) => `${t.database}.${t.schema}.${t.table}`;

function sumBy(tables: readonly ReportTable[], key: (t: ReportTable) => string, value: (t: ReportTable) => number) {
  const sums = new Map<string, number>();
  for (const t of tables) sums.set(key(t), (sums.get(key(t)) ?? 0) + value(t));
  return [...sums.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function summaryLine(r: RunReport): string {
  const t = r.totals;
  if (r.status === 'no_op')
    return `Run ${r.run_id}: nothing to do — every claimed table is already where its policy wants it`;
  const parts = [
    `${count(t.archived)} archived`,
    `${count(t.validated)} validated`,
    t.cleaned_up ? `${count(t.cleaned_up)} source tables cleaned up` : '',
    t.purged ? `${count(t.purged)} purged` : '',
    t.failed ? `${count(t.failed)} FAILED` : '',
  ].filter(Boolean);
  return (
    `Run ${r.run_id} ${r.status}: ${count(t.tables)} tables — ${parts.join(', ')}; ` +
    `${count(t.rows_archived)} rows, ${formatBytes(t.bytes_archived)} in ${formatDuration(t.duration_ms)}`
  );
}

export function renderJson(r: RunReport): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

function keyText(key: Record<string, string | null | undefined>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${v == null ? 'NULL' : v}`)
    .join(', ');
}

function problemLines(t: ReportTable): string[] {
  const out: string[] = [];
  if (t.error) out.push(`${t.error.code}: ${t.error.message}`);
  const v = t.validation;
  if (v && v.status === 'failed') {
    out.push(`validation mismatches: ${v.mismatches.join(', ')}`);
    if (v.source_rows != null || v.archive_rows != null)
      out.push(`rows: source ${v.source_rows ?? '?'}, archive ${v.archive_rows ?? '?'}`);
    for (const k of v.differing_keys ?? [])
      out.push(`key ${keyText(k.key)}: ${k.kind}${k.columns?.length ? ` (${k.columns.join(', ')})` : ''}`);
    if (v.truncated) out.push('more keys differ than are listed');
  }
  return out;
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(r: RunReport): string {
  const out: string[] = [`# ${summaryLine(r)}`, ''];
  out.push(
    `Runtime **${r.runtime}**, started ${r.started_at}, finished ${r.finished_at}` +
      `${r.config_commit ? `, configs at \`${r.config_commit}\`` : ''}${r.as_of ? `, as of ${r.as_of}` : ''}.`,
    '',
  );
  const bad = r.tables.filter((t) => ['mismatch', 'failed'].includes(outcomeOf(t)));
  if (bad.length) {
    out.push('## Needs attention', '');
    for (const t of bad) {
      out.push(`- **${mdCell(tableName(t))}** (${t.action}): ${OUTCOME_WORD[outcomeOf(t)]}`);
      for (const line of problemLines(t)) out.push(`  - ${mdCell(line)}`);
    }
    out.push('');
  }
  out.push(
    '## Per database',
    '',
    '| Database | Tables | Rows archived | Bytes archived | Source freed |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [db] of sumBy(
    r.tables,
    (t) => t.database,
    () => 1,
  ).sort((a, b) => a[0].localeCompare(b[0]))) {
    const ts = r.tables.filter((t) => t.database === db);
    const rows = ts.reduce((a, t) => a + (t.action === 'archive' ? (t.rows ?? 0) : 0), 0);
    const bytes = ts.reduce((a, t) => a + (t.bytes ?? 0), 0);
    const freed = ts.reduce((a, t) => a + (t.source_bytes_freed ?? 0), 0);
    out.push(`| ${mdCell(db)} | ${ts.length} | ${count(rows)} | ${formatBytes(bytes)} | ${formatBytes(freed)} |`);
  }
  out.push(
    '',
    '## Tables',
    '',
    '| Table | Policy | Action | Outcome | Rows | Bytes | Time |',
    '|---|---|---|---|---:|---:|---:|',
  );
  for (const t of r.tables)
    out.push(
      `| ${mdCell(tableName(t))} | ${mdCell(t.policy ?? '')} | ${t.action} | ${OUTCOME_WORD[outcomeOf(t)]} | ` +
        `${t.rows == null ? '' : count(t.rows)} | ${t.bytes == null ? '' : formatBytes(t.bytes)} | ` +
        `${t.duration_ms == null ? '' : formatDuration(t.duration_ms)} |`,
    );
  return `${out.join('\n')}\n`;
}

const CSS =
  `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}` +
  `.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.4rem}.bad b{color:#c62828}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}` +
  `th,td{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.o{font-weight:600}.o-mismatch,.o-failed{color:#c62828}
.o-passed{color:#2e8540}details{margin:.2rem 0}code{background:#f6f6f6;padding:0 .2rem}.muted{fill:#888;color:#888}
ul.p{margin:.2rem 0 .2rem 1rem;padding:0;font-size:.85rem}`;

export function renderHtml(r: RunReport): string {
  const t = r.totals;
  const card = (label: string, value: string, bad = false) =>
    `<div class="card${bad ? ' bad' : ''}"><b>${esc(value)}</b>${esc(label)}</div>`;
  const archivedRows = (x: ReportTable) => (x.action === 'archive' ? (x.rows ?? 0) : 0);
  const charts = [
    barChart(
      'Rows archived per database',
      sumBy(r.tables, (x) => x.database, archivedRows).map(([label, value]) => ({
        label,
        value,
        display: count(value),
      })),
    ),
    barChart(
      'Bytes archived per database',
      sumBy(
        r.tables,
        (x) => x.database,
        (x) => x.bytes ?? 0,
      ).map(([label, value]) => ({
        label,
        value,
        display: formatBytes(value),
      })),
      { color: '#5b8c5a' },
    ),
    barChart(
      'Rows archived per policy',
      sumBy(r.tables, (x) => x.policy ?? '(none)', archivedRows).map(([label, value]) => ({
        label,
        value,
        display: count(value),
      })),
      { color: '#7e57c2' },
    ),
    barChart(
      'Source storage freed per database',
      sumBy(
        r.tables,
        (x) => x.database,
        (x) => x.source_bytes_freed ?? 0,
      ).map(([label, value]) => ({
        label,
        value,
        display: formatBytes(value),
      })),
      { color: '#00838f' },
    ),
    barChart(
      'Slowest tables',
      [...r.tables]
        .filter((x) => x.duration_ms != null)
        .sort((a, b) => (b.duration_ms ?? 0) - (a.duration_ms ?? 0))
        .slice(0, 15)
        .map((x) => ({ label: tableName(x), value: x.duration_ms ?? 0, display: formatDuration(x.duration_ms ?? 0) })),
      { color: '#ef6c00' },
    ),
  ];
  const tiles: Tile[] = r.tables.map((x) => ({
    label: `${tableName(x)} (${x.action})`,
    color: OUTCOME_COLOR[outcomeOf(x)],
    title: OUTCOME_WORD[outcomeOf(x)],
  }));
  const legend = (Object.keys(OUTCOME_COLOR) as Outcome[])
    .filter((o) => r.tables.some((x) => outcomeOf(x) === o))
    .map((o) => [OUTCOME_WORD[o], OUTCOME_COLOR[o]] as [string, string]);
  const rows = r.tables.map((x) => {
    const o = outcomeOf(x);
    const problems = problemLines(x);
    const detail = problems.length
      ? '<details open><summary>details</summary>' +
        `<ul class="p">${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul></details>`
      : '';
    return (
      `<tr><td>${esc(tableName(x))}${detail}</td><td>${esc(x.policy ?? '')}</td><td>${esc(x.action)}</td>` +
      `<td class="o o-${o}">${esc(OUTCOME_WORD[o])}</td><td>${esc(x.archive_table ?? '')}</td>` +
      `<td class="n">${x.rows == null ? '' : count(x.rows)}</td>` +
      `<td class="n">${x.bytes == null ? '' : esc(formatBytes(x.bytes))}</td>` +
      `<td class="n">${x.duration_ms == null ? '' : esc(formatDuration(x.duration_ms))}</td></tr>`
    );
  });
  const runLine =
    `<p>Runtime <b>${esc(r.runtime)}</b> · started ${esc(r.started_at)} · finished ${esc(r.finished_at)}` +
    `${r.config_commit ? ` · configs at <code>${esc(r.config_commit)}</code>` : ''}` +
    `${r.as_of ? ` · as of ${esc(r.as_of)}` : ''}</p>`;
  const tableHead =
    '<table><thead><tr><th>Table</th><th>Policy</th><th>Action</th><th>Outcome</th><th>Archive</th>' +
    '<th>Rows</th><th>Bytes</th><th>Time</th></tr></thead>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`Offload run ${r.run_id}`)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
<h1>${esc(summaryLine(r))}</h1>
${runLine}
<div class="cards">${[
    card('tables', count(t.tables)),
    card('archived', count(t.archived)),
    card('validated', count(t.validated)),
    card('failed', count(t.failed), t.failed > 0),
    card('rows archived', count(t.rows_archived)),
    card('bytes archived', formatBytes(t.bytes_archived)),
    card('source freed', formatBytes(t.source_bytes_freed)),
    card('duration', formatDuration(t.duration_ms)),
  ].join('')}</div>
<h2>Validation outcome per table</h2>
${tileStrip('Outcome per table', tiles, legend)}
<h2>Charts</h2>
<div class="charts">${charts.join('\n')}</div>
<h2>Tables</h2>
${tableHead}
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}

/** Totals and status computed from the table entries (for producers that build a report from a ledger). */
export function summarize(
  tables: readonly ReportTable[],
  durationMs: number,
): { totals: RunReport['totals']; status: RunReport['status'] } {
  const isDone = (x: ReportTable) => !['failed', 'skipped', 'planned', 'archiving'].includes(x.state);
  const totals: RunReport['totals'] = {
    tables: tables.length,
    archived: tables.filter((x) => x.action === 'archive' && isDone(x)).length,
    validated: tables.filter((x) => x.validation?.status === 'passed').length,
    failed: tables.filter((x) => x.state === 'failed' || x.validation?.status === 'failed').length,
    cleaned_up: tables.filter((x) => x.action === 'cleanup_source' && isDone(x)).length,
    purged: tables.filter((x) => x.state === 'purged').length,
    rows_archived: tables.reduce((a, x) => a + (x.action === 'archive' && isDone(x) ? (x.rows ?? 0) : 0), 0),
    bytes_archived: tables.reduce((a, x) => a + (x.action === 'archive' ? (x.bytes ?? 0) : 0), 0),
    source_bytes_freed: tables.reduce((a, x) => a + (x.source_bytes_freed ?? 0), 0),
    duration_ms: Math.max(0, Math.round(durationMs)),
  };
  const status: RunReport['status'] =
    tables.length === 0
      ? 'no_op'
      : totals.failed === 0
        ? 'succeeded'
        : totals.failed === tables.length
          ? 'failed'
          : 'partial';
  return { totals, status };
}
