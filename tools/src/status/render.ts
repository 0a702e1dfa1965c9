/** Renders `offload status` for people (an aligned table per database) and for tools (its JSON contract). */
import type { StatusResult, StatusTable } from './status.js';

const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '-');

function nextText(t: StatusTable, asOf: string): string {
  const s = t.schedule;
  if (!s?.next_action) return t.problem ? 'cannot evaluate' : 'nothing';
  const at = s.next_action_at;
  if (!at) return s.next_action;
  return at <= asOf ? `${s.next_action} now (due ${day(at)})` : `${s.next_action} on ${day(at)}`;
}

function align(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderText(r: StatusResult): string {
  const out: string[] = [];
  const n = r.summary.next;
  out.push(
    `Status as of ${day(r.as_of)}: ${r.summary.tables} tables, ${r.summary.due_now} with an action due now` +
      `${r.summary.problems ? `, ${r.summary.problems} that could not be evaluated` : ''}`,
  );
  out.push(
    `next: ${n.archive} archive, ${n.validate} validate, ${n.cleanup_source} cleanup_source, ` +
      `${n.purge} purge, ${n.none} nothing; ` +
      `inventory ${r.inventory}; ${r.ledger ? `run ledger ${r.ledger}` : 'no run ledger (states unknown)'}`,
  );
  for (const db of r.databases) {
    out.push('');
    out.push(
      `${db.database} — ${db.status}` +
        `${db.inventory_discovered_at ? `, inventory of ${db.inventory_discovered_at}` : ''}` +
        `${db.unclaimed ? `, ${db.unclaimed} table(s) no scope claims` : ''}`,
    );
    for (const p of db.problems) out.push(`  ! ${p.code}: ${p.message}`);
    const tables = r.tables.filter((t) => t.database === db.database);
    if (!tables.length) continue;
    const rows = [
      ['TABLE', 'POLICY', 'AGE FROM', 'TABLE DATE', 'ARCHIVE DUE', 'PURGE DUE', 'HOLD', 'NOW', 'NEXT', 'STATE'],
    ];
    const notes = new Map<number, string>();
    for (const t of tables) {
      const s = t.schedule;
      rows.push([
        `${t.schema}.${t.table}`,
        t.policy ?? '-',
        s?.age_from ?? '-',
        day(s?.table_date),
        day(s?.archive_due),
        s ? (s.purge_due ? day(s.purge_due) : 'never') : '-',
        s?.legal_hold ? 'held' : '-',
        t.action,
        nextText(t, r.as_of),
        t.state ? t.state.state : '-',
      ]);
      if (t.problem) notes.set(rows.length - 1, `problem ${t.problem.code}: ${t.problem.message}`);
      else if (t.action === 'none') notes.set(rows.length - 1, `why: ${t.reason}`);
    }
    align(rows).forEach((line, i) => {
      out.push(`  ${line}`);
      const note = notes.get(i);
      if (note) out.push(`      ${note}`);
    });
  }
  return `${out.join('\n')}\n`;
}

export const renderJson = (r: StatusResult): string => `${JSON.stringify(r, null, 2)}\n`;
