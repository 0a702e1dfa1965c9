import path from 'node:path';
import { type Command, Option } from 'commander';
import { findRoot } from '../root.js';
import { runRestore } from '../../restore/restore.js';
import { renderRestore } from '../../restore/render.js';

interface RestoreCliOptions {
  database: string;
  table: string;
  targetTable: string;
  asOfSnapshot?: string;
  dryRun?: boolean;
  warehouse: string;
  catalogType: 'hadoop' | 'glue';
  restoreSecret?: string;
  writePath: 'auto' | 'arrow' | 'copy' | 'jdbc';
  arrowValidation: 'checksums' | 'values';
  copyFormat: 'auto' | 'text';
  format: 'text' | 'json';
  root?: string;
}

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description(
      'bring an archived table back into a NEW table of its source database (an audit, a rollback): original ' +
        'column types from the lineage, written under a staging name, validated against the archive, then renamed',
    )
    .requiredOption('--database <name>', 'database config (databases/<name>.yaml) whose archive is restored')
    .requiredOption('--table <schema.table>', 'the archived source table')
    .requiredOption(
      '--target-table <name>',
      'the new table: name (in the same schema) or schema.name; never overwritten',
    )
    .option('--as-of-snapshot <id>', 'restore this archive snapshot (default: the current one)')
    .option('--dry-run', 'check the archive, the snapshot, the target name and the credential; write nothing')
    .option(
      '--warehouse <dir>',
      'Iceberg warehouse (a directory, or s3://… with --catalog-type glue)',
      '.offload/warehouse',
    )
    .addOption(
      new Option('--catalog-type <type>', 'hadoop (local) or glue').choices(['hadoop', 'glue']).default('hadoop'),
    )
    .option('--restore-secret <name>', 'Secrets Manager secret of the restore login (after the environment and file)')
    .addOption(
      new Option(
        '--write-path <path>',
        'arrow (PostgreSQL: COPY FROM STDIN of binary or text rows built from the archive in Arrow, validated ' +
          'against the archive), ' +
          'copy (Spark COPY text files / LOAD DATA) or jdbc; auto picks arrow, else copy, when it can',
      )
        .choices(['auto', 'arrow', 'copy', 'jdbc'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--arrow-validation <how>',
        'arrow path: checksums (per-bucket row hash sums computed by PostgreSQL and by the job; a difference ' +
          'reads the values back to name the keys) or values (every value read back and compared)',
      )
        .choices(['checksums', 'values'])
        .default('checksums'),
    )
    .addOption(
      new Option(
        '--copy-format <format>',
        "arrow path: auto (PostgreSQL's binary COPY format, built from the archive's Arrow data, when every " +
          'column has one; else the text format) or text',
      )
        .choices(['auto', 'text'])
        .default('auto'),
    )
    .addOption(
      new Option('--format <format>', 'text, or json (the job summary)').choices(['text', 'json']).default('text'),
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      `
The restore login is its own, write-capable credential — never the read-only discovery/archive one:
OFFLOAD_RESTORE_<NAME>_USER and _PASSWORD (optional _URL), or the entry "<name>.restore" of the
credentials file (.offload/credentials.yaml, ~/.config/offload/credentials.yaml), or --restore-secret.

Exit status: 0 restored (or dry run); 1 the restored rows did not validate against the archive (kept
under the staging name, dropped by a rerun); 2 refused (the target exists, the credential cannot write,
no such archive or snapshot) or a usage error.`,
    )
    .action(async (o: RestoreCliOptions) => {
      const root = findRoot(process.cwd(), o.root);
      const outcome = await runRestore({
        root,
        database: o.database,
        table: o.table,
        targetTable: o.targetTable,
        warehouse: o.warehouse.startsWith('s3://') ? o.warehouse : path.resolve(root, o.warehouse),
        catalogType: o.catalogType,
        writePath: o.writePath,
        arrowValidation: o.arrowValidation,
        copyFormat: o.copyFormat,
        ...(o.asOfSnapshot !== undefined ? { asOfSnapshot: o.asOfSnapshot } : {}),
        ...(o.dryRun ? { dryRun: true } : {}),
        ...(o.restoreSecret ? { restoreSecret: o.restoreSecret } : {}),
      });
      if (o.format === 'json') process.stdout.write(outcome.json);
      else (outcome.exitCode === 2 ? process.stderr : process.stdout).write(renderRestore(outcome.summary));
      process.exitCode = outcome.exitCode;
    });
}
