/** The port both runtimes implement for `delete-archive-database`: catalog, files, Object Lock, audit records. */
import type { ArchiveTable, LockedObject } from './model.js';

export interface ArchiveStore {
  /** For messages, e.g. `local:/repo/.offload/warehouse` or `aws (eu-west-1): glue + s3`. */
  readonly label: string;
  databaseExists(db: string): Promise<boolean>;
  /** Every table of the database with its properties (metadata read), files and bytes. */
  listTables(db: string): Promise<ArchiveTable[]>;
  /** Object versions under these locations that S3 Object Lock keeps (none locally). */
  lockedObjects(locations: readonly string[]): Promise<LockedObject[]>;
  /** Files (every object version on S3) left under a location. */
  countFiles(location: string): Promise<number>;
  /** Deletes everything under a location (every version); idempotent. */
  deleteFiles(location: string): Promise<void>;
  /** Removes the table's catalog entry; idempotent. */
  dropTableEntry(db: string, table: string): Promise<void>;
  /** Removes the (empty) database; idempotent. */
  dropDatabase(db: string): Promise<void>;
  /** Writes an audit record; returns where. */
  writeAudit(name: string, record: object): Promise<string>;
  /** The audit records whose names start with this prefix (parsed). */
  readAudits(prefix: string): Promise<Record<string, unknown>[]>;
  close?(): void;
}
