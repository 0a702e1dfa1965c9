/**
 * Pass 3 of validation: rules within one document (`documentFindings`, run even when the schema
 * failed) and across files (`crossFileFindings`, run on the files that passed the schema).
 * Every rule has a stable code, listed in RULES below and documented in the README.
 */
import path from 'node:path';
import { IANAZone } from 'luxon';
import type { Finding, Severity } from './findings.js';
import type { ParsedFile } from './yaml-file.js';
import type { ConfigKind } from './schemas.js';
import type { LoadedConfig, LoadedRepo } from './loaded.js';
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import { commentPointer, findSecrets, scanDocuments, type YamlComment } from './secrets.js';
import { normalizeEngine, parseJdbcUrl, type Engine } from './jdbc.js';
import { urlParamProblems } from './jdbc-params.js';
import { didYouMean } from './suggest.js';
import { scheduleProblem } from './schedule.js';
import { durationMillis, parseDuration } from './duration.js';
import { compileNameDatePattern, compileTablePattern } from './patterns.js';
import { glueDatabaseOf, s3LocationOf } from './naming.js';

/** Every rule code with its severity and a one-line description (README table). */
export const RULES: Record<string, { severity: Severity; what: string }> = {
  'rule/settings-missing': { severity: 'error', what: 'offload.settings.yaml is missing at the repository root' },
  'rule/name-mismatch': { severity: 'error', what: '`name` differs from the file name' },
  'rule/duplicate-name': { severity: 'error', what: 'two files declare the same name' },
  'rule/duplicate-glue-database': { severity: 'error', what: 'two databases archive into the same Glue database' },
  'rule/unknown-policy': { severity: 'error', what: 'a scope names a policy that has no file in policies/' },
  'rule/unused-policy': { severity: 'warning', what: 'a policy no database uses' },
  'rule/jdbc-url': { severity: 'error', what: 'the JDBC URL is not valid for the engine' },
  'rule/credentials-in-url': { severity: 'error', what: 'the JDBC URL carries a user or password' },
  'rule/schedule': { severity: 'error', what: 'a schedule is not a valid EventBridge or Airflow expression' },
  'rule/timezone': { severity: 'error', what: 'the default time zone is not an IANA zone' },
  'rule/duration': { severity: 'error', what: 'a duration is not a positive ISO-8601 duration' },
  'rule/purge-before-archive': { severity: 'error', what: '`purge_after` is shorter than `archive_after`' },
  'rule/grace-period-required': { severity: 'error', what: '`source.action: drop` without a grace period' },
  'rule/grace-period-unused': { severity: 'warning', what: 'a grace period with `source.action: keep`' },
  'rule/age-field-required': { severity: 'error', what: 'the age source lacks its `pattern` or `column`' },
  'rule/age-field-unused': { severity: 'warning', what: 'an age field the chosen age source ignores' },
  'rule/age-unsupported': {
    severity: 'error',
    what: 'age from last modification on an engine that keeps none (PostgreSQL)',
  },
  'rule/name-date-pattern': { severity: 'error', what: 'the date-in-name template is invalid' },
  'rule/pattern-invalid': { severity: 'error', what: 'an include/exclude pattern does not compile (RE2 syntax)' },
  'rule/sample-percent': { severity: 'error', what: '`row_hash: sample` without `sample_percent`' },
  'rule/legal-hold-reason': { severity: 'error', what: 'a legal hold without a reason' },
  'rule/policy-conflict': {
    severity: 'error',
    what: 'two policies claim the same tables with different outcomes and no priority decides',
  },
  'rule/aws-name': { severity: 'error', what: 'a derived Glue, S3 or connection name breaks AWS naming rules' },
  'rule/inline-secret': { severity: 'error', what: 'something that looks like a secret is written in the config' },
};

type Locator = Pick<ParsedFile, 'locate' | 'file'>;

function make(
  at: Locator,
  code: string,
  pointer: string,
  message: string,
  fix: string,
  opts: { key?: boolean } = {},
): Finding {
  const rule = RULES[code];
  if (!rule) throw new Error(`unregistered rule code ${code}`);
  const pos = at.locate(pointer, opts);
  return { code, severity: rule.severity, file: at.file, line: pos.line, column: pos.column, pointer, message, fix };
}

