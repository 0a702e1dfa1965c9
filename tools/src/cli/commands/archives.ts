import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { listArchives } from '../../archives/archives.js';
import { renderJson, renderText } from '../../archives/render.js';
import { SETTINGS_FILE } from '../../config/source.js';
import { findRoot } from '../root.js';

const DEFAULT_WAREHOUSE = '.offload/warehouse';
const DEFAULT_RESULTS = '.offload/state/results';

export function registerArchives(program: Command): void {
  program
    .command('archives')
    .description(
      'list the Iceberg archives of a local warehouse: rows, bytes, current snapshot, source, policy, ' +
        'retention end, legal hold, last validation',
    )
    .option('--database <name...>', 'only the archives of these database configs')
    .addOption(
      new Option('--format <format>', 'text for people, json (documented contract: schema/archives.schema.json)')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option(
      '--warehouse <dir>',
      `the Hadoop catalog warehouse the jobs write (default ${DEFAULT_WAREHOUSE} in the repo)`,
    )
    .option(
      '--results <dir>',
      `validation records (validate_table.py --result_path; default ${DEFAULT_RESULTS} in the repo when it exists)`,
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      '\nExit status: 0 every archive read; 1 a table or validation record could not be read (listed under\n' +
        'problems, the others still listed); 2 usage error (no warehouse, an unknown database).',
    )
    .action(
      async (o: {
        database?: string[];
        format: 'text' | 'json';
        warehouse?: string;
        results?: string;
        root?: string;
      }) => {
        const root = findRoot(process.cwd(), o.root);
        const hasRepo = existsSync(path.join(root, SETTINGS_FILE));
        const defaultResults = path.join(root, DEFAULT_RESULTS);
        const result = await listArchives({
          warehouse: o.warehouse ? path.resolve(o.warehouse) : path.join(root, DEFAULT_WAREHOUSE),
          ...(o.results
            ? { results: path.resolve(o.results) }
            : existsSync(defaultResults)
              ? { results: defaultResults }
              : {}),
          ...(hasRepo ? { root } : {}),
          ...(o.database ? { databases: o.database } : {}),
        });
        process.stdout.write(o.format === 'json' ? renderJson(result) : renderText(result));
        process.exitCode = result.problems.length ? 1 : 0;
      },
    );
}
