/** The README documents every finding code the validator can emit. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES } from '../../src/config/rules.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');

test('every rule code is in the README table with its severity', () => {
  for (const [code, r] of Object.entries(RULES)) assert.match(readme, `| \`${code}\` | ${r.severity} |`, code);
});

test('every yaml/ code the YAML pass can emit is in the README', () => {
  const src = readFileSync(path.join(root, 'tools/src/config/yaml-file.ts'), 'utf8');
  const codes = [...new Set([...src.matchAll(/'(yaml\/[a-z-]+)'/g)].map((m) => m[1]!))];
  assert.ok(codes.length >= 10);
  for (const code of codes) assert.match(readme, `| \`${code}\` |`, code);
});

test('the README names the two commands and .ci/run calls the test command', () => {
  assert.match(readme, 'bash scripts/main.sh');
  assert.match(readme, 'bash scripts/test.sh');
  assert.match(readFileSync(path.join(root, '.ci/run'), 'utf8'), 'scripts/test.sh');
  assert.ok(readdirSync(path.join(root, 'scripts')).includes('services.sh'));
});

test.run();
