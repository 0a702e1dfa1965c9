/**
 * Generates `tools/src/generated/*.ts` from `schema/*.schema.json`.
 * Run `npm run generate:types` after editing a schema; a test fails when the committed output drifts.
 */
import { writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { SCHEMA_DIR, readSchema } from '../src/config/schemas.js';

export const GENERATED_DIR = path.resolve(SCHEMA_DIR, '../tools/src/generated');

/** Output file name for each schema file: `database.schema.json` → `database.ts`. */
export function outputName(schemaFile: string): string {
  return schemaFile.replace(/\.schema\.json$/, '.ts');
}

/** Renders every schema's TypeScript types; returns output file name → content. */
export async function renderTypes(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()) {
    const schema = readSchema(file);
    const ts = await compile(structuredClone(schema) as never, String(schema.title ?? file), {
      bannerComment: `/* Generated from schema/${file} by tools/scripts/generate-types.ts — do not edit. */`,
      additionalProperties: false,
      strictIndexSignatures: true,
      format: true,
      style: { singleQuote: true, printWidth: 110 },
    });
    out.set(outputName(file), ts);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, ts] of await renderTypes()) {
    writeFileSync(path.join(GENERATED_DIR, name), ts);
    console.log(`wrote tools/src/generated/${name}`);
  }
}
