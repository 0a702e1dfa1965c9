/** Pass 2 of validation: JSON Schema (draft 2020-12, ajv, every error rather than the first). */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Finding } from './findings.js';
import type { ParsedFile } from './yaml-file.js';
import { readSchema, SCHEMA_FILES, type ConfigKind } from './schemas.js';
import { didYouMean } from './suggest.js';
import { ENGINE_ALIASES } from './jdbc.js';

type AddFormats = (ajv: Ajv2020, formats: string[]) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

let ajv: Ajv2020 | undefined;
const validators = new Map<ConfigKind, ValidateFunction>();

function validatorFor(kind: ConfigKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    ajv ??= (() => {
      // verbose: errors carry their schema, so an unknown property can be compared with the allowed ones.
      const a = new Ajv2020({
        allErrors: true,
        strict: true,
        strictTypes: false,
        allowUnionTypes: true,
        verbose: true,
      });
      addFormats(a, ['email', 'date', 'date-time', 'uri']);
      return a;
    })();
    v = ajv.compile(readSchema(SCHEMA_FILES[kind]));
    validators.set(kind, v);
  }
  return v;
}

function describe(e: ErrorObject): { code: string; message: string; fix: string; pointer: string; key: boolean } {
  const at = e.instancePath || '(top level)';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        code: 'schema/required',
        pointer: e.instancePath,
        key: false,
        message: `${at}: missing required property "${String(p.missingProperty)}"`,
        fix: `add "${String(p.missingProperty)}"`,
      };
    case 'additionalProperties': {
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return {
        code: 'schema/unknown-property',
        pointer: `${e.instancePath}/${String(p.additionalProperty)}`,
        key: true,
        message: `${at}: unknown property "${String(p.additionalProperty)}"`,
        fix:
          `${didYouMean(String(p.additionalProperty), allowed)}remove it or correct its spelling ` +
          `(the schema lists every allowed property${allowed.length ? `: ${allowed.join(', ')}` : ''})`,
      };
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).filter((x): x is string => typeof x === 'string');
      const aliases =
        e.instancePath === '/engine'
          ? ` (${Object.keys(ENGINE_ALIASES)
              .map((a) => `"${a}"`)
              .join(', ')} also accepted)`
          : '';
      return {
        code: 'schema/enum',
        pointer: e.instancePath,
        key: false,
        message: `${at}: must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}${
          aliases
        }`,
        fix: `${typeof e.data === 'string' ? didYouMean(e.data, allowed) : ''}use one of the allowed values`,
      };
    }
    case 'type':
      return {
        code: 'schema/type',
        pointer: e.instancePath,
        key: false,
        message: `${at}: must be ${String(p.type)}`,
        fix: `write a value of type ${String(p.type)}`,
      };
    case 'pattern':
      return {
        code: 'schema/pattern',
        pointer: e.instancePath,
        key: false,
        message: `${at}: does not match the required form ${String(p.pattern)}`,
        fix: 'see the property description in the schema for the expected form',
      };
    case 'format':
      return {
        code: 'schema/format',
        pointer: e.instancePath,
        key: false,
        message: `${at}: is not a valid ${String(p.format)}`,
        fix: `write a valid ${String(p.format)}`,
      };
    case 'uniqueItems':
      return {
        code: 'schema/duplicate-item',
        pointer: `${e.instancePath}/${Math.max(Number(p.i), Number(p.j))}`,
        key: false,
        message:
          `${at}: items ${Math.min(Number(p.i), Number(p.j))} ` +
          `and ${Math.max(Number(p.i), Number(p.j))} are the same`,
        fix: 'remove the repeated item',
      };
    case 'propertyNames':
      return {
        code: 'schema/property-name',
        pointer: `${e.instancePath}/${String(p.propertyName)}`,
        key: true,
        message: `${at}: property name "${String(p.propertyName)}" is not allowed`,
        fix: 'rename the key',
      };
    default:
      return {
        code: `schema/${e.keyword.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        pointer: e.instancePath,
        key: false,
        message: `${at}: ${e.message ?? 'is invalid'}`,
        fix: 'see the property description in the schema',
      };
  }
}

/** Validates a parsed file against its kind's schema; every error becomes a located finding. */
export function schemaFindings(kind: ConfigKind, parsed: ParsedFile): Finding[] {
  const validate = validatorFor(kind);
  if (validate(parsed.value)) return [];
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    if ((e as { propertyName?: string }).propertyName !== undefined) continue; // reported by its propertyNames error
    const d = describe(e);
    const key = `${d.code}|${d.pointer}|${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pos = parsed.locate(d.pointer, { key: d.key });
    out.push({
      code: d.code,
      severity: 'error',
      file: parsed.file,
      line: pos.line,
      column: pos.column,
      pointer: d.pointer,
      message: d.message,
      fix: d.fix,
    });
  }
  return out;
}
