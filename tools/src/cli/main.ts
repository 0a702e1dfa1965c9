/**
 * The `offload` command line. Each command lives in `commands/<name>.ts` and registers itself; the
 * commands' cores return data, and this shell alone prints and decides the exit code:
 * 0 success, 1 the command found problems, 2 usage or environment errors (and bugs).
 */
import { Command, CommanderError } from 'commander';
import { isUserError } from '../errors.js';
import { TOOL_VERSION } from '../version.js';
import { registerValidate } from './commands/validate.js';
import { registerSync } from './commands/sync.js';
import { registerDiscover } from './commands/discover.js';
import { registerPreview } from './commands/preview.js';
import { registerPlanWork } from './commands/plan-work.js';
import { registerRun } from './commands/run.js';
import { registerReport } from './commands/report.js';
import { registerInit } from './commands/init.js';
import { registerStatus } from './commands/status.js';
import { registerArchives } from './commands/archives.js';
import { registerGovernance } from './commands/governance.js';
import { registerOnboard } from './commands/onboard.js';
import { registerDeleteArchiveDatabase } from './commands/delete-archive-database.js';
import { registerRestore } from './commands/restore.js';

/** Every command module exports one function that adds its command to the program. */
const COMMANDS: ((program: Command) => void)[] = [
  registerInit,
  registerValidate,
  registerSync,
  registerDiscover,
  registerPreview,
  registerPlanWork,
  registerRun,
  registerReport,
  registerStatus,
  registerArchives,
  registerGovernance,
  registerOnboard,
  registerDeleteArchiveDatabase,
  registerRestore,
];

export function buildProgram(): Command {
  const program = new Command('offload')
    .description('Data Retention Offloader: validate, preview and sync the retention configs of a GitOps config repo')
    .version(TOOL_VERSION, '-V, --version', 'print the toolkit version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2; // help and version exit 0; usage errors 2
    }
    if (isUserError(e)) {
      process.stderr.write(`offload: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(
      `offload: internal error (this is a bug, please report it):\n${(e as Error)?.stack ?? String(e)}\n`,
    );
    return 2;
  }
}
