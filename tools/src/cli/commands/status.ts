import { type Command, Option } from 'commander';
import { status } from '../../status/status.js';
import { renderJson, renderText } from '../../status/render.js';
import { DEFAULT_INVENTORY_DIR } from '../../inventory/inventory.js';
import { findRoot } from '../root.js';
import { openLedger } from '../../run/open-ledger.js';
import { loadRepo } from '../../config/load.js';
import { fsSource } from '../../config/source.js';
import type { OffloadSettings } from '../../generated/settings.js';

/** Every entry of the run ledger `spec` names (`none`: no ledger). */
async function readLedger(spec: string, root: string) {
  if (spec === 'none') return undefined;
  const settings =
    spec === 'aws' ? ((await loadRepo(fsSource(root))).settings?.config as OffloadSettings | undefined) : undefined;
  const ledger = await openLedger(spec, root, settings);
  try {
    return { label: ledger.label, entries: await ledger.list() };
  } finally {
    ledger.close?.();
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'what is due: for every table a scope claims, its dates (table, archive due, purge due), legal hold, ' +
        'the action due now, the next action and when, and its run-ledger state',
    )
    .option('--database <name...>', 'only these databases (default: every database config)')
    .option('--as-of <date>', 'evaluate ages at this ISO-8601 date (default: today, UTC)')
    .addOption(
      new Option('--format <format>', 'text for people, json (documented contract: schema/status.schema.json)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--inventory <dir>', 'folder of inventory snapshots (written by `offload discover`)', DEFAULT_INVENTORY_DIR)
    .option(
      '--ledger <local[:dir]|aws|none>',
      'run ledger giving each table its state and what is archived: the local state directory ' +
        '(.offload/state), the DynamoDB ledger table, or none',
      'local',
    )
    .option(
      '--archive-state <file>',
      'JSON list of archive records {database, schema, table, archived_at, validated, table_date?}; ' +
        "overrides the ledger's archive records",
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      `
Exit status: 0 every table evaluated; 1 a database or table could not be evaluated (missing or partial
inventory, impossible table date, policy conflict) or the configs fail validation; 2 usage error.`,
    )
    .action(
      async (o: {
        database?: string[];
        asOf?: string;
        format: 'text' | 'json';
        inventory: string;
        archiveState?: string;
        ledger: string;
        root?: string;
      }) => {
        const root = findRoot(process.cwd(), o.root);
        const ledger = await readLedger(o.ledger, root);
        const result = await status({
          root,
          ...(ledger ? { ledger } : {}),
          inventory: o.inventory,
          ...(o.database ? { databases: o.database } : {}),
          ...(o.asOf ? { asOf: o.asOf } : {}),
          ...(o.archiveState ? { archiveState: o.archiveState } : {}),
        });
        process.stdout.write(o.format === 'json' ? renderJson(result) : renderText(result));
        process.exitCode = result.complete ? 0 : 1;
      },
    );
}
