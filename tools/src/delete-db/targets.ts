/**
 * Opens what `delete-archive-database` works on, per runtime:
 *  - `local` / `local:DIR`: the Hadoop warehouse (default `<root>/.offload/warehouse`), the state
 *    directory's run ledger and governance file, audit records in `<state dir>/audit/`;
 *  - `aws`: Glue + S3, the DynamoDB ledger (`ledgerTableName`), Lake Formation, audit records under
 *    `s3://<config bucket>/pipeline/audit/` (credentials, region and AWS_ENDPOINT_URL from the SDK chain).
 */
import path from 'node:path';
import { ledgerTableName } from '../config/naming.js';
import { loadRepo } from '../config/load.js';
import { fsSource } from '../config/source.js';
import { UserError } from '../errors.js';
import { createLocalGovernanceTarget } from '../governance/local-target.js';
import type { GovernanceTarget } from '../governance/target.js';
import { createLocalLedger } from '../ledger/local.js';
import type { Ledger } from '../ledger/model.js';
import { DEFAULT_LOCAL_DIR } from '../sync/local-target.js';
import { createLocalArchiveStore } from './local-store.js';
import type { ArchiveStore } from './store.js';

export interface DeleteTargets {
  target: string;
  store: ArchiveStore;
  ledger: Ledger & { close?: () => void };
  governance: GovernanceTarget;
}

export async function openDeleteTargets(
  root: string,
  target: string,
  opts: { warehouse?: string; audit?: string } = {},
): Promise<DeleteTargets> {
  if (target === 'local' || (target.startsWith('local:') && target.length > 6)) {
    const state = path.resolve(root, target === 'local' ? DEFAULT_LOCAL_DIR : target.slice(6));
    return {
      target,
      store: createLocalArchiveStore({
        warehouse: path.resolve(root, opts.warehouse ?? '.offload/warehouse'),
        auditDir: path.resolve(root, opts.audit ?? path.join(state, 'audit')),
      }),
      ledger: createLocalLedger({ dir: state }),
      governance: createLocalGovernanceTarget(state),
    };
  }
  if (target !== 'aws') throw new UserError(`unknown target "${target}": use local, local:DIR or aws`);
  if (opts.warehouse) throw new UserError('--warehouse is for the local target (on AWS the Glue catalog knows)');
  const settings = (await loadRepo(fsSource(root))).settings?.config;
  if (!settings) throw new UserError(`no valid offload.settings.yaml in ${root}`);
  const { resolveRegion } = await import('../sync/aws-target.js');
  const region = await resolveRegion(settings.region);
  const { createAwsArchiveStore } = await import('./aws-store.js');
  const { createDynamoLedger } = await import('../ledger/dynamodb.js');
  const { createAwsGovernanceTarget } = await import('../governance/aws-target.js');
  return {
    target,
    store: createAwsArchiveStore({ region, audit: opts.audit ?? `s3://${settings.config.bucket}/pipeline/audit/` }),
    ledger: createDynamoLedger({ table: ledgerTableName(settings), region }),
    governance: createAwsGovernanceTarget({ region }),
  };
}
