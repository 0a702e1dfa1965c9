/**
 * The port both targets implement: read the remote state in a few listing calls, and the handful
 * of writes sync makes. Conditions (optimistic locking) are part of the port, so the local target
 * honours the same ones as DynamoDB.
 */
import { UserError } from '../errors.js';
import type { DesiredConnection, DesiredFile, Snapshot } from './model.js';

/** Takes the next sync generation, conditional on the generation the plan read. */
export interface Claim {
  runId: string;
  /** Generation the plan read (0 with no state item). */
  fromGeneration: number;
  /** The generation attribute exactly as read (conditions compare against it); undefined when absent. */
  fromRaw: unknown;
  stateExists: boolean;
  toGeneration: number;
  desiredHash: string;
  commit: string;
  startedAt: string;
  expiresAt: string;
}

/**
 * The claim a sync holds: every write after the claim is conditional on it (item transactions) or
 * runs only after re-checking it (objects and connections, which cannot be conditional on the table).
 */
export interface Fence {
  runId: string;
  generation: number;
}

export interface ItemOp {
  pk: string;
  /** Attributes of the item to put; absent for a delete. */
  put?: Record<string, unknown>;
  /** The item as the plan read it: absent (create) or present with this version attribute. */
  expect: { exists: false } | { exists: true; rawVersion: unknown };
}

export interface Target {
  /** For messages, e.g. `aws s3://bucket/prefix, dynamodb:table, glue` or `local:/path`. */
  readonly label: string;
  /** Most item operations one conditional batch may carry (the fence or claim takes one more slot). */
  readonly maxItemsPerBatch: number;
  read(): Promise<Snapshot>;
  /** Content hashes from object metadata, for the few objects the manifest does not record. */
  fileSha256(keys: string[]): Promise<Map<string, string | undefined>>;
  claim(claim: Claim): Promise<void>;
  putConnection(c: DesiredConnection, exists: boolean): Promise<void>;
  deleteConnection(name: string): Promise<void>;
  /**
   * Runs a batch of writes the service cannot make conditional on the table (objects, connections, the
   * manifest) only if the claim is still ours: AWS re-reads the sync state first (the batch's writes
   * can still land after a takeover that happens while they are in flight); the local target holds
   * its mutex over check and writes (no window unless the holder stalls past the mutex's stale limit).
   * Throws LostClaimError otherwise.
   */
  fenced<T>(fence: Fence, fn: () => Promise<T>): Promise<T>;
  /**
   * Gives the claim up after a failure (its lease ends now), conditional on it still being ours.
   * Returns false when another sync holds it by now.
   */
  release(fence: Fence, at: string): Promise<boolean>;
  /** All or nothing: the ops, conditional on `expect` and on the fence (or on the claim it carries). */
  writeItemBatch(ops: ItemOp[], fence: Fence, claim?: Claim): Promise<void>;
  /** Returns the stored object's ETag. */
  putFile(f: DesiredFile, meta: { commit: string; generation: number }): Promise<string>;
  deleteFile(key: string): Promise<void>;
  putManifest(body: string): Promise<void>;
}

/** A conditional write failed: another sync got there first. The sync stopped; a rerun converges. */
export class LostRaceError extends UserError {
  constructor(message: string) {
    super(
      `${message}\nThis sync stopped before finishing. Run it again: it re-reads the remote state and converges.`,
      1,
    );
    this.name = 'LostRaceError';
  }
}

/** The sync's claim was taken over (`--break-lock`, or a sync wanting the same state): it stops writing. */
export class LostClaimError extends LostRaceError {
  constructor(where: string, fence: Fence, holder?: { generation?: unknown; owner?: unknown; commit?: unknown }) {
    const now =
      holder?.owner !== undefined
        ? `run ${String(holder.owner)} (commit ${String(holder.commit ?? '?')}) ` +
          `holds generation ${String(holder.generation)}`
        : 'the sync state changed';
    super(
      `this sync (run ${fence.runId}) lost its claim on sync generation ${fence.generation} in ${where}: ${now}. ` +
        'It stopped before its next write.',
    );
    this.name = 'LostClaimError';
  }
}
