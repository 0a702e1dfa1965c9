import { type Command, Option } from 'commander';
import { deleteArchiveDatabase } from '../../delete-db/delete-db.js';
import { renderJson, renderText } from '../../delete-db/render.js';
import { openDeleteTargets } from '../../delete-db/targets.js';
import { findRoot } from '../root.js';

export function registerDeleteArchiveDatabase(program: Command): void {
  program
    .command('delete-archive-database')
    .description(
      'delete an archive (Glue) database: its Iceberg tables with every file, its grants, the database; ' +
        'dry run unless --apply; refused under legal hold, before retention ends (unless forced) and under Object Lock',
    )
    .argument('<database>', 'the archive database, e.g. archive_pgdb')
    .option('--apply', 'delete (default: show what would be deleted and change nothing)')
    .option('--force-reason <why>', 'delete tables before their retention end (recorded); never overrides a hold')
    .addOption(
      new Option('--target <target>', 'local (.offload/state + .offload/warehouse), local:STATE_DIR or aws').default(
        'local',
      ),
    )
    .option('--warehouse <dir>', 'the local Hadoop warehouse (default .offload/warehouse in the repo)')
    .option(
      '--audit <where>',
      'audit records: a directory, or s3://… on aws (default <state>/audit, s3://<config bucket>/pipeline/audit/)',
    )
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      '\nExit status: 0 deleted (or would be, dry run); 1 refused (every reason listed; with --apply an audit\n' +
        'record says so) or a step failed (run again: it continues); 2 usage error.',
    )
    .action(
      async (
        database: string,
        o: {
          apply?: boolean;
          forceReason?: string;
          target: string;
          warehouse?: string;
          audit?: string;
          format: 'text' | 'json';
          root?: string;
        },
      ) => {
        const root = findRoot(process.cwd(), o.root);
        const t = await openDeleteTargets(root, o.target, {
          ...(o.warehouse ? { warehouse: o.warehouse } : {}),
          ...(o.audit ? { audit: o.audit } : {}),
        });
        try {
          const r = await deleteArchiveDatabase({
            root,
            database,
            apply: !!o.apply,
            ...(o.forceReason !== undefined ? { forceReason: o.forceReason } : {}),
            ...t,
          });
          process.stdout.write(o.format === 'json' ? renderJson(r) : renderText(r));
          process.exitCode = r.status === 'refused' ? 1 : 0;
        } finally {
          t.store.close?.();
          t.ledger.close?.();
        }
      },
    );
}
