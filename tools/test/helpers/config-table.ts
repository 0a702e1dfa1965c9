/**
 * A config table as `offload sync --target aws --apply` leaves it, for the Lambdas' tests and benchmark:
 * the repo's files validated by the same loadRepo the sync runs, then one item per file — SETTINGS,
 * DATABASE#<name>, POLICY#<name> — holding the parsed config (the shape tools/src/sync/desired.ts writes).
 */
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { loadRepo } from '../../src/config/load.js';
import { memorySource } from '../../src/config/source.js';

export async function publishConfigs(table: string, files: Record<string, string>, region?: string): Promise<void> {
  const repo = await loadRepo(memorySource(new Map(Object.entries(files))));
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
  const items = [
    { pk: 'SETTINGS', kind: 'settings', name: 'settings', file: repo.settings!.file, config: repo.settings!.config },
    ...repo.databases.map((d) => ({
      pk: `DATABASE#${d.config.name}`,
      kind: 'database',
      name: d.config.name,
      file: d.file,
      config: JSON.parse(JSON.stringify(d.config)),
    })),
    ...repo.policies.map((p) => ({
      pk: `POLICY#${p.config.name}`,
      kind: 'policy',
      name: p.config.name,
      file: p.file,
      config: JSON.parse(JSON.stringify(p.config)),
    })),
  ];
  for (const Item of items) await doc.send(new PutCommand({ TableName: table, Item }));
  ddb.destroy();
}
