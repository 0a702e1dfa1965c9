/**
 * Table-name patterns. Include/exclude patterns are regular expressions with RE2's syntax and meaning,
 * checked by RE2 itself: whatever RE2 accepts (inline flags such as `(?i)`, POSIX classes, `\z`, …) is
 * valid, and a refusal carries RE2's own reason. They run only in RE2 or, in the engine's fast path, as
 * a JavaScript expression of a subset without groups (`engine/fast-match.ts`); Python never runs them.
 * Both are linear or bounded, so no pattern can backtrack catastrophically and none is refused for
 * nested repetition (the former `rule/pattern-unsafe`).
 */
import { RE2 } from 're2-wasm';

interface TablePattern {
  source: string;
  test(name: string): boolean;
}

export type PatternResult =
  | { ok: true; pattern: TablePattern }
  | { ok: false; code: 'rule/pattern-invalid'; problem: string };

const compiled = new Map<string, PatternResult>();

/** RE2's reason without the JavaScript-style preamble re2-wasm puts before it. */
function re2Reason(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

/** Compiles a table pattern once (cached): RE2 semantics, Unicode, searched anywhere in the name. */
export function compileTablePattern(source: string): PatternResult {
  let r = compiled.get(source);
  if (r) return r;
  try {
    const re = new RE2(source, 'u');
    r = { ok: true, pattern: { source, test: (name: string) => re.test(name) } };
  } catch (e) {
    r = { ok: false, code: 'rule/pattern-invalid', problem: `RE2 refuses it: ${re2Reason(e)}` };
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

/** Length of each date token's letter run: `YYYY`, `MM`, `DD`. */
const TOKEN_LENGTH: Record<string, number> = { Y: 4, M: 2, D: 2 };

/**
 * A run of date letters that is no date token, touching the date (`YYYYMMM`, `YYYYYMM`, `MMDDD`): a
 * typo that would leave every table name unmatched, so every table would fail at preview. A lone Y,
 * M or D inside a word (`DAILY_YYYYMMDD`) is literal text and stays allowed.
 */
function strayDateLetters(template: string): string | undefined {
  const runs = [...template.matchAll(/Y+|M+|D+/g)].map((m) => ({ text: m[0], at: m.index }));
  for (let i = 0; i < runs.length; i++) {
    const r = runs[i]!;
    const want = TOKEN_LENGTH[r.text[0]!]!;
    if (r.text.length === want) continue;
    const touches = (o: { text: string; at: number } | undefined) =>
      o !== undefined && (o.at + o.text.length === r.at || r.at + r.text.length === o.at);
    if (r.text.length >= 2 || touches(runs[i - 1]) || touches(runs[i + 1]))
      return `"${r.text}" is not a date part (write YYYY, MM or DD): no table name would match "${template}"`;
  }
  return undefined;
}

function compileTemplate(template: string): NameDateResult {
  const stray = strayDateLetters(template);
  if (stray) return { ok: false, problem: stray };
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
