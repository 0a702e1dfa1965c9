/**
 * Oracle and SQL Server cannot run here: their introspection SQL and row mapping are tested against
 * recorded catalog rows (shaped as oracledb's OUT_FORMAT_OBJECT and mssql's recordsets return them)
 * through a fake `query` port. Also: identifier quoting per engine, error classification.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordedPort } from '../helpers/recorded-port.js';
import { oracle, quoteOra, ORACLE_BLOCK_BYTES } from '../../src/catalog/oracle.js';
import { sqlserver, quoteMs } from '../../src/catalog/sqlserver.js';
import { postgres, quotePg } from '../../src/catalog/postgres.js';
import { mysql, quoteMy } from '../../src/catalog/mysql.js';
import { classify } from '../../src/catalog/errors.js';
import { discoverDatabase } from '../../src/catalog/discover.js';
import type { DatabaseConfig } from '../../src/generated/database.js';

const HOSTILE_SCHEMA = `LEDGER"; DROP USER X; --`;

test('oracle: three catalog queries, schemas bound (never in the SQL), rows mapped', async () => {
  const ddl = new Date('2026-01-05T08:00:00Z'),
    dml = new Date('2026-03-01T10:00:00Z');
  const port = recordedPort([
    { match: /FROM ALL_USERS/, rows: [{ name: 'LEDGER' }] },
    {
      match: /FROM ALL_TABLES/,
      rows: [
        {
          schema: 'LEDGER',
          name: 'GL_POSTINGS_202001',
          partitioned: 'NO',
          rows: 1200,
          blocks: 40,
          partitions: 0,
          last_ddl: ddl,
          last_dml: dml,
        },
        {
          schema: 'LEDGER',
          name: 'STATEMENTS',
          partitioned: 'YES',
          rows: 5000,
          blocks: 100,
          partitions: 12,
          last_ddl: ddl,
          last_dml: null,
        },
        {
          schema: 'LEDGER',
          name: 'Mixed "Quoted"; Name',
          partitioned: 'NO',
          rows: null,
          blocks: null,
          partitions: 0,
          last_ddl: ddl,
          last_dml: null,
        },
      ],
    },
    {
      match: /FROM ALL_TAB_COLUMNS/,
      rows: [
        {
          schema: 'LEDGER',
          table_name: 'GL_POSTINGS_202001',
          name: 'POSTING_ID',
          type: 'NUMBER',
          nullable: 0,
          precision: 19,
          scale: 0,
          pk_position: 2,
        },
        {
          schema: 'LEDGER',
          table_name: 'GL_POSTINGS_202001',
          name: 'BRANCH',
          type: 'VARCHAR2',
          nullable: 0,
          precision: 8,
          scale: null,
          pk_position: 1,
        },
        {
          schema: 'LEDGER',
          table_name: 'GL_POSTINGS_202001',
          name: 'POSTED_AT',
          type: 'TIMESTAMP(6)',
          nullable: 1,
          precision: null,
          scale: 6,
          pk_position: null,
        },
        {
          schema: 'LEDGER',
          table_name: 'STATEMENTS',
          name: 'ID',
          type: 'NUMBER',
          nullable: 0,
          precision: null,
          scale: null,
          pk_position: null,
        },
        {
          schema: 'LEDGER',
          table_name: 'SOME_VIEW',
          name: 'X',
          type: 'NUMBER',
          nullable: 1,
          precision: null,
          scale: null,
          pk_position: null,
        },
      ],
    },
  ]);
  const snap = await oracle.introspect(port, ['LEDGER', HOSTILE_SCHEMA]);
  assert.is(port.calls.length, 3);
  for (const c of port.calls) assert.not.ok(c.sql.includes(HOSTILE_SCHEMA), 'schema name interpolated into SQL');
  assert.equal(port.calls[0]!.params, ['LEDGER', HOSTILE_SCHEMA]);
  assert.equal(port.calls[2]!.params, ['LEDGER', HOSTILE_SCHEMA, 'LEDGER', HOSTILE_SCHEMA]);
  assert.match(port.calls[2]!.sql, /IN \(:1, :2\)[\s\S]*IN \(:3, :4\)/);
  assert.match(port.calls[1]!.sql, /NOT EXISTS \(SELECT 1 FROM ALL_MVIEWS/);
  assert.equal(snap.schemas, ['LEDGER']);
  assert.equal(
    snap.tables.map((t) => t.name),
    ['GL_POSTINGS_202001', 'Mixed "Quoted"; Name', 'STATEMENTS'],
  );
  const gl = snap.tables[0]!;
  assert.equal(gl.primary_key, ['BRANCH', 'POSTING_ID']);
  assert.is(gl.bytes, 40 * ORACLE_BLOCK_BYTES);
  assert.is(gl.rows, 1200);
  assert.is(gl.last_modified, dml.toISOString()); // the later of DML and DDL
  assert.equal(
    gl.columns.map((c) => [c.name, c.nullable, c.precision, c.scale]),
    [
      ['POSTING_ID', false, 19, 0],
      ['BRANCH', false, 8, null],
      ['POSTED_AT', true, null, 6],
    ],
  );
  assert.is(snap.tables[2]!.kind, 'partitioned_table');
  assert.is(snap.tables[2]!.partitions, 12);
  assert.is(snap.tables[2]!.last_modified, ddl.toISOString());
  assert.is(snap.tables[1]!.rows, null); // no statistics yet: unknown, not zero
});

test('sqlserver: three catalog queries, named parameters, rows mapped', async () => {
  const port = recordedPort([
    { match: /FROM sys\.schemas s WHERE/, rows: [{ name: 'dbo' }, { name: 'sales' }] },
    {
      match: /FROM sys\.tables t/,
      rows: [
        {
          schema: 'sales',
          name: 'orders_2020',
          rows: '123456',
          bytes: '4194304',
          partitions: 1,
          partitioned: 0,
          last_modified: new Date('2026-11-01T00:00:00Z'),
        },
        {
          schema: 'sales',
          name: 'events]x',
          rows: '10',
          bytes: '16384',
          partitions: 4,
          partitioned: 1,
          last_modified: null,
        },
      ],
    },
    {
      match: /FROM sys\.columns c/,
      rows: [
        {
          schema: 'sales',
          table_name: 'orders_2020',
          name: 'order_id',
          type: 'bigint',
          nullable: false,
          precision: null,
          scale: null,
          pk_position: 1,
        },
        {
          schema: 'sales',
          table_name: 'orders_2020',
          name: 'placed_at',
          type: 'datetime2',
          nullable: true,
          precision: 7,
          scale: null,
          pk_position: null,
        },
        {
          schema: 'sales',
          table_name: 'events]x',
          name: 'amount',
          type: 'decimal',
          nullable: false,
          precision: 18,
          scale: 4,
          pk_position: null,
        },
      ],
    },
  ]);
  const snap = await sqlserver.introspect(port, ['dbo', 'sales']);
  assert.is(port.calls.length, 3);
  assert.match(port.calls[0]!.sql, /IN \(@p1, @p2\)/);
  assert.match(port.calls[1]!.sql, /dm_db_index_usage_stats/);
  assert.equal(
    snap.tables.map((t) => [t.name, t.kind, t.partitions, t.rows, t.bytes, t.last_modified, t.primary_key]),
    [
      ['events]x', 'partitioned_table', 4, 10, 16384, null, []],
      ['orders_2020', 'table', 0, 123456, 4194304, '2026-11-01T00:00:00.000Z', ['order_id']],
    ],
  );
  assert.equal(snap.tables[0]!.columns, [
    { name: 'amount', type: 'decimal', nullable: false, precision: 18, scale: 4 },
  ]);
});

test('postgres and mysql mapping from recorded rows: unknown statistics stay null, partition roll-up', async () => {
  const pgPort = recordedPort([
    { match: /pg_namespace n WHERE/, rows: [{ name: 's' }] },
    {
      match: /FROM pg_catalog\.pg_class c/,
      rows: [
        {
          schema: 's',
          name: 'p',
          relkind: 'p',
          is_partition: false,
          parent_schema: null,
          parent_name: null,
          partitions: '2',
          reltuples: -1,
          bytes: '0',
          pk: null,
        },
        {
          schema: 's',
          name: 'p1',
          relkind: 'r',
          is_partition: true,
          parent_schema: 's',
          parent_name: 'p',
          partitions: '0',
          reltuples: 10,
          bytes: '8192',
          pk: ['id'],
        },
        {
          schema: 's',
          name: 'p2',
          relkind: 'r',
          is_partition: true,
          parent_schema: 's',
          parent_name: 'p',
          partitions: '0',
          reltuples: -1,
          bytes: '16384',
          pk: ['id'],
        },
      ],
    },
    { match: /FROM pg_catalog\.pg_attribute a/, rows: [] },
  ]);
  const snap = await postgres.introspect(pgPort, ['s']);
  assert.equal(
    snap.tables.map((t) => [t.name, t.kind, t.rows, t.bytes]),
    [
      ['p', 'partitioned_table', 10, 24576],
      ['p1', 'partition', 10, 8192],
      ['p2', 'partition', null, 16384],
    ],
  );
  const colsAnswer = {
    match: /information_schema\.COLUMNS c/,
    rows: [
      {
        row_kind: 's',
        schema: 'db',
        table_name: null,
        name: null,
        type: null,
        nullable: null,
        precision: null,
        scale: null,
        pos: 0,
      },
      {
        row_kind: 'c',
        schema: 'db',
        table_name: 't',
        name: 'a',
        type: 'int',
        nullable: 'NO',
        precision: 10,
        scale: 0,
        pos: 1,
      },
      {
        row_kind: 'c',
        schema: 'db',
        table_name: 't',
        name: 'b',
        type: 'int',
        nullable: 'YES',
        precision: 10,
        scale: 0,
        pos: 2,
      },
      {
        row_kind: 'k',
        schema: 'db',
        table_name: 't',
        name: 'b',
        type: null,
        nullable: null,
        precision: null,
        scale: null,
        pos: 1,
      },
      {
        row_kind: 'k',
        schema: 'db',
        table_name: 't',
        name: 'a',
        type: null,
        nullable: null,
        precision: null,
        scale: null,
        pos: 2,
      },
    ],
  };
  const T = (name: string, engine = 'InnoDB') => ({
    row_kind: 't',
    schema: 'db',
    name,
    engine,
    n_rows: null,
    clustered_pages: null,
    other_pages: null,
    page_size: null,
  });
  const S = (name: string, rows: number, pages: number) => ({
    row_kind: 's',
    schema: 'db',
    name,
    engine: null,
    n_rows: rows,
    clustered_pages: pages,
    other_pages: 1,
    page_size: 16384,
  });
  const listing = [
    T('t'),
    T('p'),
    T('x#P#y'),
    T('aria', 'Aria'),
    T('nostats'),
    S('t', 5, 2),
    S('p#P#p0', 3, 1),
    S('p#P#p1', 4, 1),
    S('x#P#y', 9, 1),
    S('p#P#p1#SP#s0', 1, 1),
  ];
  const byName: unknown[][] = [];
  const myPort = recordedPort([
    { match: /mysql\.innodb_table_stats/, rows: listing },
    {
      match: /TABLE_SCHEMA = \? AND t\.TABLE_NAME IN/,
      rows: (params) => {
        byName.push([...params]);
        return [
          {
            schema: 'db',
            name: 'aria',
            est_rows: '7',
            bytes: '8192',
            last_modified: '2026-11-20 10:00:00',
            create_options: '',
          },
          { schema: 'db', name: 'nostats', est_rows: '1', bytes: '16384', last_modified: null, create_options: '' },
          {
            schema: 'db',
            name: 't',
            est_rows: '5',
            bytes: '49152',
            last_modified: '2026-11-21 09:00:00',
            create_options: '',
          },
        ];
      },
    },
    colsAnswer,
  ]);
  const my = await mysql.introspect(myPort, ['db', 'nope'], { wantsLastModified: (_s, t) => t === 't' });
  assert.is(myPort.calls.length, 3);
  assert.equal(byName, [['db', 't', 'aria', 'nostats']]); // only the tables that must be opened
  assert.equal(my.schemas, ['db']);
  const get = (n: string) => my.tables.find((x) => x.name === n)!;
  assert.equal(get('t').primary_key, ['b', 'a']);
  assert.equal(
    get('t').columns.map((c) => c.nullable),
    [false, true],
  );
  assert.is(get('t').last_modified, '2026-11-21T09:00:00.000Z'); // asked for
  assert.equal(
    [get('p').kind, get('p').partitions, get('p').rows, get('p').bytes, get('p').last_modified],
    ['partitioned_table', 2, 8, 6 * 16384, null],
  );
  assert.equal([get('x#P#y').kind, get('x#P#y').rows], ['table', 9]); // a table whose name looks like a partition
  assert.equal([get('aria').rows, get('aria').bytes, get('aria').last_modified], [7, 8192, '2026-11-20T10:00:00.000Z']);
  // without the grant on mysql.innodb_table_stats: one scan of information_schema.TABLES, + partitions
  const denied = recordedPort([
    {
      match: /mysql\.innodb_table_stats/,
      rows: () => {
        throw Object.assign(new Error("SELECT command denied to user 'r' for table 'innodb_table_stats'"), {
          code: 'ER_TABLEACCESS_DENIED_ERROR',
          errno: 1142,
        });
      },
    },
    {
      match: /information_schema\.TABLES t\nWHERE t\.TABLE_TYPE/,
      rows: [
        {
          schema: 'db',
          name: 't',
          est_rows: '5',
          bytes: '32768',
          last_modified: '2026-11-20 10:00:00',
          create_options: '',
        },
        { schema: 'db', name: 'p', est_rows: '7', bytes: '65536', last_modified: null, create_options: 'partitioned' },
      ],
    },
    {
      match: /information_schema\.PARTITIONS p/,
      rows: (params) => (assert.equal(params, ['db', 'p']), [{ schema: 'db', table_name: 'p', partitions: 3 }]),
    },
    colsAnswer,
  ]);
  const slow = await mysql.introspect(denied, ['db']);
  assert.is(denied.calls.length, 4);
  assert.equal(
    slow.tables.map((x) => [x.name, x.kind, x.partitions, x.rows, x.last_modified]),
    [
      ['p', 'partitioned_table', 3, 7, null],
      ['t', 'table', 0, 5, '2026-11-20T10:00:00.000Z'],
    ],
  );
  // nothing to open: two statements
  const plain = recordedPort([{ match: /mysql\.innodb_table_stats/, rows: [T('t'), S('t', 1, 1)] }, colsAnswer]);
  await mysql.introspect(plain, ['db']);
  assert.is(plain.calls.length, 2);
});

test('identifiers are quoted, never interpolated raw', () => {
  const name = `a"b]c\`d; DROP TABLE x; --`;
  assert.is(quotePg(name), `"a""b]c\`d; DROP TABLE x; --"`);
  assert.is(quoteOra(name), `"a""b]c\`d; DROP TABLE x; --"`);
  assert.is(quoteMy(name), '`a"b]c``d; DROP TABLE x; --`');
  assert.is(quoteMs(name), `[a"b]]c\`d; DROP TABLE x; --]`);
  assert.is(
    oracle.maxColumnSql('S', name, 'EVENT_TIME', 3),
    'SELECT 3 AS "i", SYS_EXTRACT_UTC(CAST(MAX("EVENT_TIME") AS TIMESTAMP WITH TIME ZONE)) AS "v" ' +
      `FROM "S".${quoteOra(name)}`,
  );
  assert.is(
    sqlserver.maxColumnSql('dbo', name, 'at', 0),
    `SELECT 0 AS i, CAST(MAX([at]) AS datetimeoffset) AS v FROM [dbo].${quoteMs(name)}`,
  );
});

const classifyCases: [string, unknown, string][] = [
  ['pg refused', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }, 'discover/unreachable'],
  ['dns', { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND nucleus-dev' }, 'discover/unreachable'],
  ['pg password', { code: '28P01', message: 'password authentication failed for user "x"' }, 'discover/auth-failed'],
  ['pg timeout', { code: '57014', message: 'canceling statement due to statement timeout' }, 'discover/timeout'],
  ['pg privilege', { code: '42501', message: 'permission denied for table t' }, 'discover/privilege'],
  ['pg dropped', { code: '42P01', message: 'relation "s.t" does not exist' }, 'discover/table-missing'],
  [
    'mysql access',
    { code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, message: 'Access denied for user' },
    'discover/auth-failed',
  ],
  [
    'mariadb timeout',
    {
      code: 'ER_STATEMENT_TIMEOUT',
      errno: 1969,
      message: 'Query execution was interrupted (max_statement_time exceeded)',
    },
    'discover/timeout',
  ],
  [
    'mysql no table',
    { code: 'ER_NO_SUCH_TABLE', errno: 1146, message: "Table 'd.t' doesn't exist" },
    'discover/table-missing',
  ],
  [
    'mysql select denied',
    { code: 'ER_TABLEACCESS_DENIED_ERROR', errno: 1142, message: 'SELECT command denied' },
    'discover/privilege',
  ],
  [
    'oracle logon',
    { errorNum: 1017, message: 'ORA-01017: invalid username/password; logon denied' },
    'discover/auth-failed',
  ],
  ['oracle no table', { errorNum: 942, message: 'ORA-00942: table or view does not exist' }, 'discover/table-missing'],
  ['oracle privileges', { errorNum: 1031, message: 'ORA-01031: insufficient privileges' }, 'discover/privilege'],
  [
    'oracle listener',
    { message: 'NJS-503: connection to host h port 1521 could not be established' },
    'discover/unreachable',
  ],
  ['mssql login', { code: 'ELOGIN', message: "Login failed for user 'x'." }, 'discover/auth-failed'],
  [
    'mssql timeout',
    { code: 'ETIMEOUT', message: 'Timeout: Request failed to complete in 30000ms' },
    'discover/timeout',
  ],
  [
    'mssql view server state',
    { number: 300, message: 'VIEW SERVER STATE permission was denied' },
    'discover/privilege',
  ],
  ['mssql invalid object', { number: 208, message: "Invalid object name 'x'." }, 'discover/table-missing'],
  ['anything else', { message: 'boom' }, 'discover/query-failed'],
];
for (const [name, err, code] of classifyCases) test(`classify: ${name}`, () => assert.is(classify(err).code, code));

test('oracle discovery through a fake port: batched max(column), one bad table retried alone and named', async () => {
  const db: DatabaseConfig = {
    name: 'bizops',
    engine: 'oracle',
    jdbc_url: 'jdbc:oracle:thin:@//h:1521/S',
    credentials: { secret: 's' },
    owner: { team: 't', contact: 't@x.example' },
    scope: [{ schema: 'BIZOPS', policies: ['audit'] }],
  };
  const tables = ['A', 'B', 'GONE', 'D'];
  const port = recordedPort([
    { match: /FROM ALL_USERS/, rows: [{ name: 'BIZOPS' }] },
    {
      match: /FROM ALL_TABLES/,
      rows: tables.map((name) => ({
        schema: 'BIZOPS',
        name,
        partitioned: 'NO',
        rows: 1,
        blocks: 1,
        partitions: 0,
        last_ddl: null,
        last_dml: null,
      })),
    },
    {
      match: /FROM ALL_TAB_COLUMNS/,
      rows: tables.map((t) => ({
        schema: 'BIZOPS',
        table_name: t,
        name: 'EVENT_TIME',
        type: 'TIMESTAMP(6)',
        nullable: 0,
        precision: null,
        scale: 6,
        pk_position: null,
      })),
    },
    {
      match: /UNION ALL/,
      rows: () => {
        throw Object.assign(new Error('ORA-00942: table or view does not exist'), { errorNum: 942 });
      },
    },
    {
      match: /"GONE"/,
      rows: () => {
        throw Object.assign(new Error('ORA-00942: table or view does not exist'), { errorNum: 942 });
      },
    },
    { match: /MAX\("EVENT_TIME"\)/, rows: [{ i: 0, v: new Date('2025-01-01T00:00:00Z') }] },
  ]);
  const r = await discoverDatabase({
    database: db,
    policies: [{ name: 'audit', age: { from: 'column', column: 'event_time' }, archive_after: 'P1Y' }],
    session: port,
    batchSize: 10,
    now: () => new Date('2026-11-27T00:00:00Z'),
  });
  assert.is(r.catalogQueries, 3);
  assert.is(r.measureQueries, 1 + tables.length);
  assert.equal(
    r.inventory.errors.map((e) => [e.code, e.table]),
    [['discover/table-missing', 'GONE']],
  );
  assert.equal(
    r.inventory.tables.map((t) => t.column_max.EVENT_TIME?.value ?? null),
    ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', null],
  );
  assert.is(r.inventory.partial, true);
});

test('a catalog query that times out leaves a partial inventory naming the database', async () => {
  const db: DatabaseConfig = {
    name: 'ledger',
    engine: 'postgres',
    jdbc_url: 'jdbc:postgresql://h/x',
    credentials: { secret: 's' },
    owner: { team: 't', contact: 't@x.example' },
    scope: [{ schema: 's', policies: ['p'] }],
  };
  const port = recordedPort([
    { match: /pg_namespace n WHERE/, rows: [{ name: 's' }] },
    {
      match: /FROM pg_catalog\.pg_class c/,
      rows: () => {
        throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
      },
    },
  ]);
  const r = await discoverDatabase({ database: db, policies: [], session: port });
  assert.is(r.inventory.partial, true);
  assert.equal(
    r.inventory.errors.map((e) => e.code),
    ['discover/timeout'],
  );
  assert.match(
    r.inventory.errors[0]!.message,
    /^database ledger: the statement or connection timed out: canceling statement/,
  );
  assert.equal(r.inventory.tables, []);
});

test.run();
