/**
 * Renderers of a preview: text for terminals, markdown for the pull-request comment, JSON for tools.
 * All pure. The markdown starts with a hidden marker (to find the comment again) and a one-line
 * summary, folds each database in <details>, and is cut at row boundaries below GitHub's 65,536
 * character limit with a note of how much was left out.
 */
import { formatBytes } from '../report/render.js';
import type { PreviewResult } from './preview.js';
import type { Change } from './diff.js';

export const COMMENT_MARKER = '<!-- offload-preview -->';
/** GitHub refuses comment bodies over 65,536 characters; stay clear of it (counted in UTF-8 bytes, stricter). */
const COMMENT_LIMIT = 65_000;

const formatCount = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, w: string) => `${formatCount(n)} ${w}${n === 1 ? '' : 's'}`;

const ACTION_WORD: Record<string, string> = {
  archive: 'archive',
  purge: 'purge archive',
  cleanup_source: 'clean up source',
  none: 'nothing',
};
const SIGN: Record<Change['change'], string> = { added: '+', removed: '-', changed: '~' };

function summaryLine(r: PreviewResult): string {
  const s = r.summary;
  if (!r.complete && s.tables === 0)
    return (
      'Retention preview could not evaluate every database — no changes can be claimed ' +
      `(${plural(
        r.problems.filter((p) => p.side === 'head').length || r.databases.filter((d) => d.status !== 'ok').length,
        'problem',
      )})`
    );
  if (s.tables === 0)
    return 'Retention preview: no changes — no table is newly affected, no longer affected or given a different action';
  const parts = [
    s.added && `${formatCount(s.added)} newly affected`,
    s.changed && `${formatCount(s.changed)} with a different action`,
    s.removed && `${formatCount(s.removed)} no longer affected`,
  ].filter(Boolean);
  const freed = s.source_freed_bytes
    ? `; ${s.source_freed_bytes > 0 ? 'frees' : 'no longer frees'} ` +
      `${formatBytes(Math.abs(s.source_freed_bytes))} at the source`
    : '';
  return (
    `Retention preview: ${plural(s.tables, 'table')} change (${parts.join(', ')}) — ` +
    `${formatCount(s.rows)} rows, ${formatBytes(s.bytes)}${freed}${r.complete ? '' : ' — INCOMPLETE: see problems'}`
  );
}

// ---- governance ----------------------------------------------------------------------------------

type GovGrant = PreviewResult['governance']['grants_added'][number];
const onWhat = (g: GovGrant) => `${g.glue_database}${g.table !== undefined ? `.${g.table}` : ''}`;
/** Most governance rows shown in the PR comment (each database's consumers are few; a bulk change is cut). */
const GOVERNANCE_ROWS = 200;

function governanceSummary(r: PreviewResult): string {
  const g = r.governance;
  const parts = [
    g.grants_added.length && `${plural(g.grants_added.length, 'grant')} added`,
    g.grants_revoked.length && `${plural(g.grants_revoked.length, 'grant')} revoked`,
    g.admins_added.length && `${plural(g.admins_added.length, 'administrator')} added`,
    g.admins_removed.length && `${plural(g.admins_removed.length, 'administrator')} removed`,
    g.locations_registered.length && `${plural(g.locations_registered.length, 'location')} registered`,
  ].filter(Boolean);
  return `Lake Formation: ${parts.length ? parts.join(', ') : 'no changes'}`;
}

function governanceText(r: PreviewResult): string[] {
  const g = r.governance;
  const out = [governanceSummary(r)];
  for (const x of g.grants_added) out.push(`  + ${x.principal} ${x.permission} on ${onWhat(x)}`);
  for (const x of g.grants_revoked)
    out.push(`  - ${x.principal} ${x.permission} on ${onWhat(x)} (revoked by offload governance apply --prune)`);
  for (const a of g.admins_added) out.push(`  + data-lake administrator ${a}`);
  for (const a of g.admins_removed) out.push(`  - data-lake administrator ${a}`);
  for (const l of g.locations_registered) out.push(`  + register ${l}`);
  return out;
}

