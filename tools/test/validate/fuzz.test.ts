/**
 * Property-based: random text, mutated YAML and mutated configs fed to the loader and the validator
 * never crash, never hang, and every finding is located inside its file.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parseConfigFile } from '../../src/config/yaml-file.js';
import { loadRepo } from '../../src/config/load.js';
import type { ConfigSource } from '../../src/config/source.js';
import { baseRepo } from '../helpers/repo.js';
import { stripMarks } from '../helpers/fixtures.js';

const base = Object.fromEntries(Object.entries(baseRepo()).map(([k, v]) => [k, stripMarks(v as string)]));

function memorySource(files: Record<string, Uint8Array>): ConfigSource {
  return { label: 'memory', listFiles: async () => Object.keys(files).sort(), readFile: async (f) => files[f] };
}

function checkLocated(
  findings: { file: string; line: number; column: number; code: string; message: string }[],
  texts: Record<string, Uint8Array>,
) {
  for (const f of findings) {
    assert.ok(/^(yaml|schema|rule)\/[a-z-]+$/.test(f.code), `code ${f.code}`);
    assert.ok(f.message.length > 0);
    const bytes = texts[f.file];
    if (!bytes) continue; // e.g. settings-missing
    const lines = new TextDecoder().decode(bytes).split('\n');
    assert.ok(
      Number.isInteger(f.line) && f.line >= 1 && f.line <= lines.length + 1,
      `${f.code} line ${f.line} of ${lines.length}`,
    );
    assert.ok(Number.isInteger(f.column) && f.column >= 1, `${f.code} column ${f.column}`);
  }
}

const YAML_BITS = [
  '\n',
  ': ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  '&a ',
  '*a',
  '!!str ',
  '!t ',
  '---\n',
  '...\n',
  '"',
  "'",
  '#',
  '|\n  ',
  '>\n  ',
  '? ',
  ',',
  '  ',
  '\t',
  '%YAML 1.2\n',
  '\u0000',
  '\ufeff',
  'name: x\n',
  'scope:\n',
  '<<: *a\n',
  'é',
  '😀',
  '\r\n',
];

const mutate = (text: string) =>
  fc
    .array(
      fc.tuple(
        fc.nat({ max: text.length }),
        fc.nat({ max: 8 }),
        fc.oneof(fc.constantFrom(...YAML_BITS), fc.string({ maxLength: 6 })),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((edits) => {
      let t = text;
      for (const [at, del, ins] of edits) {
        const i = Math.min(at, t.length);
        t = t.slice(0, i) + ins + t.slice(i + del);
      }
      return t;
    });

test('random bytes never crash the YAML pass', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const r = parseConfigFile('databases/x.yaml', bytes);
      checkLocated(r.findings, { 'databases/x.yaml': bytes });
      assert.ok(r.value !== undefined || r.findings.length > 0);
    }),
    { numRuns: 400 },
  );
});

test('random YAML-ish text never crashes the YAML pass', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...YAML_BITS, 'a', 'b', '1', 'key', 'value'), { maxLength: 60 }).map((a) => a.join('')),
      (text) => {
        const bytes = new TextEncoder().encode(text);
        const r = parseConfigFile('policies/p.yaml', bytes);
        checkLocated(r.findings, { 'policies/p.yaml': bytes });
      },
    ),
    { numRuns: 600 },
  );
});

test('mutated configs never crash the validator, and every finding is located', async () => {
  const files = Object.keys(base);
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...files).chain((file) => mutate(base[file]!).map((text) => ({ file, text }))),
      async ({ file, text }) => {
        const bytes: Record<string, Uint8Array> = Object.fromEntries(
          Object.entries(base).map(([k, v]) => [k, new TextEncoder().encode(v)]),
        );
        bytes[file] = new TextEncoder().encode(text);
        const repo = await loadRepo(memorySource(bytes));
        checkLocated(repo.findings, bytes);
      },
    ),
    { numRuns: 300 },
  );
});

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '(a+)+$',
    '(a|a)*b',
    '[',
    '\\',
    '(?<=x)y',
    '(a)\\1',
    '.{1000000}',
    'P',
    'P-1Y',
    'cron(',
    'rate(-1 days)',
    'jdbc:',
    'jdbc:postgresql://',
    '@@',
    '${x}',
    'AKIAIOSFODNN7EXAMPLE',
    '\u0000',
    'x'.repeat(600),
  ),
);

test('configs with hostile values (patterns, durations, URLs, schedules) never crash or hang', async () => {
  await fc.assert(
    fc.asyncProperty(hostile, hostile, hostile, hostile, async (pattern, duration, url, schedule) => {
      const db = base['databases/db1.yaml']!.replace('"^txn_[0-9]{6}$"', JSON.stringify(pattern))
        .replace(/jdbc_url: .*/, `jdbc_url: ${JSON.stringify(url)}`)
        .replace(/schedule: .*/, `schedule: ${JSON.stringify(schedule)}`);
      const pol = base['policies/monthly.yaml']!.replace('P7Y', JSON.stringify(duration)).replace(
        '"*_YYYYMM"',
        JSON.stringify(pattern),
      );
      const bytes: Record<string, Uint8Array> = Object.fromEntries(
        Object.entries({ ...base, 'databases/db1.yaml': db, 'policies/monthly.yaml': pol }).map(([k, v]) => [
          k,
          new TextEncoder().encode(v),
        ]),
      );
      const started = Date.now();
      const repo = await loadRepo(memorySource(bytes));
      assert.ok(Date.now() - started < 5000, 'no hang');
      checkLocated(repo.findings, bytes);
    }),
    { numRuns: 300 },
  );
});

test('a deeply nested document is refused without overflowing the stack', () => {
  for (const text of [
    `a: ${'['.repeat(100000)}`,
    `a:\n${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i + 1)}- x`).join('\n')}`,
    '{'.repeat(50000) + '}'.repeat(50000),
  ]) {
    const bytes = new TextEncoder().encode(text);
    const r = parseConfigFile('policies/p.yaml', bytes);
    assert.ok(r.findings.length > 0);
    checkLocated(r.findings, { 'policies/p.yaml': bytes });
  }
});

test.run();
