/**
 * The core library's one entry point: what the CLI, the Lambdas, the DAG helpers and the local runner
 * import. Config model and loading, the retention policy engine, naming and the inventory format.
 * Free of CLI, GitHub, database driver and AWS SDK packages (checked by .dependency-cruiser.cjs).
 */
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
  Problem,
} from '../engine/evaluate.js';
export { renderHtml, renderJson, renderMarkdown, summarize } from '../report/render.js';
export type { ReportTable } from '../report/render.js';
export type { RunReport } from '../generated/run-report.js';
export { actionsFor, planWorkUnits } from '../work/units.js';
export type { ArchiveRef, TableProgress } from '../work/units.js';
export { isWorkUnit, WORK_UNIT_SCHEMA_FILE, workUnitProblems } from '../work/validate-unit.js';
export type { WorkUnit } from '../generated/work-unit.js';
