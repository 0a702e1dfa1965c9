/**
 * The AWS governance target: Lake Formation through @aws-sdk/client-lakeformation, credentials,
 * region and endpoint from the standard SDK chain. Reads ListPermissions (every page),
 * GetDataLakeSettings and ListResources; writes with BatchGrantPermissions/BatchRevokePermissions
 * (20 entries a call, failures reported per entry), PutDataLakeSettings (every other setting kept as
 * read) and RegisterResource (the service-linked role).
 */
import {
  BatchGrantPermissionsCommand,
  BatchRevokePermissionsCommand,
  GetDataLakeSettingsCommand,
  LakeFormationClient,
  ListPermissionsCommand,
  ListResourcesCommand,
  PutDataLakeSettingsCommand,
  RegisterResourceCommand,
  type BatchPermissionsRequestEntry,
  type PrincipalResourcePermissions,
  type Resource,
} from '@aws-sdk/client-lakeformation';
import { UserError } from '../errors.js';
import { grantKey, sortGrants, type GovernanceState, type Grant } from './model.js';
import type { GovernanceTarget } from './target.js';

const BATCH = 20; // BatchGrantPermissions / BatchRevokePermissions take at most 20 entries

/**
 * One listed permission entry as grants. Lake Formation lists SELECT on all tables as a
 * TableWithColumns named ALL_TABLES with a column wildcard; that is the same grant as a TableWildcard.
 * Shapes the configs cannot declare (column lists, exclusions, data cells filters) keep a `detail`,
 * so they show as drift. Catalog, data location and LF-tag resources are not about an archive
 * database and are skipped.
 */
export function grantsOfEntry(e: PrincipalResourcePermissions): Grant[] {
  const principal = e.Principal?.DataLakePrincipalIdentifier;
  const r = e.Resource;
  if (!principal || !r) return [];
  let at: Pick<Grant, 'database' | 'table' | 'detail'> | undefined;
  if (r.Database?.Name) at = { database: r.Database.Name };
  else if (r.Table?.DatabaseName)
    at = { database: r.Table.DatabaseName, table: r.Table.TableWildcard ? '*' : (r.Table.Name ?? '*') };
  else if (r.TableWithColumns?.DatabaseName) {
    const t = r.TableWithColumns;
    const allTables = t.Name === 'ALL_TABLES' ? '*' : (t.Name ?? '*');
    const excluded = t.ColumnWildcard?.ExcludedColumnNames ?? [];
    if (t.ColumnWildcard && !excluded.length) at = { database: t.DatabaseName!, table: allTables };
    else
      at = {
        database: t.DatabaseName!,
        table: allTables,
        detail: t.ColumnNames?.length
          ? `columns ${t.ColumnNames.join(', ')}`
          : `all columns except ${excluded.join(', ')}`,
      };
  } else if (r.DataCellsFilter?.DatabaseName)
    at = {
      database: r.DataCellsFilter.DatabaseName,
      table: r.DataCellsFilter.TableName ?? '*',
      detail: `data cells filter ${r.DataCellsFilter.Name ?? ''}`,
    };
  if (!at) return [];
  const out: Grant[] = [];
  for (const permission of e.Permissions ?? []) out.push({ principal, ...at, permission, raw: r });
  for (const permission of e.PermissionsWithGrantOption ?? [])
    out.push({ principal, ...at, permission, grantable: true, raw: r });
  return out;
}

/** The resource a declared grant is made on. */
function resourceOf(g: Grant): Resource {
  if (g.raw) return g.raw as Resource;
  if (g.table === undefined) return { Database: { Name: g.database } };
  if (g.table === '*') return { Table: { DatabaseName: g.database, TableWildcard: {} } };
  return { Table: { DatabaseName: g.database, Name: g.table } };
}

/** Grants grouped into batch entries, one per principal, resource and grant option. */
function entries(grants: Grant[]): BatchPermissionsRequestEntry[] {
  const by = new Map<string, BatchPermissionsRequestEntry>();
  for (const g of grants) {
    const resource = resourceOf(g);
    const k = `${g.principal}|${JSON.stringify(resource)}`;
    let e = by.get(k);
    if (!e) {
      e = {
        Id: String(by.size + 1),
        Principal: { DataLakePrincipalIdentifier: g.principal },
        Resource: resource,
        Permissions: [],
        PermissionsWithGrantOption: [],
      };
      by.set(k, e);
    }
    (g.grantable ? e.PermissionsWithGrantOption! : e.Permissions!).push(g.permission as never);
  }
  return [...by.values()];
}

export interface AwsGovernanceOptions {
  region: string;
  maxAttempts?: number;
}

