/**
 * `offload restore`: an archived table back into a NEW table of a source database (an audit, a
 * rollback), through the data-plane job glue/restore_table.py (its guarantees: never overwrites,
 * staging name renamed at the end, original column types from the lineage, validated against the
 * archive with the archive job's validation). This side resolves the names once — the archive's
 * namespace and table from the config, the target address from its JDBC URL — and the restore
 * credential's reference, a write-capable login of its own, never the read-only discovery/archive one:
 *   environment OFFLOAD_RESTORE_<NAME>_USER / _PASSWORD (/ _URL) → the credentials file's entry
 *   `<name>.restore` → `--restore-secret` (Secrets Manager), when given.
 * No password crosses a command line: the job resolves the reference itself (glue/offload_glue/credentials.py).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';
import { fsSource } from '../config/source.js';
import { loadRepo } from '../config/load.js';
import { parseJdbcUrl } from '../config/jdbc.js';
import { archiveTableName, glueDatabaseOf } from '../config/naming.js';
import type { CredentialReference } from '../work/credential-ref.js';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const HOME_CREDENTIALS_FILE = '~/.config/offload/credentials.yaml';

/** Prefix of the restore credential's environment variables: `OFFLOAD_RESTORE_<NAME>_` + USER, PASSWORD, URL. */
const restoreEnvPrefix = (name: string) => `OFFLOAD_RESTORE_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;

/** The credentials file's key of a database's restore login (a dot: no database name can hold one). */
const restoreFileKey = (name: string) => `${name}.restore`;

export function restoreCredentialReference(
  db: Pick<DatabaseConfig, 'name'>,
  opts: { root?: string; secret?: string; region?: string } = {},
): CredentialReference {
  return {
    name: `${db.name} (restore)`,
    sources: [
      { kind: 'env', prefix: restoreEnvPrefix(db.name) },
      {
        kind: 'local_file',
        key: restoreFileKey(db.name),
        paths: [
          ...(opts.root ? [path.join(path.resolve(opts.root), '.offload', 'credentials.yaml')] : []),
          HOME_CREDENTIALS_FILE,
        ],
      },
      ...(opts.secret
        ? [
            {
              kind: 'secrets_manager' as const,
              secret_id: opts.secret,
              ...(opts.region ? { region: opts.region } : {}),
            },
          ]
        : []),
    ],
  };
}

export interface RestoreOptions {
  root: string;
  /** Database config name (databases/<name>.yaml). */
  database: string;
  /** The archived source table, `schema.table`. */
  table: string;
  /** The new table: `name` (in the source table's schema) or `schema.name`. */
  targetTable: string;
  asOfSnapshot?: string;
  dryRun?: boolean;
  warehouse: string;
  catalogType?: 'hadoop' | 'glue';
  catalog?: string;
  restoreSecret?: string;
  writePath?: 'auto' | 'arrow' | 'copy' | 'jdbc';
  arrowValidation?: 'checksums' | 'values';
  copyFormat?: 'auto' | 'text';
  python?: string;
  logFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RestoreOutcome {
  /** 0 restored (or dry run), 1 the restored rows did not validate, 2 refused or a user error. */
  exitCode: number;
  /** The job's summary; integers too long for a JS number (snapshot ids) as strings. */
  summary: Record<string, unknown>;
  /** The job's JSON as printed, every digit intact. */
  json: string;
}

function splitName(text: string, what: string): [string | undefined, string] {
  const i = text.lastIndexOf('.');
  if (i === 0 || i === text.length - 1) throw new UserError(`${what} "${text}" is not name or schema.name`, 2);
  return i < 0 ? [undefined, text] : [text.slice(0, i), text.slice(i + 1)];
}

/** The job's arguments (pure: no password, only the credential reference). */
export function restoreJobArgs(db: DatabaseConfig, settings: OffloadSettings, o: RestoreOptions): string[] {
  const [schema, table] = splitName(o.table, '--table');
  if (!schema) throw new UserError(`--table "${o.table}" must name the schema too: schema.table`, 2);
  const [targetSchema, target] = splitName(o.targetTable, '--target-table');
  if (!['postgres', 'mysql', 'mariadb'].includes(db.engine))
    throw new UserError(`restore writes to PostgreSQL, MySQL and MariaDB; ${db.name} is ${db.engine}`, 2);
  if (o.asOfSnapshot !== undefined && !/^-?\d+$/.test(o.asOfSnapshot))
    throw new UserError(`--as-of-snapshot must be a snapshot id (a whole number), got "${o.asOfSnapshot}"`, 2);
  const parsed = parseJdbcUrl(db.engine, db.jdbc_url);
  if (!parsed.ok) throw new UserError(`databases/${db.name}.yaml: jdbc_url is invalid: ${parsed.problem}`, 2);
  const ref = restoreCredentialReference(db, {
    root: o.root,
    ...(o.restoreSecret ? { secret: o.restoreSecret } : {}),
    ...(settings.region ? { region: settings.region } : {}),
  });
  return [
    ...['--target_schema', targetSchema ?? schema, '--target_table', target],
    ...['--source_schema', schema, '--source_table', table],
    ...['--archive_database', glueDatabaseOf(db, settings), '--archive_table', archiveTableName(schema, table)],
    ...['--catalog', o.catalog ?? 'offload', '--catalog_type', o.catalogType ?? 'hadoop', '--warehouse', o.warehouse],
    ...['--source_engine', db.engine, '--source_host', parsed.target.host],
    ...['--source_port', String(parsed.target.port), '--source_database', parsed.target.database],
    ...['--restore_credentials', JSON.stringify(ref)],
    ...(o.asOfSnapshot !== undefined ? ['--as_of_snapshot', o.asOfSnapshot] : []),
    ...(o.writePath ? ['--write_path', o.writePath] : []),
    ...(o.arrowValidation ? ['--arrow_validation', o.arrowValidation] : []),
    ...(o.copyFormat ? ['--copy_format', o.copyFormat] : []),
    ...(o.dryRun ? ['--dry_run', 'true'] : []),
  ];
}

/** The job's JSON summary; snapshot ids are 64-bit, so long integers are read as text, not rounded. */
export function parseSummary(text: string): Record<string, unknown> {
  return JSON.parse(text.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
}

/** Loads the configs, runs the job, returns its summary and exit code. */
export async function runRestore(o: RestoreOptions): Promise<RestoreOutcome> {
  const repo = await loadRepo(fsSource(o.root));
  if (!repo.settings) throw new UserError(`no offload.settings.yaml in ${o.root} (run \`offload init\`)`, 2);
  const found = repo.databases.find((d) => d.config.name === o.database);
  if (!found) {
    const known = repo.databases.map((d) => d.config.name).join(', ') || 'none';
    throw new UserError(`no database config named ${o.database} (known: ${known})`, 2);
  }
  const args = restoreJobArgs(found.config, repo.settings.config as OffloadSettings, o);
  const python = o.python ?? path.join(REPO_DIR, '.venv/bin/python');
  if (!existsSync(python))
    throw new UserError(`${python} is missing: run \`bash scripts/setup.sh\` (it builds the Python environment)`, 2);
  const logFile = o.logFile ?? path.join(o.root, '.offload', 'logs', `restore-${Date.now()}.log`);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const job = path.join(REPO_DIR, 'glue', 'restore_table.py');
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(python, [job, ...args, '--log_file', logFile], {
      cwd: o.root,
      env: { ...process.env, ...o.env, PYTHONUNBUFFERED: '1', TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stderr.pipe(log);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout: out }));
  });
  let summary: Record<string, unknown>;
  try {
    summary = parseSummary(stdout);
  } catch {
    throw new UserError(`the restore job ended (exit ${code}) without a summary; see ${logFile}`, 2);
  }
  if (code === 0 || code === 1 || code === 2) return { exitCode: code, summary, json: stdout };
  const err = summary.error as { message?: string } | undefined;
  throw new UserError(`the restore job failed (this is a bug: ${err?.message ?? `exit ${code}`}); see ${logFile}`, 2);
}
