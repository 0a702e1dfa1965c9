/**
 * Detects values that look like inline secrets. Configs reference secrets by name only; anything that
 * looks like a credential — in any field, known or not — is an error, so it never reaches git history
 * unnoticed. The checks favour precision: each names the kind of secret it saw.
 */

const VALUE_RULES: { kind: string; re: RegExp }[] = [
  { kind: 'an AWS access key id', re: /\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/ },
  { kind: 'a private key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { kind: 'a GitHub token', re: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/ },
  { kind: 'a Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'a Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'a Stripe secret key', re: /\b[sr]k_live_[0-9A-Za-z]{16,}\b/ },
  { kind: 'a JSON web token', re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { kind: 'a user and password in a URL', re: /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i },
  {
    kind: 'a password assignment',
    re: new RegExp(
      String.raw`(?:^|[;&?\s,{(])(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)` +
        String.raw`\s*[=:]\s*(?!\s|$|["']?\s*$)[^\s;&]+`,
      'i',
    ),
  },
  { kind: 'an AWS secret access key', re: /aws_?secret_?access_?key\s*[=:]\s*[A-Za-z0-9/+=]{40}\b/i },
];

/** All value rules in one expression: most strings match none, and one scan tells. */
const ANY_VALUE_RULE = new RegExp(VALUE_RULES.map((r) => `(?:${r.re.source})`).join('|'), 'i');

const SECRET_KEY = new RegExp(
  '^(password|passwd|pwd|pass|secret[_-]?(key|value)?|token|api[_-]?key|apikey|access[_-]?key([_-]?id)?|' +
    'private[_-]?key|client[_-]?secret|aws[_-]?secret[_-]?access[_-]?key|connection[_-]?string)$',
  'i',
);
/** Keys holding a secret's name (`db_password`, `reporting-api-token`): flagged for values that could be one. */
const SECRET_WORD_KEY =
  /password|passwd|passphrase|pwd$|secret|token|(api|access|private)[_-]?key|credential|connection[_-]?str/i;
/** A value under a secret-worded key that cannot be a credential: a number or a yes/no. */
const HARMLESS_VALUE = /^([0-9.,_ -]+|true|false|yes|no|on|off|none|null)$/i;

export interface SecretHit {
  pointer: string;
  /** Whether the hit is the key (a field named like a secret) rather than the value. */
  key: boolean;
  kind: string;
}

function escapePointer(k: string): string {
  // Nearly every key holds neither character: skip the two replace() calls for those.
  if (!k.includes('~') && !k.includes('/')) return k;
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Walks a parsed document and returns every place that looks like an inline secret. */
export function findSecrets(
  value: unknown,
  allowReference: (pointer: string) => boolean,
  skip: (pointer: string) => boolean = () => false,
): SecretHit[] {
  const hits: SecretHit[] = [];
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, ptr] = stack.pop()!;
    if (skip(ptr)) continue;
    if (typeof v === 'string') {
      if (v.length < 8 || !ANY_VALUE_RULE.test(v)) continue;
      for (const r of VALUE_RULES) {
        if (r.re.test(v)) {
          hits.push({ pointer: ptr, key: false, kind: r.kind });
          break;
        }
      }
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push([item, `${ptr}/${i}`]));
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        const p = `${ptr}/${escapePointer(k)}`;
        const scalar = typeof item === 'string' || typeof item === 'number';
        if (
          scalar &&
          String(item) !== '' &&
          (SECRET_KEY.test(k) || (SECRET_WORD_KEY.test(k) && !HARMLESS_VALUE.test(String(item)))) &&
          !allowReference(p)
        ) {
          hits.push({ pointer: p, key: true, kind: `a value in a field named "${k}"` });
          continue;
        }
        stack.push([item, p]);
      }
    }
  }
  return hits;
}

// ---------------------------------------------------------------------------------------------
// secretlint: a maintained rule set (cloud keys, tokens of ~30 services, connection strings) next to
// the rules above. Its per-call cost is far above its per-byte cost, so every string of every file
// (values and keys) goes into ONE text, one string per segment, and each hit is mapped back to the
// string it fell in. The preset's comment-directive filter is left out: a config value saying
// `secretlint-disable` must not switch the scan off for the strings after it.
// ---------------------------------------------------------------------------------------------

