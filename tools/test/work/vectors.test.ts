/**
 * Shared vectors that hold the TypeScript control plane and the Python jobs to the same answers:
 * archive table names (expected values from glue/offload_glue/names.py) and credential lookups
 * (discovery's resolveCredentials here; glue/tests/test_credentials.py runs the same file in Python).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { archiveTableName } from '../../src/config/naming.js';
import { credentialReference } from '../../src/work/credential-ref.js';
import { resolveCredentials } from '../../src/catalog/credentials.js';
import type { DatabaseConfig } from '../../src/generated/database.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const names = JSON.parse(readFileSync(path.join(FIXTURES, 'archive-name-vectors.json'), 'utf8')) as {
  cases: { schema: string; table: string; archive_table: string }[];
};
const creds = JSON.parse(readFileSync(path.join(FIXTURES, 'credential-vectors.json'), 'utf8')) as {
  reference_template: unknown;
  cases: {
    name: string;
    database: string;
    prefix: string;
    secret: string;
    aws: boolean;
    env?: Record<string, string>;
    files?: Record<string, string>;
    secrets?: Record<string, string>;
    expect: {
      error?: string;
      user?: string;
      password?: string;
      source?: string;
      url?: string;
      host?: string;
      port?: number;
    };
  }[];
};

test('archive table names: the TypeScript rule gives the data plane names', () => {
  assert.ok(names.cases.length >= 15);
  for (const c of names.cases)
    assert.is(archiveTableName(c.schema, c.table), c.archive_table, `${JSON.stringify([c.schema, c.table])}`);
});

let moto: MotoServer;
test.before(async () => {
  moto = await startMoto();
});
test.after(async () => {
  await moto?.stop();
});

const sub = (text: string, vars: Record<string, string>) =>
  text.replace(/\$\{([A-Z]+)\}/g, (_, k) => vars[k] ?? `\${${k}}`);
const subDeep = (v: unknown, vars: Record<string, string>): unknown =>
  typeof v === 'string'
    ? sub(v, vars)
    : Array.isArray(v)
      ? v.map((x) => subDeep(x, vars))
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, subDeep(x, vars)]))
        : v;
const sourceOf = (origin: string) =>
  origin.startsWith('environment ') ? 'env' : origin.startsWith('secret ') ? 'secrets_manager' : 'local_file';

for (const c of creds.cases) {
  test(`credentials: ${c.name}`, async () => {
    await moto.reset();
    const dirs = { ROOT: '', HOME: '', OTHER: '' } as Record<string, string>;
    for (const k of Object.keys(dirs)) dirs[k] = mkdtempSync(path.join(tmpdir(), `offload-cred-${k.toLowerCase()}-`));
    try {
      const vars = { ...dirs, DATABASE: c.database, PREFIX: c.prefix, SECRET: c.secret, REGION: 'eu-west-1' };
      for (const [rel, body] of Object.entries(c.files ?? {})) {
        const [base, ...rest] = rel.split('/');
        const file = path.join(dirs[base!]!, ...rest);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, body, { mode: 0o600 });
      }
      const sm = new SecretsManagerClient({});
      for (const [name, value] of Object.entries(c.secrets ?? {}))
        await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
      sm.destroy();
      const db = {
        name: c.database,
        engine: 'postgres',
        jdbc_url: 'jdbc:postgresql://db.example.internal/x',
        credentials: { secret: c.secret },
      } as DatabaseConfig;
      // The reference a work unit carries for this database is the one the Python side resolves.
      const expectedRef = subDeep(creds.reference_template, vars);
      assert.equal(credentialReference(db, { runtime: 'local', root: dirs.ROOT!, region: 'eu-west-1' }), expectedRef);
      const env = { HOME: dirs.HOME!, ...(subDeep(c.env ?? {}, vars) as Record<string, string>) };
      let got: Awaited<ReturnType<typeof resolveCredentials>> | undefined;
      let error: Error | undefined;
      try {
        got = await resolveCredentials(db, { env, root: dirs.ROOT!, aws: c.aws, region: 'eu-west-1' });
      } catch (e) {
        error = e as Error;
      }
      if (c.expect.error !== undefined) {
        assert.ok(error, `expected an error containing ${c.expect.error}, got ${JSON.stringify(got)}`);
        assert.ok(error!.message.includes(c.expect.error), `"${error!.message}" lacks "${c.expect.error}"`);
        return;
      }
      if (error) throw error;
      const { origin, ...rest } = got!;
      assert.equal({ ...rest, source: sourceOf(origin) }, { ...c.expect });
    } finally {
      for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    }
  });
}

test.run();
