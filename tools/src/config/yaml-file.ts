/**
 * Pass 1 of validation: turns the bytes of one config file into a plain value, refusing everything a
 * reviewed config file should not contain (tags, aliases, several documents, duplicate keys, …), and
 * keeps what is needed to map a JSON path back to `line:column` in the source.
 */
import {
  Composer,
  Lexer,
  LineCounter,
  Parser,
  YAMLParseError,
  isMap,
  isSeq,
  isScalar,
  isAlias,
  type Document,
  type Node,
} from 'yaml';
import type { Finding } from './findings.js';
import { fromPointer } from './findings.js';
import type { YamlComment } from './secrets.js';

/** Files larger than this are refused before parsing. */
const MAX_FILE_BYTES = 256 * 1024;
/** Deeper nesting than this is refused (the formats need at most 6 levels). */
const MAX_DEPTH = 24;

export interface ParsedFile {
  file: string;
  /** The document's value as plain data; undefined when the file could not be read as one mapping. */
  value: Record<string, unknown> | undefined;
  findings: Finding[];
  /** Maps a JSON pointer to `{ line, column }`; `key: true` points at the key instead of the value. */
  locate(pointer: string, opts?: { key?: boolean }): { line: number; column: number };
  /** The file's comments, located (for the secret scan); empty when `value` is undefined. */
  comments: YamlComment[];
}

const TOP = { line: 1, column: 1 };
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function finding(
  file: string,
  code: string,
  pos: { line: number; column: number },
  message: string,
  fix: string,
  pointer = '',
): Finding {
  return { code, severity: 'error', file, line: pos.line, column: pos.column, pointer, message, fix };
}

/** Line and column (1-based) of byte offset `at` in a buffer, counting UTF-8 characters. */
function bytePosition(buf: Uint8Array, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++)
    if (buf[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  const column = new TextDecoder('utf-8').decode(buf.subarray(lineStart, at)).length + 1;
  return { line, column };
}

/** Offset of the first byte that is not valid UTF-8. */
function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= buf.length || (buf[i + k]! & 0xc0) !== 0x80) return i;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(i, i + n + 1));
    } catch {
      return i; // overlong form or surrogate
    }
    i += n + 1;
  }
  return -1;
}

/** Parses one config file. Never throws for any input. */
export function parseConfigFile(file: string, bytes: Uint8Array): ParsedFile {
  try {
    return parseUnsafe(file, bytes);
  } catch (e) {
    const f = finding(
      file,
      'yaml/syntax',
      TOP,
      `cannot read the file as YAML: ${(e as Error).message}`,
      'fix the YAML syntax',
    );
    return { file, value: undefined, findings: [f], locate: () => TOP, comments: [] };
  }
}

