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
  constructor(private readonly opts: DynamoLedgerOptions) {
    this.base = opts.client ?? new DynamoDBClient({ ...(opts.region ? { region: opts.region } : {}), maxAttempts: 8 });
    this.ddb = DynamoDBDocumentClient.from(this.base, { marshallOptions: { removeUndefinedValues: true } });
    this.label = `dynamodb:${opts.table}`;
  }

  close() {
    if (!this.opts.client) this.base.destroy();
  }

  async get(ref: TableRef): Promise<LedgerEntry | undefined> {
    const out = await this.ddb.send(
      new GetCommand({ TableName: this.opts.table, Key: { pk: ledgerPk(ref) }, ConsistentRead: true }),
    );
    return out.Item ? strip(out.Item) : undefined;
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

  async transition(ref: TableRef, t: Transition): Promise<LedgerEntry> {
    const current = await this.get(ref);
    const next = applyTransition(ref, current, t);
    try {
      await this.ddb.send(
        new PutCommand({
          TableName: this.opts.table,
          Item: { pk: ledgerPk(ref), ...next },
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
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException')
        throw new LedgerConflictError(ref, t.expect, (await this.get(ref))?.state ?? null);
      throw e;
    }
    return next;
  }
}
