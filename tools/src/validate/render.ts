/** Renderers of a validation result: pure functions from the result to text. */
import type { Finding } from '../config/findings.js';
import type { ValidateResult } from './validate.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `N files, N errors, N warnings`. */
function counts(r: ValidateResult): string {
  const s = r.summary;
  return `${plural(s.files, 'file')}, ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}`;
}

/** The text findings of a loaded repo that failed validation (`sync` and `governance` refuse it with them). */
export function renderRepoFindings(r: {
  files: string[];
  errors: number;
  warnings: number;
  findings: Finding[];
}): string {
  const summary = { files: r.files.length, errors: r.errors, warnings: r.warnings };
  return renderText({ version: 1, ok: false, summary, files: r.files, findings: r.findings });
}

export function renderText(r: ValidateResult): string {
  const lines = r.findings.map(
    (f) => `${f.file}:${f.line}:${f.column}: ${f.severity} ${f.code}: ${f.message}\n    fix: ${f.fix}`,
  );
  const head = r.ok ? (r.summary.warnings ? '✓ valid with warnings' : '✓ valid') : '✗ invalid';
  lines.push(`${head}: ${counts(r)}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(r: ValidateResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** Escapes data and properties of GitHub workflow commands. */
function escData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escProp(s: string): string {
  return escData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One workflow annotation per finding (`::error file=…,line=…,col=…,title=…::message`). */
export function renderGithub(r: ValidateResult): string {
  const out = r.findings.map(
    (f: Finding) =>
      `::${f.severity} file=${escProp(f.file)},line=${f.line},col=${f.column},title=${escProp(f.code)}::` +
      escData(`${f.message}. Fix: ${f.fix}`),
  );
  out.push(`${r.ok ? 'valid' : 'invalid'}: ${counts(r)}`);
  return `${out.join('\n')}\n`;
}

function escCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Markdown for `$GITHUB_STEP_SUMMARY`. */
export function renderStepSummary(r: ValidateResult): string {
  const lines = [`### offload validate: ${r.ok ? '✅ valid' : '❌ invalid'}`, '', counts(r), ''];
  if (r.findings.length) {
    lines.push('| Location | Severity | Code | Message | Fix |', '|---|---|---|---|---|');
    for (const f of r.findings)
      lines.push(
        `| \`${escCell(`${f.file}:${f.line}:${f.column}`)}\` | ${f.severity} | \`${f.code}\` | ` +
          `${escCell(f.message)} | ${escCell(f.fix)} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}