function parseUnsafe(file: string, bytes: Uint8Array): ParsedFile {
  const findings: Finding[] = [];
  const none = (): ParsedFile => ({ file, value: undefined, findings, locate: () => TOP, comments: [] });

  if (bytes.length > MAX_FILE_BYTES) {
    findings.push(
      finding(
        file,
        'yaml/too-large',
        TOP,
        `file is ${bytes.length} bytes, over the ${MAX_FILE_BYTES}-byte limit`,
        'split the file or remove what it does not need; a config file is a few kilobytes',
      ),
    );
    return none();
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    text = '';
  }
  const bad = text === '' && bytes.length > 0 ? firstInvalidUtf8(bytes) : -1;
  if (bad >= 0) {
    findings.push(
      finding(
        file,
        'yaml/encoding',
        bytePosition(bytes, bad),
        `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at offset ${bad} is not valid UTF-8`,
        'save the file as UTF-8',
      ),
    );
    return none();
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  if (countFlowOpeners(text) > MAX_DEPTH && flowDepth(text) > MAX_DEPTH) {
    findings.push(
      finding(
        file,
        'yaml/too-deep',
        TOP,
        `nesting is deeper than ${MAX_DEPTH} levels`,
        'flatten the document; the formats nest a few levels at most',
      ),
    );
    return none();
  }
  const lc = new LineCounter();
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const comments: YamlComment[] = [];
  let doc: Document.Parsed;
  try {
    doc = parseOneDocument(text, lc, comments);
  } catch (e) {
    findings.push(
      finding(file, 'yaml/syntax', TOP, `cannot parse YAML: ${(e as Error).message}`, 'fix the YAML syntax'),
    );
    return none();
  }
  let syntaxSeen = false;
  for (const err of doc.errors) {
    if (err.code === 'MULTIPLE_DOCS') {
      findings.push(
        finding(
          file,
          'yaml/multi-document',
          pos(err.pos[0]),
          'the file holds more than one YAML document',
          'keep one document per file: one database or one policy',
        ),
      );
      continue;
    }
    const code = err.code === 'DUPLICATE_KEY' ? 'yaml/duplicate-key' : 'yaml/syntax';
    // One syntax error usually causes several more; the first is the one to fix.
    if (code === 'yaml/syntax') {
      if (syntaxSeen) continue;
      syntaxSeen = true;
    }
    const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    findings.push(
      finding(
        file,
        code,
        pos(err.pos[0]),
        msg,
        code === 'yaml/duplicate-key'
          ? 'remove or rename one of the duplicate keys'
          : 'fix the YAML syntax at this position',
      ),
    );
  }
  if (findings.length) return none();

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    findings.push(finding(file, 'yaml/empty', TOP, 'the file is empty', 'write the configuration, or delete the file'));
    return none();
  }
  // One iterative walk over the nodes: refuse anchors, aliases, explicit tags and collection keys,
  // and measure the nesting depth (iterative, so hostile depth cannot overflow the stack).
  let refused = false;
  let aliases = 0;
  let aliasFinding: Finding | undefined;
  let depth = 0;
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (node === null || node === undefined) continue;
    if (d > depth) depth = d;
    const n = node as Node & { tag?: string; anchor?: string; range?: [number, number, number] };
    if (isAlias(node) || n.anchor) {
      refused = true;
      if (aliases++ === 0) {
        const what = isAlias(node) ? `alias *${node.source}` : `anchor &${n.anchor}`;
        const offset = isAlias(node) ? n.range![0] : text.lastIndexOf(`&${n.anchor}`, n.range![0]);
        aliasFinding = finding(
          file,
          'yaml/alias',
          pos(Math.max(0, offset)),
          `${what} is not allowed`,
          'write every value out in full: anchors and aliases are refused ' +
            'so each value is visible in review and alias bombs are impossible',
        );
        findings.push(aliasFinding);
      }
    }
    if (n.tag && !isAlias(node)) {
      const tagAt = explicitTagOffset(text, n);
      if (tagAt >= 0) {
        findings.push(
          finding(
            file,
            'yaml/tag',
            pos(tagAt),
            `explicit tag ${n.tag} is not allowed`,
            'remove the tag; quote the value if it must be a string',
          ),
        );
        refused = true;
      }
    }
    // Children are pushed last-first so they are visited in document order.
    if (isMap(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const pair = node.items[i]!;
        stack.push([pair.value, d + 1]);
        if (pair.key !== null && !isScalar(pair.key)) {
          const k = pair.key as Node;
          findings.push(
            finding(
              file,
              'yaml/key-type',
              pos(k.range?.[0] ?? 0),
              'a mapping key is itself a list or mapping',
              'write keys as plain strings',
            ),
          );
          refused = true;
        } else if (pair.key !== null) stack.push([pair.key, d]);
      }
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push([node.items[i], d + 1]);
    }
  }
  if (aliasFinding && aliases > 1) aliasFinding.message += ` (the file holds ${aliases} anchors and aliases in all)`;
  if (refused) return none();

  if (depth > MAX_DEPTH) {
    findings.push(
      finding(
        file,
        'yaml/too-deep',
        TOP,
        `nesting is deeper than ${MAX_DEPTH} levels`,
        'flatten the document; the formats nest a few levels at most',
      ),
    );
    return none();
  }
  if (!isMap(doc.contents)) {
    const kind = isSeq(doc.contents) ? 'a list' : 'a single value';
    findings.push(
      finding(
        file,
        'yaml/top-level-type',
        pos(doc.contents.range?.[0] ?? 0),
        `the document is ${kind}, not a mapping`,
        'the file must be a mapping of keys to values, such as `name: ...`',
      ),
    );
    return none();
  }
  const value = doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown>;

  const locate = (pointer: string, opts: { key?: boolean } = {}): { line: number; column: number } => {
    const parts = fromPointer(pointer);
    let node: unknown = doc.contents;
    let at = node as { range?: readonly number[] | null } | null | undefined;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === part);
        if (!pair) break;
        if (last && opts.key) return pos((pair.key as Node).range![0]);
        node = pair.value;
        at = (node as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node)) {
        const item = node.items[Number(part)];
        if (item === undefined) break;
        node = item;
        at = item as Node;
      } else break;
    }
    return at?.range ? pos(at.range[0]!) : TOP;
  };
  return { file, value, findings, locate, comments };
}

