import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { planWork, type PlanWorkResult } from '../../run/plan.js';
import { WORK_ACTIONS, type WorkAction, type WorkUnit } from '../../work/units.js';
import { workUnitProblems } from '../../work/validate-unit.js';
import { DEFAULT_INVENTORY_DIR } from '../../inventory/inventory.js';
import { findRoot } from '../root.js';
import { progressReporter } from '../progress.js';

/** File name of a unit in --out: `<database>.<archive table>.<action>.json` (archive names are file-safe). */
const unitFileName = (u: WorkUnit) => `${u.database}.${u.archive.table}.${u.action}.json`;

/** Writes each unit to its own file (temporary name, then rename: a reader never sees half a unit). */
async function writeUnits(dir: string, units: readonly WorkUnit[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const u of units) {
    const file = path.join(dir, unitFileName(u));
    await writeFile(`${file}.tmp`, `${JSON.stringify(u, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
    files.push(file);
  }
  return files;
}

/** Every planned unit must match its schema before anything is written: a planner bug never reaches a job. */
function checkUnits(units: readonly WorkUnit[]): void {
  for (const u of units) {
    const problems = workUnitProblems(u);
    if (problems.length)
      throw new Error(`work unit ${u.id} does not match schema/work-unit.schema.json: ${problems.join('; ')}`);
  }
}

export function registerPlanWork(program: Command): void {
  program
    .command('plan-work')
    .description(
      'turn the policy engine decisions into work units (schema/work-unit.schema.json), one per table and action, ' +
        'for the jobs (`--work_unit FILE`)',
    )
    .option('--database <name...>', 'databases to plan (default: every database config)')
    .option('--table <name...>', 'only these tables (`schema.table` or `table`)')
    .option(
      '--action <action...>',
      `only these actions (${WORK_ACTIONS.join(', ')})`,
      (v: string, prev: string[] | undefined) => {
        if (!WORK_ACTIONS.includes(v as WorkAction))
          throw new UserError(`--action ${v} is not one of ${WORK_ACTIONS.join(', ')}`);
        return [...(prev ?? []), v];
      },
    )
    .option(
      '--inventory <dir|live>',
      'folder of inventory snapshots, or "live" to read the catalogs now (read-only)',
      DEFAULT_INVENTORY_DIR,
    )
    .option('--as-of <date>', 'evaluate ages at this ISO-8601 date (default: today, UTC)')
    .option('--run-id <id>', 'run id written into every unit (default: the current time, e.g. 2026-12-02T10-00-00Z)')
    .addOption(
      new Option('--runtime <runtime>', 'where the jobs run: which credential sources the units name')
        .choices(['local', 'aws'])
        .default('local'),
    )
    .option('--out <dir>', 'write one <database>.<archive table>.<action>.json per unit into this folder')
    .option('--no-aws', 'with --inventory live: do not look up credentials in AWS Secrets Manager')
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      `
Without --out, prints {"version":1,"run_id",…,"units":[…]} as JSON on stdout. Units never hold a
password, only where the job finds it (environment, credentials file, Secrets Manager, Glue connection).

Exit status: 0 planned; 1 a database or table could not be evaluated or given a unit (listed on
stderr, the other units are still written); 2 usage error.`,
    )
    .action(
      async (o: {
        database?: string[];
        table?: string[];
        action?: WorkAction[];
        inventory: string;
        asOf?: string;
        runId?: string;
        runtime: 'local' | 'aws';
        out?: string;
        aws: boolean;
        root?: string;
      }) => {
        const root = findRoot(process.cwd(), o.root);
        const progress = progressReporter(process.stderr, o.inventory !== 'live');
        let r: PlanWorkResult;
        try {
          r = await planWork({
            root,
            inventory: o.inventory,
            runtime: o.runtime,
            ...(o.database ? { databases: o.database } : {}),
            ...(o.table ? { tables: o.table } : {}),
            ...(o.action ? { actions: o.action } : {}),
            ...(o.asOf ? { asOf: o.asOf } : {}),
            ...(o.runId ? { runId: o.runId } : {}),
            ...(o.aws === false ? { credentials: { aws: false } } : {}),
            onProgress: progress.onProgress,
          });
        } finally {
          progress.stop();
        }
        checkUnits(r.units);
        const problems = [
          ...r.evaluation.databases.flatMap((d) => d.problems.map((p) => `${d.database}: ${p.code} ${p.message}`)),
          ...r.evaluation.databases.flatMap((d) =>
            d.decisions
              .filter((x) => x.problem)
              .map((x) => `${d.database}: ${x.schema}.${x.table}: ${x.problem!.code} ${x.problem!.message}`),
          ),
          ...r.problems.map((p) => `${p.database}: ${p.schema}.${p.table}: ${p.code} ${p.message}`),
        ];
        for (const p of problems) process.stderr.write(`offload plan-work: ${p}\n`);
        if (o.out) {
          const files = await writeUnits(path.resolve(process.cwd(), o.out), r.units);
          for (const f of files) process.stdout.write(`${path.relative(process.cwd(), f) || f}\n`);
          process.stderr.write(`${r.units.length} work unit(s) for run ${r.runId} in ${o.out}\n`);
        } else {
          process.stdout.write(
            `${JSON.stringify(
              { version: 1, run_id: r.runId, config_commit: r.configCommit, as_of: r.evaluation.as_of, units: r.units },
              null,
              2,
            )}\n`,
          );
        }
        process.exitCode = problems.length ? 1 : 0;
      },
    );
}
