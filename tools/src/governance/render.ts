/** Renders a governance plan (and what apply left) as text, JSON or Markdown. Pure functions. */
import type { GovernancePlan, Grant, RevokeReason } from './model.js';
import { resourceLabel } from './model.js';
import { inSync } from './plan.js';

export type GovernanceFormat = 'text' | 'json' | 'markdown';
export type RenderMode = 'plan' | 'apply' | 'verify';

const REASON: Record<RevokeReason, string> = {
  'not-declared': 'not declared in the configs',
  'database-removed': 'its database is no longer in the repo',
};

const plain = ({ raw: _r, ...g }: Grant) => g;
const permission = (g: Grant) => `${g.permission}${g.grantable ? ' (with grant option)' : ''}`;

/** The JSON document `--format json` prints: stable field names, meant for scripts and the scheduled check. */
function governanceDocument(plan: GovernancePlan, mode: RenderMode, after?: GovernancePlan) {
  return {
    mode,
    target: plan.target,
    prune: plan.prune,
    in_sync: inSync(after ?? plan),
    grants: {
      add: plan.grants.add.map(plain),
      revoke: plan.grants.revoke.map((g) => ({ ...plain(g), revoked: plan.prune && mode === 'apply' })),
      unchanged: plan.grants.unchanged,
    },
    admins: plan.admins,
    locations: plan.locations,
    ...(after ? { remaining_drift: { grants: after.grants.revoke.map(plain), admins: after.admins.remove } } : {}),
  };
}

function headline(plan: GovernancePlan, mode: RenderMode, after?: GovernancePlan): string {
  if (mode === 'verify')
    return inSync(plan)
      ? `Governance verified: ${plan.target} holds exactly what the configs declare`
      : `Governance DRIFT: ${plan.target} differs from the configs`;
  if (mode === 'apply')
    return after && inSync(after)
      ? `Governance applied to ${plan.target}: now in sync with the configs`
      : `Governance applied to ${plan.target}; drift kept (revoked only with --prune)`;
  return inSync(plan) ? `Governance plan for ${plan.target}: no changes` : `Governance plan for ${plan.target}`;
}

/** Lines shared by the text output and the preview: `+ principal PERMISSION on resource`. */
function grantLine(sign: '+' | '-', g: Grant): string {
  return `${sign} ${g.principal} ${permission(g)} on ${resourceLabel(g)}`;
}

function renderGovernanceText(plan: GovernancePlan, mode: RenderMode, after?: GovernancePlan): string {
  const out = [headline(plan, mode, after), ''];
  const revokeNote = plan.prune
    ? mode === 'apply'
      ? 'revoked'
      : 'revoked by apply --prune'
    : 'kept: revoked only with --prune';
  if (plan.grants.add.length) {
    out.push(`${mode === 'apply' ? 'Granted' : 'Grants to add'} (${plan.grants.add.length}):`);
    for (const g of plan.grants.add) out.push(`  ${grantLine('+', g)}`);
    out.push('');
  }
  if (plan.grants.revoke.length) {
    out.push(`Grants not in the configs (${plan.grants.revoke.length}; ${revokeNote}):`);
    for (const g of plan.grants.revoke) out.push(`  ${grantLine('-', g)} — ${REASON[g.reason]}`);
    out.push('');
  }
  if (plan.admins.add.length || plan.admins.remove.length) {
    out.push('Data-lake administrators:');
    for (const a of plan.admins.add) out.push(`  + ${a}`);
    for (const a of plan.admins.remove) out.push(`  - ${a} — not declared in the configs (${revokeNote})`);
    out.push('');
  }
  if (plan.locations.register.length) {
    out.push(mode === 'apply' ? 'Data locations registered:' : 'Data locations to register:');
    for (const l of plan.locations.register) out.push(`  + ${l}`);
    out.push('');
  }
  out.push(
    `${plan.grants.add.length} grant(s) to add, ${plan.grants.revoke.length} not declared, ` +
      `${plan.locations.register.length} location(s) to register, ${plan.grants.unchanged} grant(s) unchanged` +
      (plan.admins.managed ? `, ${plan.admins.unchanged} administrator(s) unchanged` : ', administrators not managed'),
  );
  return `${out.join('\n')}\n`;
}

const md = (s: string) => `\`${s.replace(/`/g, "'")}\``;

function renderGovernanceMarkdown(plan: GovernancePlan, mode: RenderMode, after?: GovernancePlan): string {
  const out = [`### ${headline(plan, mode, after)}`, ''];
  const rows: string[] = [];
  for (const g of plan.grants.add)
    rows.push(`| + grant | ${md(g.principal)} | ${permission(g)} | ${md(resourceLabel(g))} | |`);
  for (const g of plan.grants.revoke)
    rows.push(
      `| - ${plan.prune ? 'revoke' : 'drift (kept)'} | ${md(g.principal)} | ${permission(g)} | ` +
        `${md(resourceLabel(g))} | ${REASON[g.reason]} |`,
    );
  for (const a of plan.admins.add) rows.push(`| + administrator | ${md(a)} | | | |`);
  for (const a of plan.admins.remove)
    rows.push(`| - administrator${plan.prune ? '' : ' (kept)'} | ${md(a)} | | | not declared |`);
  for (const l of plan.locations.register) rows.push(`| + register | | | ${md(l)} | |`);
  if (rows.length)
    out.push('| Change | Principal | Permission | Resource | Note |', '|---|---|---|---|---|', ...rows, '');
  return `${out.join('\n')}\n`;
}

export function renderGovernance(
  plan: GovernancePlan,
  format: GovernanceFormat,
  mode: RenderMode,
  after?: GovernancePlan,
): string {
  if (format === 'json') return `${JSON.stringify(governanceDocument(plan, mode, after), null, 2)}\n`;
  if (format === 'markdown') return renderGovernanceMarkdown(plan, mode, after);
  return renderGovernanceText(plan, mode, after);
}
