/**
 * Finds a policy's age column in a table. Exact name first; Oracle, SQL Server and MySQL/MariaDB
 * compare unquoted column names without case (Oracle stores them upper-cased), so there a unique
 * case-insensitive match is accepted too — `event_time` finds Oracle's `EVENT_TIME`. PostgreSQL
 * names are exact.
 */
import type { InventoryTable } from '../inventory/inventory.js';

export function findColumn(
  table: Pick<InventoryTable, 'columns'>,
  name: string,
  engine: string,
): InventoryTable['columns'][number] | undefined {
  const exact = table.columns.find((c) => c.name === name);
  if (exact || engine === 'postgres') return exact;
  const lower = name.toLowerCase();
  const loose = table.columns.filter((c) => c.name.toLowerCase() === lower);
  return loose.length === 1 ? loose[0] : undefined;
}
