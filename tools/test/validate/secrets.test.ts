/**
 * Inline secrets (issue 10, defect 4): a credential anywhere in any config file — a JDBC URL
 * parameter under any name, a tag, a description, a key named like a password — is refused with its
 * location, and no output format ever repeats the secret. Each case marks the expected location with
 * «» and names the secret text that must not appear in the text, json and github renderings.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeTree, removeTree, markAt, type Tree } from '../helpers/fixtures.js';
import { baseRepo, DB1, AUDIT, SETTINGS } from '../helpers/repo.js';
import { validate } from '../../src/validate/validate.js';
import { renderGithub, renderJson, renderText } from '../../src/validate/render.js';

interface Case {
  name: string;
  files: Tree;
  /** Exactly the findings expected: code and the file whose «» marker gives line:column. */
  expected: [code: string, file: string][];
  /** Text that must not appear in any rendering (empty for the cases that must pass). */
  secret: string;
}

const sub = (text: string, from: string, to: string) => {
  if (!text.includes(from)) throw new Error(`fixture edit: "${from}" not found`);
  return text.replace(from, to);
};
const DB = 'databases/db1.yaml';
const POL = 'policies/audit.yaml';
const SET = 'offload.settings.yaml';
/** The database file with extra JDBC URL text, the marker on the URL's value. */
const url = (extra: string) => ({
  [DB]: sub(DB1, '5432/ledger', `5432/ledger${extra}`).replace('jdbc_url: ', 'jdbc_url: «»'),
});
const tag = (key: string, value: string) => ({ [DB]: `${DB1}tags:\n  ${key}: «»"${value}"\n` });
const description = (value: string) => ({ [POL]: `${AUDIT}description: «»"${value}"\n` });

