import path from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { runPipeline, type RunEvent, type RunSummary } from '../../run/runner.js';
import { findRoot } from '../root.js';
import { progressReporter } from '../progress.js';
import { buildLocalReport } from './report.js';

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${name} must be a positive whole number, got "${v}"`);
  return n;
}

/** Progress of the units on stderr: a bar on a terminal, one line per finished unit otherwise. */
function unitProgress(stream: NodeJS.WriteStream, quiet: boolean) {
  if (quiet) return { onEvent: (_e: RunEvent) => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | undefined;
  let done = 0;
  let total = 0;
  return {
    onEvent(e: RunEvent) {
      if (e.kind === 'planned') {
        total = e.units;
        stream.write(`planned ${e.units} work unit(s) on ${e.tables} table(s)\n`);
      } else if (e.kind === 'worker-ready') {
        if (stream.isTTY && total > 0) {
          bar = new cliProgress.SingleBar(
            { stream, format: 'run [{bar}] {value}/{total} units  {last}', hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0, { last: '' });
        }
      } else if (e.kind === 'unit-done') {
        done++;
        const o = e.outcome;
        const why = o.error ? ` (${o.error.code})` : o.reason ? ` (${o.reason})` : '';
        const line = `${o.database}: ${o.schema}.${o.table} ${o.action} ${o.status}${why}`;
        if (bar) bar.update(done, { last: line.slice(0, 60) });
        else stream.write(`[${done}/${total}] ${line}\n`);
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

function renderText(s: RunSummary): string {
  const lines: string[] = [];
  if (s.dry_run) {
    lines.push(
      `dry run ${s.run_id}: ${s.units.length} work unit(s) would run (configs: ${s.configs}); nothing changed`,
    );
    for (const u of s.units)
      lines.push(
        `  ${u.action.padEnd(14)} ${u.database}: ${u.source.schema}.${u.source.table} → ` +
          `${u.archive.namespace}.${u.archive.table}`,
      );
  } else {
    lines.push(`run ${s.run_id} (configs: ${s.configs}, ledger: ${s.ledger})`);
    if (!s.units.length) lines.push('  nothing to do: every due table is already archived and validated');
    for (const o of s.outcomes)
      lines.push(
        `  ${o.status.padEnd(7)} ${o.action.padEnd(14)} ${o.database}: ${o.schema}.${o.table}` +
          `${o.rows != null ? ` (${o.rows} rows)` : ''}` +
          `${o.error ? ` — ${o.error.code}: ${o.error.message}` : o.reason ? ` — ${o.reason}` : ''}`,
      );
    const t = s.totals;
    lines.push(
      `archived ${t.archived}, validated ${t.validated}, failed ${t.failed}, skipped ${t.skipped} ` +
        `in ${s.seconds.toFixed(1)} s${s.aborted ? ' (interrupted)' : ''}`,
    );
  }
  for (const p of s.problems)
    lines.push(`problem ${p.database}${p.table ? `: ${p.schema}.${p.table}` : ''}: ${p.code} ${p.message}`);
  return `${lines.join('\n')}\n`;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'the local pipeline: synced configs → discovery (read-only) → policy engine → work units → archive → validate, ' +
        'recorded in the run ledger; resumable and safe to interrupt',
    )
    .option('--database <name...>', 'databases to run (default: every database config)')
    .option('--table <name...>', 'only these tables (`schema.table` or `table`)')
    .option('--dry-run', 'print the work units the run would execute; change nothing')
    .addOption(
      new Option(
        '--configs <which>',
        'synced: what the last `offload sync --target local` wrote; worktree: the working tree',
      )
        .choices(['synced', 'worktree'])
        .default('synced'),
    )
    .option('--state <dir>', 'local state directory (ledger, synced configs)', '.offload/state')
    .option('--warehouse <dir>', 'local Iceberg warehouse', '.offload/warehouse')
    .option(
      '--parallel <n>',
      'tables processed at the same time (in one Spark session)',
      (v) => positiveInt(v, '--parallel'),
      2,
    )
    .option(
      '--per-database <n>',
      'tables of one source database processed at the same time',
      (v) => positiveInt(v, '--per-database'),
      1,
    )
    .option('--as-of <date>', 'evaluate ages at this ISO-8601 date (default: today, UTC)')
    .option('--run-id <id>', 'run id (default: the current time, e.g. 2026-12-02T10-00-00Z)')
    .addOption(
      new Option('--format <format>', 'text, or json (the run summary)').choices(['text', 'json']).default('text'),
    )
    .option('--no-aws', 'do not look up credentials in AWS Secrets Manager')
    .option('--quiet', 'no progress on stderr')
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      `
Resumable: a rerun continues from the run ledger (<state>/ledger) and never redoes a validated
table. Interrupt-safe: the ledger records "archiving" before a job starts and "archived" only after
its commit, so a killed run never claims what did not happen; the next run converges. Spark's and
the jobs' logs go to <state>/runs/<run id>.log, validation records to <state>/results.

Exit status: 0 every unit succeeded; 1 a table failed or could not be evaluated; 2 usage error;
130 interrupted.`,
    )
    .action(
      async (o: {
        database?: string[];
        table?: string[];
        dryRun?: boolean;
        configs: 'synced' | 'worktree';
        state: string;
        warehouse: string;
        parallel: number;
        perDatabase: number;
        asOf?: string;
        runId?: string;
        format: 'text' | 'json';
        aws: boolean;
        quiet?: boolean;
        root?: string;
      }) => {
        const root = findRoot(process.cwd(), o.root);
        const discover = progressReporter(process.stderr, o.quiet === true);
        const units = unitProgress(process.stderr, o.quiet === true);
        const abort = new AbortController();
        const onSignal = () => {
          process.stderr.write('\noffload run: interrupted — finishing the ledger writes of running units\n');
          abort.abort();
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let s: RunSummary;
        try {
          s = await runPipeline({
            root,
            configs: o.configs,
            stateDir: path.resolve(process.cwd(), o.state),
            warehouse: path.resolve(process.cwd(), o.warehouse),
            parallelism: o.parallel,
            perDatabase: o.perDatabase,
            signal: abort.signal,
            onDiscover: discover.onProgress,
            onEvent: units.onEvent,
            ...(o.dryRun ? { dryRun: true } : {}),
            ...(o.database ? { databases: o.database } : {}),
            ...(o.table ? { tables: o.table } : {}),
            ...(o.asOf ? { asOf: o.asOf } : {}),
            ...(o.runId ? { runId: o.runId } : {}),
            ...(o.aws === false ? { credentials: { aws: false } } : {}),
          });
        } finally {
          discover.stop();
          units.stop();
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
        }
        process.stdout.write(o.format === 'json' ? `${JSON.stringify(s, null, 2)}\n` : renderText(s));
        if (!s.dry_run && s.outcomes.some((u) => u.status !== 'skipped')) {
          // The run's report (JSON, Markdown, HTML) from the ledger, as `offload report <run>` renders it.
          const { files } = await buildLocalReport({
            run: s.run_id,
            stateDir: path.resolve(process.cwd(), o.state),
            warehouse: path.resolve(process.cwd(), o.warehouse),
          });
          (o.format === 'json' ? process.stderr : process.stdout).write(`report: ${files.html}\n`);
        }
        process.exitCode = s.aborted ? 130 : s.totals.failed > 0 || s.problems.length > 0 ? 1 : 0;
      },
    );
}
