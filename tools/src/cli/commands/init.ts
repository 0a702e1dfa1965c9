import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { initRepo, type SettingsInput } from '../../init/init.js';

interface InitCliOptions {
  prefix?: string;
  region?: string;
  account?: string;
  configBucket?: string;
  archiveBucket?: string;
  table?: string;
  timezone?: string;
  toolkit?: string;
  commit: boolean;
}

/** Asks for what the flags did not give, on a terminal; elsewhere a missing required flag is a usage error. */
async function complete(o: InitCliOptions): Promise<SettingsInput> {
  const missing = (['prefix', 'region'] as const).filter((k) => !o[k]);
  if (missing.length && !process.stdin.isTTY)
    throw new UserError(
      `missing ${missing.map((k) => `--${k}`).join(' and ')} (no terminal to ask on); ` +
        'e.g. offload init my-configs --prefix acme --region eu-west-1',
    );
  if (missing.length || (process.stdin.isTTY && o.account === undefined)) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    // Lines typed (or pasted) ahead of a question are buffered by the iterator, never lost.
    const lines = rl[Symbol.asyncIterator]();
    const ask = async (question: string) => {
      process.stderr.write(question);
      const r = await lines.next();
      return r.done ? '' : String(r.value).trim();
    };
    try {
      if (!o.prefix) o.prefix = await ask('Resource prefix (lower case, e.g. acme; names derive from it): ');
      if (!o.region) o.region = await ask('AWS region (e.g. eu-west-1): ');
      if (o.account === undefined)
        o.account = (await ask('AWS account id (12 digits, empty to leave out): ')) || undefined;
    } finally {
      rl.close();
    }
  }
  return {
    prefix: o.prefix!,
    region: o.region!,
    ...(o.account ? { account: o.account } : {}),
    ...(o.configBucket ? { configBucket: o.configBucket } : {}),
    ...(o.archiveBucket ? { archiveBucket: o.archiveBucket } : {}),
    ...(o.table ? { table: o.table } : {}),
    ...(o.timezone ? { timezone: o.timezone } : {}),
  };
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'start your own config repository: a clone of the toolkit with your settings, ' +
        'empty databases/ and policies/, the workflows and the schemas',
    )
    .argument('[dir]', 'folder of the new repository (must not exist or be empty)', '.')
    .option('--prefix <prefix>', 'resource prefix every AWS name derives from (asked for when missing)')
    .option('--region <region>', 'AWS region, e.g. eu-west-1 (asked for when missing)')
    .option('--account <id>', 'AWS account id (12 digits; optional)')
    .option('--config-bucket <bucket>', 'S3 bucket the configs sync to (default <prefix>-archival-configs)')
    .option('--archive-bucket <bucket>', 'S3 bucket of the Iceberg archives (default <prefix>-data-archive-vault)')
    .option('--table <name>', 'DynamoDB table of the synced configs (default <prefix>-archival-configs)')
    .option('--timezone <zone>', 'IANA time zone of schedules (default UTC)')
    .option('--toolkit <git-url|path>', 'toolkit repository to start from (default: this toolkit checkout)')
    .option('--no-commit', 'stage the settings without committing them')
    .addHelpText(
      'after',
      `
The new repository keeps the toolkit as the git remote "toolkit": \`git pull toolkit main\` brings
toolkit updates (the toolkit keeps no configs in databases/ or policies/, so they never conflict).
Exit status: 0 created; 2 usage error (missing or invalid settings, a folder that is not empty),
and then nothing is written.`,
    )
    .action(async (dir: string, o: InitCliOptions) => {
      const settings = await complete(o);
      const r = await initRepo({
        dir,
        settings,
        ...(o.toolkit ? { toolkit: o.toolkit } : {}),
        commit: o.commit,
      });
      process.stdout.write(
        [
          `Created ${r.dir} (branch ${r.branch}, ${r.commit ? `commit ${r.commit.slice(0, 12)}` : 'settings staged'}).`,
          `Toolkit remote "toolkit": ${r.toolkit}`,
          ...(r.removed.length ? [`Left out the toolkit's own configs: ${r.removed.join(', ')}`] : []),
          'Next:',
          `  cd ${dir} && npm ci`,
          '  add databases/<name>.yaml and policies/<name>.yaml (examples/natwest/ is a full sample)',
          '  npx offload validate && npx offload discover && npx offload status',
          '',
        ].join('\n'),
      );
    });
}
