/** The text of a restore job's summary (glue/restore_table.py), for people. */

type Summary = Record<string, unknown>;

const n = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v ?? '?'));

export function renderRestore(s: Summary): string {
  const error = s.error as { code?: string; message?: string } | undefined;
  if (error) return `restore refused (${error.code}): ${error.message}\n`;
  const t = (s.target ?? {}) as Record<string, unknown>;
  const where = `${t.engine} ${t.host}:${t.port}/${t.database}`;
  const target = `${t.schema}.${t.table}`;
  const snap = `snapshot ${s.archive_snapshot_id}${s.snapshot_committed_at ? ` of ${s.snapshot_committed_at}` : ''}`;
  const lines: string[] = [];
  if (s.status === 'dry_run') {
    lines.push(`dry run: would restore ${s.archive_table} (${snap}) into ${target} on ${where}; nothing written`);
    if (s.stale_staging) lines.push(`  would first drop the staging table ${s.stale_staging} a killed restore left`);
    lines.push('  statements:', ...((s.statements as string[]) ?? []).map((x) => `    ${x}`));
  } else {
    const v = (s.validation ?? {}) as Record<string, unknown>;
    const verdict = s.status === 'restored' ? 'restored' : 'NOT restored (validation failed)';
    lines.push(`${verdict}: ${s.archive_table} (${snap}) → ${target} on ${where}`);
    const sums = v.checksums as Summary | undefined; // the checksums differed: every value was then read back
    const differed = sums ? `checksums differed in ${n(sums.differing_buckets)} bucket(s), then ` : '';
    const checks =
      v.method === 'arrow_checksums'
        ? 'row count, exact sums, row hashes summed per bucket by PostgreSQL and by the job'
        : v.method === 'arrow'
          ? `${differed}row count, per-column aggregates, every value compared by key`
          : 'row count, per-column aggregates, row hashes';
    lines.push(
      `  ${n(s.rows)} rows; validation ${v.status} against the archive (${checks})` +
        (Array.isArray(v.mismatches) && v.mismatches.length ? `: mismatches ${v.mismatches.join(', ')}` : ''),
    );
    type Differing = { keys?: { key: unknown; kind: string; columns?: string[] }[] };
    const differing = ((v.rows ?? v.row_hash) as Differing | undefined)?.keys;
    for (const k of differing ?? [])
      lines.push(`  key ${JSON.stringify(k.key)}: ${k.kind}${k.columns?.length ? ` (${k.columns.join(', ')})` : ''}`);
    if (s.write && typeof s.write === 'object') {
      const w = s.write as Record<string, unknown>;
      const fallback = s.arrow_not_used ? ` (arrow not used: ${s.arrow_not_used})` : '';
      const why = s.copy_format_text; // why the text format, unless asked for it
      const reason = why && why !== '--copy_format text' ? ` (${why})` : '';
      const format = w.copy_format ? `, COPY ${w.copy_format} format${reason}` : '';
      lines.push(`  write path ${w.path}${format}${fallback}`);
    }
    if (s.stale_staging_dropped) lines.push(`  dropped ${s.stale_staging_dropped}, left by an earlier killed restore`);
    if (s.status !== 'restored') lines.push(`  the rows are kept in ${t.schema}.${s.staging_table}; a rerun drops it`);
  }
  const cols = (s.columns as { name: string; type: string; from_lineage: boolean; note?: string }[]) ?? [];
  const fallback = cols.filter((c) => !c.from_lineage);
  lines.push(
    `  columns: ${cols.map((c) => `${c.name} ${c.type}`).join(', ')}` +
      (fallback.length ? '' : ' (every type as recorded in the lineage)'),
  );
  for (const c of fallback) lines.push(`  ${c.name}: ${c.type}, not the source's type (${c.note ?? 'other engine'})`);
  return `${lines.join('\n')}\n`;
}
