/**
 * The run ledger on AWS: a DynamoDB table of its own, `ledgerTableName(settings)` (config/naming.ts:
 * `<settings config.dynamodb_table>-ledger`, created by the CDK stack)
 * (string partition key `pk`, on-demand), one item per source table:
 *
 *   pk = TABLE#<JSON [database, schema, table]>     the exact names, unambiguous whatever they hold
 *   …  = the LedgerEntry attributes (schema/ledger-entry.schema.json)
 *
 * A second table rather than `LEDGER#…` items in the config table: the sync scans the config table
 * and reports every item it does not manage, and the ledger grows with every table ever archived,
 * which would make each sync's scan grow with it. Every transition is one PutItem conditional on the
 * state and version read (`attribute_not_exists(pk)` for the first), so two writers can never both
 * move a table from the same state: the loser gets LedgerConflictError.
 */
import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  applyTransition,
  LedgerConflictError,
  type Ledger,
  type LedgerEntry,
  type TableRef,
  type Transition,
} from './model.js';

const ledgerPk = (r: TableRef) => `TABLE#${JSON.stringify([r.database, r.schema, r.table])}`;

export interface DynamoLedgerOptions {
  table: string;
  region?: string;
  client?: DynamoDBClient;
}

export function createDynamoLedger(opts: DynamoLedgerOptions): Ledger & { close(): void } {
  return new DynamoLedger(opts);
}

/** Creates the ledger table (tests and first local set-up; on AWS the CDK stack owns it). */
export async function createLedgerTable(table: string, client = new DynamoDBClient({})): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

const strip = (item: Record<string, unknown>): LedgerEntry => {
  const { pk: _pk, ...rest } = item;
  return rest as unknown as LedgerEntry;
};

class DynamoLedger implements Ledger {
  readonly label: string;
  private readonly base: DynamoDBClient;
  private readonly ddb: DynamoDBDocumentClient;
  /** What this instance last read or wrote, per key (null: no entry): its next conditional put's condition. */
  private readonly known = new Map<string, LedgerEntry | null>();
  constructor(private readonly opts: DynamoLedgerOptions) {
    this.base = opts.client ?? new DynamoDBClient({ ...(opts.region ? { region: opts.region } : {}), maxAttempts: 8 });
    this.ddb = DynamoDBDocumentClient.from(this.base, { marshallOptions: { removeUndefinedValues: true } });
    this.label = `dynamodb:${opts.table}`;
  }

  close() {
    if (!this.opts.client) this.base.destroy();
  }

  async get(ref: TableRef): Promise<LedgerEntry | undefined> {
    const pk = ledgerPk(ref);
    const out = await this.ddb.send(new GetCommand({ TableName: this.opts.table, Key: { pk }, ConsistentRead: true }));
    const entry = out.Item ? strip(out.Item) : undefined;
    this.known.set(pk, entry ?? null);
    return entry;
  }

  async list(database?: string): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.ddb.send(
        new ScanCommand({
          TableName: this.opts.table,
          ConsistentRead: true,
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
          ...(database !== undefined
            ? {
                FilterExpression: '#d = :d',
                ExpressionAttributeNames: { '#d': 'database' },
                ExpressionAttributeValues: { ':d': database },
              }
            : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(strip(item));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    const key = (e: LedgerEntry) => JSON.stringify([e.database, e.schema, e.table]);
    return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /**
   * One conditional put when this instance last read or wrote the entry (its state and version are the
   * condition, so a stale copy can never win); on a failed condition, or a stale copy that refuses the
   * transition, the entry is read again and the transition decided on what is really there.
   */
  async transition(ref: TableRef, t: Transition): Promise<LedgerEntry> {
    const pk = ledgerPk(ref);
    if (this.known.has(pk)) {
      const cached = this.known.get(pk) ?? undefined;
      try {
        const next = applyTransition(ref, cached, t);
        if (await this.put(pk, cached, next)) return next;
      } catch (e) {
        if (!(e instanceof LedgerConflictError)) throw e;
      }
    }
    const current = await this.get(ref);
    const next = applyTransition(ref, current, t);
    if (await this.put(pk, current, next)) return next;
    throw new LedgerConflictError(ref, t.expect, (await this.get(ref))?.state ?? null);
  }

  /** Writes `next` if the stored entry is still `current`; false when the condition failed. */
  private async put(pk: string, current: LedgerEntry | undefined, next: LedgerEntry): Promise<boolean> {
    try {
      await this.ddb.send(
        new PutCommand({
          TableName: this.opts.table,
          Item: { pk, ...next },
          ...(current
            ? {
                ConditionExpression: '#s = :s AND #v = :v',
                ExpressionAttributeNames: { '#s': 'state', '#v': 'version' },
                ExpressionAttributeValues: { ':s': current.state, ':v': current.version },
              }
            : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') {
        this.known.delete(pk);
        return false;
      }
      throw e;
    }
    this.known.set(pk, next);
    return true;
  }
}
