/**
 * The YAML pass collects the file's comments while it parses (the file is lexed once). Property: they
 * are exactly the comments a separate lex of the text finds (the reference below, the implementation
 * used before), with the same line and column, over the test repo and mutated / random YAML.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Lexer } from 'yaml';
import { parseConfigFile } from '../../src/config/yaml-file.js';
import { baseRepo } from '../helpers/repo.js';
import { stripMarks } from '../helpers/fixtures.js';

/** Reference: a second, independent lex of the text (what load.ts did before). */
function lexedComments(text: string) {
  const out: { line: number; column: number; text: string }[] = [];
  let offset = 0,
    line = 1,
    lineStart = 0;
  for (const tok of new Lexer().lex(text)) {
    if (tok === '\x02' || tok === '\x18' || tok === '\x1f') continue;
    if (tok.startsWith('#')) out.push({ line, column: offset - lineStart + 1, text: tok.slice(1) });
    for (let i = tok.indexOf('\n'); i >= 0; i = tok.indexOf('\n', i + 1)) {
      line++;
      lineStart = offset + i + 1;
    }
    offset += tok.length;
  }
  return out;
}

const enc = new TextEncoder();
let compared = 0,
  withComments = 0;
/** Compares when the file parsed (comments are only kept, and only scanned, for files that did). */
function same(text: string): boolean {
  const r = parseConfigFile('policies/p.yaml', enc.encode(text));
  if (r.value === undefined) return r.comments.length === 0;
  compared++;
  if (r.comments.length) withComments++;
  assert.equal(r.comments, lexedComments(text.replace(/^\ufeff/, '')), JSON.stringify(text));
  return true;
}

test('comments are located by hand-checked line and column', () => {
  const text = '# head\na: 1 # one\nb: [x, # in flow\n  y]\nc: |\n  # not a comment\nd: "é" #é\n...\n# after\n';
  const r = parseConfigFile('policies/p.yaml', enc.encode(text));
  assert.ok(r.value);
  assert.equal(r.comments, [
    { line: 1, column: 1, text: ' head' },
    { line: 2, column: 6, text: ' one' },
    { line: 3, column: 8, text: ' in flow' },
    { line: 7, column: 8, text: 'é' },
    { line: 9, column: 1, text: ' after' },
  ]);
  assert.ok(same(text));
});

const base = Object.values(baseRepo()).map((v) => stripMarks(v as string));
const BITS = ['\n', '# c\n', ' # c', '#x', '  ', '- ', ': ', '[', ']', '{', '}', ',', '---\n', '...\n', '|\n  ', '"'];
const CHARS = ['\r\n', '\ufeff', 'é', '😀', '\t', 'a', 'k: v', '%YAML 1.2\n'];
const INSERT = fc.oneof(
  { arbitrary: fc.constantFrom(' # c', '\n# c', '\n  # é', ' #😀'), weight: 3 },
  { arbitrary: fc.constantFrom(...BITS, ...CHARS), weight: 1 },
);

/** ``ins`` at ``at``, moved past a surrogate pair's first half: a file's UTF-8 decodes to whole characters only,
 * and a lone half would reach the parser as U+FFFD but the separate lex as itself. */
function insertAt(t: string, at: number, ins: string): string {
  const i = at > 0 && at < t.length && /[\ud800-\udbff]/.test(t[at - 1] ?? '') ? at + 1 : at;
  return t.slice(0, i) + ins + t.slice(i);
}

test('comments equal a separate lex: test repo files with comments inserted', () => {
  compared = withComments = 0;
  for (const t of base) assert.ok(same(t));
  fc.assert(
    fc.property(
      fc
        .constantFrom(...base)
        .chain((text) =>
          fc
            .array(fc.tuple(fc.nat({ max: text.length }), INSERT), { minLength: 1, maxLength: 6 })
            .map((edits) => edits.reduce((t, [at, ins]) => insertAt(t, at, ins), text)),
        ),
      same,
    ),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom(...BITS, ...CHARS, 'a', 'b'), { maxLength: 40 }).map((a) => a.join('')),
      same,
    ),
    { numRuns: 500 },
  );
  assert.ok(compared > 100 && withComments > 60, `only ${compared} inputs parsed, ${withComments} with comments`);
});

test.run();
