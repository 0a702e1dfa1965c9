/**
 * Where a database's user, password (and, locally, an address override) come from, in this order:
 *  1. environment: OFFLOAD_DB_<NAME>_USER, OFFLOAD_DB_<NAME>_PASSWORD, optional OFFLOAD_DB_<NAME>_URL
 *     (a JDBC URL replacing the configured one: sample URLs point at hosts only reachable from AWS);
 *     <NAME> is the database name upper-cased with every other character than A–Z, 0–9 turned to `_`;
 *  2. a local credentials file kept outside git: $OFFLOAD_CREDENTIALS_FILE, else
 *     `<repo>/.offload/credentials.yaml` (`.offload/` is git-ignored), else
 *     `~/.config/offload/credentials.yaml`, shaped `databases: { <name>: { user, password, url? } }`;
 *  3. AWS Secrets Manager: the config's `credentials.secret` (name or ARN) holding JSON with
 *     `username` and `password` (and optionally `host`, `port`), through the AWS SDK's default
 *     credential chain and region (settings `region`); AWS_ENDPOINT_URL is honoured.
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parse as parseYaml } from 'yaml';
import type { DatabaseConfig } from '../generated/database.js';
import { envPrefix } from '../config/naming.js';

export interface Credentials {
  user: string;
  password: string;
  /** JDBC URL replacing the configured one (local use). */
  url?: string;
  /** Host/port from the secret, replacing the URL's (Secrets Manager's RDS secret shape). */
  host?: string;
  port?: number;
  /** Where they came from, for messages (never the values). */
  origin: string;
}

export class CredentialsError extends Error {
  readonly code = 'discover/no-credentials';
}

export interface CredentialOptions {
  env?: NodeJS.ProcessEnv;
  /** Repository root, for `.offload/credentials.yaml`. */
  root?: string;
  region?: string;
  /** Skip Secrets Manager (tests, `--no-aws`). */
  aws?: boolean;
  /**
   * A Secrets Manager client to reuse (a warm Lambda keeps one across invocations), used for secrets named
   * without an ARN of another region. @default a client made for the call and destroyed after it
   */
  secretsManager?: SecretsManagerClient;
}

async function fromFile(db: DatabaseConfig, opts: CredentialOptions): Promise<Credentials | undefined> {
  const env = opts.env ?? process.env;
  const candidates = env.OFFLOAD_CREDENTIALS_FILE
    ? [env.OFFLOAD_CREDENTIALS_FILE]
    : [
        ...(opts.root ? [path.join(opts.root, '.offload', 'credentials.yaml')] : []),
        path.join(env.HOME ?? os.homedir(), '.config', 'offload', 'credentials.yaml'),
      ];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      if (env.OFFLOAD_CREDENTIALS_FILE)
        throw new CredentialsError(`credentials file ${file} (OFFLOAD_CREDENTIALS_FILE) cannot be read`);
      continue;
    }
    let doc: { databases?: Record<string, { user?: unknown; password?: unknown; url?: unknown }> };
    try {
      doc = parseYaml(text) ?? {};
    } catch (e) {
      throw new CredentialsError(`credentials file ${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const entry = doc?.databases?.[db.name];
    if (!entry) continue;
    if (typeof entry.user !== 'string' || typeof entry.password !== 'string')
      throw new CredentialsError(`credentials file ${file}: databases.${db.name} needs string "user" and "password"`);
    const mode = (await stat(file)).mode;
    if (mode & 0o077 && process.platform !== 'win32')
      process.emitWarning(`credentials file ${file} is readable by other users (chmod 600 it)`);
    return {
      user: entry.user,
      password: entry.password,
      ...(typeof entry.url === 'string' ? { url: entry.url } : {}),
      origin: file,
    };
  }
  return undefined;
}

async function fromSecretsManager(db: DatabaseConfig, opts: CredentialOptions): Promise<Credentials> {
  const sdk = await import('@aws-sdk/client-secrets-manager');
  // An ARN names its region; a plain name uses the environment's region, else the settings' one.
  const arnRegion = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(db.credentials.secret)?.[1];
  const region = arnRegion ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? opts.region;
  const shared = opts.secretsManager && (!arnRegion || arnRegion === (await opts.secretsManager.config.region()));
  const client = shared
    ? opts.secretsManager!
    : new sdk.SecretsManagerClient({ ...(region ? { region } : {}), maxAttempts: 2 });
  let text: string | undefined;
  try {
    const out = await client.send(new sdk.GetSecretValueCommand({ SecretId: db.credentials.secret }));
    text = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : undefined);
  } catch (e) {
    const env = envPrefix(db.name);
    throw new CredentialsError(
      `no credentials for database ${db.name}: Secrets Manager secret "${db.credentials.secret}" could not be read ` +
        `(${(e as Error).name}: ${(e as Error).message.split('\n')[0]}); ` +
        `locally set ${env}USER and ${env}PASSWORD or add it to .offload/credentials.yaml`,
    );
  } finally {
    if (!shared) client.destroy();
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text ?? '');
  } catch {
    throw new CredentialsError(
      `secret "${db.credentials.secret}" of database ${db.name} is not JSON with "username" and "password"`,
    );
  }
  const user = doc.username ?? doc.user;
  if (typeof user !== 'string' || typeof doc.password !== 'string')
    throw new CredentialsError(
      `secret "${db.credentials.secret}" of database ${db.name} lacks string "username" and "password"`,
    );
  const port = Number(doc.port);
  return {
    user,
    password: doc.password,
    ...(typeof doc.host === 'string' ? { host: doc.host } : {}),
    ...(Number.isInteger(port) && port > 0 ? { port } : {}),
    origin: `secret ${db.credentials.secret}`,
  };
}

/** Resolves a database's credentials; throws CredentialsError naming the database and every place looked at. */
export async function resolveCredentials(db: DatabaseConfig, opts: CredentialOptions = {}): Promise<Credentials> {
  const env = opts.env ?? process.env;
  const p = envPrefix(db.name);
  const user = env[`${p}USER`],
    password = env[`${p}PASSWORD`],
    url = env[`${p}URL`];
  if (user !== undefined || password !== undefined) {
    if (user === undefined || password === undefined)
      throw new CredentialsError(`database ${db.name}: set both ${p}USER and ${p}PASSWORD (only one is set)`);
    return { user, password, ...(url ? { url } : {}), origin: `environment ${p}*` };
  }
  const file = await fromFile(db, opts);
  if (file) return { ...file, ...(url ? { url } : {}) };
  if (opts.aws === false)
    throw new CredentialsError(
      `no credentials for database ${db.name}: set ${p}USER and ${p}PASSWORD, ` +
        `or add databases.${db.name} to .offload/credentials.yaml`,
    );
  const sm = await fromSecretsManager(db, opts);
  return { ...sm, ...(url ? { url } : {}) };
}