export function createAwsGovernanceTarget(opts: AwsGovernanceOptions): GovernanceTarget {
  const lf = new LakeFormationClient({
    region: opts.region,
    maxAttempts: opts.maxAttempts ?? 8,
    retryMode: 'standard',
  });
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw awsError(what, e);
    }
  };
  const read = async (): Promise<GovernanceState> => {
    const grants: Grant[] = [];
    let token: string | undefined;
    do {
      const page = await call('ListPermissions', () =>
        lf.send(new ListPermissionsCommand({ NextToken: token, MaxResults: 1000 })),
      );
      for (const e of page.PrincipalResourcePermissions ?? []) grants.push(...grantsOfEntry(e));
      token = page.NextToken;
    } while (token);
    const settings = await call('GetDataLakeSettings', () => lf.send(new GetDataLakeSettingsCommand({})));
    const locations: string[] = [];
    token = undefined;
    do {
      const page = await call('ListResources', () => lf.send(new ListResourcesCommand({ NextToken: token })));
      for (const r of page.ResourceInfoList ?? []) if (r.ResourceArn) locations.push(r.ResourceArn);
      token = page.NextToken;
    } while (token);
    // One grant listed twice (two entries for one resource) counts once.
    const unique = new Map(grants.map((g) => [grantKey(g), g]));
    return {
      admins: (settings.DataLakeSettings?.DataLakeAdmins ?? [])
        .map((a) => a.DataLakePrincipalIdentifier)
        .filter((a): a is string => !!a)
        .sort(),
      grants: sortGrants([...unique.values()]),
      locations: locations.sort(),
    };
  };
  const batch = async (kind: 'grant' | 'revoke', grants: Grant[]) => {
    const all = entries(grants);
    for (let i = 0; i < all.length; i += BATCH) {
      const Entries = all.slice(i, i + BATCH);
      const out =
        kind === 'grant'
          ? await call('BatchGrantPermissions', () => lf.send(new BatchGrantPermissionsCommand({ Entries })))
          : await call('BatchRevokePermissions', () => lf.send(new BatchRevokePermissionsCommand({ Entries })));
      const failed = out.Failures ?? [];
      if (failed.length)
        throw new UserError(
          `Lake Formation refused ${failed.length} ${kind}(s):\n${failed
            .map(
              (f) =>
                `  ${f.RequestEntry?.Principal?.DataLakePrincipalIdentifier} ` +
                `on ${JSON.stringify(f.RequestEntry?.Resource)}: ` +
                `${f.Error?.ErrorCode}: ${f.Error?.ErrorMessage}`,
            )
            .join('\n')}\nWhat came before was applied; run the command again after fixing the cause.`,
          1,
        );
    }
  };
  return {
    label: `aws (${opts.region}): lakeformation`,
    read,
    async apply(changes) {
      for (const arn of changes.register)
        await call(`RegisterResource ${arn}`, () =>
          lf.send(new RegisterResourceCommand({ ResourceArn: arn, UseServiceLinkedRole: true })),
        );
      if (changes.admins) {
        // PutDataLakeSettings replaces every setting: write back what was read, with the new administrators.
        const now = await call('GetDataLakeSettings', () => lf.send(new GetDataLakeSettingsCommand({})));
        const DataLakeSettings = {
          ...now.DataLakeSettings,
          DataLakeAdmins: changes.admins.map((a) => ({ DataLakePrincipalIdentifier: a })),
        };
        await call('PutDataLakeSettings', () => lf.send(new PutDataLakeSettingsCommand({ DataLakeSettings })));
      }
      if (changes.grant.length) await batch('grant', changes.grant);
      if (changes.revoke.length) await batch('revoke', changes.revoke);
    },
  };
}

/** AWS errors the user can act on, as UserErrors saying what was being done. */
function awsError(what: string, e: unknown): Error {
  if (e instanceof UserError) return e;
  const err = e as { name?: string; message?: string; $metadata?: unknown };
  const hints: Record<string, string> = {
    AccessDeniedException: 'access denied: the credentials must be a Lake Formation data-lake administrator',
    CredentialsProviderError: 'no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
    ExpiredTokenException: 'the AWS credentials have expired',
    UnrecognizedClientException: 'the AWS credentials are not valid',
    EntityNotFoundException: 'a Glue database or principal it names does not exist (run the archive or sync first)',
  };
  const hint = err.name ? hints[err.name] : undefined;
  if (hint) return new UserError(`${what}: ${hint} (${err.name}: ${err.message})`, 2);
  if (err.$metadata || err.name === 'TimeoutError' || (err as { code?: string }).code === 'ECONNREFUSED')
    return new UserError(`${what} failed: ${err.name}: ${err.message}`, 2);
  return e as Error;
}
