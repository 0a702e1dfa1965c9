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
    re: /(?:^|[;&?\s,{(])(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*(?!\s|$|["']?\s*$)[^\s;&]+/i,
  },
  { kind: 'an AWS secret access key', re: /aws_?secret_?access_?key\s*[=:]\s*[A-Za-z0-9/+=]{40}\b/i },
];

/** All value rules in one expression: most strings match none, and one scan tells. */
const ANY_VALUE_RULE = new RegExp(VALUE_RULES.map((r) => `(?:${r.re.source})`).join('|'), 'i');

const SECRET_KEY =
  /^(password|passwd|pwd|pass|secret[_-]?(key|value)?|token|api[_-]?key|apikey|access[_-]?key([_-]?id)?|private[_-]?key|client[_-]?secret|aws[_-]?secret[_-]?access[_-]?key|connection[_-]?string)$/i;

export interface SecretHit {
  pointer: string;
  /** Whether the hit is the key (a field named like a secret) rather than the value. */
  key: boolean;
  kind: string;
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Walks a parsed document and returns every place that looks like an inline secret. */
export function findSecrets(value: unknown, allowReference: (pointer: string) => boolean): SecretHit[] {
  const hits: SecretHit[] = [];
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, ptr] = stack.pop()!;
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
        if (
          SECRET_KEY.test(k) &&
          (typeof item === 'string' || typeof item === 'number') &&
          String(item) !== '' &&
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