// ---------------------------------------------------------------------------------------------
// Per-document rules
// ---------------------------------------------------------------------------------------------

const SECRET_FIX =
  'remove it from the file (and rotate it: it may already be in git history); ' +
  'reference a Secrets Manager secret by name under credentials.secret';

/** The engine of a parsed database document, when it names one (aliases resolved). */
function engineOf(value: Record<string, unknown> | undefined): Engine | undefined {
  const e = value?.engine;
  return typeof e === 'string' ? normalizeEngine(e) : undefined;
}

/** Whether the database document's JDBC URL parses, so its parameters are checked one by one below. */
function parsedUrl(kind: ConfigKind, parsed: ParsedFile): { engine: Engine; url: string } | undefined {
  if (kind !== 'database' || typeof parsed.value?.jdbc_url !== 'string') return undefined;
  const engine = engineOf(parsed.value);
  const url = parsed.value.jdbc_url;
  if (!engine) return undefined;
  // Asked by the document rules and again by the secret scan: parse each URL once.
  const known = urlParses.get(parsed);
  if (known?.engine === engine && known.url === url) return known.ok ? { engine, url } : undefined;
  const ok = parseJdbcUrl(engine, url).ok;
  urlParses.set(parsed, { engine, url, ok });
  return ok ? { engine, url } : undefined;
}
const urlParses = new WeakMap<ParsedFile, { engine: Engine; url: string; ok: boolean }>();

const allowReference = (kind: ConfigKind) => (p: string) => kind === 'database' && p === '/credentials/secret';

export function documentFindings(kind: ConfigKind, parsed: ParsedFile): Finding[] {
  const url = parsedUrl(kind, parsed);
  const skip = (p: string) => url !== undefined && p === '/jdbc_url';
  const out = findSecrets(parsed.value, allowReference(kind), skip).map((hit) =>
    make(
      parsed,
      'rule/inline-secret',
      hit.pointer,
      `${hit.pointer || 'the document'} looks like it holds ${hit.kind}`,
      SECRET_FIX,
      { key: hit.key },
    ),
  );
  if (url) {
    const problems = urlParamProblems(url.engine, url.url);
    if (problems.length)
      out.push(
        make(
          parsed,
          'rule/credentials-in-url',
          '/jdbc_url',
          `the JDBC URL sets ${problems.map((p) => p.what).join(', ')}: ${
            problems.some((p) => p.credential)
              ? 'a credential'
              : 'not a known option of the driver, so possibly a credential'
          } (values are not shown)`,
          'remove it from the URL (and rotate it if it is a secret); the user and password come from the secret ' +
            'named by credentials.secret; a harmless driver option missing from the allow-list goes into ' +
            'tools/src/config/jdbc-params.ts',
        ),
      );
  }
  return out;
}

/**
 * The secretlint pass over every document at once (one scan: see `scanDocuments`). A place the
 * project's own rules already reported is not reported twice.
 */
