/**
 * The engine's fast path must mean exactly what RE2 means: random patterns of the safe subset and
 * random names (fast-check) are run through both RE2 (the reference, `compileTablePattern`) and the
 * JavaScript equivalent; the same for name-date templates against `compileNameDatePattern`.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { jsEquivalent, fastNameDate } from '../../src/engine/fast-match.js';
import { compileTablePattern, compileNameDatePattern } from '../../src/config/patterns.js';

const alphabet = ['a', 'b', 'x', '_', '0', '1', '9', '.', '-', ' ', 'é', '\n', '\r', '\u2028', '"', ';', 'T'];
const name = fc.array(fc.constantFrom(...alphabet), { maxLength: 14 }).map((a) => a.join(''));
const atom = fc.constantFrom(
  'a',
  'b',
  'x',
  '_',
  '0',
  '9',
  '\\d',
  '.',
  '[0-9]',
  '[a-b]',
  '[^_]',
  '\\.',
  '\\-',
  'é',
  'T',
  '[ab_]',
);
const quant = fc.constantFrom('', '', '', '?', '*', '+', '{2}', '{1,3}', '{2,}');
const pattern = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(atom, quant), { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([start, parts, end]) => `${start ? '^' : ''}${parts.map(([a, q]) => a + q).join('')}${end ? '$' : ''}`);

test('safe-subset patterns: JavaScript and RE2 agree on every name', () => {
  let checked = 0;
  fc.assert(
    fc.property(pattern, fc.array(name, { minLength: 1, maxLength: 20 }), (src, names) => {
      const js = jsEquivalent(src);
      const re2 = compileTablePattern(src);
      if (!js || !re2.ok) return true;
      checked++;
      for (const n of names)
        if (js.test(n) !== re2.pattern.test(n))
          throw new Error(
            `pattern ${JSON.stringify(src)} on ${JSON.stringify(n)}: js ${js.test(n)}, re2 ${re2.pattern.test(n)}`,
          );
      return true;
    }),
    { numRuns: 400, seed: 20261127 },
  );
  assert.ok(checked > 100, `only ${checked} patterns were in the subset`);
});

test('outside the subset there is no JavaScript equivalent (RE2 decides)', () => {
  for (const src of ['(a|b)', 'a|b', '\\w+', '\\s', '\\bx', 'a*b*', '(?i)txn', 'x{1,3}y+', '[[:alpha:]]', '\\p{L}'])
    assert.is(jsEquivalent(src), undefined, src);
  for (const src of ['^txn_[0-9]{6}$', '^audit_log$', '_tmp$', '^p01_t[0-9]+_', 'txn.\\d{4}'])
    assert.ok(jsEquivalent(src), src);
});

const template = fc
  .array(fc.constantFrom('*', 'YYYY', 'MM', 'DD', '_', 'txn', '.', 'Y', 'M', 'x'), { minLength: 1, maxLength: 6 })
  .map((a) => a.join(''));
const dated = fc
  .array(fc.constantFrom('txn', '_', '2024', '01', '13', '31', '.', 'x', 'Y', 'M', '9'), { maxLength: 7 })
  .map((a) => a.join(''));

test('name-date templates: the fast matcher gives what compileNameDatePattern gives', () => {
  let checked = 0;
  fc.assert(
    fc.property(template, fc.array(dated, { minLength: 1, maxLength: 20 }), (t, names) => {
      const ref = compileNameDatePattern(t);
      if (!ref.ok) return true;
      checked++;
      const fast = fastNameDate(t, ref.pattern.match);
      for (const n of names) assert.equal(fast(n), ref.pattern.match(n), `${t} on ${n}`);
      return true;
    }),
    { numRuns: 400, seed: 7 },
  );
  assert.ok(checked > 50);
});

test.run();
