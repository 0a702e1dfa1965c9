/**
 * The CDK app: `npx cdk synth|diff|deploy` from infra/ (cdk.json runs this file through tsx).
 * Reads the settings and the build once, then builds the stack.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserError, UserError } from '../../tools/src/errors.js';
import { OffloadStack } from '../lib/stack.js';
import { loadDeploySettings } from './settings.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Feature flags this app relies on (also in cdk.json for the CLI). */
export const FEATURE_FLAGS = {
  // Access-log delivery through a bucket policy, so log buckets need no ACLs.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
  '@aws-cdk/aws-iam:minimizePolicies': true,
};

/** Builds the app for the repository at `root` (tests pass a fixture root and context). */
export function createApp(
  root: string,
  context: Record<string, unknown> = {},
  outdir?: string,
): { app: App; stack: OffloadStack } {
  const app = new App({ context: { ...FEATURE_FLAGS, ...context }, ...(outdir ? { outdir } : {}) });
  const settings = loadDeploySettings(root, (k) => app.node.tryGetContext(k));
  const requirements = settings.build.requirementsFile
    ? readFileSync(settings.build.requirementsFile, 'utf8')
    : undefined;
  const stack = new OffloadStack(app, settings.stackName, {
    settings,
    ...(requirements !== undefined ? { requirements } : {}),
    env: { region: settings.region, ...(settings.account ? { account: settings.account } : {}) },
    description: 'Data Retention Offloader: config store, archive lake, Glue jobs, Lambdas, MWAA, reports',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.env.OFFLOAD_ROOT ?? REPO_ROOT;
  try {
    if (!existsSync(path.join(root, 'offload.settings.yaml')))
      throw new UserError(`no offload.settings.yaml in ${root}`);
    createApp(root).app.synth();
  } catch (e) {
    // A user error (settings, missing build) is a message and exit 2, never a stack trace.
    if (!isUserError(e)) throw e;
    console.error(`offload infra: ${e.message}`);
    process.exit(e.exitCode);
  }
}
