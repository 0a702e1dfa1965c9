/**
 * The retention policy engine's public surface — what the CLI's preview, the discovery Lambda and the
 * local runtime import, so they all decide with the same function.
 */
export { evaluate, parseAsOf, ACTIONS } from './evaluate.js';
export type {
  Action,
  Age,
  ArchiveRecord,
  Decision,
  NextAction,
  Schedule,
  DatabaseEvaluation,
  EngineInput,
  Evaluation,
  InventoryInput,
  Problem,
} from './evaluate.js';