type LintSource = typeof import('@secretlint/core').lintSource;
type Config = Parameters<LintSource>[0]['options']['config'];
let scanner: Promise<{ lint: LintSource; config: Config }> | undefined;

function loadScanner() {
  scanner ??= (async () => {
    const [{ lintSource }, { rules }] = await Promise.all([
      import('@secretlint/core'),
      import('@secretlint/secretlint-rule-preset-recommend'),
    ]);
    const config = {
      rules: rules
        .filter((r) => r.meta.id !== '@secretlint/secretlint-rule-filter-comments')
        .map((r) => ({ id: r.meta.id, rule: r })),
    } as unknown as Config;
    return { lint: lintSource, config };
  })();
  return scanner;
}

/** One document to scan; `skip` leaves out subtrees another rule checks; `comments` are scanned too. */
export interface ScanDocument {
  value: unknown;
  allowReference: (pointer: string) => boolean;
  skip?: (pointer: string) => boolean;
  comments?: readonly YamlComment[];
}

/** A YAML comment: published with the file (sync uploads config files as written) and kept in git. */
export interface YamlComment {
  line: number;
  column: number;
  text: string;
}

/** Pointer of the i-th comment in scan hits: never a JSON pointer (those start with `/` or are empty). */
export const commentPointer = (i: number) => `#comment/${i}`;

/** Secrets secretlint's recommended preset finds, per document (same order as given). */
export async function scanDocuments(docs: readonly ScanDocument[]): Promise<SecretHit[][]> {
  const segments: { doc: number; pointer: string; key: boolean; start: number; end: number }[] = [];
  const parts: string[] = [];
  let at = 0;
  const add = (doc: number, pointer: string, key: boolean, text: string) => {
    if (text.length < 8) return; // no credential of any service is this short
    segments.push({ doc, pointer, key, start: at, end: at + text.length });
    parts.push(text);
    at += text.length + 2; // joined by a blank line: no pattern spans two strings
  };
  docs.forEach((d, doc) => {
    const stack: [unknown, string][] = [[d.value, '']];
    while (stack.length) {
      const [v, ptr] = stack.pop()!;
      if (d.skip?.(ptr) || d.allowReference(ptr)) continue;
      if (typeof v === 'string') add(doc, ptr, false, v);
      else if (Array.isArray(v))
        v.forEach((item, i) => {
          stack.push([item, `${ptr}/${i}`]);
        });
      else if (v && typeof v === 'object')
        for (const [k, item] of Object.entries(v)) {
          const p = `${ptr}/${escapePointer(k)}`;
          add(doc, p, true, k);
          stack.push([item, p]);
        }
    }
    d.comments?.forEach((c, i) => {
      add(doc, commentPointer(i), false, c.text);
    });
  });
  const out: SecretHit[][] = docs.map(() => []);
  if (!segments.length) return out;
  const { lint, config } = await loadScanner();
  const result = await lint({
    source: { content: parts.join('\n\n'), filePath: 'configs.txt', ext: '.txt', contentType: 'text' },
    options: { config, maskSecrets: true, noPhysicFilePath: true },
  });
  const seen = new Set<string>();
  for (const m of result.messages) {
    // The segment holding the hit's first character (segments are in ascending order).
    let lo = 0,
      hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid]!.start <= m.range[0]) lo = mid;
      else hi = mid - 1;
    }
    const s = segments[lo]!;
    const k = `${s.doc}|${s.pointer}|${s.key}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out[s.doc]!.push({ pointer: s.pointer, key: s.key, kind: describeRule(m.ruleId, m.messageId) });
  }
  return out;
}

/** "a GitLab token (secretlint …)" from a rule id; never the message, which may quote the secret. */
function describeRule(ruleId: string, messageId: string): string {
  const what = ruleId.replace(/^@secretlint\/secretlint-rule-/, '').replace(/-/g, ' ');
  return `a ${what} credential (secretlint ${messageId})`;
}
