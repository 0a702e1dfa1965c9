/** Renders a sync plan (and what apply did) as text, JSON or Markdown. Pure functions. */
import type { SyncOutput } from '../generated/sync-output.js';
import type { ApplyResult } from './apply.js';
import { isNoop, type Change, type Plan, type Resource } from './plan.js';

export type Format = 'text' | 'json' | 'markdown';

export interface Summary {
  create: number;
  update: number;
  delete: number;
  drift: number;
  orphans: number;
  unchanged: number;
  issues: number;
  noChanges: boolean;
}

export function summarize(plan: Plan): Summary {
  const n = (a: Change['action']) => plan.changes.filter((c) => c.action === a).length;
  return {
    create: n('create'),
    update: n('update'),
    delete: n('delete'),
    drift: plan.drift.length,
    orphans: plan.orphans.length,
    unchanged: plan.unchanged.connection + plan.unchanged.item + plan.unchanged.file,
    issues: plan.issues.length,
    noChanges: isNoop(plan),
  };
}

const TITLES: Record<Resource, string> = {
  connection: 'Glue connections',
  item: 'Config table items',
  file: 'Config files',
};
const SIGN = { create: '+', update: '~', delete: '-' } as const;

/** The JSON document `--format json` prints: stable field names, meant for scripts. */
export function planDocument(plan: Plan, result?: ApplyResult): SyncOutput {
  return {
    mode: result ? 'apply' : 'plan',
    target: plan.target,
    commit: plan.commit,
    generation: { read: plan.baseGeneration, ...(result ? { written: result.generation } : {}) },
    summary: summarize(plan),
    changes: plan.changes,
    drift: plan.drift,
    orphans: plan.orphans.map((o) => ({
      ...o,
      kept: !plan.changes.some((c) => c.action === 'delete' && c.resource === o.resource && c.id === o.id),
    })),
    issues: plan.issues,
    manifest: plan.manifestReason ?? null,
    lock: plan.lock ?? null,
    provenance: plan.provenance ?? null,
    ...(result
      ? {
          applied: {
            runId: result.runId,
            changes: result.applied.length,
            writes: result.writes,
            manifestWritten: result.manifestWritten,
          },
        }
      : {}),
  };
}

export function renderSync(plan: Plan, format: Format, result?: ApplyResult): string {
  if (format === 'json') return `${JSON.stringify(planDocument(plan, result), null, 2)}\n`;
  if (format === 'markdown') return renderMarkdown(plan, result);
  return renderText(plan, result);
}

/** What the plan says about where its configs come from: uncommitted changes, an older commit. */
function provenanceWarnings(plan: Plan): string[] {
  const p = plan.provenance;
  if (!p) return [];
  const out: string[] = [];
  const allowed = (kind: string) => p.overrides.find((o) => o.kind === kind);
  if (p.noGit || p.uncommitted.length) {
    const what = p.noGit
      ? `${p.noGit}: this plan includes uncommitted changes`
      : `this plan includes uncommitted changes (${p.uncommitted.join(', ')})`;
    const o = allowed('uncommitted');
    out.push(
      o
        ? `${what}; applied anyway: --allow-uncommitted "${o.reason}"`
        : `${what}; --apply refuses them without --allow-uncommitted "<reason>"`,
    );
  }
  const a = p.ancestry;
  if (a.status !== 'ok') {
    const what =
      a.status === 'not-descendant'
        ? `commit ${p.head ?? p.commit} is not a descendant of commit ${a.previous}, which the target last received`
        : `cannot tell whether commit ${p.head ?? p.commit} descends from commit ${a.previous}, ` +
          `which the target last received (${a.why})`;
    const o = allowed('non-descendant');
    out.push(
      o
        ? `${what}; applied anyway: --allow-non-descendant "${o.reason}"`
        : `${what}; --apply refuses to change the target without --allow-non-descendant "<reason>"`,
    );
  }
  return out;
}

/** What happens to an unfinished sync's lock; an unexpired one is never called expired. */
function lockState(l: NonNullable<Plan['lock']>): string {
  const until = `it holds the lock until ${l.expiresAt ?? '(unreadable expiry)'}`;
  if (l.releasedAt) return `; it failed and released its lock at ${l.releasedAt}, so this run takes it over`;
  if (l.sameDesiredState) return '; it wanted this same state, so this run takes it over';
  if (l.blocking) return `; ${until} (apply refuses; --break-lock takes it over)`;
  if (!l.expired) return `; ${until}; --break-lock takes it over (that sync, if alive, fails at its next write)`;
  return `; its lock expired at ${l.expiresAt}, so this run takes it over`;
}

function sentence(s: Summary, applied: boolean): string {
  if (s.noChanges) return 'No changes: the remote state matches the repo.';
  const verb = applied ? ['created', 'updated', 'deleted'] : ['to create', 'to update', 'to delete'];
  return (
    `${applied ? 'Applied' : 'Plan'}: ${s.create} ${verb[0]}, ${s.update} ${verb[1]}, ${s.delete} ${verb[2]}; ` +
    `${s.unchanged} unchanged.`
  );
}

