/**
 * Generates `tools/src/generated/*.ts` from `schema/*.schema.json`.
 * Run `npm run generate:types` after editing a schema; a test fails when the committed output drifts.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

/** `schema/` of this checkout (build-time scripts and tests read it from disk; the core imports it as data). */
export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema');
export const GENERATED_DIR = path.resolve(SCHEMA_DIR, '../tools/src/generated');

/** Output file name for each schema file: `database.schema.json` → `database.ts`. */
export function outputName(schemaFile: string): string {
  return schemaFile.replace(/\.schema\.json$/, '.ts');
}

/** Longest line of the generated files (the repository's line width; the formatter does not break comments). */
const LINE_WIDTH = 120;

/**
 * Word-wraps the JSDoc lines (` * text`) longer than {@link LINE_WIDTH}, keeping their indentation: the generator
 * copies schema descriptions into comments as one line each. A word longer than the width stays whole on its own line.
 */
function wrapComments(ts: string): string {
  return ts
    .split('\n')
    .flatMap((line) => {
      const m = /^(\s*\* )(.*)$/.exec(line);
      if (!m || line.length <= LINE_WIDTH) return [line];
      const [, prefix, text] = m as unknown as [string, string, string];
      const lines: string[] = [];
      let current = '';
      for (const word of text.split(' ')) {
        if (current && prefix.length + current.length + 1 + word.length > LINE_WIDTH) {
          lines.push(prefix + current);
          current = word;
        } else {
          current = current ? `${current} ${word}` : word;
        }
      }
      lines.push(prefix + current);
      return lines;
    })
    .join('\n');
}

/** Renders every schema's TypeScript types; returns output file name → content. */
export async function renderTypes(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()) {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;
    const ts = await compile(structuredClone(schema) as never, String(schema.title ?? file), {
      bannerComment: `/* Generated from schema/${file} by tools/scripts/generate-types.ts — do not edit. */`,
      additionalProperties: false,
      strictIndexSignatures: true,
      format: true,
      style: { singleQuote: true, printWidth: 110 },
    });
    out.set(outputName(file), wrapComments(ts));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, ts] of await renderTypes()) {
    writeFileSync(path.join(GENERATED_DIR, name), ts);
    console.log(`wrote tools/src/generated/${name}`);
  }
}
