/**
 * Opens the run ledger of a runtime: `local[:DIR]` is the local state directory (default `.offload/state`,
 * the one `offload sync --target local` writes); `aws` the DynamoDB ledger table named after the settings.
 */
import path from 'node:path';
import type { OffloadSettings } from '../generated/settings.js';
import { UserError } from '../errors.js';
import { ledgerTableName } from '../config/naming.js';
import { DEFAULT_LOCAL_DIR } from '../sync/local-target.js';
import { createLocalLedger, type Ledger } from '../ledger/index.js';

/** Opens `local`, `local:DIR` or `aws`; relative directories are taken from the repository root. */
export async function openLedger(
  spec: string,
  root: string,
  settings?: OffloadSettings,
): Promise<Ledger & { close?: () => void }> {
  if (spec === 'local' || spec.startsWith('local:'))
    return createLocalLedger({ dir: path.resolve(root, spec === 'local' ? DEFAULT_LOCAL_DIR : spec.slice(6)) });
  if (spec === 'aws') {
    if (!settings) throw new UserError('the aws ledger needs valid settings (offload.settings.yaml)');
    const { createDynamoLedger } = await import('../ledger/dynamodb.js');
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? settings.region;
    return createDynamoLedger({ table: ledgerTableName(settings), region });
  }
  throw new UserError(`--ledger ${spec}: expected local, local:DIR or aws`);
}
