/**
 * `offload onboard` core: a new database from a handful of answers. Everything that can fail without
 * writing runs first — the file is validated in memory with the rest of the repo, the connection is
 * tested with the given login (reachable, authenticated, reads every table in scope, cannot write),
 * and the first discovery runs on that session. Then the writes — credentials, the YAML file, the
 * inventory — each undone if a later one fails, so a failure leaves nothing half-made. Rerunning
 * with the same answers reuses what an earlier run made. Returns data; the command prints.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadRepo } from '../config/load.js';
import { fsSource, type ConfigSource } from '../config/source.js';
import { parseJdbcUrl } from '../config/jdbc.js';
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';
import { openSession } from '../catalog/connect.js';
import type { CatalogSession } from '../catalog/port.js';
import type { Inventory } from '../inventory/inventory.js';
import { CatalogError, classify } from '../catalog/errors.js';
import { discoverDatabase } from '../catalog/discover.js';
import { evaluate } from '../engine/evaluate.js';
import { DEFAULT_INVENTORY_DIR, inventoryText } from '../inventory/inventory.js';
import { diffEvaluations } from '../preview/diff.js';
import { summarize, type PreviewResult } from '../preview/preview.js';
import { UserError } from '../errors.js';
import { checkPrivileges } from './privileges.js';
import { databaseYaml } from './yaml.js';
import { openPullRequest, type OpenedPullRequest, type PullRequestTarget } from './pull-request.js';
import { renderMarkdown } from '../preview/render.js';

export interface OnboardOptions {
  root: string;
  name: string;
  engine: DatabaseConfig['engine'];
  jdbcUrl: string;
  schemas: string[];
  policies: string[];
  ownerTeam: string;
  ownerContact: string;
  description?: string;
  /** Secrets Manager name; default `<resource_prefix>/archival/<name>`. */
  secret?: string;
  network?: { subnetIds: string[]; securityGroupIds: string[]; availabilityZone?: string };
  target: 'aws' | 'local';
  user: string;
  /** Read from a no-echo prompt or stdin by the shell; never from a flag, never returned or printed. */
  password: string;
  asOf?: string;
  /** Open a pull request with the new file, the preview as its body. */
  pr?: PullRequestTarget;
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
}

export interface OnboardResult {
  file: string;
  fileStatus: 'created' | 'unchanged';
  credentials: { where: string; status: 'created' | 'unchanged' };
  inventoryFile: string;
  tables: number;
  preview: PreviewResult;
  pullRequest?: OpenedPullRequest;
}

/** The working tree with one file replaced, for validating before writing. */
function overlay(base: ConfigSource, rel: string, text: string): ConfigSource {
  return {
    label: base.label,
    async listFiles() {
      const files = await base.listFiles();
      return files.includes(rel) ? files : [...files, rel].sort();
    },
    async readFile(f) {
      return f === rel ? new TextEncoder().encode(text) : base.readFile(f);
    },
  };
}

async function atomicWrite(file: string, text: string, mode?: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  await writeFile(tmp, text, mode ? { mode } : {});
  await rename(tmp, file);
}

const readText = (file: string) => readFile(file, 'utf8').catch(() => undefined);

/** Undo steps, run newest first when a later step fails. */
type Undo = () => Promise<void>;

async function storeLocal(opts: OnboardOptions, undo: Undo[]): Promise<OnboardResult['credentials']> {
  const env = opts.env ?? process.env;
  const file = env.OFFLOAD_CREDENTIALS_FILE ?? path.join(opts.root, '.offload', 'credentials.yaml');
  const before = await readText(file);
  let doc: { databases?: Record<string, { user?: string; password?: string }> } = {};
  try {
    doc = before ? (parseYaml(before) ?? {}) : {};
  } catch (e) {
    throw new UserError(
      `credentials file ${file} is not valid YAML (${(e as Error).message.split('\n')[0]}); fix it first`,
      2,
    );
  }
  const cur = doc.databases?.[opts.name];
  if (cur && cur.user === opts.user && cur.password === opts.password) return { where: file, status: 'unchanged' };
  if (cur)
    throw new UserError(
      `credentials file ${file} already holds other credentials for ${opts.name}; remove that entry to replace it`,
      1,
    );
  doc.databases = { ...(doc.databases ?? {}), [opts.name]: { user: opts.user, password: opts.password } };
  await atomicWrite(file, toYaml(doc), 0o600);
  undo.push(async () => (before === undefined ? rm(file, { force: true }) : atomicWrite(file, before, 0o600)));
  return { where: file, status: 'created' };
}

