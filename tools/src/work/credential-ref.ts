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

/** The environment prefix of a database's cleanup credential: `OFFLOAD_CLEANUP_<NAME>_`. */
const cleanupEnvPrefix = (name: string) => envPrefix(name).replace(/^OFFLOAD_DB_/, 'OFFLOAD_CLEANUP_');

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

/**
 * The reference to a database's privileged source-cleanup credential (rename and drop), kept apart from
 * the read credential above: locally OFFLOAD_CLEANUP_<NAME>_USER/_PASSWORD, then the credentials file's
 * `cleanup: { <name>: { user, password } }`, then the config's `credentials.cleanup_secret`; on AWS that
 * secret only. Undefined when the runtime has no place to look (AWS without `cleanup_secret`).
 */
export function cleanupCredentialReference(
  db: DatabaseConfig,
  opts: ReferenceOptions,
): CredentialReference | undefined {
  const id = db.credentials.cleanup_secret;
  const arnRegion = id ? /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(id)?.[1] : undefined;
  const region = arnRegion ?? opts.region;
  const secret: CredentialSource[] = id
    ? [{ kind: 'secrets_manager', secret_id: id, ...(region ? { region } : {}) }]
    : [];
  if (opts.runtime === 'aws') return secret[0] ? { name: db.name, sources: [secret[0]] } : undefined;
  return {
    name: db.name,
    sources: [
      { kind: 'env', prefix: cleanupEnvPrefix(db.name) },
      {
        kind: 'local_file',
        key: db.name,
        section: 'cleanup',
        paths: [
          ...(opts.root ? [path.join(path.resolve(opts.root), '.offload', 'credentials.yaml')] : []),
          HOME_CREDENTIALS_FILE,
        ],
      },
      ...secret,
    ],
  };
}
