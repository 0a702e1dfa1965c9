import { appendFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { validate } from '../../validate/validate.js';
import { renderGithub, renderJson, renderStepSummary, renderText } from '../../validate/render.js';
import { findRoot } from '../root.js';
import { UserError } from '../../errors.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check the configs in three passes (YAML, JSON Schema, cross-file rules) and report every finding at once',
    )
    .argument(
      '[paths...]',
      'files or folders to report on (default: the whole repository; the rest is still read as context)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'output: text for people, json (stable, documented) for tools, github for workflow annotations',
      )
        .choices(['text', 'json', 'github'])
        .default('text'),
    )
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      '\nExit status: 0 no errors (warnings allowed), 1 errors found, 2 usage or internal error.\n' +
        'With --format github and GITHUB_STEP_SUMMARY set, a summary table is appended to that file.',
    )
    .action(async (paths: string[], opts: { format: 'text' | 'json' | 'github'; root?: string }) => {
      const cwd = process.cwd();
      const result = await validate({ root: findRoot(cwd, opts.root), paths, cwd });
      const render = { text: renderText, json: renderJson, github: renderGithub }[opts.format];
      process.stdout.write(render(result));
      if (opts.format === 'github' && process.env.GITHUB_STEP_SUMMARY) {
        try {
          appendFileSync(process.env.GITHUB_STEP_SUMMARY, renderStepSummary(result));
        } catch (e) {
          throw new UserError(
            `cannot append to GITHUB_STEP_SUMMARY (${process.env.GITHUB_STEP_SUMMARY}): ${(e as Error).message}`,
          );
        }
      }
      process.exitCode = result.ok ? 0 : 1;
    });
}
