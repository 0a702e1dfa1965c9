import { appendFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { preview, type PreviewResult } from '../../preview/preview.js';
import { renderJson, renderMarkdown, renderText } from '../../preview/render.js';
import { commentTargetFromEnv, upsertComment } from '../../preview/comment.js';
import { DEFAULT_INVENTORY_DIR } from '../../inventory/inventory.js';
import { findRoot } from '../root.js';
import { progressReporter } from '../progress.js';
import { archiveRecordsOf } from '../../ledger/index.js';
import { openLedger } from '../../run/open-ledger.js';
import type { ArchiveRecord } from '../../engine/evaluate.js';
import type { OffloadSettings } from '../../generated/settings.js';
import { loadRepo } from '../../config/load.js';
import { fsSource } from '../../config/source.js';

/** The run ledger's archive records (none with `none`); the settings are needed only for `aws`. */
async function ledgerRecords(spec: string, root: string): Promise<ArchiveRecord[] | undefined> {
  if (spec === 'none') return undefined;
  let settings: OffloadSettings | undefined;
  if (spec === 'aws') settings = (await loadRepo(fsSource(root))).settings?.config as OffloadSettings | undefined;
  const ledger = await openLedger(spec, root, settings);
  try {
    return archiveRecordsOf(await ledger.list());
  } finally {
    ledger.close?.();
  }
}

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description(
      'show which tables a config change newly archives, purges or cleans up, or no longer does: ' +
        'the base revision against the working tree, through the same policy engine as the pipeline',
    )
    .requiredOption('--base <git-ref>', 'git revision of the configs to compare against, e.g. origin/main')
    .option(
      '--inventory <dir|live>',
      'folder of inventory snapshots, or "live" to read the catalogs now (needs credentials)',
      DEFAULT_INVENTORY_DIR,
    )
    .option('--as-of <date>', 'evaluate ages at this ISO-8601 date (default: today, UTC)')
    .addOption(
      new Option('--format <format>', 'text for people, markdown (the PR comment), json (documented contract)')
        .choices(['text', 'markdown', 'json'])
        .default('text'),
    )
    .option(
      '--comment',
      'create or update the one preview comment on the pull request ' +
        '(GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL)',
    )
    .option(
      '--ledger <local[:dir]|aws|none>',
      'run ledger telling what is already archived, validated or purged: ' +
        'the local state directory (.offload/state), the DynamoDB ledger table, or none',
      'local',
    )
    .option(
      '--archive-state <file>',
      'JSON list of archive records {database, schema, table, archived_at, validated, table_date?}; overrides --ledger',
    )
    .option('--no-aws', 'with --inventory live: do not look up credentials in AWS Secrets Manager')
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      `
Exit status: 0 evaluated (with or without changes); 1 a database or table could not be evaluated
(missing or partial inventory, unreachable database, impossible table date, policy conflict) or the
working tree's configs fail validation; 2 usage error. The comment is posted even when exiting 1, and
with GITHUB_STEP_SUMMARY set it is also appended to the job summary.`,
    )
    .action(
      async (o: {
        base: string;
        inventory: string;
        asOf?: string;
        format: 'text' | 'markdown' | 'json';
        comment?: boolean;
        archiveState?: string;
        ledger: string;
        aws: boolean;
        root?: string;
      }) => {
        const root = findRoot(process.cwd(), o.root);
        const archive = o.archiveState ? undefined : await ledgerRecords(o.ledger, root);
        const progress = progressReporter(process.stderr, o.inventory !== 'live');
        let result: PreviewResult;
        try {
          result = await preview({
            root,
            ...(archive ? { archive } : {}),
            base: o.base,
            inventory: o.inventory,
            ...(o.asOf ? { asOf: o.asOf } : {}),
            ...(o.archiveState ? { archiveState: o.archiveState } : {}),
            ...(o.aws === false ? { credentials: { aws: false } } : {}),
            onProgress: progress.onProgress,
          });
        } finally {
          progress.stop();
        }
        const render = { text: renderText, markdown: (r: PreviewResult) => renderMarkdown(r), json: renderJson }[
          o.format
        ];
        process.stdout.write(render(result));
        if (o.comment) {
          const body = renderMarkdown(result);
          const c = await upsertComment(await commentTargetFromEnv(), body);
          process.stderr.write(`pull-request comment ${c.action}: ${c.url}\n`);
          if (process.env.GITHUB_STEP_SUMMARY) {
            try {
              appendFileSync(process.env.GITHUB_STEP_SUMMARY, body);
            } catch (e) {
              throw new UserError(
                `cannot append to GITHUB_STEP_SUMMARY (${process.env.GITHUB_STEP_SUMMARY}): ${(e as Error).message}`,
              );
            }
          }
        }
        process.exitCode = result.complete ? 0 : 1;
      },
    );
}