function governanceMarkdown(r: PreviewResult): string {
  const g = r.governance;
  const rows: string[] = [
    ...g.grants_added.map((x) => `| + grant | ${code(x.principal)} | ${x.permission} | ${code(onWhat(x))} |`),
    ...g.grants_revoked.map((x) => `| - revoke | ${code(x.principal)} | ${x.permission} | ${code(onWhat(x))} |`),
    ...g.admins_added.map((a) => `| + administrator | ${code(a)} | | |`),
    ...g.admins_removed.map((a) => `| - administrator | ${code(a)} | | |`),
    ...g.locations_registered.map((l) => `| + register location | | | ${code(l)} |`),
  ];
  const head = `**${cell(governanceSummary(r))}**`;
  if (!rows.length)
    return `${head}
`;
  const shown = rows.slice(0, GOVERNANCE_ROWS);
  const more = rows.length - shown.length;
  return [
    head,
    '',
    '| Change | Principal | Permission | Resource |',
    '|---|---|---|---|',
    ...shown,
    ...(more ? ['', `_… ${formatCount(more)} more governance changes not shown (\`--format json\` has all)_`] : []),
    '',
    revokeNote(g),
  ].join('\n');
}

const revokeNote = (g: PreviewResult['governance']) =>
  g.grants_revoked.length || g.admins_removed.length
    ? '<sub>Revokes take effect with `offload governance apply --prune`; without it they are reported as drift.</sub>\n'
    : '';

/** `db1 2026-11-27 (5 days old), …` for the inventories used; empty when none has a date. */
function inventoryAges(r: PreviewResult): string {
  return r.databases
    .filter((d) => d.inventory_discovered_at !== null && d.inventory_age_days != null)
    .map((d) => {
      const n = d.inventory_age_days!;
      const age = n === 0 ? 'less than a day old' : `${n} day${n === 1 ? '' : 's'} old`;
      const failed = d.last_discovery_failure ? ', last discovery FAILED' : '';
      return `${d.database} ${d.inventory_discovered_at!.slice(0, 10)} (${age}${failed})`;
    })
    .join(', ');
}

// ---- text ----------------------------------------------------------------------------------------

