/**
 * A config table as `offload sync --target aws --apply` leaves it, for the Lambdas' tests and benchmark:
 * the repo's files validated by the same loadRepo the sync runs, then one item per file — SETTINGS,
 * DATABASE#<name>, POLICY#<name> — built by the sync's own desiredState and configItem.
 */
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { loadRepo } from '../../src/config/load.js';
import { memorySource } from '../../src/config/source.js';
import { configItem } from '../../src/sync/apply.js';
import { desiredState } from '../../src/sync/desired.js';

export async function publishConfigs(table: string, files: Record<string, string>, region?: string): Promise<void> {
  const source = memorySource(new Map(Object.entries(files)));
  const repo = await loadRepo(source);
  if (repo.errors)
    throw new Error(`fixture configs invalid: ${repo.findings.map((f) => `${f.file}:${f.line} ${f.code}`).join('; ')}`);
  const ddb = new DynamoDBClient(region ? { region } : {});
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (e) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const desired = await desiredState(repo, source, 'fixture');
  const now = new Date().toISOString();
  const items = desired.items.map((d) =>
    configItem(d, { version: 1, commit: 'fixture', generation: 1, runId: 'fixture', createdAt: now, updatedAt: now }),
  );
  for (const Item of items) await doc.send(new PutCommand({ TableName: table, Item }));
  ddb.destroy();
}