export async function scannerFindings(
  docs: readonly { kind: ConfigKind; parsed: ParsedFile; comments: readonly YamlComment[] }[],
  reported: readonly Finding[],
): Promise<Finding[]> {
  const out: Finding[] = [];
  const commentFinding = (parsed: ParsedFile, c: YamlComment, kind: string): Finding => ({
    code: 'rule/inline-secret',
    severity: RULES['rule/inline-secret']!.severity,
    file: parsed.file,
    line: c.line,
    column: c.column,
    pointer: '',
    message: `a comment looks like it holds ${kind}`,
    fix:
      'remove it from the comment (and rotate it: it may already be in git history); ' +
      'sync publishes files with their comments',
  });
  // The project's own value rules over the comments (values and keys were checked per document).
  const flagged = new Set<string>();
  for (const { parsed, comments } of docs)
    comments.forEach((c, i) => {
      const hit = findSecrets(c.text, () => false)[0];
      if (!hit) return;
      flagged.add(`${parsed.file}|${commentPointer(i)}`);
      out.push(commentFinding(parsed, c, hit.kind));
    });
  const hits = await scanDocuments(
    docs.map(({ kind, parsed, comments }) => {
      const url = parsedUrl(kind, parsed);
      return {
        value: parsed.value,
        allowReference: allowReference(kind),
        skip: (p: string) => url !== undefined && p === '/jdbc_url',
        comments,
      };
    }),
  );
  const already = new Set(reported.filter((f) => f.code === 'rule/inline-secret').map((f) => `${f.file}|${f.pointer}`));
  hits.forEach((list, i) => {
    const { parsed, comments } = docs[i]!;
    for (const hit of list) {
      const key = `${parsed.file}|${hit.pointer}`;
      if (already.has(key) || flagged.has(key)) continue;
      const comment = hit.pointer.startsWith('#comment/') ? comments[Number(hit.pointer.slice(9))] : undefined;
      out.push(
        comment
          ? commentFinding(parsed, comment, hit.kind)
          : make(
              parsed,
              'rule/inline-secret',
              hit.pointer,
              `${hit.pointer || 'the document'} looks like it holds ${hit.kind}`,
              SECRET_FIX,
              { key: hit.key },
            ),
      );
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// AWS naming
// ---------------------------------------------------------------------------------------------

/** Why a name is not a valid S3 bucket name, or undefined. */
function bucketProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return 'may hold only lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not hold two adjacent dots';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not look like an IP address';
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name))
    return 'uses a prefix or suffix AWS reserves';
  return undefined;
}

/** Why a name is not a Glue database name Athena and Lake Formation accept, or undefined. */
function glueDatabaseProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 255) return 'must be 1 to 255 characters long';
  if (!/^[a-z0-9_]+$/.test(name))
    return (
      'may hold only lowercase letters, digits and underscores ' +
      '(Athena and Lake Formation lower-case everything else)'
    );
  return undefined;
}

/** Room left in an S3 key for Iceberg's own paths (`<table>/data/<partition>/<file>.parquet`). */
const ICEBERG_PATH_BUDGET = 400;

// ---------------------------------------------------------------------------------------------
// Cross-file rules
// ---------------------------------------------------------------------------------------------

function baseName(file: string): string {
  return path.posix.basename(file).replace(/\.ya?ml$/, '');
}

/** What a policy does to a table it claims; two claims conflict when these differ. */
function outcome(p: PolicyConfig): string {
  return JSON.stringify([
    p.age,
    p.archive_after,
    p.purge_after ?? null,
    p.source?.action ?? 'keep',
    p.source?.grace_period ?? null,
    p.legal_hold?.enabled ?? false,
    p.partitioning ?? null,
    p.validation ?? null,
  ]);
}

