/* Generated from schema/sync-output.schema.json by tools/scripts/generate-types.ts — do not edit. */

/**
 * What `offload sync --format json` prints: the plan, and with `--apply` what was applied. A stable structure for
 * scripts; fields keep their meaning, new ones may be added.
 */
export interface SyncOutput {
  /**
   * `plan` (nothing written) or `apply`.
   */
  mode: 'plan' | 'apply';
  /**
   * Where the sync writes: `aws:<bucket>/<table>…` or `local:<directory>`.
   */
  target: string;
  /**
   * The commit of the configs being synced.
   */
  commit: string;
  /**
   * Sync generations: the one the plan read and, after apply, the one written.
   */
  generation: {
    /**
     * Generation the plan read (0: never synced).
     */
    read: number;
    /**
     * Generation this apply claimed and completed.
     */
    written?: number;
  };
  /**
   * Counts over the plan.
   */
  summary: {
    /**
     * Resources to create.
     */
    create: number;
    /**
     * Resources to update.
     */
    update: number;
    /**
     * Resources to delete (only with `--prune`).
     */
    delete: number;
    /**
     * Resources changed outside sync since it last wrote them.
     */
    drift: number;
    /**
     * Managed resources no longer in the repo.
     */
    orphans: number;
    /**
     * Resources already as wanted.
     */
    unchanged: number;
    /**
     * Foreign or malformed remote things found (reported, never touched).
     */
    issues: number;
    /**
     * True when the remote state already matches the repo.
     */
    noChanges: boolean;
  };
  /**
   * The changes in apply order: connections, items, files, then deletes in reverse.
   */
  changes: {
    /**
     * Kind of resource changed.
     */
    resource: 'connection' | 'item' | 'file';
    /**
     * The resource: connection name, item `pk`, or object key.
     */
    id: string;
    /**
     * What is done to it.
     */
    action: 'create' | 'update' | 'delete';
    /**
     * Why, in words.
     */
    reason: string;
    /**
     * The remote differed from what the last sync wrote: the change overwrites a hand edit.
     */
    drift: boolean;
  }[];
  /**
   * Resources changed outside sync since it last wrote them.
   */
  drift: {
    /**
     * Kind of resource.
     */
    resource: 'connection' | 'item' | 'file';
    /**
     * The resource.
     */
    id: string;
    /**
     * What differs.
     */
    detail: string;
  }[];
  /**
   * Managed remote resources no longer in the repo.
   */
  orphans: {
    /**
     * Kind of resource.
     */
    resource: 'connection' | 'item' | 'file';
    /**
     * The resource.
     */
    id: string;
    /**
     * True unless `--prune` deletes it (then it is also in `changes`).
     */
    kept: boolean;
  }[];
  /**
   * Foreign or malformed remote things found: reported, never touched.
   */
  issues: {
    /**
     * Where it was found.
     */
    kind: 'file' | 'item' | 'connection' | 'manifest' | 'state';
    /**
     * Its key, pk or name.
     */
    id: string;
    /**
     * `foreign`: not sync's; `malformed`: sync's but unreadable.
     */
    problem: 'foreign' | 'malformed';
    /**
     * What is wrong, in words.
     */
    message: string;
  }[];
  /**
   * Why the manifest (the record of a completed sync) is rewritten even without other changes; null when it is not.
   */
  manifest: string | null;
  /**
   * An unfinished sync found holding a generation; null when there is none.
   */
  lock: {
    /**
     * The generation it took.
     */
    generation: number;
    /**
     * The commit it syncs.
     */
    commit?: string;
    /**
     * When it started (ISO-8601 UTC).
     */
    startedAt?: string;
    /**
     * When its lease ends (ISO-8601 UTC).
     */
    expiresAt?: string;
    /**
     * It wants exactly this sync's state: taking over is safe.
     */
    sameDesiredState: boolean;
    /**
     * Within its lease and wanting another state: apply refuses unless told to break the lock.
     */
    blocking: boolean;
    /**
     * Its lease has ended (a missing or unreadable expiry counts as not ended).
     */
    expired: boolean;
    /**
     * When it failed and released its claim (ISO-8601 UTC); a released lock is taken over without --break-lock.
     */
    releasedAt?: string;
  } | null;
  /**
   * With `--apply`: what was done.
   */
  applied?: {
    /**
     * Id of this sync run (recorded on every item it wrote).
     */
    runId: string;
    /**
     * Changes applied.
     */
    changes: number;
    /**
     * Write requests made, by step (`claim`, `connections`, `items`, `files`, `delete-…`, `manifest`).
     */
    writes: {
      [k: string]: number | undefined;
    };
    /**
     * Whether the manifest was written (the sync completed).
     */
    manifestWritten: boolean;
  };
  /**
   * Where the configs come from, read from git: the commit recorded, uncommitted config files, ancestry against the
   * last synced commit, and the overrides in use; null when not computed.
   */
  provenance?: {
    /**
     * The commit recorded with every write: HEAD (with -dirty when uncommitted configs are applied), else --commit.
     */
    commit: string;
    /**
     * The checked-out commit, when the root is in a git work tree with a commit.
     */
    head?: string;
    /**
     * Why git cannot vouch for the configs (no repository, no commit yet).
     */
    noGit?: string;
    /**
     * The clone is shallow (ancestry may be unknowable).
     */
    shallow: boolean;
    /**
     * Config files that differ from HEAD, as `path (state)`.
     */
    uncommitted: string[];
    /**
     * Whether this commit descends from every commit the target last received.
     */
    ancestry: {
      /**
       * ok: first sync, same commit or a descendant; not-descendant; unknown.
       */
      status: 'ok' | 'not-descendant' | 'unknown';
      /**
       * The last synced commit the status is about.
       */
      previous?: string;
      /**
       * Why the ancestry could not be determined.
       */
      why?: string;
    };
    /**
     * Overrides this sync uses and records in the manifest.
     */
    overrides: {
      /**
       * What is overridden.
       */
      kind: 'uncommitted' | 'non-descendant';
      /**
       * The reason given with the override flag.
       */
      reason: string;
      /**
       * The uncommitted files, or the last synced commit.
       */
      detail: string;
    }[];
  } | null;
}
