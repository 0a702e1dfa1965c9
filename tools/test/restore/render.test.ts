/** The restore summary's text: which validation ran and which COPY format the arrow write used, and why text. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderRestore } from '../../src/restore/render.js';

const base = {
  status: 'restored',
  archive_table: 'archive_ledger.p__t',
  archive_snapshot_id: '42',
  target: { engine: 'postgresql', host: 'db', port: 5432, database: 'ledger', schema: 'audit', table: 't_back' },
  rows: 1200,
  validation: { status: 'passed', method: 'arrow_checksums' },
  columns: [{ name: 'id', type: 'bigint', from_lineage: true }],
};

test('the binary COPY format is named on the write line', () => {
  const text = renderRestore({ ...base, write: { path: 'arrow', copy_format: 'binary' } });
  assert.match(text, '  1,200 rows; validation passed against the archive (row count, exact sums, row hashes');
  assert.match(text, '\n  write path arrow, COPY binary format\n');
});

test('the text format says which column kept it there, unless it was asked for', () => {
  const fallback = renderRestore({
    ...base,
    write: { path: 'arrow', copy_format: 'text' },
    copy_format_text: 'column doc: no binary COPY form here for jsonb archived as string',
  });
  assert.match(
    fallback,
    '\n  write path arrow, COPY text format (column doc: no binary COPY form here for jsonb archived as string)\n',
  );
  const asked = renderRestore({
    ...base,
    write: { path: 'arrow', copy_format: 'text' },
    copy_format_text: '--copy_format text',
  });
  assert.match(asked, '\n  write path arrow, COPY text format\n');
});

test('a Spark write path names no COPY format', () => {
  const text = renderRestore({ ...base, write: { path: 'jdbc' }, arrow_not_used: 'no primary key' });
  assert.match(text, '\n  write path jdbc (arrow not used: no primary key)\n');
  assert.not.match(text, 'COPY');
});

test.run();
