import { type Command, Option } from 'commander';
import { findRoot } from '../root.js';
import { UserError } from '../../errors.js';
import { renderRepoFindings } from '../../validate/render.js';
import { parseTarget, runSync } from '../../sync/sync.js';
import { renderSync, type Format } from '../../sync/render.js';

interface SyncCliOptions {
  target: string;
  plan?: boolean;
  apply?: boolean;
  prune?: boolean;
  format: Format;
  root?: string;
  breakLock?: boolean;
  commit?: string;
  allowUncommitted?: string;
  allowNonDescendant?: string;
}

export function registerSync(program: Command): void {
  program
    .command('sync')
    .description(
      'publish the validated configs to where the pipeline reads them: the config bucket, the config table ' +
        'and the Glue connections (aws), or a local state directory (local)',
    )
    .addOption(
      new Option(
        '--target <target>',
        'aws (S3, DynamoDB, Glue; credentials, region and AWS_ENDPOINT_URL from the standard AWS SDK chain), ' +
          'local (directory .offload/state) or local:DIR',
      ).default('local'),
    )
    .option('--plan', 'show what would change, write nothing (the default)')
    .option('--apply', 'carry out the plan and print what was done')
    .option(
      '--prune',
      'also delete managed remote state whose config left the repo (listed in the plan); ' +
        'without it nothing is ever deleted',
    )
    .addOption(
      new Option(
        '--format <format>',
        'output: text, json (stable, for scripts) or markdown (a PR comment, with a marker line)',
      )
        .choices(['text', 'json', 'markdown'])
        .default('text'),
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .option(
      '--break-lock',
      'take over an unfinished sync that wants a different state before its lease expires ' +
        '(only when it is known to be dead)',
    )
    .option(
      '--commit <sha>',
      'git commit recorded with every write (default: the checked-out commit; in a git work tree it must be that one)',
    )
    .option(
      '--allow-uncommitted <reason>',
      'apply configs that are not committed (modified, staged, untracked or ignored files, or no git ' +
        'repository); the reason is recorded in the manifest',
    )
    .option(
      '--allow-non-descendant <reason>',
      'apply a commit that is not (provably) a descendant of the commit the target last received, e.g. a ' +
        'deliberate rollback; the reason is recorded in the manifest',
    )
    .addHelpText(
      'after',
      [
        '',
        'Refuses to run when `offload validate` reports errors. Drift (remote state changed outside sync) is',
        'reported in the plan and overwritten only by --apply. Writes happen in this order: Glue connections,',
        'config table, config files, then the manifest object that marks the sync complete (see docs/sync.md).',
        '',
        'Apply refuses uncommitted configs and a commit that does not descend from the last synced one',
        '(plans still show them); the overrides above take a reason, recorded in the manifest.',
        '',
        'Exit status: 0 success (plan shown or applied), 1 invalid configs, refused (uncommitted configs, an',
        'older or diverged commit), lost a race or its claim to another sync, or locked by an unfinished one',
        '(rerun), 2 usage, credentials or environment error.',
      ].join('\n'),
    )
    .action(async (opts: SyncCliOptions) => {
      if (opts.plan && opts.apply) throw new UserError('--plan and --apply exclude each other', 2);
      const root = findRoot(process.cwd(), opts.root);
      const crashAfter = process.env.OFFLOAD_SYNC_CRASH_AFTER;
      const termAfter = process.env.OFFLOAD_SYNC_SIGTERM_AFTER;
      // On a terminal, one progress line per step (a first sync of a thousand databases takes a while).
      const progress = process.stderr.isTTY && opts.format === 'text';
      // Ctrl-C or a cancelled CI job: stop before the next write batch and release the claim, so that the
      // next sync need not wait out the lease. A second signal ends the process at once.
      const abort = new AbortController();
      const onSignal = (sig: NodeJS.Signals) => {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        process.stderr.write(`sync: ${sig}: stopping before the next write and releasing the claim\n`);
        abort.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const outcome = await runSync({
        root,
        target: parseTarget(opts.target, root),
        apply: !!opts.apply,
        prune: !!opts.prune,
        breakLock: !!opts.breakLock,
        commit: opts.commit,
        allowUncommitted: opts.allowUncommitted,
        allowNonDescendant: opts.allowNonDescendant,
        afterWrite: crashAfter ? (what) => what === crashAfter && process.kill(process.pid, 'SIGKILL') : undefined,
        afterPlan:
          progress && opts.apply
            ? (plan) => process.stderr.write(`sync: ${plan.changes.length} change(s) to apply to ${plan.target}\n`)
            : undefined,
        applyOptions: {
          signal: abort.signal,
          afterStep: (step) => {
            if (progress) process.stderr.write(`sync: ${step} done\n`);
            // Fault injection for the kill-and-rerun tests: die abruptly right after the named step.
            if (crashAfter && step === crashAfter) process.kill(process.pid, 'SIGKILL');
            // And for the cancellation test: a SIGTERM (as a cancelled CI job gets), let through to the handler.
            if (termAfter && step === termAfter) {
              process.kill(process.pid, 'SIGTERM');
              return new Promise((r) => setTimeout(r, 100));
            }
          },
        },
      });
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (outcome.status === 'invalid') {
        process.stderr.write(renderRepoFindings(outcome.repo));
        throw new UserError('sync refused: the configs do not pass `offload validate` (errors above)', 1);
      }
      process.stdout.write(
        renderSync(outcome.plan, opts.format, outcome.status === 'applied' ? outcome.result : undefined),
      );
      process.exitCode = 0;
    });
}
