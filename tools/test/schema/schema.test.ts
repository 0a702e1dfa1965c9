/**
 * `schema/` is the single source of truth: generated types match it and every property is documented.
 * (The samples' modelines are checked in tools/test/examples/, `offload init`'s in tools/test/init/.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { GENERATED_DIR, renderTypes, SCHEMA_DIR } from '../../scripts/generate-types.js';

const schemaFiles = readdirSync(SCHEMA_DIR)
  .filter((f) => f.endsWith('.schema.json'))
  .sort();

test('committed generated types match the schemas (run `npm run generate:types`)', async () => {
  const rendered = await renderTypes();
  assert.equal(
    [...rendered.keys()].sort(),
    readdirSync(GENERATED_DIR)
      .filter((f) => f.endsWith('.ts'))
      .sort(),
    'one generated file per schema',
  );
  for (const [name, ts] of rendered)
    assert.fixture(readFileSync(path.join(GENERATED_DIR, name), 'utf8'), ts, `tools/src/generated/${name} has drifted`);
});

/** Every property of every schema, with its JSON path, found by walking the schema. */
function properties(
  node: unknown,
  at: string,
  out: [string, Record<string, unknown>][] = [],
): [string, Record<string, unknown>][] {
  if (!node || typeof node !== 'object') return out;
  const n = node as Record<string, unknown>;
  for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, unknown>)) {
    out.push([`${at}.${k}`, v as Record<string, unknown>]);
    properties(v, `${at}.${k}`, out);
  }
  if (n.items) properties(n.items, `${at}[]`, out);
  for (const [k, v] of Object.entries((n.$defs ?? {}) as Record<string, unknown>)) properties(v, `$defs.${k}`, out);
  if (n.additionalProperties && typeof n.additionalProperties === 'object')
    properties(n.additionalProperties, `${at}.*`, out);
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const)
    for (const s of (n[key] ?? []) as unknown[]) properties(s, at, out);
  return out;
}

for (const file of schemaFiles) {
  const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8'));
  test(`${file}: draft 2020-12, compiles, and every property has a description and an example`, () => {
    assert.is(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    new Ajv2020({ strict: false }).compile(schema);
    const props = properties(schema, '$');
    assert.ok(props.length > 0);
    const undocumented = props
      .filter(([, p]) => typeof p.description !== 'string' || !(p.description as string).trim())
      .map(([k]) => k);
    const noExample = props
      .filter(([, p]) => !Array.isArray(p.examples) || (p.examples as unknown[]).length === 0)
      .map(([k]) => k);
    assert.equal(undocumented, [], 'properties without a description');
    assert.equal(noExample, [], 'properties without an example');
  });
  test(`${file}: every example is valid against its own property schema`, () => {
    const ajv = new Ajv2020({ strict: false });
    for (const [k, p] of properties(schema, '$')) {
      const { examples, ...rest } = p;
      const v = ajv.compile({ ...rest, $schema: undefined, $id: undefined, $defs: schema.$defs });
      for (const ex of (examples ?? []) as unknown[])
        assert.ok(v(ex), `${file} ${k}: example ${JSON.stringify(ex)} is invalid: ${ajv.errorsText(v.errors)}`);
    }
  });
}

test.run();
