/** Pass 3 of validation: rules within one document and across files. */
import type { Finding } from './findings.js';
import type { ParsedFile } from './yaml-file.js';
import type { ConfigKind } from './schemas.js';
import type { LoadedRepo } from './load.js';

export function documentFindings(_kind: ConfigKind, _parsed: ParsedFile): Finding[] {
  return [];
}

export function crossFileFindings(_repo: LoadedRepo): Finding[] {
  return [];
}