export function renderText(r: PreviewResult): string {
  const out: string[] = [summaryLine(r), `as of ${r.as_of}, base ${r.base}, inventory ${r.inventory}`];
  const ages = inventoryAges(r);
  if (ages) out.push(`inventories: ${ages}`);
  out.push('');
  if (r.warnings?.length) {
    out.push('Warnings:', ...r.warnings.map((w) => `  ${w.database}: ${w.message}`), '');
  }
  const head = r.problems.filter((p) => p.side === 'head');
  if (head.length || r.databases.some((d) => d.status !== 'ok')) {
    out.push('Problems (the preview is incomplete until they are fixed):');
    for (const p of r.problems)
      out.push(
        `  ${p.side === 'base' ? '(base) ' : ''}${p.database}` +
          `${p.table !== undefined ? ` ${p.schema}.${p.table}` : ''}: ${p.code}: ${p.message}`,
      );
    out.push('');
  } else if (r.problems.length) {
    out.push(
      'Notes:',
      ...r.problems.map(
        (p) =>
          `  (base) ${p.database}${p.table !== undefined ? ` ${p.schema}.${p.table}` : ''}: ${p.code}: ${p.message}`,
      ),
      '',
    );
  }
  for (const d of r.databases) {
    const cs = r.changes.filter((c) => c.database === d.database);
    if (!cs.length && d.status === 'ok') continue;
    if (d.status === 'failed') {
      out.push(`${d.database} [FAILED]: not evaluated (see problems)`, '');
      continue;
    }
    out.push(
      `${d.database}${d.status !== 'ok' ? ` [${d.status.toUpperCase()}]` : ''}: ${plural(d.tables, 'table')}, ` +
        `${formatCount(d.rows)} rows, ${formatBytes(d.bytes)}, source freed ${formatBytes(d.source_freed_bytes)}`,
    );
    for (const c of cs) {
      const was =
        c.change === 'changed'
          ? ` (was ${ACTION_WORD[c.previous_action]}` +
            `${c.previous_policy !== c.policy ? ` by ${c.previous_policy}` : ''})`
          : c.change === 'removed'
            ? ` (was ${ACTION_WORD[c.previous_action]})`
            : '';
      out.push(
        `  ${SIGN[c.change]} ${JSON.stringify(c.schema)}.${JSON.stringify(c.table)}: ` +
          `${ACTION_WORD[c.action]}${was} [${c.policy ?? '-'}] ` +
          `${c.rows === null ? '? rows' : `${formatCount(c.rows)} rows`}, ` +
          `${c.bytes === null ? '? bytes' : formatBytes(c.bytes)}`,
      );
      out.push(`      ${c.reason}`);
    }
    out.push('');
  }
  out.push(...governanceText(r), '');
  if (r.policies.length) {
    out.push('Per policy:');
    for (const p of r.policies)
      out.push(
        `  ${p.policy}: ${plural(p.tables, 'table')}, ${formatCount(p.rows)} rows, ${formatBytes(p.bytes)}, ` +
          `source freed ${formatBytes(p.source_freed_bytes)}`,
      );
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}

// ---- JSON ----------------------------------------------------------------------------------------

/** The documented machine contract (format_version 1): see the README's "preview JSON" section. */
export function renderJson(r: PreviewResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

// ---- markdown ------------------------------------------------------------------------------------

/** Text safe inside a markdown table cell and HTML: table names may hold |, <, &, backticks, newlines. */
export function cell(s: string): string {
  // One pass, so an escape's own `&` and `#` are never escaped again.
  return s
    .replace(/[\r\n]+/g, ' ')
    .replace(/[&<>|`*_[\\@#]/g, (c) =>
      c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `&#${c.charCodeAt(0)};`,
    );
}
const code = (s: string) => `<code>${cell(s)}</code>`;
const bytesOf = (s: string) => Buffer.byteLength(s, 'utf8');

function totalsTable(r: PreviewResult): string[] {
  const lines: string[] = [];
  if (r.databases.some((d) => d.tables)) {
    lines.push('| Database | Tables | Rows | Size | Freed at source |', '|---|--:|--:|--:|--:|');
    for (const d of r.databases)
      if (d.tables)
        lines.push(
          `| ${code(d.database)} | ${formatCount(d.tables)} | ${formatCount(d.rows)} | ${formatBytes(d.bytes)} | ` +
            `${formatBytes(d.source_freed_bytes)} |`,
        );
    lines.push('', '| Policy | Tables | Rows | Size | Freed at source |', '|---|--:|--:|--:|--:|');
    for (const p of r.policies)
      lines.push(
        `| ${code(p.policy)} | ${formatCount(p.tables)} | ${formatCount(p.rows)} | ${formatBytes(p.bytes)} | ` +
          `${formatBytes(p.source_freed_bytes)} |`,
      );
    lines.push('');
  }
  return lines;
}

function changeRow(c: Change): string {
  const was =
    c.change === 'added'
      ? ''
      : ` (was ${ACTION_WORD[c.previous_action]}` +
        `${c.previous_policy && c.previous_policy !== c.policy ? ` by ${code(c.previous_policy)}` : ''})`;
  return (
    `| ${SIGN[c.change]} ${c.change} | ${code(c.schema)}.${code(c.table)} | ${ACTION_WORD[c.action]}${was} | ` +
    `${c.policy ? code(c.policy) : '–'} | ${c.rows === null ? '?' : formatCount(c.rows)} | ` +
    `${c.bytes === null ? '?' : formatBytes(c.bytes)} | ${cell(c.reason)} |`
  );
}

export function renderMarkdown(r: PreviewResult, limit = COMMENT_LIMIT): string {
  const head: string[] = [
    COMMENT_MARKER,
    `### ${cell(summaryLine(r))}`,
    '',
    `As of **${cell(r.as_of)}** · base ${code(r.base)} · inventory ${code(r.inventory)}`,
    '',
  ];
  const ages = inventoryAges(r);
  if (ages) head.push(`Inventories: ${cell(ages)}`, '');
  if (r.warnings?.length) {
    head.push('> [!WARNING]');
    for (const w of r.warnings) head.push(`> - ${code(w.database)}: ${cell(w.message)}`);
    head.push('');
  }
  const problems = r.problems;
  if (problems.length) {
    const failing = problems.some((p) => p.side === 'head') || r.databases.some((d) => d.status !== 'ok');
    head.push(
      failing
        ? '> [!CAUTION]\n> Could not evaluate everything — these must be fixed before this preview can be trusted:'
        : '> [!NOTE]\n> Notes on the base revision:',
    );
    for (const p of problems.slice(0, 50))
      head.push(
        `> - ${p.side === 'base' ? '(base) ' : ''}${code(p.database)}` +
          `${p.table !== undefined ? ` ${code(`${p.schema}.${p.table}`)}` : ''}: \`${p.code}\` ${cell(p.message)}`,
      );
    if (problems.length > 50)
      head.push(`> - … and ${problems.length - 50} more problems (run \`offload preview\` for all)`);
    head.push('');
  }
  head.push(...totalsTable(r), governanceMarkdown(r));
  const footer =
    '\n<sub>Generated by `offload preview`. Decisions come from the same policy engine the pipeline runs.</sub>\n';
  let body = head.join('\n');
  const sections: string[] = [];
  let left = 0,
    shown = 0;
  // Running size in bytes; room is kept for the footer, the closing tags and the "left out" notes.
  let used = bytesOf(body) + bytesOf(footer) + 400;
  const byDb = r.databases
    .map((d) => ({ d, cs: r.changes.filter((c) => c.database === d.database) }))
    .filter((x) => x.cs.length);
  for (const { d, cs } of byDb) {
    const open =
      `<details><summary><b>${cell(d.database)}</b> — ${plural(d.tables, 'table')}, ` +
      `${formatCount(d.rows)} rows, ${formatBytes(d.bytes)}` +
      `${d.source_freed_bytes ? `, frees ${formatBytes(d.source_freed_bytes)} at the source` : ''}</summary>\n\n` +
      '| Change | Table | Action | Policy | Rows | Size | Reason |\n|---|---|---|---|--:|--:|---|\n';
    const close = '\n</details>\n';
    const fixed = bytesOf(open) + bytesOf(close) + 200;
    if (used + fixed > limit) {
      left += cs.length;
      continue;
    }
    let section = open;
    let size = fixed;
    let rows = 0;
    for (const c of cs) {
      const line = `${changeRow(c)}\n`;
      const n = bytesOf(line);
      if (used + size + n > limit) break;
      section += line;
      size += n;
      rows++;
    }
    if (rows === 0) {
      left += cs.length;
      continue;
    }
    if (rows < cs.length)
      section += `\n_… ${formatCount(cs.length - rows)} more changes in ${cell(d.database)} not shown_\n`;
    left += cs.length - rows;
    shown += rows;
    used += size + 1;
    sections.push(section + close);
  }
  if (sections.length) body += `\n${sections.join('\n')}`;
  if (left)
    body +=
      `\n> **${formatCount(left)} of ${formatCount(left + shown)} changes were left out** ` +
      "to stay under GitHub's comment size limit; " +
      `run \`offload preview --base ${cell(r.base)} --format json\` for the full list.\n`;
  return body + footer;
}