export function crossFileFindings(repo: LoadedRepo): Finding[] {
  const out: Finding[] = [];
  const settings = repo.settings?.config;
  const policies = new Map<string, LoadedConfig<PolicyConfig>>();

  // Settings
  if (repo.settings && settings) {
    const s = repo.settings;
    for (const [ptr, bucket] of [
      ['/config/bucket', settings.config.bucket],
      ['/archive/bucket', settings.archive.bucket],
    ] as const) {
      const why = bucketProblem(bucket);
      if (why)
        out.push(make(s, 'rule/aws-name', ptr, `S3 bucket name "${bucket}" ${why}`, 'choose a valid S3 bucket name'));
    }
    const sched = settings.defaults?.discovery_schedule;
    if (sched !== undefined) {
      const why = scheduleProblem(sched);
      if (why)
        out.push(
          make(
            s,
            'rule/schedule',
            '/defaults/discovery_schedule',
            `schedule "${sched}": ${why}`,
            'write cron(m h dom mon dow year), rate(N unit), a five-field cron line or an Airflow preset',
          ),
        );
    }
    const tz = settings.defaults?.timezone;
    if (tz !== undefined && !IANAZone.isValidZone(tz))
      out.push(
        make(
          s,
          'rule/timezone',
          '/defaults/timezone',
          `"${tz}" is not an IANA time zone`,
          'use a zone such as UTC or Europe/London',
        ),
      );
  }

  // Policies
  for (const p of repo.policies) {
    const c = p.config;
    if (c.name !== baseName(p.file))
      out.push(
        make(
          p,
          'rule/name-mismatch',
          '/name',
          `name "${c.name}" differs from the file name "${baseName(p.file)}"`,
          `rename the file to policies/${c.name}.yaml or set name: ${baseName(p.file)}`,
        ),
      );
    const prev = policies.get(c.name);
    if (prev)
      out.push(
        make(
          p,
          'rule/duplicate-name',
          '/name',
          `policy "${c.name}" is also declared in ${prev.file}`,
          'give each policy a unique name',
        ),
      );
    else policies.set(c.name, p);

    const durations: [string, string | undefined][] = [
      ['/archive_after', c.archive_after],
      ['/purge_after', c.purge_after],
      ['/source/grace_period', c.source?.grace_period],
    ];
    const parsed = new Map<string, number>();
    for (const [ptr, text] of durations) {
      if (text === undefined) continue;
      const d = parseDuration(text);
      if (!d)
        out.push(
          make(
            p,
            'rule/duration',
            ptr,
            `"${text}" is not a positive ISO-8601 duration`,
            'write a duration such as P2Y, P18M, P90D or PT12H',
          ),
        );
      else parsed.set(ptr, durationMillis(d.duration));
    }
    const a = parsed.get('/archive_after'),
      pu = parsed.get('/purge_after');
    if (a !== undefined && pu !== undefined && pu < a)
      out.push(
        make(
          p,
          'rule/purge-before-archive',
          '/purge_after',
          `purge_after ${c.purge_after} is shorter than archive_after ${c.archive_after}: ` +
            'archives would be purged before tables are archived',
          'make purge_after at least as long as archive_after',
        ),
      );
    if (c.source?.action === 'drop' && !c.source.grace_period)
      out.push(
        make(
          p,
          'rule/grace-period-required',
          '/source',
          'source.action is drop but no grace_period is set',
          'add source.grace_period (for example P30D): the source is renamed first and dropped only after it',
        ),
      );
    if (c.source?.action !== 'drop' && c.source?.grace_period)
      out.push(
        make(
          p,
          'rule/grace-period-unused',
          '/source/grace_period',
          'grace_period has no effect when the source is kept',
          'remove grace_period, or set source.action: drop',
        ),
      );

    const age = c.age;
    if (age.from === 'table_name') {
      if (!age.pattern)
        out.push(
          make(
            p,
            'rule/age-field-required',
            '/age',
            'age.from is table_name but age.pattern is missing',
            'add age.pattern, such as "*_YYYYMM"',
          ),
        );
      else {
        const r = compileNameDatePattern(age.pattern);
        if (!r.ok)
          out.push(
            make(
              p,
              'rule/name-date-pattern',
              '/age/pattern',
              `date pattern "${age.pattern}": ${r.problem}`,
              'use YYYY, MM and DD for the date parts and * for any text, e.g. "*_YYYYMM"',
            ),
          );
      }
    }
    if (age.from === 'column' && !age.column)
      out.push(
        make(
          p,
          'rule/age-field-required',
          '/age',
          'age.from is column but age.column is missing',
          'add age.column: the date or timestamp column whose maximum dates the table',
        ),
      );
    if (age.from !== 'table_name' && age.pattern !== undefined)
      out.push(
        make(
          p,
          'rule/age-field-unused',
          '/age/pattern',
          `age.pattern is ignored when age.from is ${age.from}`,
          'remove age.pattern',
        ),
      );
    if (age.from !== 'column' && age.column !== undefined)
      out.push(
        make(
          p,
          'rule/age-field-unused',
          '/age/column',
          `age.column is ignored when age.from is ${age.from}`,
          'remove age.column',
        ),
      );

    if (c.validation?.row_hash === 'sample' && c.validation.sample_percent === undefined)
      out.push(
        make(
          p,
          'rule/sample-percent',
          '/validation',
          'row_hash is sample but sample_percent is missing',
          'add validation.sample_percent (for example 10)',
        ),
      );
    if (c.legal_hold?.enabled && !c.legal_hold.reason)
      out.push(
        make(
          p,
          'rule/legal-hold-reason',
          '/legal_hold',
          'a legal hold is enabled without a reason',
          'add legal_hold.reason (and a reference to the case)',
        ),
      );
  }

  // Databases
  const invalidPolicies = new Set(repo.invalid.filter((f) => f.kind === 'policy').map((f) => baseName(f.file)));
  const someDatabaseInvalid = repo.invalid.some((f) => f.kind === 'database');
  const dbNames = new Map<string, string>();
  const glueDbs = new Map<string, string>();
  const usedPolicies = new Set<string>();
  for (const d of repo.databases) {
    const c = d.config;
    if (c.name !== baseName(d.file))
      out.push(
        make(
          d,
          'rule/name-mismatch',
          '/name',
          `name "${c.name}" differs from the file name "${baseName(d.file)}"`,
          `rename the file to databases/${c.name}.yaml or set name: ${baseName(d.file)}`,
        ),
      );
    const prev = dbNames.get(c.name);
    if (prev)
      out.push(
        make(
          d,
          'rule/duplicate-name',
          '/name',
          `database "${c.name}" is also declared in ${prev}`,
          'give each database a unique name',
        ),
      );
    else dbNames.set(c.name, d.file);

    const j = parseJdbcUrl(c.engine, c.jdbc_url);
    if (!j.ok) {
      const creds = /credentials|user name/.test(j.problem);
      out.push(
        make(
          d,
          creds ? 'rule/credentials-in-url' : 'rule/jdbc-url',
          '/jdbc_url',
          `JDBC URL for ${c.engine}: ${j.problem}`,
          creds
            ? 'remove them from the URL; put them in the secret named by credentials.secret'
            : `write it as ${j.form}`,
        ),
      );
    }

    if (c.discovery?.schedule !== undefined) {
      const why = scheduleProblem(c.discovery.schedule);
      if (why)
        out.push(
          make(
            d,
            'rule/schedule',
            '/discovery/schedule',
            `schedule "${c.discovery.schedule}": ${why}`,
            'write cron(m h dom mon dow year), rate(N unit), a five-field cron line or an Airflow preset',
          ),
        );
    }

    if (settings) {
      const glue = glueDatabaseOf(c, settings);
      const why = glueDatabaseProblem(glue);
      const ptr = c.archive?.glue_database !== undefined ? '/archive/glue_database' : '/name';
      if (why)
        out.push(
          make(
            d,
            'rule/aws-name',
            ptr,
            `Glue database name "${glue}" ${why}`,
            'set archive.glue_database to a lowercase name of letters, digits and underscores',
          ),
        );
      const other = glueDbs.get(glue);
      if (other)
        out.push(
          make(
            d,
            'rule/duplicate-glue-database',
            ptr,
            `Glue database "${glue}" is also the archive of ${other}`,
            'give each database its own archive.glue_database: archives of two sources must not mix',
          ),
        );
      else glueDbs.set(glue, d.file);
      const loc = s3LocationOf(c, settings);
      const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(loc);
      if (!m)
        out.push(
          make(
            d,
            'rule/aws-name',
            '/archive/s3_location',
            `"${loc}" is not an s3://bucket/prefix location`,
            'write s3://<bucket>/<prefix>/',
          ),
        );
      else {
        // Without s3_location, the settings' bucket: checked there.
        const bwhy = c.archive?.s3_location ? bucketProblem(m[1]!) : undefined;
        if (bwhy)
          out.push(
            make(
              d,
              'rule/aws-name',
              c.archive?.s3_location ? '/archive/s3_location' : '/name',
              `bucket "${m[1]}" of the archive location ${bwhy}`,
              'use a valid S3 bucket name',
            ),
          );
        if (Buffer.byteLength(m[2]!) > 1024 - ICEBERG_PATH_BUDGET)
          out.push(
            make(
              d,
              'rule/aws-name',
              c.archive?.s3_location ? '/archive/s3_location' : '/name',
              `archive key prefix is ${Buffer.byteLength(m[2]!)} bytes: ` +
                "Iceberg file keys under it would pass S3's 1,024-byte limit",
              `keep the prefix under ${1024 - ICEBERG_PATH_BUDGET} bytes`,
            ),
          );
      }
    }

    c.scope.forEach((entry, i) => {
      for (const list of ['include', 'exclude'] as const) {
        (entry[list] ?? []).forEach((src, k) => {
          const r = compileTablePattern(src);
          if (!r.ok)
            out.push(
              make(
                d,
                r.code,
                `/scope/${i}/${list}/${k}`,
                `pattern "${src}": ${r.problem}`,
                'write it in RE2 syntax (no backreferences or look-arounds), e.g. ^txn_[0-9]{6}$',
              ),
            );
        });
      }
      entry.policies.forEach((name, k) => {
        usedPolicies.add(name);
        const pol = policies.get(name);
        if (!pol && invalidPolicies.has(name)) return; // its own file's findings say what is wrong
        if (!pol) {
          const known = [...policies.keys()].sort();
          out.push(
            make(
              d,
              'rule/unknown-policy',
              `/scope/${i}/policies/${k}`,
              `policy "${name}" does not exist`,
              known.length
                ? `${didYouMean(name, known)}add policies/${name}.yaml or use one of: ${known.join(', ')}`
                : `add policies/${name}.yaml`,
            ),
          );
        } else if (pol.config.age.from === 'last_modified' && c.engine === 'postgres') {
          out.push(
            make(
              d,
              'rule/age-unsupported',
              `/scope/${i}/policies/${k}`,
              `policy "${name}" ages tables by last modification, which PostgreSQL does not record`,
              'use a policy that ages tables by name or by a date column',
            ),
          );
        }
      });
    });
    out.push(...conflictFindings(d, policies));
  }
  for (const [name, p] of policies) {
    if (!usedPolicies.has(name) && !someDatabaseInvalid)
      out.push(
        make(
          p,
          'rule/unused-policy',
          '/name',
          `policy "${name}" is not used by any database`,
          'reference it from a database scope, or delete it',
        ),
      );
  }
  return out;
}

