/** Findings: what validation reports, each with a stable code, a severity and a source location. */

import type { ValidateOutput } from '../generated/validate-output.js';

/**
 * One finding, as documented in `schema/validate-output.schema.json` (its single definition): a
 * stable code, a severity, the file with line and column, the JSON pointer, a message and a fix.
 */
export type Finding = ValidateOutput['findings'][number];
export type Severity = Finding['severity'];

export function compareFindings(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}
