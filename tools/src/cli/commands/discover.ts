import type { Command } from 'commander';
import path from 'node:path';
import pLimit from 'p-limit';
import { loadRepo } from '../../config/load.js';
import { fsSource } from '../../config/source.js';
import { discoverDatabase, type DiscoverProgress } from '../../catalog/discover.js';
import { DEFAULT_INVENTORY_DIR, storeDiscovery, type Inventory } from '../../inventory/inventory.js';
import { UserError } from '../../errors.js';
import { didYouMean } from '../../config/suggest.js';
import { ensureDir } from '../../dirs.js';
import { ageText } from '../../preview/age.js';
import { findRoot } from '../root.js';
import { progressReporter } from '../progress.js';

interface DiscoverCommandOptions {
  root: string;
  databases: string[];
  out: string;
  concurrency?: number;
  /** Databases discovered at the same time. @default 4 */
  jobs?: number;
  timeoutMs?: number;
  aws?: boolean;
  onProgress?: (p: DiscoverProgress) => void;
}

interface DiscoverCommandResult {
  written: {
    database: string;
    file: string;
    tables: number;
    partial: boolean;
    errors: Inventory['errors'];
    /** The discovery failed and this earlier complete snapshot was kept (the failure recorded in `failureFile`). */
    kept?: { discovered_at: string; failureFile: string };
  }[];
}

/** Discovers each selected database (all by default) and writes its inventory; returns what was written. */
async function discoverCommand(opts: DiscoverCommandOptions): Promise<DiscoverCommandResult> {
  const repo = await loadRepo(fsSource(opts.root));
  if (repo.errors > 0)
    throw new UserError(`the configs have ${repo.errors} validation error(s); run \`offload validate\` first`, 1);
  const known = repo.databases.map((d) => d.config.name);
  const unknown = opts.databases.filter((n) => !known.includes(n));
  if (unknown.length)
    throw new UserError(
      `no database config named ${unknown.join(', ')} ` +
        `(${unknown.map((n) => didYouMean(n, known)).join('')}known: ${known.join(', ') || 'none'})`,
    );
  const chosen = repo.databases.filter((d) => opts.databases.length === 0 || opts.databases.includes(d.config.name));
  const policies = repo.policies.map((p) => p.config);
  const out = path.resolve(opts.root, opts.out);
  await ensureDir(out, '--out'); // before connecting: a bad folder is known in a moment, not after discovery
  // Databases in parallel (each with its own connections), results in config order.
  const limit = pLimit(Math.max(1, opts.jobs ?? 4));
  const written = await Promise.all(
    chosen.map((d) =>
      limit(async () => {
        const { inventory } = await discoverDatabase({
          database: d.config,
          policies,
          credentials: {
            root: opts.root,
            ...(repo.settings ? { region: repo.settings.config.region } : {}),
            ...(opts.aws === false ? { aws: false } : {}),
          },
          ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
          ...(opts.timeoutMs ? { statementTimeoutMs: opts.timeoutMs } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        });
        const stored = await storeDiscovery(out, inventory);
        return {
          database: d.config.name,
          file: stored.file,
          tables: stored.written ? inventory.tables.length : stored.kept.tables.length,
          partial: inventory.partial,
          errors: inventory.errors,
          ...(stored.written
            ? {}
            : { kept: { discovered_at: stored.kept.discovered_at, failureFile: stored.failureFile } }),
        };
      }),
    ),
  );
  return { written };
}

export function registerDiscover(program: Command): void {
  program
    .command('discover')
    .description('read the source catalogs (read-only) and write one inventory snapshot per database')
    .option('--database <name...>', 'databases to discover (default: every database config)')
    .option('--out <dir>', 'folder of the inventory snapshots, one <database>.json each', DEFAULT_INVENTORY_DIR)
    .option(
      '--concurrency <n>',
      'parallel max(column) batches and connections per database',
      (v) => positiveInt(v, '--concurrency'),
      4,
    )
    .option('--jobs <n>', 'databases discovered at the same time', (v) => positiveInt(v, '--jobs'), 4)
    .option('--timeout <seconds>', 'statement timeout', (v) => positiveInt(v, '--timeout'), 30)
    .option(
      '--no-aws',
      'do not look up credentials in AWS Secrets Manager (environment and local credentials file only)',
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      `
Credentials, first found: OFFLOAD_DB_<NAME>_USER / _PASSWORD (and _URL, a JDBC URL overriding the
configured one) in the environment; .offload/credentials.yaml or ~/.config/offload/credentials.yaml
(or OFFLOAD_CREDENTIALS_FILE); the config's Secrets Manager secret.

A failed discovery never replaces a complete snapshot: that is kept, and the failure is recorded
beside it in <database>.error.json (removed by the next good discovery).

Exit status: 0 every inventory complete, 1 some discovery failed or is partial (errors listed), 2 usage
error (also a --out folder that is a file or cannot be created).`,
    )
    .action(
      async (o: {
        database?: string[];
        out: string;
        concurrency: number;
        jobs: number;
        timeout: number;
        aws: boolean;
        root?: string;
        quiet?: boolean;
      }) => {
        const progress = progressReporter(process.stderr, o.quiet === true);
        try {
          const r = await discoverCommand({
            root: findRoot(process.cwd(), o.root),
            databases: o.database ?? [],
            out: o.out,
            concurrency: o.concurrency,
            jobs: o.jobs,
            timeoutMs: o.timeout * 1000,
            aws: o.aws,
            onProgress: progress.onProgress,
          });
          const rel = (f: string) => path.relative(process.cwd(), f) || f;
          for (const w of r.written) {
            if (w.kept)
              process.stdout.write(
                `${w.database}: discovery FAILED; kept the last good snapshot of ${w.kept.discovered_at} ` +
                  `(${ageText(w.kept.discovered_at, new Date())}) in ${rel(w.file)}; ` +
                  `failure recorded in ${rel(w.kept.failureFile)}\n`,
              );
            else
              process.stdout.write(
                `${w.database}: ${w.tables} tables${w.partial ? ' (PARTIAL)' : ''} → ${rel(w.file)}\n`,
              );
            for (const e of w.errors) process.stdout.write(`  ${e.code}: ${e.message}\n`);
          }
          process.exitCode = r.written.some((w) => w.partial) ? 1 : 0;
        } finally {
          progress.stop();
        }
      },
    );
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${name} must be a positive whole number, got "${v}"`);
  return n;
}