/**
 * Two policies claim the same tables when one scope entry lists both, or when entries of the same
 * schema have the same include patterns (or one of them includes every table). Without an inventory
 * this is what can be known for certain; the policy engine reports the remaining overlaps per table.
 */
function conflictFindings(
  d: LoadedConfig<DatabaseConfig>,
  policies: Map<string, LoadedConfig<PolicyConfig>>,
): Finding[] {
  const out: Finding[] = [];
  const claims: { schema: string; include: string | null; policy: string; pointer: string }[] = [];
  d.config.scope.forEach((e, i) => {
    const include = e.include ? JSON.stringify([...e.include].sort()) : null;
    e.policies.forEach((p, k) =>
      claims.push({ schema: e.schema, include, policy: p, pointer: `/scope/${i}/policies/${k}` }),
    );
  });
  const reported = new Set<string>();
  for (let x = 0; x < claims.length; x++) {
    for (let y = x + 1; y < claims.length; y++) {
      const a = claims[x]!,
        b = claims[y]!;
      if (a.schema !== b.schema || a.policy === b.policy) continue;
      if (!(a.include === b.include || a.include === null || b.include === null)) continue;
      const pa = policies.get(a.policy)?.config,
        pb = policies.get(b.policy)?.config;
      if (!pa || !pb || outcome(pa) === outcome(pb)) continue;
      if (pa.priority !== undefined && pb.priority !== undefined && pa.priority !== pb.priority) continue;
      const pair = `${[a.policy, b.policy].sort().join('|')}|${a.schema}`;
      if (reported.has(pair)) continue;
      reported.add(pair);
      const why =
        pa.priority === undefined || pb.priority === undefined
          ? 'not both have a priority'
          : `both have priority ${pa.priority}`;
      out.push(
        make(
          d,
          'rule/policy-conflict',
          b.pointer,
          `policies "${a.policy}" and "${b.policy}" claim the same tables of schema "${a.schema}" ` +
            `with different outcomes, and ${why}`,
          'give the policies different priorities (the higher wins), ' +
            'or narrow the include patterns so they do not overlap',
        ),
      );
    }
  }
  return out;
}
