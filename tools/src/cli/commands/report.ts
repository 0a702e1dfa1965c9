/**
 * `offload report [RUN]`: renders a run (the newest by default) from the local run ledger into JSON,
 * Markdown and one self-contained HTML file under `<state>/reports/`, with the validation records
 * (differing keys) and archive sizes the run left in the state directory and the warehouse.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { localArchiveBytes } from '../../archives/archives.js';
import { UserError } from '../../errors.js';
import type { LedgerEntry } from '../../generated/ledger-entry.js';
import type { RunReport } from '../../generated/run-report.js';
import type { ValidationResultRecord } from '../../generated/validation-result.js';
import { createLocalLedger } from '../../ledger/local.js';
import { reportFromLedger, runsInLedger } from '../../report/from-ledger.js';
import { runUnitsFile } from '../../run/runner.js';
import type { WorkUnit } from '../../work/units.js';
import { renderHtml, renderJson, renderMarkdown } from '../../report/render.js';

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export interface ReportOptions {
  run?: string;
  stateDir: string;
  warehouse: string;
  out?: string;
}

export async function buildLocalReport(
  opts: ReportOptions,
): Promise<{ report: RunReport; files: Record<'json' | 'markdown' | 'html', string> }> {
  const stateDir = path.resolve(opts.stateDir);
  if (!existsSync(path.join(stateDir, 'ledger')))
    throw new UserError(`no run ledger in ${stateDir}: run \`offload run\` first (or pass --state)`);
  const entries: LedgerEntry[] = await createLocalLedger({ dir: stateDir }).list();
  const runs = runsInLedger(entries);
  const runId = opts.run ?? runs[0];
  if (!runId) throw new UserError(`the run ledger in ${stateDir} records no run yet`);
  if (!runs.includes(runId))
    throw new UserError(`run ${runId} is not in the ledger; recent runs: ${runs.slice(0, 5).join(', ') || 'none'}`);
  const results = path.join(stateDir, 'results');
  const warehouse = path.resolve(opts.warehouse);
  const kept = readJson(runUnitsFile(stateDir, runId)) as { units?: WorkUnit[] } | undefined;
  const report = reportFromLedger({
    runId,
    runtime: 'local',
    entries,
    ...(Array.isArray(kept?.units) ? { units: kept.units } : {}),
    validationRecord: (e) => {
      if (!e.archive_namespace || !e.archive_table) return undefined;
      const file = path.join(
        results,
        `${e.archive_namespace}.${e.archive_table}.${e.archive_run_id ?? e.run_id}.validation.json`,
      );
      return readJson(file) as ValidationResultRecord | undefined;
    },
    archiveBytes: (e) =>
      e.archive_namespace && e.archive_table
        ? localArchiveBytes(warehouse, e.archive_namespace, e.archive_table)
        : undefined,
  });
  const out = path.resolve(opts.out ?? path.join(stateDir, 'reports'));
  mkdirSync(out, { recursive: true });
  const files = {
    json: path.join(out, `${runId}.json`),
    markdown: path.join(out, `${runId}.md`),
    html: path.join(out, `${runId}.html`),
  };
  const write = (file: string, text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file); // a reader never sees half a report
  };
  write(files.json, renderJson(report));
  write(files.markdown, renderMarkdown(report));
  write(files.html, renderHtml(report));
  return { report, files };
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .argument('[run]', 'run id (default: the newest run in the ledger)')
    .description('render a run from the local run ledger: JSON, Markdown and a self-contained HTML report with charts')
    .option('--state <dir>', 'local state directory (ledger, validation records)', '.offload/state')
    .option('--warehouse <dir>', 'the local Iceberg warehouse (archive sizes)', '.offload/warehouse')
    .option('--out <dir>', 'where the report files go (default: <state>/reports)')
    .addOption(new Option('--format <format>', 'what to print').choices(['text', 'markdown', 'json']).default('text'))
    .option('--root <dir>', 'resolve --state and --warehouse from this folder (default: the current directory)')
    .action(async (run: string | undefined, o) => {
      const base = path.resolve(o.root ?? process.cwd());
      const { report, files } = await buildLocalReport({
        stateDir: path.resolve(base, o.state),
        warehouse: path.resolve(base, o.warehouse),
        ...(run ? { run } : {}),
        ...(o.out ? { out: o.out } : {}),
      });
      if (o.format === 'json') process.stdout.write(renderJson(report));
      else if (o.format === 'markdown') process.stdout.write(renderMarkdown(report));
      else
        process.stdout.write(
          `${renderMarkdown(report).split('\n')[0]?.replace(/^# /, '')}\n` +
            `report: ${files.html}\n        ${files.markdown}\n        ${files.json}\n`,
        );
      process.exitCode = report.status === 'succeeded' || report.status === 'no_op' ? 0 : 1;
    });
}
