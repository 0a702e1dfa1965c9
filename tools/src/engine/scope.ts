/**
 * Which scope entries of a database claim a table: the schema equal, an include pattern found, no exclude pattern
 * found.
 */
import type { DatabaseConfig } from '../generated/database.js';
import { compileTablePattern } from '../config/patterns.js';
import { fastTest } from './fast-match.js';

type ScopeEntry = DatabaseConfig['scope'][number];

export interface CompiledScope {
  index: number;
  entry: ScopeEntry;
  /** Undefined when a pattern does not compile (validation reports it); the entry then claims nothing. */
  matches: ((name: string) => boolean) | undefined;
  problem?: string;
}

export function compileScope(db: DatabaseConfig): CompiledScope[] {
  return db.scope.map((entry, index) => {
    const inc = (entry.include ?? []).map(compileTablePattern);
    const exc = (entry.exclude ?? []).map(compileTablePattern);
    const bad = [...inc, ...exc].find((r) => !r.ok);
    if (bad && !bad.ok)
      return {
        index,
        entry,
        matches: undefined,
        problem: `scope[${index}] of ${db.name}: pattern does not compile: ${bad.problem}`,
      };
    const incT = inc.map((r) => (r.ok ? fastTest(r.pattern.source, r.pattern.test) : () => false));
    const excT = exc.map((r) => (r.ok ? fastTest(r.pattern.source, r.pattern.test) : () => false));
    return {
      index,
      entry,
      matches: (name: string) => (incT.length === 0 || incT.some((t) => t(name))) && !excT.some((t) => t(name)),
    };
  });
}

/** Scope entries (in file order) claiming `schema.table`. */
const NONE: CompiledScope[] = [];
export function claimingScopes(scopes: CompiledScope[], schema: string, table: string): CompiledScope[] {
  let out: CompiledScope[] | undefined;
  for (const s of scopes)
    if (s.entry.schema === schema && s.matches !== undefined && s.matches(table)) (out ??= []).push(s);
  return out ?? NONE;
}