function renderText(plan: Plan, result?: ApplyResult): string {
  const s = summarize(plan);
  const out: string[] = [
    `offload sync ${result ? 'apply' : 'plan'} — ${plan.target}`,
    `commit ${plan.commit}, sync generation ${plan.baseGeneration}` +
      `${result?.manifestWritten ? ` → ${result.generation}` : ''}`,
  ];
  for (const w of provenanceWarnings(plan)) out.push('', `! ${w}`);
  if (plan.lock) {
    const l = plan.lock;
    out.push(
      '',
      `! an earlier sync (generation ${l.generation}, commit ${l.commit ?? '?'}, started ${l.startedAt ?? '?'}) ` +
        `did not complete${lockState(l)}`,
    );
  }
  for (const r of ['connection', 'item', 'file'] as const) {
    const cs = plan.changes.filter((c) => c.resource === r);
    if (!cs.length) continue;
    out.push('', `${TITLES[r]}:`);
    const w = Math.max(...cs.map((c) => c.id.length));
    for (const c of cs)
      out.push(`  ${SIGN[c.action]} ${c.action.padEnd(6)} ${c.id.padEnd(w)}  ${c.reason}${c.drift ? '  [drift]' : ''}`);
  }
  if (plan.drift.length) {
    out.push(
      '',
      'Drift (the remote differs from what the last sync wrote; ' +
        `${result ? 'overwritten' : 'overwritten only on apply'}):`,
    );
    for (const d of plan.drift) out.push(`  ! ${d.resource} ${d.id}: ${d.detail}`);
  }
  const kept = plan.orphans.filter(
    (o) => !plan.changes.some((c) => c.action === 'delete' && c.resource === o.resource && c.id === o.id),
  );
  if (kept.length) {
    out.push('', 'No longer in the repo, kept (--prune deletes them):');
    for (const o of kept) out.push(`  = ${o.resource} ${o.id}`);
  }
  if (plan.issues.length) {
    out.push('', 'Not managed by sync, left alone:');
    for (const i of plan.issues) out.push(`  ? ${i.kind} ${i.id} (${i.problem}): ${i.message}`);
  }
  if (plan.manifestReason && !s.noChanges)
    out.push('', `Manifest: ${result?.manifestWritten ? 'written' : 'will be written'} (${plan.manifestReason}).`);
  out.push('', sentence(s, !!result));
  if (result && !s.noChanges) {
    const w = Object.entries(result.writes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push(`Writes: ${w || 'none'}; run ${result.runId}.`);
  } else if (!result && !s.noChanges) out.push('Run with --apply to carry out this plan.');
  return `${out.join('\n')}\n`;
}

const MARKER = '<!-- offload-sync-plan -->';
const md = (s: string) => s.replace(/\|/g, '\\|');

function renderMarkdown(plan: Plan, result?: ApplyResult): string {
  const s = summarize(plan);
  const out: string[] = [
    MARKER,
    `### offload sync ${result ? 'apply' : 'plan'}: \`${md(plan.target)}\``,
    '',
    `Commit \`${plan.commit}\` · sync generation ${plan.baseGeneration}`,
    '',
    `**${sentence(s, !!result)}**${s.drift ? ` · ⚠️ ${s.drift} drifted` : ''}`,
  ];
  for (const w of provenanceWarnings(plan)) out.push('', `> ⚠️ ${md(w)}`);
  if (plan.lock)
    out.push(
      '',
      `> ⚠️ An earlier sync (generation ${plan.lock.generation}, commit \`${plan.lock.commit ?? '?'}\`) ` +
        `did not complete${lockState(plan.lock)}.`,
    );
  if (plan.changes.length) {
    out.push('', '| | Resource | Name | Why |', '|---|---|---|---|');
    for (const c of plan.changes)
      out.push(`| ${c.action} | ${c.resource} | \`${md(c.id)}\` | ${md(c.reason)}${c.drift ? ' (drift)' : ''} |`);
  }
  if (plan.drift.length) {
    out.push('', '<details><summary>Drift: the remote differs from what the last sync wrote</summary>', '');
    for (const d of plan.drift) out.push(`- ${d.resource} \`${md(d.id)}\`: ${md(d.detail)}`);
    out.push('', '</details>');
  }
  const kept = plan.orphans.filter(
    (o) => !plan.changes.some((c) => c.action === 'delete' && c.resource === o.resource && c.id === o.id),
  );
  if (kept.length) {
    out.push('', '<details><summary>No longer in the repo, kept (--prune deletes them)</summary>', '');
    for (const o of kept) out.push(`- ${o.resource} \`${md(o.id)}\``);
    out.push('', '</details>');
  }
  if (plan.issues.length) {
    out.push('', '<details><summary>Not managed by sync, left alone</summary>', '');
    for (const i of plan.issues) out.push(`- ${i.kind} \`${md(i.id)}\` (${i.problem}): ${md(i.message)}`);
    out.push('', '</details>');
  }
  return `${out.join('\n')}\n`;
}
