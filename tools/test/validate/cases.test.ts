/**
 * Table-driven cases: every bad-input class of the YAML pass, the schema pass and every rule code,
 * each asserting exactly which findings come out — code, file and line:column. The expected location
 * is a «marker» written into the fixture text, so it is computed from the fixture alone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree, removeTree, markAt, type Tree } from '../helpers/fixtures.js';
import { baseRepo, DB1, MONTHLY, AUDIT, SETTINGS } from '../helpers/repo.js';
import { validate } from '../../src/validate/validate.js';
import { RULES } from '../../src/config/rules.js';

interface Case {
  name: string;
  files: Tree;
  /** [code, file, marker name] — the marker names a «mark» in that file's text ('top' = 1:1). */
  expected: [string, string, string][];
}

const sub = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return text.replace(from, to);
};

const cases: Case[] = [
  { name: 'the base repo is valid', files: {}, expected: [] },

  // ---- YAML pass ----
  {
    name: 'syntax error',
    files: { 'databases/db1.yaml': sub(DB1, 'owner:\n', 'owner: [«»oops\n') },
    expected: [['yaml/syntax', 'databases/db1.yaml', '']],
  },
  {
    name: 'duplicate key',
    files: { 'policies/monthly.yaml': `${MONTHLY}«»archive_after: P3Y\n` },
    expected: [['yaml/duplicate-key', 'policies/monthly.yaml', '']],
  },
  {
    name: 'explicit tag',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'archive_after: P2Y', 'archive_after: «»!!str P2Y') },
    expected: [['yaml/tag', 'policies/monthly.yaml', '']],
  },
  {
    name: 'custom tag',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'priority: 10', 'priority: «»!include other.yaml') },
    expected: [['yaml/tag', 'policies/monthly.yaml', '']],
  },
  {
    name: 'multi-document file',
    files: { 'policies/audit.yaml': `${AUDIT}«»---\nname: other\n` },
    expected: [['yaml/multi-document', 'policies/audit.yaml', '']],
  },
  {
    name: 'alias',
    files: {
      'policies/monthly.yaml': sub(
        sub(MONTHLY, 'archive_after: P2Y', 'archive_after: «»&a P2Y'),
        'purge_after: P7Y',
        'purge_after: *a',
      ),
    },
    expected: [['yaml/alias', 'policies/monthly.yaml', '']],
  },
  {
    name: 'alias bomb is refused without expanding it',
    files: {
      'policies/audit.yaml':
        'a: «»&a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n' +
        'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n' +
        'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n',
    },
    expected: [['yaml/alias', 'policies/audit.yaml', '']],
  },
  {
    name: 'file over the size cap',
    files: { 'policies/audit.yaml': `${AUDIT}description: "${'x'.repeat(300 * 1024)}"\n` },
    expected: [['yaml/too-large', 'policies/audit.yaml', 'top']],
  },
  {
    name: 'nesting over the cap (flow)',
    files: { 'policies/audit.yaml': `${AUDIT}x: ${'['.repeat(30)}${']'.repeat(30)}\n` },
    expected: [['yaml/too-deep', 'policies/audit.yaml', 'top']],
  },
  {
    name: 'nesting over the cap (block)',
    files: {
      'policies/audit.yaml': AUDIT.concat(
        Array.from({ length: 30 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n'),
        ' 1\n',
      ),
    },
    expected: [['yaml/too-deep', 'policies/audit.yaml', 'top']],
  },
  {
    name: 'non-UTF-8 bytes',
    files: {
      'policies/audit.yaml': new Uint8Array([
        ...Buffer.from('name: audit\ndescription: caf'),
        0xe9,
        ...Buffer.from('\n'),
      ]),
    },
    expected: [['yaml/encoding', 'policies/audit.yaml', 'enc']],
  },
  {
    name: 'mapping key that is a collection',
    files: { 'policies/audit.yaml': `${AUDIT}«»[a, b]: 1\n` },
    expected: [['yaml/key-type', 'policies/audit.yaml', '']],
  },
  {
    name: 'empty file',
    files: { 'policies/audit.yaml': '# nothing yet\n' },
    expected: [['yaml/empty', 'policies/audit.yaml', 'top']],
  },
  {
    name: 'top level is a list',
    files: { 'policies/audit.yaml': '«»- name: audit\n' },
    expected: [['yaml/top-level-type', 'policies/audit.yaml', '']],
  },
  {
    name: 'top level is a scalar',
    files: { 'policies/audit.yaml': '# a comment\n«»just text\n' },
    expected: [['yaml/top-level-type', 'policies/audit.yaml', '']],
  },

  // ---- schema pass ----
  {
    name: 'missing required property',
    files: { 'databases/db1.yaml': sub(DB1, 'name: db1\n', '«»') },
    expected: [['schema/required', 'databases/db1.yaml', '']],
  },
  {
    name: 'unknown property',
    files: { 'policies/monthly.yaml': `${MONTHLY}«»retention: P1Y\n` },
    expected: [['schema/unknown-property', 'policies/monthly.yaml', '']],
  },
  {
    name: 'value not in enum',
    files: { 'databases/db1.yaml': sub(DB1, 'engine: postgres', 'engine: «»postgre') },
    expected: [['schema/enum', 'databases/db1.yaml', '']],
  },
  {
    name: 'wrong type',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'priority: 10', 'priority: «»high') },
    expected: [['schema/type', 'policies/monthly.yaml', '']],
  },
  {
    name: 'pattern',
    files: { 'settings.x': null, 'offload.settings.yaml': sub(SETTINGS, 'region: eu-west-1', 'region: «»Europe') },
    expected: [['schema/pattern', 'offload.settings.yaml', '']],
  },
  {
    name: 'format',
    files: { 'databases/db1.yaml': sub(DB1, 'contact: ledger@acme.example', 'contact: «»the ledger team') },
    expected: [['schema/format', 'databases/db1.yaml', '']],
  },
  {
    name: 'duplicate items',
    files: { 'databases/db1.yaml': sub(DB1, 'policies: [audit]', 'policies: [audit, «»audit]') },
    expected: [['schema/duplicate-item', 'databases/db1.yaml', '']],
  },
  {
    name: 'every schema error at once',
    files: {
      'policies/monthly.yaml': sub(
        sub(MONTHLY, 'from: table_name', 'from: «a»name'),
        'priority: 10',
        'priority: «b»-1',
      ),
    },
    expected: [
      ['schema/enum', 'policies/monthly.yaml', 'a'],
      ['schema/minimum', 'policies/monthly.yaml', 'b'],
    ],
  },

  // ---- cross-file rules ----
  {
    name: 'rule/settings-missing',
    files: { 'offload.settings.yaml': null },
    expected: [['rule/settings-missing', 'offload.settings.yaml', 'top']],
  },
  {
    name: 'rule/name-mismatch',
    files: { 'policies/audit.yaml': sub(AUDIT, 'name: audit', 'name: «»audit-logs') },
    expected: [
      ['rule/name-mismatch', 'policies/audit.yaml', ''],
      ['rule/unused-policy', 'policies/audit.yaml', ''],
      ['rule/unknown-policy', 'databases/db1.yaml', 'u'],
    ],
  },
  {
    name: 'rule/duplicate-name',
    files: { 'policies/monthly.yml': sub(MONTHLY, 'name: monthly', 'name: «»monthly') },
    expected: [['rule/duplicate-name', 'policies/monthly.yml', '']],
  },
  {
    name: 'rule/duplicate-glue-database',
    files: {
      'databases/db2.yaml': sub(
        sub(DB1, 'name: db1', 'name: db2'),
        'scope:',
        'archive:\n  glue_database: «»archive_db1\nscope:',
      ),
    },
    expected: [['rule/duplicate-glue-database', 'databases/db2.yaml', '']],
  },
  {
    name: 'rule/unknown-policy',
    files: { 'databases/db1.yaml': sub(DB1, 'policies: [audit]', 'policies: [audit, «»audits]') },
    expected: [['rule/unknown-policy', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/unused-policy',
    files: { 'policies/spare.yaml': 'name: «»spare\nage:\n  from: last_modified\narchive_after: P1Y\n' },
    expected: [['rule/unused-policy', 'policies/spare.yaml', '']],
  },
  {
    name: 'rule/jdbc-url (wrong engine scheme)',
    files: { 'databases/db1.yaml': sub(DB1, 'jdbc_url: jdbc:postgresql:', 'jdbc_url: «»jdbc:mysql:') },
    expected: [['rule/jdbc-url', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/jdbc-url (no database)',
    files: {
      'databases/db1.yaml': sub(
        DB1,
        'jdbc_url: jdbc:postgresql://db1.example.internal:5432/ledger',
        'jdbc_url: «»jdbc:postgresql://db1.example.internal:5432',
      ),
    },
    expected: [['rule/jdbc-url', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/jdbc-url (port out of range)',
    files: {
      'databases/db1.yaml': sub(
        DB1,
        'jdbc_url: jdbc:postgresql://db1.example.internal:5432/',
        'jdbc_url: «»jdbc:postgresql://db1.example.internal:99999/',
      ),
    },
    expected: [['rule/jdbc-url', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/credentials-in-url (user@host)',
    files: {
      'databases/db1.yaml': sub(DB1, 'jdbc_url: jdbc:postgresql://db1', 'jdbc_url: «»jdbc:postgresql://archiver@db1'),
    },
    expected: [['rule/credentials-in-url', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/credentials-in-url (user parameter)',
    files: {
      'databases/db1.yaml': sub(DB1, '5432/ledger', '5432/ledger?user=archiver&ssl=true').replace(
        'jdbc_url: ',
        'jdbc_url: «»',
      ),
    },
    expected: [['rule/credentials-in-url', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/schedule (EventBridge: both day fields set)',
    files: { 'databases/db1.yaml': sub(DB1, 'schedule: cron(0 3 * * ? *)', 'schedule: «»cron(0 3 * * * *)') },
    expected: [['rule/schedule', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/schedule (five fields out of range)',
    files: { 'databases/db1.yaml': sub(DB1, 'schedule: cron(0 3 * * ? *)', 'schedule: «»"0 25 * * *"') },
    expected: [['rule/schedule', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/schedule (rate unit)',
    files: {
      'offload.settings.yaml': sub(
        SETTINGS,
        'discovery_schedule: cron(0 2 * * ? *)',
        'discovery_schedule: «»rate(2 day)',
      ),
    },
    expected: [['rule/schedule', 'offload.settings.yaml', '']],
  },
  {
    name: 'rule/timezone',
    files: { 'offload.settings.yaml': sub(SETTINGS, 'timezone: UTC', 'timezone: «»Mars/Olympus') },
    expected: [['rule/timezone', 'offload.settings.yaml', '']],
  },
  {
    name: 'rule/duration',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'archive_after: P2Y', 'archive_after: «»2 years') },
    expected: [['rule/duration', 'policies/monthly.yaml', '']],
  },
  {
    name: 'rule/duration (zero)',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'grace_period: P30D', 'grace_period: «»P0D') },
    expected: [['rule/duration', 'policies/monthly.yaml', '']],
  },
  {
    name: 'rule/purge-before-archive',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'purge_after: P7Y', 'purge_after: «»P18M') },
    expected: [['rule/purge-before-archive', 'policies/monthly.yaml', '']],
  },
  {
    name: 'purge_after equal to archive_after in other units is fine',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'purge_after: P7Y', 'purge_after: P24M') },
    expected: [],
  },
  {
    name: 'rule/grace-period-required',
    files: {
      'policies/monthly.yaml': sub(
        MONTHLY,
        'source:\n  action: drop\n  grace_period: P30D\n',
        'source:\n  «»action: drop\n',
      ),
    },
    expected: [['rule/grace-period-required', 'policies/monthly.yaml', '']],
  },
  {
    name: 'rule/grace-period-unused',
    files: {
      'policies/monthly.yaml': sub(
        MONTHLY,
        'action: drop\n  grace_period: P30D',
        'action: keep\n  grace_period: «»P30D',
      ),
    },
    expected: [['rule/grace-period-unused', 'policies/monthly.yaml', '']],
  },
  {
    name: 'rule/age-field-required',
    files: {
      'policies/audit.yaml': sub(AUDIT, 'age:\n  from: column\n  column: event_time\n', 'age:\n  «»from: column\n'),
    },
    expected: [['rule/age-field-required', 'policies/audit.yaml', '']],
  },
  {
    name: 'rule/age-field-unused',
    files: {
      'policies/audit.yaml': sub(AUDIT, '  column: event_time\n', '  column: event_time\n  pattern: «»"*_YYYY"\n'),
    },
    expected: [['rule/age-field-unused', 'policies/audit.yaml', '']],
  },
  {
    name: 'rule/age-unsupported',
    files: {
      'policies/audit.yaml': sub(AUDIT, 'from: column\n  column: event_time', 'from: last_modified'),
      'databases/db1.yaml': sub(DB1, 'policies: [audit]', 'policies: [«»audit]'),
    },
    expected: [['rule/age-unsupported', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/name-date-pattern',
    files: { 'policies/monthly.yaml': sub(MONTHLY, 'pattern: "*_YYYYMM"', 'pattern: «»"*_MMDD"') },
    expected: [['rule/name-date-pattern', 'policies/monthly.yaml', '']],
  },
  {
    name: 'rule/pattern-invalid (syntax)',
    files: { 'databases/db1.yaml': sub(DB1, 'include: ["^txn_[0-9]{6}$"]', 'include: [«»"^txn_[0-9{6}$"]') },
    expected: [['rule/pattern-invalid', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/pattern-invalid (backreference RE2 refuses)',
    files: { 'databases/db1.yaml': sub(DB1, 'include: ["^txn_[0-9]{6}$"]', 'include: ["^txn_", «»"(a)\\\\1"]') },
    expected: [['rule/pattern-invalid', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/sample-percent',
    files: {
      'policies/audit.yaml': sub(
        AUDIT,
        'validation:\n  row_hash: sample\n  sample_percent: 5\n',
        'validation:\n  «»row_hash: sample\n',
      ),
    },
    expected: [['rule/sample-percent', 'policies/audit.yaml', '']],
  },
  {
    name: 'rule/legal-hold-reason',
    files: { 'policies/audit.yaml': `${AUDIT}legal_hold:\n  «»enabled: true\n` },
    expected: [['rule/legal-hold-reason', 'policies/audit.yaml', '']],
  },
  {
    name: 'rule/policy-conflict (same scope, no priority)',
    files: {
      'databases/db1.yaml': sub(DB1, 'policies: [audit]', 'policies: [audit, «»monthly]'),
      'policies/monthly.yaml': sub(MONTHLY, 'priority: 10\n', ''),
    },
    expected: [['rule/policy-conflict', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/policy-conflict (same include patterns, equal priorities)',
    files: {
      'databases/db1.yaml': [
        `${DB1}  - schema: payments`,
        '    include: ["^txn_[0-9]{6}$"]',
        '    policies: [«»quarterly]\n',
      ].join('\n'),
      'policies/quarterly.yaml': sub(MONTHLY, 'name: monthly', 'name: quarterly').replace('P2Y', 'P3Y'),
    },
    expected: [['rule/policy-conflict', 'databases/db1.yaml', '']],
  },
  {
    name: 'different priorities resolve a conflict',
    files: {
      'databases/db1.yaml': `${DB1}  - schema: payments\n    include: ["^txn_[0-9]{6}$"]\n    policies: [quarterly]\n`,
      'policies/quarterly.yaml': sub(
        sub(MONTHLY, 'name: monthly', 'name: quarterly'),
        'priority: 10',
        'priority: 20',
      ).replace('P2Y', 'P3Y'),
    },
    expected: [],
  },
  {
    name: 'rule/aws-name (Glue database)',
    files: { 'databases/db1.yaml': sub(DB1, 'scope:', 'archive:\n  glue_database: «»Archive-DB1\nscope:') },
    expected: [['rule/aws-name', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/aws-name (bucket)',
    files: { 'offload.settings.yaml': sub(SETTINGS, 'bucket: acme-archive-vault', 'bucket: «»acme..vault') },
    expected: [['rule/aws-name', 'offload.settings.yaml', '']],
  },
  {
    name: 'rule/aws-name (S3 location bucket)',
    files: { 'databases/db1.yaml': sub(DB1, 'scope:', 'archive:\n  s3_location: «»s3://Bad_Bucket/x/\nscope:') },
    expected: [['rule/aws-name', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/inline-secret (password field)',
    files: { 'databases/db1.yaml': sub(DB1, '  secret: acme/db1\n', '  secret: acme/db1\n  «»password: hunter2\n') },
    expected: [
      ['rule/inline-secret', 'databases/db1.yaml', ''],
      ['schema/unknown-property', 'databases/db1.yaml', ''],
    ],
  },
  {
    name: 'rule/inline-secret (AWS key in any field)',
    files: { 'policies/audit.yaml': `${AUDIT}description: «»"key AKIAIOSFODNN7EXAMPLE for the job"\n` },
    expected: [['rule/inline-secret', 'policies/audit.yaml', '']],
  },
  {
    name: 'rule/inline-secret (password in a tag value)',
    files: { 'databases/db1.yaml': `${DB1}tags:\n  note: «»"password=S3cr3t!"\n` },
    expected: [['rule/inline-secret', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/credentials-in-url (password in the JDBC URL: one finding, not two)',
    files: {
      'databases/db1.yaml': sub(DB1, '5432/ledger', '5432/ledger?password=S3cr3t').replace(
        'jdbc_url: ',
        'jdbc_url: «»',
      ),
    },
    expected: [['rule/credentials-in-url', 'databases/db1.yaml', '']],
  },
  {
    name: 'rule/inline-secret (private key)',
    files: { 'policies/audit.yaml': `${AUDIT}description: «»"-----BEGIN RSA PRIVATE KEY----- MIIE"\n` },
    expected: [['rule/inline-secret', 'policies/audit.yaml', '']],
  },
];

for (const c of cases) {
  test(c.name, async () => {
    const tree: Tree = { ...baseRepo(), ...c.files };
    const dir = writeTree(tree);
    try {
      const r = await validate({ root: dir, paths: [], cwd: dir });
      const got = r.findings.map((f) => `${f.code} ${f.file}:${f.line}:${f.column}`).sort();
      const want = c.expected
        .map(([code, file, mark]) => {
          const text = tree[file];
          let pos = { line: 1, column: 1 };
          if (mark === 'enc') pos = { line: 2, column: 17 };
          else if (mark === 'u') pos = markAt(sub(DB1, 'policies: [audit]', 'policies: [«u»audit]'), 'u');
          else if (mark !== 'top') pos = markAt(typeof text === 'string' ? text : '', mark);
          return `${code} ${file}:${pos.line}:${pos.column}`;
        })
        .sort();
      assert.equal(got, want);
      assert.is(r.ok, !c.expected.some(([code]) => !(RULES[code]?.severity === 'warning')));
      for (const f of r.findings) {
        assert.ok(f.message.length > 5, 'message');
        assert.ok(f.fix.length > 5, 'fix');
      }
    } finally {
      removeTree(dir);
    }
  });
}

test('every rule code has a case', () => {
  const covered = new Set(cases.flatMap((c) => c.expected.map(([code]) => code)));
  const missing = Object.keys(RULES).filter((code) => !covered.has(code));
  assert.equal(missing, []);
});

test.run();
