/**
 * Speed without giving up RE2's guarantees. Scope patterns and name-date templates are RE2, and a
 * call into RE2 (WebAssembly) costs microseconds; a preview makes hundreds of thousands. Patterns in
 * a small subset whose meaning is the same in RE2 and in JavaScript, and whose backtracking is
 * bounded (at most ONE variable-width atom: at worst quadratic in the name's length, and table
 * names are at most 128 characters), run as JavaScript regular expressions; everything else runs in
 * RE2, memoized per name. The subset: `^`/`$` at the ends, literal characters, escaped
 * punctuation, `\d`, `.` (as RE2's: anything but a newline), classes of literal characters and
 * ranges, each atom optionally followed by `?`, `*`, `+`, `{n}`, `{n,}` or `{n,m}`.
 */

import { templateExpression, dateFromGroups, type NameDate } from '../config/patterns.js';

export type { NameDate };

const META = new Set([...'\\^$.|?*+()[]{}']);

/** A JavaScript RegExp with RE2's meaning for a pattern of the safe subset; undefined otherwise. */
export function jsEquivalent(source: string): RegExp | undefined {
  let i = 0,
    out = '',
    variable = 0;
  if (source.startsWith('^')) {
    out += '^';
    i = 1;
  }
  const end = source.endsWith('$') && !source.endsWith('\\$') ? source.length - 1 : source.length;
  while (i < end) {
    const c = source[i]!;
    let atom: string;
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined) return undefined;
      if (n === 'd') atom = '[0-9]';
      else if (META.has(n) || n === '/') atom = `\\${n}`;
      else if (n === '-' || n === '_' || n === ' ')
        atom = n; // identity escapes JavaScript's u-mode refuses
      else return undefined; // \w, \s, \b, \p{…}… differ or need care: leave them to RE2
      i += 2;
    } else if (c === '.') {
      atom = '[^\\n]';
      i++;
    } else if (c === '[') {
      const close = source.indexOf(']', i + 1);
      if (close < 0) return undefined;
      const body = source.slice(i + 1, close);
      if (!body || !/^\^?(?:[A-Za-z0-9_]-[A-Za-z0-9_]|[A-Za-z0-9_ .@#$])+$/u.test(body)) return undefined;
      atom = `[${body.replace(/[.$#@ ]/g, (x) => `\\${x}`)}]`;
      i = close + 1;
    } else if (META.has(c))
      return undefined; // groups, alternation, stray quantifiers
    else {
      atom = c;
      i++;
    }
    const q = /^(?:\?|\*|\+|\{\d{1,3}\}|\{\d{1,3},\d{0,3}\})/.exec(source.slice(i, end));
    if (q) {
      if (q[0] !== '?' && !/^\{\d+\}$/.test(q[0])) variable++;
      if (q[0] === '?') variable++;
      atom += q[0];
      i += q[0].length;
    }
    out += atom;
  }
  if (end < source.length) out += '$';
  if (variable > 1) return undefined;
  try {
    return new RegExp(out, 'u');
  } catch {
    return undefined;
  }
}

/** `test` of a pattern: the JavaScript equivalent when there is one, else RE2 memoized per name. */
export function fastTest(source: string, re2test: (s: string) => boolean): (s: string) => boolean {
  const js = jsEquivalent(source);
  if (js) return (s) => js.test(s);
  const memo = new Map<string, boolean>();
  return (s) => {
    let r = memo.get(s);
    if (r === undefined) {
      if (memo.size > 1_000_000) memo.clear();
      memo.set(s, (r = re2test(s)));
    }
    return r;
  };
}

/**
 * A name-date template (`*_YYYYMM`) as a matcher with the meaning of `compileNameDatePattern`'s RE2
 * expression: a JavaScript RegExp when the template holds at most one `*`, else the given RE2
 * matcher memoized per name.
 */
export function fastNameDate(
  template: string,
  re2match: (name: string) => NameDate | undefined,
): (name: string) => NameDate | undefined {
  const { source, order, stars } = templateExpression(template, '[^\\n]*');
  if (stars <= 1) {
    let js: RegExp | undefined;
    try {
      js = new RegExp(source, 'u');
    } catch {
      js = undefined;
    }
    if (js) {
      const rx = js;
      return (name) => {
        const m = rx.exec(name);
        return m ? dateFromGroups(m, order) : undefined;
      };
    }
  }
  const memo = new Map<string, NameDate | undefined>();
  return (name) => {
    if (memo.has(name)) return memo.get(name);
    if (memo.size > 1_000_000) memo.clear();
    const r = re2match(name);
    memo.set(name, r);
    return r;
  };
}