async function storeAws(
  opts: OnboardOptions,
  secret: string,
  region: string,
  undo: Undo[],
): Promise<OnboardResult['credentials']> {
  const sm = await import('@aws-sdk/client-secrets-manager');
  const client = new sm.SecretsManagerClient({ region, maxAttempts: 3 });
  const value = JSON.stringify({ username: opts.user, password: opts.password });
  try {
    await client.send(
      new sm.CreateSecretCommand({ Name: secret, SecretString: value, Description: `offload: ${opts.name}` }),
    );
    undo.push(async () => {
      const c = new sm.SecretsManagerClient({ region, maxAttempts: 3 });
      await c.send(new sm.DeleteSecretCommand({ SecretId: secret, ForceDeleteWithoutRecovery: true }));
      c.destroy();
    });
    return { where: `Secrets Manager secret ${secret}`, status: 'created' };
  } catch (e) {
    if ((e as Error).name !== 'ResourceExistsException')
      throw new UserError(`cannot create secret ${secret}: ${(e as Error).name}: ${(e as Error).message}`, 2);
    const cur = await client.send(new sm.GetSecretValueCommand({ SecretId: secret }));
    let same = false;
    try {
      const doc = JSON.parse(cur.SecretString ?? '');
      same = doc.username === opts.user && doc.password === opts.password;
    } catch {
      /* not ours */
    }
    if (!same)
      throw new UserError(
        `secret ${secret} already exists with other content; it is left alone. Choose another --secret or remove it`,
        1,
      );
    return { where: `Secrets Manager secret ${secret}`, status: 'unchanged' };
  } finally {
    client.destroy();
  }
}

