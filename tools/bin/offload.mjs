#!/usr/bin/env node
// Entry point of the `offload` CLI: registers tsx so the TypeScript sources run as they are.
import { register } from 'tsx/esm/api';

// On Node 20 the AWS SDK prints a 7-line notice on every AWS call (SDK releases after January 2027 need
// Node 22). The lock file pins the SDK this CLI was tested with, so the notice says nothing about this
// install: it is silenced unless the user set the SDK's own switch (README, "Prerequisites").
if (Number(process.versions.node.split('.')[0]) < 22)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
