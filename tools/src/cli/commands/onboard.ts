import { type Command, Option } from 'commander';
import { createInterface } from 'node:readline/promises';
import { findRoot } from '../root.js';
import { UserError } from '../../errors.js';
import { onboard } from '../../onboard/onboard.js';
import { pullRequestTargetFromEnv } from '../../onboard/pull-request.js';
import { renderText } from '../../preview/render.js';

const ENGINES = ['postgres', 'mysql', 'mariadb', 'oracle', 'sqlserver'] as const;
type Engine = (typeof ENGINES)[number];

interface OnboardCli {
  name?: string;
  engine?: Engine;
  jdbcUrl?: string;
  host?: string;
  port?: string;
  database?: string;
  schema: string[];
  policy: string[];
  ownerTeam?: string;
  ownerContact?: string;
  description?: string;
  secret?: string;
  subnet: string[];
  securityGroup: string[];
  az?: string;
  user?: string;
  passwordStdin?: boolean;
  target: 'aws' | 'local';
  asOf?: string;
  pr?: boolean;
  prBase?: string;
  root?: string;
}

/** `jdbc:<engine>://host:port/db` in each engine's own spelling. */
function urlOf(engine: Engine, host: string, port: string, database: string): string {
  if (engine === 'postgres') return `jdbc:postgresql://${host}:${port}/${database}`;
  if (engine === 'oracle') return `jdbc:oracle:thin:@//${host}:${port}/${database}`;
  if (engine === 'sqlserver') return `jdbc:sqlserver://${host}:${port};databaseName=${database}`;
  return `jdbc:${engine}://${host}:${port}/${database}`;
}

const collect = (v: string, prev: string[]) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A password from the terminal without echo. */
async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // echo off before the prompt shows: a password typed as soon as the prompt appears is never echoed
  stdin.setRawMode(true);
  stdin.resume();
  process.stderr.write(question);
  let value = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.off('data', onData);
            return resolve(value);
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            return reject(new UserError('cancelled', 2));
          }
          if (ch === '\u007f') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

