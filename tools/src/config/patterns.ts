/**
 * Table-name patterns. Include/exclude patterns are regular expressions run by RE2 (linear time, so a
 * pattern can never hang the validator, the preview or discovery). Patterns RE2 refuses
 * (backreferences, look-arounds) and patterns that would backtrack catastrophically in a backtracking
 * engine (safe-regex2's star-height check; other tools may run them there) are findings.
 */
import { RE2 } from 're2-wasm';
import safeRegexModule from 'safe-regex2';

const safeRegex =
  (safeRegexModule as unknown as { default?: (re: string) => boolean }).default ??
  (safeRegexModule as unknown as (re: string) => boolean);

interface TablePattern {
  source: string;
  test(name: string): boolean;
}

export type PatternResult =
  | { ok: true; pattern: TablePattern }
  | { ok: false; code: 'rule/pattern-invalid' | 'rule/pattern-unsafe'; problem: string };

const compiled = new Map<string, PatternResult>();

/** Compiles a table pattern once (cached): RE2 semantics, Unicode, searched anywhere in the name. */
export function compileTablePattern(source: string): PatternResult {
  let r = compiled.get(source);
  if (r) return r;
  try {
    new RegExp(source, 'u'); // JS syntax check: RE2-wasm's messages are less helpful
  } catch (e) {
    r = {
      ok: false,
      code: 'rule/pattern-invalid',
      problem: (e as Error).message.replace(/^Invalid regular expression: /, ''),
    };
  }
  if (!r) {
    try {
      const re = new RE2(source, 'u');
      r = safeRegex(source)
        ? { ok: true, pattern: { source, test: (name: string) => re.test(name) } }
        : {
            ok: false,
            code: 'rule/pattern-unsafe',
            problem: 'nested repetition can take exponential time in backtracking regex engines',
          };
    } catch (e) {
      r = {
        ok: false,
        code: 'rule/pattern-invalid',
        problem: `${(e as Error).message.replace(/^Invalid regular expression: \/.*\/u: /, '')} (RE2 syntax: no backreferences or look-arounds)`,
      };
    }
  }
  compiled.set(source, r);
  return r;
}

/**
 * The date-in-name template of a policy (`*_YYYYMM`): `YYYY`, `MM`, `DD` are digits, `*` any text,
 * the rest literal; the whole name must match. Compiled to an anchored RE2 expression.
 */
interface NameDatePattern {
  source: string;
  /** The date the name gives, as its period's components, or undefined when the name does not match. */
  match(name: string): NameDate | undefined;
}

export type NameDateResult = { ok: true; pattern: NameDatePattern } | { ok: false; problem: string };

const compiledTemplates = new Map<string, NameDateResult>();

/** Compiles a date-in-name template once (cached). */
export function compileNameDatePattern(template: string): NameDateResult {
  let r = compiledTemplates.get(template);
  if (!r) {
    r = compileTemplate(template);
    compiledTemplates.set(template, r);
  }
  return r;
}

export type DatePart = 'y' | 'm' | 'd';
export interface NameDate {
  year: number;
  month?: number;
  day?: number;
}

/**
 * The regular expression of a date-in-name template and the order of its date groups. `any` is what
 * `*` becomes (RE2's `.` and a JavaScript `[^\n]` mean the same: anything but a newline).
 */
export function templateExpression(template: string, any = '.*'): { source: string; order: DatePart[]; stars: number } {
  const tokens = template.match(/YYYY|MM|DD|\*|[^*YMD]+|[YMD]/g) ?? [];
  const order: DatePart[] = [];
  let source = '^';
  let stars = 0;
  for (const t of tokens) {
    if (t === 'YYYY') {
      order.push('y');
      source += '([0-9]{4})';
    } else if (t === 'MM') {
      order.push('m');
      source += '([0-9]{2})';
    } else if (t === 'DD') {
      order.push('d');
      source += '([0-9]{2})';
    } else if (t === '*') {
      stars++;
      source += any;
    } else source += t.replace(/[\\^$.|?*+()[\]{}/]/g, '\\$&');
  }
  return { source: `${source}$`, order, stars };
}

/** The date a template's match gives, from its capture groups. */
export function dateFromGroups(m: ArrayLike<string | undefined>, order: readonly DatePart[]): NameDate {
  const out: NameDate = { year: 0 };
  order.forEach((k, i) => {
    const v = Number(m[i + 1]);
    if (k === 'y') out.year = v;
    else if (k === 'm') out.month = v;
    else out.day = v;
  });
  return out;
}

function compileTemplate(template: string): NameDateResult {
  const { source: re, order } = templateExpression(template);
  if (!order.includes('y')) return { ok: false, problem: 'the pattern must contain YYYY' };
  if (order.includes('d') && !order.includes('m')) return { ok: false, problem: 'DD needs MM' };
  if (new Set(order).size !== order.length) return { ok: false, problem: 'each of YYYY, MM and DD may appear once' };
  let compiledRe: RE2;
  try {
    compiledRe = new RE2(re, 'u');
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  return {
    ok: true,
    pattern: {
      source: template,
      match(name) {
        const m = compiledRe.exec(name);
        return m ? dateFromGroups(m, order) : undefined;
      },
    },
  };
}