export async function onboard(opts: OnboardOptions): Promise<OnboardResult> {
  const source = fsSource(opts.root);
  const repo = await loadRepo(source);
  if (!repo.settings) throw new UserError(`no offload.settings.yaml in ${opts.root}`, 2);
  const settings = repo.settings.config as OffloadSettings;
  const rel = `databases/${opts.name}.yaml`;
  const file = path.join(opts.root, rel);
  const config: DatabaseConfig = {
    name: opts.name,
    ...(opts.description ? { description: opts.description } : {}),
    engine: opts.engine,
    jdbc_url: opts.jdbcUrl,
    credentials: { secret: opts.secret ?? `${settings.resource_prefix}/archival/${opts.name}` },
    ...(opts.network
      ? {
          network: {
            subnet_ids: opts.network.subnetIds as [string, ...string[]],
            security_group_ids: opts.network.securityGroupIds as [string, ...string[]],
            ...(opts.network.availabilityZone ? { availability_zone: opts.network.availabilityZone } : {}),
          },
        }
      : {}),
    owner: { team: opts.ownerTeam, contact: opts.ownerContact },
    scope: opts.schemas.map((schema) => ({
      schema,
      policies: opts.policies as [string, ...string[]],
    })) as DatabaseConfig['scope'],
  };
  const text = databaseYaml(config, settings);
  // 1. Validate in memory, with the rest of the repo as context.
  const existing = await readText(file);
  if (existing !== undefined && existing !== text)
    throw new UserError(`${rel} already exists with other content; edit it instead of onboarding again`, 1);
  const checked = await loadRepo(overlay(source, rel, text), { only: [rel] });
  if (checked.errors)
    throw new UserError(
      [
        `onboarding refused: ${rel} would not pass \`offload validate\` (nothing was written):`,
        ...checked.findings
          .filter((f) => f.severity === 'error')
          .map((f) => `  ${f.file}:${f.line}:${f.column} ${f.code} ${f.message}${f.fix ? ` (${f.fix})` : ''}`),
      ].join('\n'),
      1,
    );
  const policies = checked.policies.map((p) => p.config);
  // 2. Test the connection with this login: reachable, authenticated, reads the scope, cannot write.
  const parsed = parseJdbcUrl(config.engine, config.jdbc_url);
  if (!parsed.ok) throw new UserError(`jdbc_url: ${parsed.problem}`, 1);
  let session: CatalogSession;
  try {
    session = await openSession({
      engine: config.engine,
      target: parsed.target,
      user: opts.user,
      password: opts.password,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      concurrency: 2,
    });
  } catch (e) {
    const c = e instanceof CatalogError ? e : classify(e);
    throw new UserError(`connection test failed (nothing was written): ${c.code}: ${c.message}`, 1);
  }
  let inventory: Inventory;
  try {
    const privileges = await checkPrivileges(config.engine, session, opts.schemas);
    if (privileges.writes.length)
      throw new UserError(
        `connection test refused the login "${opts.user}": it ${privileges.writes.join(', ')}. ` +
          'Sources are only read: ' +
          'onboard a login with SELECT only (nothing was written)',
        1,
      );
    if (privileges.unreadable)
      throw new UserError(
        `connection test refused the login "${opts.user}": it cannot SELECT ${privileges.unreadable} table(s) in ` +
          `${opts.schemas.join(', ')}, which discovery and archive read (nothing was written)`,
        1,
      );
    // 3. The first discovery, on the same session.
    ({ inventory } = await discoverDatabase({ database: config, policies, session }));
  } catch (e) {
    if (e instanceof UserError) throw e;
    const c = e instanceof CatalogError ? e : classify(e);
    throw new UserError(`connection test failed (nothing was written): ${c.code}: ${c.message}`, 1);
  } finally {
    await session.close();
  }
  if (inventory.partial)
    throw new UserError(
      `first discovery of ${opts.name} was incomplete (nothing was written):\n${inventory.errors
        .map((e) => `  ${e.code}: ${e.message}`)
        .join('\n')}`,
      1,
    );
  // 4. The writes, each undone when a later one fails.
  const undo: Undo[] = [];
  try {
    const credentials =
      opts.target === 'aws'
        ? await storeAws(opts, config.credentials.secret, settings.region, undo)
        : await storeLocal(opts, undo);
    if (existing === undefined) {
      await atomicWrite(file, text);
      undo.push(() => rm(file, { force: true }));
    }
    const invFile = path.join(opts.root, DEFAULT_INVENTORY_DIR, `${opts.name}.json`);
    const invBefore = await readText(invFile);
    await atomicWrite(invFile, inventoryText(inventory));
    undo.push(async () => (invBefore === undefined ? rm(invFile, { force: true }) : atomicWrite(invFile, invBefore)));
    // What the new file would archive: the repo without it against the repo with it, one inventory.
    const inventories = new Map([[opts.name, inventory]]);
    const asOf = opts.asOf ?? new Date().toISOString().slice(0, 10);
    const run = (databases: DatabaseConfig[]) => evaluate({ databases, policies, inventories, asOf });
    const before = run([]);
    const after = run([config]);
    const preview = summarize(
      { base: `without ${rel}`, inventory: DEFAULT_INVENTORY_DIR },
      asOf,
      before,
      after,
      diffEvaluations(before, after),
    );
    const pullRequest = opts.pr
      ? await openPullRequest(opts.pr, {
          branch: `offload/onboard-${opts.name}`,
          title: `Onboard database ${opts.name}`,
          body: renderMarkdown(preview),
          files: [
            { path: rel, content: text },
            { path: `${DEFAULT_INVENTORY_DIR}/${opts.name}.json`, content: inventoryText(inventory) },
          ],
        })
      : undefined;
    return {
      ...(pullRequest ? { pullRequest } : {}),
      file: rel,
      fileStatus: existing === undefined ? 'created' : 'unchanged',
      credentials,
      inventoryFile: path.relative(opts.root, invFile),
      tables: inventory.tables.length,
      preview,
    };
  } catch (e) {
    for (const u of undo.reverse()) await u().catch(() => {});
    throw e;
  }
}
