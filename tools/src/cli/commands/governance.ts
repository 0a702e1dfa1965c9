import { type Command, Option } from 'commander';
import { findRoot } from '../root.js';
import { UserError } from '../../errors.js';
import { renderRepoFindings } from '../../validate/render.js';
import { parseTarget } from '../../sync/sync.js';
import { checkLocalRead, runGovernance, type GovernanceMode } from '../../governance/governance.js';
import { renderGovernance, type GovernanceFormat } from '../../governance/render.js';

interface GovernanceCliOptions {
  target: string;
  prune?: boolean;
  format: GovernanceFormat;
  root?: string;
  allowUncommitted?: string;
}

const targetOption = () =>
  new Option(
    '--target <target>',
    'aws (Lake Formation; credentials, region and AWS_ENDPOINT_URL from the standard AWS SDK chain), ' +
      'local (.offload/state/governance.json) or local:DIR',
  ).default('local');

function addCommon(cmd: Command): Command {
  return cmd
    .addOption(targetOption())
    .addOption(
      new Option('--format <format>', 'output: text, json (stable, for scripts) or markdown')
        .choices(['text', 'json', 'markdown'])
        .default('text'),
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)');
}

async function run(mode: GovernanceMode, opts: GovernanceCliOptions): Promise<void> {
  const root = findRoot(process.cwd(), opts.root);
  const outcome = await runGovernance({
    root,
    target: parseTarget(opts.target, root),
    mode,
    prune: !!opts.prune,
    allowUncommitted: opts.allowUncommitted,
  });
  if (outcome.status === 'invalid') {
    process.stderr.write(renderRepoFindings(outcome.repo));
    throw new UserError(`governance ${mode} refused: the configs do not pass \`offload validate\` (errors above)`, 1);
  }
  if (outcome.status === 'applied') {
    process.stdout.write(renderGovernance(outcome.plan, opts.format, 'apply', outcome.after));
    process.exitCode = 0;
    return;
  }
  process.stdout.write(renderGovernance(outcome.plan, opts.format, mode));
  process.exitCode = mode === 'verify' && !outcome.inSync ? 1 : 0;
}

export function registerGovernance(program: Command): void {
  const gov = program
    .command('governance')
    .description(
      "Lake Formation permissions from the databases' `governance` sections: consumers with DESCRIBE/SELECT on " +
        'the archive Glue database and its tables, data-lake administrators, the archive location registered',
    )
    .addHelpText(
      'after',
      `
Grants on archive Glue databases that no config declares are drift: listed by plan, kept by apply,
revoked only by apply --prune. A database removed from the repo keeps its grants until --prune.

Exit status: 0 success (verify: in sync); 1 drift found by verify, invalid or uncommitted configs
(apply), a read refused by check, or a target that changed during apply; 2 usage, credentials or
environment error.`,
    );
  addCommon(gov.command('plan').description('show the grants to add and those not declared (drift); write nothing'))
    .option('--prune', 'show the undeclared grants as revokes (what apply --prune would do)')
    .action((o: GovernanceCliOptions) => run('plan', o));
  addCommon(gov.command('apply').description('grant what the configs declare, register the locations'))
    .option('--prune', 'also revoke grants (and administrators) that no config declares, as listed by plan --prune')
    .option(
      '--allow-uncommitted <reason>',
      'apply configs that are not committed (modified, untracked, or no git repository)',
    )
    .action((o: GovernanceCliOptions) => run('apply', o));
  addCommon(
    gov.command('verify').description('compare effective permissions with the configs; exit 1 on any drift'),
  ).action((o: GovernanceCliOptions) => run('verify', o));
  gov
    .command('check')
    .description('local runtime: may this principal read this archive? exit 0 yes, 1 refused (local state only)')
    .requiredOption('--principal <arn>', 'IAM role or user ARN acting as reader')
    .requiredOption('--database <glue-database>', 'archive Glue database, e.g. archive_nucleus_dev')
    .option('--table <table>', 'one archive table (default: every table of the database)')
    .addOption(new Option('--target <target>', 'local or local:DIR').default('local'))
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .action(async (o: { principal: string; database: string; table?: string; target: string; root?: string }) => {
      const root = findRoot(process.cwd(), o.root);
      const spec = parseTarget(o.target, root);
      if (spec.kind !== 'local')
        throw new UserError('governance check reads the local state: use --target local[:DIR]', 2);
      const d = await checkLocalRead(spec.dir, o.principal, o.database, o.table);
      process.stdout.write(`${d.allowed ? 'allowed' : 'refused'}: ${d.reason}\n`);
      process.exitCode = d.allowed ? 0 : 1;
    });
}
