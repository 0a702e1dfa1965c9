/** Text and JSON renderings of a delete-archive-database result. */
import type { DeleteArchiveDatabaseResult } from './delete-db.js';

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

export function renderJson(r: DeleteArchiveDatabaseResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export function renderText(r: DeleteArchiveDatabaseResult): string {
  const out: string[] = [];
  const verb = r.status === 'deleted' ? 'deleted' : r.status === 'refused' ? 'refused' : 'would delete (dry run)';
  out.push(`delete-archive-database ${r.database} — ${verb}; ${r.store}`);
  out.push(
    `  Glue database: ${r.database_exists ? r.database : '(already gone)'}; ${r.totals.tables} table(s), ` +
      `${r.totals.files} file(s), ${mib(r.totals.bytes)}`,
  );
  for (const t of r.tables) {
    const why = t.reasons.length ? ` [${t.reasons.join(', ')}${t.forced ? ' — forced' : ''}]` : '';
    out.push(
      `    ${t.table}: ${t.files} file(s), ${mib(t.bytes)}, retention until ${t.retention_until ?? 'unknown'}, ` +
        `legal hold ${t.legal_hold ? 'ON' : 'off'}${why}`,
    );
  }
  for (const l of r.leftovers) out.push(`    left by an earlier run: ${l.location} (${l.files} file(s))`);
  out.push(`  Lake Formation grants: ${r.grants.length}`);
  for (const g of r.grants) out.push(`    ${g}`);
  out.push(`  run ledger entries: ${r.ledger.length}`);
  for (const e of r.ledger) out.push(`    ${e.table}: ${e.state} → ${e.to}`);
  if (r.forced_reason) out.push(`  forced reason: ${r.forced_reason}`);
  if (r.refusals.length) {
    out.push('', 'Refused — nothing was deleted:');
    for (const x of r.refusals) out.push(`  - ${x}`);
  }
  for (const a of r.audit_records) out.push(`  audit record: ${a}`);
  if (r.mode === 'dry-run' && r.status === 'would_delete') out.push('', 'Nothing changed. Run again with --apply.');
  return `${out.join('\n')}\n`;
}
