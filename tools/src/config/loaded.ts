/** What loading a config repo returns: the files that passed validation, typed, with every finding. */
import type { DatabaseConfig } from '../generated/database.js';
import type { PolicyConfig } from '../generated/policy.js';
import type { OffloadSettings } from '../generated/settings.js';
import type { Finding } from './findings.js';
import type { ConfigKind } from './schemas.js';

export interface LoadedConfig<T> {
  /** Repo-relative path, e.g. `databases/nucleus_dev.yaml`. */
  file: string;
  config: T;
  /** Maps a JSON pointer inside this file to its line and column. */
  locate(pointer: string, opts?: { key?: boolean }): { line: number; column: number };
}

export interface LoadedRepo {
  source: string;
  settings?: LoadedConfig<OffloadSettings>;
  databases: LoadedConfig<DatabaseConfig>[];
  policies: LoadedConfig<PolicyConfig>[];
  /** Every finding of every pass, sorted by file, line, column. */
  findings: Finding[];
  /** Files read. */
  files: string[];
  /** Files that failed the YAML or schema pass (their names still count as declared, to avoid cascades). */
  invalid: { file: string; kind: ConfigKind }[];
  errors: number;
  warnings: number;
}