export function registerOnboard(program: Command): void {
  program
    .command('onboard')
    .description(
      'add a source database: write databases/<name>.yaml (validated), test the login, store its credentials, ' +
        'run the first discovery and show what the new file would archive',
    )
    .option('--name <name>', 'database name (file name, Glue connection name)')
    .addOption(new Option('--engine <engine>', 'source engine').choices([...ENGINES]))
    .option('--jdbc-url <url>', 'JDBC URL without user or password (or --host, --port, --database)')
    .option('--host <host>', 'database host')
    .option('--port <port>', 'database port')
    .option('--database <db>', 'database (service name for Oracle)')
    .option('--schema <schema>', 'a schema to scope (repeatable or comma-separated)', collect, [])
    .option('--policy <policy>', 'a policy applied to the scoped schemas (repeatable or comma-separated)', collect, [])
    .option('--owner-team <team>', 'owning team')
    .option('--owner-contact <email>', 'owning team contact')
    .option('--description <text>', 'one line about the database')
    .option('--secret <name>', 'Secrets Manager name of the credentials (default <resource_prefix>/archival/<name>)')
    .option('--subnet <id>', 'subnet for the Glue connection (repeatable)', collect, [])
    .option('--security-group <id>', 'security group for the Glue connection (repeatable)', collect, [])
    .option('--az <zone>', 'availability zone of the Glue connection')
    .option('--user <user>', 'the read-only login (the password is never a flag)')
    .option('--password-stdin', 'read the password from standard input (else a prompt without echo)')
    .addOption(
      new Option(
        '--target <target>',
        'where credentials go: local (.offload/credentials.yaml) or aws (Secrets Manager)',
      )
        .choices(['local', 'aws'])
        .default('local'),
    )
    .option('--pr', 'open a pull request with the new file on a new branch (GITHUB_TOKEN, GITHUB_REPOSITORY)')
    .option('--pr-base <branch>', 'base branch of the pull request (default: the repository default branch)')
    .option('--as-of <date>', 'evaluate the preview at this date (default today, UTC)')
    .option('--root <dir>', 'repository root (default: nearest folder upwards holding offload.settings.yaml)')
    .addHelpText(
      'after',
      `
Missing answers are asked for on a terminal. Nothing is written until the file validates, the login
connects, reads every table in scope and cannot write, and the first discovery completed; a failure
after that undoes what this run wrote. Exit status: 0 onboarded (or already onboarded the same way),
1 refused (invalid file, failed connection test, write-capable login, conflicting existing file or
credentials), 2 usage or environment error.`,
    )
    .action(async (o: OnboardCli) => {
      const tty = !!process.stdin.isTTY && !o.passwordStdin;
      const rl = tty ? createInterface({ input: process.stdin, output: process.stderr }) : undefined;
      const ask = async (value: string | undefined, flag: string, question: string): Promise<string> => {
        if (value) return value;
        if (!rl) throw new UserError(`${flag} is required (or run on a terminal to be asked)`, 2);
        const a = (await rl.question(`${question}: `)).trim();
        if (!a) throw new UserError(`${flag} is required`, 2);
        return a;
      };
      let password: string;
      let answers: {
        name: string;
        engine: Engine;
        jdbcUrl: string;
        schemas: string[];
        policies: string[];
        ownerTeam: string;
        ownerContact: string;
        user: string;
      };
      try {
        const name = await ask(o.name, '--name', 'Database name');
        const engine = (await ask(o.engine, '--engine', `Engine (${ENGINES.join('|')})`)) as Engine;
        if (!ENGINES.includes(engine)) throw new UserError(`--engine must be one of ${ENGINES.join(', ')}`, 2);
        const jdbcUrl =
          o.jdbcUrl ??
          urlOf(
            engine,
            await ask(o.host, '--host or --jdbc-url', 'Host'),
            await ask(o.port, '--port', 'Port'),
            await ask(o.database, '--database', 'Database'),
          );
        const schemas = o.schema.length ? o.schema : collect(await ask(undefined, '--schema', 'Schemas to scope'), []);
        const policies = o.policy.length ? o.policy : collect(await ask(undefined, '--policy', 'Policies'), []);
        const ownerTeam = await ask(o.ownerTeam, '--owner-team', 'Owner team');
        const ownerContact = await ask(o.ownerContact, '--owner-contact', 'Owner contact e-mail');
        const user = await ask(o.user, '--user', 'Read-only login');
        answers = { name, engine, jdbcUrl, schemas, policies, ownerTeam, ownerContact, user };
      } finally {
        rl?.close();
      }
      if (o.passwordStdin) password = await readStdin();
      else if (process.stdin.isTTY) password = await promptHidden(`Password for ${answers.user}: `);
      else throw new UserError('no password: pass it on standard input with --password-stdin (never as a flag)', 2);
      if (!password) throw new UserError('the password is empty', 2);
      const root = findRoot(process.cwd(), o.root);
      const pr = o.pr ? pullRequestTargetFromEnv(process.env, o.prBase) : undefined;
      const r = await onboard({
        ...(pr ? { pr } : {}),
        root,
        ...answers,
        ...(o.description ? { description: o.description } : {}),
        ...(o.secret ? { secret: o.secret } : {}),
        ...(o.subnet.length || o.securityGroup.length
          ? {
              network: {
                subnetIds: o.subnet,
                securityGroupIds: o.securityGroup,
                ...(o.az ? { availabilityZone: o.az } : {}),
              },
            }
          : {}),
        target: o.target,
        password,
        ...(o.asOf ? { asOf: o.asOf } : {}),
      });
      process.stdout.write(
        [
          `${r.file}: ${r.fileStatus} (validated)`,
          `credentials: ${r.credentials.status} in ${r.credentials.where}`,
          `connection test: reachable, authenticated, reads the scope, cannot write`,
          `first discovery: ${r.tables} table(s) in ${r.inventoryFile}`,
          '',
          renderText(r.preview),
          ...(r.pullRequest
            ? [`pull request #${r.pullRequest.number} on ${r.pullRequest.branch}: ${r.pullRequest.url}`, '']
            : []),
        ].join('\n'),
      );
      process.exitCode = 0;
    });
}
