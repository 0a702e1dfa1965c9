/** The port both governance targets implement: read the whole state, and the four kinds of writes. */
import type { GovernanceState, Grant } from './model.js';

export interface GovernanceTarget {
  /** For messages, e.g. `aws (eu-west-1): lakeformation` or `local:/repo/.offload/state/governance.json`. */
  readonly label: string;
  read(): Promise<GovernanceState>;
  /**
   * Carries out one plan's writes: grants, revokes (only those the plan was asked to prune),
   * the administrators' list and registrations. `expected` is the state the plan was made from:
   * the local target refuses to write when its state changed since.
   */
  apply(
    changes: { grant: Grant[]; revoke: Grant[]; admins?: string[]; register: string[] },
    expected: GovernanceState,
  ): Promise<void>;
}
