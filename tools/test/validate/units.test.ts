/** Schedules, JDBC URLs, durations and patterns: tables of good and bad inputs. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scheduleProblem } from '../../src/config/schedule.js';
import { parseJdbcUrl, type Engine } from '../../src/config/jdbc.js';
import { parseDuration } from '../../src/config/duration.js';
import { compileNameDatePattern, compileTablePattern } from '../../src/config/patterns.js';

const goodSchedules = [
  'cron(0 2 * * ? *)',
  'cron(30 1 ? * SUN *)',
  'cron(0/15 * * * ? *)',
  'cron(0 12 L * ? *)',
  'cron(0 8 ? * 2#1 *)',
  'cron(0 9 ? * MON-FRI 2027)',
  'cron(5,35 14 15W JAN-MAR ? *)',
  'rate(1 day)',
  'rate(12 hours)',
  'rate(5 minutes)',
  '0 2 * * *',
  '*/10 * * * 1-5',
  '@daily',
  '@weekly',
  '@once',
];
const badSchedules = [
  'cron(0 2 * * * *)',
  'cron(0 2 ? * ? *)',
  'cron(0 2 * * ?)',
  'cron(61 2 * * ? *)',
  'cron(0 2 * FOO ? *)',
  'rate(1 days)',
  'rate(2 day)',
  'rate(0 days)',
  'rate(1 week)',
  '0 2 * *',
  '0 25 * * *',
  '0 2 ? * *',
  '@fortnightly',
  'daily',
  '',
];

for (const s of goodSchedules) test(`schedule ok: ${s}`, () => assert.is(scheduleProblem(s), undefined));
for (const s of badSchedules)
  test(`schedule bad: ${JSON.stringify(s)}`, () => assert.type(scheduleProblem(s), 'string'));

const goodUrls: [Engine, string, string, number, string][] = [
  ['postgres', 'jdbc:postgresql://db.example.com:5433/ledger?ssl=true', 'db.example.com', 5433, 'ledger'],
  ['postgres', 'jdbc:postgresql://db.example.com/ledger', 'db.example.com', 5432, 'ledger'],
  ['mysql', 'jdbc:mysql://10.0.0.5:3307/shop', '10.0.0.5', 3307, 'shop'],
  ['mariadb', 'jdbc:mariadb://maria.example.com/shop', 'maria.example.com', 3306, 'shop'],
  ['mariadb', 'jdbc:mysql://maria.example.com:3306/shop', 'maria.example.com', 3306, 'shop'],
  ['oracle', 'jdbc:oracle:thin:@//orcl.example.com:1521/LEDGERPDB', 'orcl.example.com', 1521, 'LEDGERPDB'],
  ['oracle', 'jdbc:oracle:thin:@orcl.example.com:1522:ORCL', 'orcl.example.com', 1522, 'ORCL'],
  [
    'sqlserver',
    'jdbc:sqlserver://sql.example.com:1433;databaseName=Claims;encrypt=true',
    'sql.example.com',
    1433,
    'Claims',
  ],
  ['sqlserver', 'jdbc:sqlserver://sql.example.com;databaseName=Claims', 'sql.example.com', 1433, 'Claims'],
];
for (const [engine, url, host, port, database] of goodUrls) {
  test(`jdbc ok: ${url}`, () => {
    const r = parseJdbcUrl(engine, url);
    assert.ok(r.ok);
    if (r.ok) assert.equal([r.target.host, r.target.port, r.target.database], [host, port, database]);
  });
}
const badUrls: [Engine, string][] = [
  ['postgres', 'jdbc:mysql://db/x'],
  ['postgres', 'jdbc:postgresql://db:5432'],
  ['postgres', 'jdbc:postgresql://db:0/x'],
  ['postgres', 'jdbc:postgresql://user:pw@db/x'],
  ['mysql', 'jdbc:mariadb://db/x'],
  ['oracle', 'jdbc:oracle:oci:@db:1521/X'],
  ['oracle', 'jdbc:oracle:thin:scott/tiger@//db:1521/X'],
  ['sqlserver', 'jdbc:sqlserver://db:1433'],
  ['sqlserver', 'jdbc:postgresql://db/x'],
  ['postgres', 'jdbc:postgresql://db/x y'],
];
for (const [engine, url] of badUrls)
  test(`jdbc bad (${engine}): ${url}`, () => assert.is(parseJdbcUrl(engine, url).ok, false));

test('durations', () => {
  for (const d of ['P2Y', 'P18M', 'P90D', 'PT12H', 'P1Y6M', 'P1W']) assert.ok(parseDuration(d), d);
  for (const d of ['2Y', 'P', 'P-1D', 'P0D', 'PT0S', 'soon', '']) assert.is(parseDuration(d), undefined, d);
});

test('table patterns run in RE2: a catastrophic input cannot hang', () => {
  const r = compileTablePattern('^(x+x+)+y$');
  assert.ok(r.ok); // valid RE2, and RE2 is linear
  const started = Date.now();
  if (r.ok) assert.not.ok(r.pattern.test(`${'x'.repeat(5000)}z`));
  const ok = compileTablePattern('^txn_[0-9]{6}$');
  assert.ok(ok.ok);
  if (ok.ok) {
    assert.ok(ok.pattern.test('txn_202001'));
    assert.not.ok(ok.pattern.test('txn_2020011'));
  }
  assert.ok(Date.now() - started < 2000);
});

test('date-in-name templates', () => {
  const cases: [string, string, object | undefined][] = [
    ['*_YYYYMM', 'txn_202001', { year: 2020, month: 1 }],
    ['*_YYYYMM', 'txn_20200101', undefined],
    ['*_YYYYMM', 'txn_2020', undefined],
    ['audit_YYYY_MM_DD', 'audit_2024_02_29', { year: 2024, month: 2, day: 29 }],
    ['STATEMENT_ARCHIVE_YYYY', 'STATEMENT_ARCHIVE_2019', { year: 2019 }],
    ['*.YYYY', 'a.b.2019', { year: 2019 }],
    ['*.YYYY', 'a.b_2019', undefined],
  ];
  for (const [tpl, name, want] of cases) {
    const r = compileNameDatePattern(tpl);
    assert.ok(r.ok, tpl);
    if (r.ok) assert.equal(r.pattern.match(name), want, `${tpl} on ${name}`);
  }
  for (const bad of ['*_MMDD', 'YYYY_YYYY', 'txn_YYYYDD']) assert.is(compileNameDatePattern(bad).ok, false, bad);
});

test.run();
