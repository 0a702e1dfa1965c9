/** Inventory files: the written text round-trips, and every way a snapshot can be unusable is said plainly. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  inventoryText,
  readInventory,
  writeInventory,
  inventoryProblems,
  type Inventory,
} from '../../src/inventory/inventory.js';
import { writeTree, removeTree } from '../helpers/fixtures.js';
import { inventory, table, measured, eventCol } from '../engine/fixtures.js';

const sample = (): Inventory =>
  inventory('db1', [
    table('s', `we"ird; name.é`, { columns: [eventCol], column_max: measured('2025-01-01T00:00:00.000Z') }),
    table('s', 'txn_202001'),
  ]);

test('written text parses back to the same inventory, one table per line, schema-valid', async () => {
  const dir = writeTree({});
  try {
    const inv = sample();
    const file = await writeInventory(dir, inv);
    const text = readFileSync(file, 'utf8');
    assert.equal(JSON.parse(text), inv);
    assert.is(text.split('\n').filter((l) => l.startsWith('    {"schema"')).length, 2);
    assert.equal(inventoryProblems(inv), []);
    assert.equal(JSON.parse(inventoryText({ ...inv, tables: [] })), { ...inv, tables: [] });
    const r = await readInventory(dir, 'db1');
    assert.ok(r.ok);
  } finally {
    removeTree(dir);
  }
});

const cases: { name: string; text: string | null; code: string; message: RegExp }[] = [
  {
    name: 'missing',
    text: null,
    code: 'inventory/missing',
    message: /no inventory for database db1 .*offload discover --database db1/,
  },
  { name: 'not JSON', text: '{"format_version": 1,', code: 'inventory/invalid', message: /is not JSON/ },
  {
    name: 'another version',
    text: JSON.stringify({ ...sample(), format_version: 2 }),
    code: 'inventory/version',
    message: /format_version 2; this offload reads version 1/,
  },
  {
    name: 'schema mismatch',
    text: JSON.stringify({ ...sample(), tables: [{ schema: 's' }] }),
    code: 'inventory/invalid',
    message: /does not match schema\/inventory\.schema\.json: \/tables\/0 must have required property/,
  },
  {
    name: 'another database',
    text: JSON.stringify({ ...sample(), database: 'db2' }),
    code: 'inventory/invalid',
    message: /is for database db2, not db1/,
  },
];
for (const c of cases) {
  test(`read: ${c.name}`, async () => {
    const dir = writeTree(c.text === null ? {} : { 'db1.json': c.text });
    try {
      const r = await readInventory(dir, 'db1');
      assert.not.ok(r.ok);
      if (!r.ok) {
        assert.is(r.code, c.code);
        assert.match(r.message, c.message);
        assert.ok(r.message.includes(path.join(dir, 'db1.json')));
      }
    } finally {
      removeTree(dir);
    }
  });
}

test.run();
