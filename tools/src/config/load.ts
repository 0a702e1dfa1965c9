/**
 * Loads and validates a config repo in three passes — YAML, JSON Schema, cross-file rules — and
 * reports every finding at once. Files that pass the first two passes are returned typed, so the
 * policy engine, preview and sync work on exactly what validation accepted.
 */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { OffloadSettings } from '../generated/settings.js';
import { compareFindings, type Finding } from './findings.js';
import { parseConfigFile, type ParsedFile } from './yaml-file.js';
import { schemaFindings } from './schema-pass.js';
import { crossFileFindings, documentFindings, scannerFindings } from './rules.js';
import { ENGINE_ALIASES } from './jdbc.js';
import type { YamlComment } from './secrets.js';
import { SETTINGS_FILE, type ConfigSource } from './source.js';
import type { ConfigKind } from './schemas.js';
import type { LoadedConfig, LoadedRepo } from './loaded.js';

export type { LoadedRepo };

export function kindOf(file: string): ConfigKind | undefined {
  if (file === SETTINGS_FILE || file.endsWith(`/${SETTINGS_FILE}`)) return 'settings';
  if (/(^|\/)databases\/[^/]+\.ya?ml$/.test(file)) return 'database';
  if (/(^|\/)policies\/[^/]+\.ya?ml$/.test(file)) return 'policy';
  return undefined;
}

export interface LoadOptions {
  /** Report findings only for these repo-relative files (the whole repo is still read as context). */
  only?: readonly string[];
}

/** Loads every config of a source. Never throws for bad config content. */
export async function loadRepo(source: ConfigSource, opts: LoadOptions = {}): Promise<LoadedRepo> {
  const files = await source.listFiles();
  const repo: LoadedRepo = {
    source: source.label,
    databases: [],
    policies: [],
    findings: [],
    files,
    invalid: [],
    errors: 0,
    warnings: 0,
  };
  const findings: Finding[] = [];
  if (!files.includes(SETTINGS_FILE)) {
    findings.push({
      code: 'rule/settings-missing',
      severity: 'error',
      file: SETTINGS_FILE,
      line: 1,
      column: 1,
      pointer: '',
      message: `${SETTINGS_FILE} is missing at the repository root`,
      fix: 'add the settings file (see the sample in the README)',
    });
  }
  const scanned: { kind: ConfigKind; parsed: ParsedFile; comments: YamlComment[] }[] = [];
  const bytes = await Promise.all(files.map((f) => source.readFile(f)));
  files.forEach((file, i) => {
    const kind = kindOf(file)!;
    const parsed = parseConfigFile(file, bytes[i] ?? new Uint8Array());
    findings.push(...parsed.findings);
    if (!parsed.value) {
      repo.invalid.push({ file, kind });
      return;
    }
    if (kind === 'database') canonicalEngine(parsed.value);
    const schemaErrors = schemaFindings(kind, parsed);
    findings.push(...schemaErrors);
    // Secrets and other per-document rules run on whatever parsed, even if the schema failed.
    findings.push(...documentFindings(kind, parsed));
    scanned.push({ kind, parsed, comments: parsed.comments });
    if (schemaErrors.length) {
      repo.invalid.push({ file, kind });
      return;
    }
    const loaded = { file, config: parsed.value, locate: parsed.locate };
    if (kind === 'settings') repo.settings = loaded as unknown as LoadedConfig<OffloadSettings>;
    else if (kind === 'database') repo.databases.push(loaded as unknown as LoadedConfig<DatabaseConfig>);
    else repo.policies.push(loaded as unknown as LoadedConfig<PolicyConfig>);
  });
  findings.push(...(await scannerFindings(scanned, findings)));
  findings.push(...crossFileFindings(repo));
  const only = opts.only ? new Set(opts.only) : undefined;
  repo.findings = (only ? findings.filter((f) => only.has(f.file)) : findings).sort(compareFindings);
  repo.errors = repo.findings.filter((f) => f.severity === 'error').length;
  repo.warnings = repo.findings.length - repo.errors;
  return repo;
}

/** Rewrites an engine alias (`postgresql`) to its canonical name: the schema and all after see one spelling. */
function canonicalEngine(value: Record<string, unknown>): void {
  const e = value.engine;
  if (typeof e === 'string' && Object.hasOwn(ENGINE_ALIASES, e)) value.engine = ENGINE_ALIASES[e];
}