/**
 * What yaml's `parseDocument` does (same options, same MULTIPLE_DOCS error), with the lexer's tokens
 * fed to the parser here so the comments are collected on the way: the file is lexed once.
 */
function parseOneDocument(text: string, lc: LineCounter, comments: YamlComment[]): Document.Parsed {
  const parser = new Parser(lc.addNewLine);
  lc.addNewLine(0); // as parser.parse() does at the start of its input
  const composer = new Composer({ uniqueKeys: true, prettyErrors: false, strict: true, version: '1.2' });
  let doc: Document.Parsed | undefined;
  for (const d of composer.compose(lexAndParse(text, parser, comments), true, text.length)) {
    if (!doc) doc = d;
    else {
      doc.errors.push(
        new YAMLParseError(
          d.range.slice(0, 2) as [number, number],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document, even for an empty text.
  return doc!;
}

/** `parser.parse(text)`, recording each comment token with its line and column (UTF-16 units, 1-based). */
function* lexAndParse(text: string, parser: Parser, comments: YamlComment[]) {
  let offset = 0,
    line = 1,
    lineStart = 0;
  for (const tok of new Lexer().lex(text)) {
    if (tok.charCodeAt(0) === 0x23 /* # */) comments.push({ line, column: offset - lineStart + 1, text: tok.slice(1) });
    // Control tokens (document start, flow-error end, scalar marker) have no newline: indexOf finds none.
    for (let i = tok.indexOf('\n'); i >= 0; i = tok.indexOf('\n', i + 1)) {
      line++;
      lineStart = offset + i + 1;
    }
    if (tok !== '\x02' && tok !== '\x18' && tok !== '\x1f') offset += tok.length;
    yield* parser.next(tok);
  }
  yield* parser.end();
}

/** Offset of the node's explicit `!tag` in the source, or -1 (a resolved tag alone is not explicit). */
function explicitTagOffset(text: string, n: { range?: [number, number, number] }): number {
  if (!n.range) return -1;
  // Explicit tags precede the node's value: look back over whitespace from its start.
  let i = n.range[0] - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
  let j = i;
  while (j >= 0 && !/\s/.test(text[j]!)) j--;
  return text.slice(j + 1, i + 1).startsWith('!') ? j + 1 : -1;
}

function countFlowOpeners(text: string): number {
  let n = 0;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) n++;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) n++;
  return n;
}

/** Deepest nesting of flow collections, found without recursion (the parser itself recurses). */
function flowDepth(text: string): number {
  let depth = 0,
    max = 0,
    quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '[' || c === '{') {
      depth++;
      if (depth > max) max = depth;
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\n' && !max) depth = 0;
  }
  return max;
}
