/** Checks a work unit against schema/work-unit.schema.json (the Python loader checks the same file). */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readSchema } from '../config/schemas.js';
import type { WorkUnit } from '../generated/work-unit.js';

export const WORK_UNIT_SCHEMA_FILE = 'work-unit.schema.json';
let validator: ValidateFunction | undefined;

/** The schema errors of a document that should be a work unit (empty when it is one). */
export function workUnitProblems(doc: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // CommonJS default export under ESM (as in config/schema-pass.ts).
    type AddFormats = (a: Ajv2020, formats: string[]) => unknown;
    const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
      addFormatsModule) as unknown as AddFormats;
    addFormats(ajv, ['date-time']);
    validator = ajv.compile(readSchema(WORK_UNIT_SCHEMA_FILE));
  }
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

export function isWorkUnit(doc: unknown): doc is WorkUnit {
  return workUnitProblems(doc).length === 0;
}
