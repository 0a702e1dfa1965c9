/**
 * The credential reference a work unit carries: where the job finds the user and password, never
 * the values. The order is discovery's (tools/src/catalog/credentials.ts), so a database that
 * discovers also archives with nothing re-typed:
 *   local runtime: environment (OFFLOAD_DB_<NAME>_USER/_PASSWORD) → the credentials file
 *                  (<repo>/.offload/credentials.yaml, ~/.config/offload/credentials.yaml, or
 *                  $OFFLOAD_CREDENTIALS_FILE) → the config's Secrets Manager secret;
 *   aws runtime:   the database's Glue connection (what the sync created) → the Secrets Manager secret.
 * The Python side (glue/offload_glue/credentials.py) resolves it; tools/test/fixtures/credential-vectors.json
 * holds both implementations to the same answers.
 */
import path from 'node:path';
import type { DatabaseConfig } from '../generated/database.js';
import type { CredentialSource, WorkUnit } from '../generated/work-unit.js';
import { envPrefix } from '../config/naming.js';

export type Runtime = 'local' | 'aws';
export type CredentialReference = WorkUnit['source']['credentials'];

const HOME_CREDENTIALS_FILE = '~/.config/offload/credentials.yaml';

export interface ReferenceOptions {
  runtime: Runtime;
  /** Repository root, for `<root>/.offload/credentials.yaml` (local runtime). */
  root?: string;
  /** Region of a plain secret name (settings `region`). */
  region?: string;
}

export function credentialReference(db: DatabaseConfig, opts: ReferenceOptions): CredentialReference {
  const arnRegion = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(db.credentials.secret)?.[1];
  const region = arnRegion ?? opts.region;
  const secret: CredentialSource = {
    kind: 'secrets_manager',
    secret_id: db.credentials.secret,
    ...(region ? { region } : {}),
  };
  if (opts.runtime === 'aws') return { name: db.name, sources: [{ kind: 'glue_connection', name: db.name }, secret] };
  return {
    name: db.name,
    sources: [
      { kind: 'env', prefix: envPrefix(db.name) },
      {
        kind: 'local_file',
        key: db.name,
        paths: [
          ...(opts.root ? [path.join(path.resolve(opts.root), '.offload', 'credentials.yaml')] : []),
          HOME_CREDENTIALS_FILE,
        ],
      },
      secret,
    ],
  };
}
