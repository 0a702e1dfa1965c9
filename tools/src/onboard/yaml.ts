/** The database file `offload onboard` writes: modeline first, derived names as comments. Pure. */
import { resolveDatabase } from '../config/model.js';
import type { DatabaseConfig } from '../generated/database.js';
import type { OffloadSettings } from '../generated/settings.js';

/** A YAML scalar: plain when unambiguous, else a double-quoted (JSON) string. */
const q = (s: string) =>
  /^[A-Za-z_][A-Za-z0-9_./@-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(s) ? s : JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;

export function databaseYaml(db: DatabaseConfig, settings: OffloadSettings): string {
  const derived = resolveDatabase(db, settings);
  const lines = [
    '# yaml-language-server: $schema=../schema/database.schema.json',
    '# Written by `offload onboard`. Derived from offload.settings.yaml (not set here):',
    `#   Glue connection:  ${db.name}`,
    `#   Glue database:    ${derived.glueDatabase}`,
    `#   Archive location: ${derived.s3Location}`,
    `name: ${q(db.name)}`,
    ...(db.description ? [`description: ${q(db.description)}`] : []),
    `engine: ${db.engine}`,
    `jdbc_url: ${q(db.jdbc_url)}`,
    'credentials:',
    `  secret: ${q(db.credentials.secret)}`,
  ];
  if (db.network)
    lines.push(
      'network:',
      `  subnet_ids: ${list(db.network.subnet_ids)}`,
      `  security_group_ids: ${list(db.network.security_group_ids)}`,
      ...(db.network.availability_zone ? [`  availability_zone: ${q(db.network.availability_zone)}`] : []),
    );
  lines.push('owner:', `  team: ${q(db.owner.team)}`, `  contact: ${q(db.owner.contact)}`, 'scope:');
  for (const s of db.scope)
    lines.push(
      `  - schema: ${q(s.schema)}`,
      ...(s.include ? [`    include: ${list(s.include)}`] : []),
      `    policies: ${list(s.policies)}`,
    );
  return `${lines.join('\n')}\n`;
}
