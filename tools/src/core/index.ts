/**
 * The core library's one entry point: what the CLI, the Lambdas, the DAG helpers and the local runner
 * import — the config model and its loading (from disk or from files held in memory), the retention
 * policy engine, naming, the inventory format and the run report renderer.
 *
 * Safe to bundle (tools/test/core/bundle.test.ts): free of CLI, GitHub, database driver and AWS SDK
 * packages (.dependency-cruiser.cjs), and it reads no file relative to its own location (schemas are
 * imported as data). One package stays external: re2-wasm loads its .wasm next to its own file.
 */

// Formats: types generated from schema/.
export type { DatabaseConfig } from '../generated/database.js';
export type { PolicyConfig } from '../generated/policy.js';
export type { OffloadSettings } from '../generated/settings.js';
export { UserError, isUserError } from '../errors.js';
export { TOOL_VERSION } from '../version.js';

// Config model: load and validate a config repo from any source.
export { loadRepo, kindOf, type LoadOptions } from '../config/load.js';
export type { LoadedConfig, LoadedRepo } from '../config/loaded.js';
export { fsSource, memorySource, SETTINGS_FILE, type ConfigSource } from '../config/source.js';
export type { Finding, Severity } from '../config/findings.js';
export { resolveDatabase, type ResolvedDatabase } from '../config/model.js';

// Naming: every derived name, computed once.
export {
  archiveTableName,
  connectionNameOf,
  glueDatabaseOf,
  MAX_ARCHIVE_TABLE_NAME,
  s3LocationOf,
} from '../config/naming.js';

// Inventory snapshots.
export {
  INVENTORY_FORMAT_VERSION,
  inventoryProblems,
  inventoryText,
  parseInventory,
  readInventory,
  type Inventory,
  type InventoryError,
  type InventoryTable,
  type ReadResult as InventoryReadResult,
} from '../inventory/inventory.js';

// The retention policy engine.
export { evaluate, parseAsOf, ACTIONS } from '../engine/evaluate.js';
export type {
  Action,
  Age,
  ArchiveRecord,
  Decision,
  DatabaseEvaluation,
  EngineInput,
  Evaluation,
  InventoryInput,
  NextAction,
  Problem,
  Schedule,
} from '../engine/evaluate.js';

// The run report: one renderer for the CLI and the report Lambda.
export { renderHtml, renderJson, renderMarkdown, summarize } from '../report/render.js';
export type { ReportTable } from '../report/render.js';
export type { RunReport } from '../generated/run-report.js';
export { actionsFor, planWorkUnits, WORK_UNIT_FORMAT, WorkUnitError } from '../work/units.js';
export type { ArchiveRef, TableProgress } from '../work/units.js';
export { tableKey, WORK_ACTIONS } from '../work/units.js';
export type { PlanContext, PlannedWork, WorkAction } from '../work/units.js';
export { credentialReference } from '../work/credential-ref.js';
export type { CredentialReference, Runtime } from '../work/credential-ref.js';
export { isWorkUnit, WORK_UNIT_SCHEMA_FILE, workUnitProblems } from '../work/validate-unit.js';
export type { WorkUnit } from '../generated/work-unit.js';

// The run ledger: every table's state and its legal transitions (stores: tools/src/ledger/).
export {
  applyTransition,
  IllegalTransitionError,
  isLegal,
  LEDGER_FORMAT,
  LedgerConflictError,
  STATES,
  type Ledger,
  type LedgerEntry,
  type TableRef,
  type Transition,
} from '../ledger/model.js';
