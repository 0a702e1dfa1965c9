/** Findings: what validation reports, each with a stable code, a severity and a source location. */

export type Severity = 'error' | 'warning';

export interface Finding {
  /** Stable identifier, e.g. `yaml/duplicate-key` or `rule/unknown-policy`. Documented in README. */
  code: string;
  severity: Severity;
  /** Path of the file, relative to the repository root, with forward slashes. */
  file: string;
  /** 1-based line and column of the offending node (1:1 when the whole file is concerned). */
  line: number;
  column: number;
  /** JSON pointer of the offending value inside the document ('' for the whole document). */
  pointer: string;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  fix: string;
}

export function compareFindings(a: Finding, b: Finding): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
}

/** JSON pointer (RFC 6901) of a path of keys and indexes. */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}