// Secret-shaped test values are assembled from parts so that no scanner flags this file itself.
const AWS_KEY = ['AKIA', '2E0A8F3B244C9986'].join('');
const AWS_SECRET = ['wJalrXUtnFEMI/K7MDENG', '/bPxRfiCYzQ9kLmN2pW'].join(''); // 40 characters
const GH_TOKEN = ['ghp_', 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx'].join('');
const SLACK = ['xoxb', '123456789012', '1234567890123', 'abcdefghijABCDEFGHIJklmn'].join('-');
const GITLAB = ['glpat', 'Zx8Kq2Lm9Np4Rt6Vw1Yb'].join('-');
const SENDGRID = ['SG', 'ngeVfQFYQlKU0ufo8x5d1A', 'TwL2iGABf9DHoTf09kqeF8tAmbihYzrnopKcX-1s5cr'].join('.');
const PASSWORD = 'Xk9#mQ2vL7pR4wZt';

const cases: Case[] = [
  // JDBC URL parameters under any name
  {
    name: 'URL: password parameter',
    files: url(`?ssl=true&password=${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: sslpassword parameter',
    files: url(`?sslmode=require&sslpassword=${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: secret parameter',
    files: url(`?secret=${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: token parameter',
    files: url(`?token=${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: key parameter',
    files: url(`?key=${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: a parameter no driver knows',
    files: url(`?ApplicationName=ledger&x_auth=${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: a bare parameter (the name could be the secret)',
    files: url(`?ssl=true&${PASSWORD}`),
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: SQL Server accessToken',
    files: {
      [DB]: sub(
        sub(DB1, 'engine: postgres', 'engine: sqlserver'),
        'jdbc_url: jdbc:postgresql://db1.example.internal:5432/ledger',
        'jdbc_url: «»jdbc:sqlserver://db1.example.internal:1433;databaseName=ledger;' +
          `encrypt=true;accessToken=${PASSWORD}`,
      ),
    },
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  {
    name: 'URL: MySQL passwords 1 to 3 (multi-factor)',
    files: {
      [DB]: sub(
        sub(DB1, 'engine: postgres', 'engine: mysql'),
        'jdbc_url: jdbc:postgresql://db1.example.internal:5432/ledger',
        `jdbc_url: «»jdbc:mysql://db1.example.internal:3306/ledger?useSSL=true&password2=${PASSWORD}`,
      ),
    },
    expected: [['rule/credentials-in-url', DB]],
    secret: PASSWORD,
  },
  // Tags, descriptions and other free-form fields
  {
    name: 'tag: AWS access key id',
    files: tag('note', `key ${AWS_KEY}`),
    expected: [['rule/inline-secret', DB]],
    secret: AWS_KEY,
  },
  {
    name: 'tag: AWS secret access key',
    files: tag('note', `aws_secret_access_key=${AWS_SECRET}`),
    expected: [['rule/inline-secret', DB]],
    secret: AWS_SECRET,
  },
  { name: 'tag: GitHub token', files: tag('ci', GH_TOKEN), expected: [['rule/inline-secret', DB]], secret: GH_TOKEN },
  { name: 'tag: Slack token', files: tag('alerts', SLACK), expected: [['rule/inline-secret', DB]], secret: SLACK },
  {
    name: 'tag: GitLab token (scanner preset)',
    files: tag('ci', GITLAB),
    expected: [['rule/inline-secret', DB]],
    secret: GITLAB,
  },
  {
    name: 'description: SendGrid key (scanner preset)',
    files: description(`mail with ${SENDGRID}`),
    expected: [['rule/inline-secret', POL]],
    secret: SENDGRID,
  },
  {
    name: 'description: basic-auth URL',
    files: description(`report to https://admin:${PASSWORD}@reports.example/x`),
    expected: [['rule/inline-secret', POL]],
    secret: PASSWORD,
  },
  {
    name: 'description: private key block',
    files: {
      [POL]:
        `${AUDIT}description: «»|\n  -----BEGIN RSA PRIVATE KEY-----\n` +
        '  MIIEpAIBAAKCAQEAx7Qw\n  -----END RSA PRIVATE KEY-----\n',
    },
    expected: [['rule/inline-secret', POL]],
    secret: 'MIIEpAIBAAKCAQEAx7Qw',
  },
  {
    name: 'tag: high-entropy password under a password-like key',
    files: { [DB]: `${DB1}tags:\n  «»db_password: "${PASSWORD}"\n` },
    expected: [['rule/inline-secret', DB]],
    secret: PASSWORD,
  },
  {
    name: 'tag: a short password under a password-like key',
    files: { [DB]: `${DB1}tags:\n  «»db_password: hunter2\n` },
    expected: [['rule/inline-secret', DB]],
    secret: 'hunter2',
  },
  {
    name: 'tag: api token under a token-like key',
    files: { [DB]: `${DB1}tags:\n  «»reporting-api-token: "${PASSWORD}"\n` },
    expected: [['rule/inline-secret', DB]],
    secret: PASSWORD,
  },
  {
    name: 'settings: default tag with a password',
    files: { [SET]: `${SETTINGS}  tags:\n    «»ldap_passwd: "${PASSWORD}"\n` },
    expected: [['rule/inline-secret', SET]],
    secret: PASSWORD,
  },
  {
    name: 'owner contact: a connection string',
    files: {
      [DB]: sub(DB1, 'contact: ledger@acme.example', `contact: «»"mysql://root:${PASSWORD}@db.internal:3306/app"`),
    },
    expected: [
      ['rule/inline-secret', DB],
      ['schema/format', DB],
    ],
    secret: PASSWORD,
  },
  {
    name: 'a "secretlint-disable" text in one value does not switch the scan off for the others',
    files: {
      [POL]: `${AUDIT}description: "secretlint-disable"\n`,
      [DB]: `${DB1}tags:\n  ci: «»"${GITLAB}"\n`,
    },
    expected: [['rule/inline-secret', DB]],
    secret: GITLAB,
  },
  {
    name: 'comment: a password (sync publishes files with their comments)',
    files: { [DB]: DB1.replace('credentials:\n', `credentials: «»# old password=${PASSWORD}\n`) },
    expected: [['rule/inline-secret', DB]],
    secret: PASSWORD,
  },
  {
    name: 'comment: a GitLab token on its own line (scanner preset)',
    files: { [POL]: `«»# deploy with ${GITLAB}\n${AUDIT}` },
    expected: [['rule/inline-secret', POL]],
    secret: GITLAB,
  },
  {
    name: 'a "#" inside a quoted value is no comment',
    files: { [DB]: `${DB1}tags:\n  note: "ticket #4471 password rotation"\n` },
    expected: [],
    secret: '',
  },
  // What must pass
  {
    name: 'harmless JDBC options pass',
    files: url('?ssl=true&sslmode=verify-full&ApplicationName=ledger&connectTimeout=10'),
    expected: [],
    secret: '',
  },
  {
    name: 'harmless tags and words pass',
    files: { [DB]: `${DB1}tags:\n  cost-centre: CC-4471\n  note: "rotate the password yearly"\n  token-budget: "5"\n` },
    expected: [],
    secret: '',
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
        .map(([code, file]) => {
          const pos = markAt(String(tree[file]), '');
          return `${code} ${file}:${pos.line}:${pos.column}`;
        })
        .sort();
      assert.equal(got, want);
      if (c.secret)
        for (const [format, out] of [
          ['text', renderText(r)],
          ['json', renderJson(r)],
          ['github', renderGithub(r)],
        ] as const)
          assert.not.ok(out.includes(c.secret), `${format} output repeats the secret:\n${out}`);
    } finally {
      removeTree(dir);
    }
  });
}

test.run();
