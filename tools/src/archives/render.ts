/** Renders `offload archives` for people (one block per archive) and for tools (its JSON contract). */
import type { ArchivesResult } from './archives.js';

const n = (v: number | null) => (v === null ? '?' : v.toLocaleString('en-US'));

export function renderText(r: ArchivesResult): string {
  const out = [
    `${r.archives.length} archive(s) in ${r.warehouse}${r.results ? `; validation records ${r.results}` : ''}`,
  ];
  for (const a of r.archives) {
    const src = a.source
      ? `${a.source.engine ?? '?'}://${a.source.host ?? '?'}:${a.source.port ?? '?'}/${a.source.database ?? '?'} ` +
        `${a.source.schema}.${a.source.table}`
      : 'no lineage';
    const v = a.validation;
    const hold = a.legal_hold === null ? 'not recorded' : a.legal_hold ? 'yes' : 'no';
    const checked = v
      ? `${v.status} at ${v.validated_at} (${v.mode}, ${v.mismatches} mismatch(es)` +
        `${v.current ? '' : ', an older snapshot'})`
      : 'none found';
    out.push(
      '',
      `${a.archive}${a.database ? ` (database ${a.database})` : ''}`,
      `  rows ${n(a.rows)}, ${n(a.bytes)} bytes in ${n(a.data_files)} file(s); ` +
        `snapshot ${a.current_snapshot_id ?? 'none'} at ${a.snapshot_at ?? '-'}`,
      `  source ${src}; run ${a.run_id ?? '-'}`,
      `  policy ${a.policy ?? '-'}; retention until ${a.retention_until ?? 'not recorded'}; legal hold ${hold}`,
      `  validation ${checked}`,
    );
  }
  if (r.problems.length) out.push('', 'Problems:', ...r.problems.map((p) => `  ${p}`));
  return `${out.join('\n')}\n`;
}

export const renderJson = (r: ArchivesResult): string => `${JSON.stringify(r, null, 2)}\n`;
