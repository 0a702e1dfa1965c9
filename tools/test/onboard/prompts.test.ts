/**
 * offload onboard at a terminal: every missing answer is asked for on a real pseudo-terminal (driven by
 * pty-drive.py through Python's pty module) and echoed as typed, while the password prompt echoes
 * nothing — the password never appears in what the terminal showed, nor in any file onboarding wrote
 * except the local credentials store (mode 600, git-ignored).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { BIN } from '../helpers/cli.js';
import { removeTree } from '../helpers/fixtures.js';
import { env, pgConn } from '../catalog/live-setup.js';
import { gitRepo, repoTree } from '../governance/fixtures.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = path.resolve(HERE, '../../../.venv/bin/python');
const RUN = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const SCHEMA = `onbtty_${RUN}`;
const RO = `onbtty_ro_${RUN}`;
const PASSWORD = `Tty-${RUN}-s3cret!`;
/** readline's cursor moves between a prompt and its echo (ESC [ … letter). */
const CURSOR_MOVES = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');

async function admin(sql: string[]) {
  const c = new pg.Client(pgConn());
  await c.connect();
  try {
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === '.git' ? [] : e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

test.before(() =>
  admin([
    `CREATE SCHEMA ${SCHEMA}`,
    `CREATE TABLE ${SCHEMA}.txn_202001 (id int primary key)`,
    `CREATE ROLE ${RO} LOGIN PASSWORD '${PASSWORD}'`,
    `GRANT USAGE ON SCHEMA ${SCHEMA} TO ${RO}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${SCHEMA} TO ${RO}`,
  ]),
);
test.after(() => admin([`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`, `DROP ROLE IF EXISTS ${RO}`]));

test('answers typed at prompts are echoed, the password is not, and it is stored only in the credentials file', () => {
  const root = gitRepo(repoTree({}));
  try {
    const steps = [
      ['Database name: ', 'ledger_tty\r'],
      ['Engine (', 'postgres\r'],
      ['Host: ', `${env('OFFLOAD_TEST_PG_HOST')}\r`],
      ['Port: ', `${env('OFFLOAD_TEST_PG_PORT')}\r`],
      ['Database: ', `${env('OFFLOAD_TEST_DB')}\r`],
      ['Schemas to scope: ', `${SCHEMA}\r`],
      ['Policies: ', 'monthly\r'],
      ['Owner team: ', 'Ledger\r'],
      ['Owner contact e-mail: ', 'ledger@acme.example\r'],
      ['Read-only login: ', `${RO}\r`],
      [`Password for ${RO}: `, `${PASSWORD}\r`],
    ];
    const drive = spawnSync(
      PYTHON,
      [
        path.join(HERE, 'pty-drive.py'),
        JSON.stringify([process.execPath, BIN, 'onboard', '--as-of', '2026-11-27', '--target', 'local']),
        JSON.stringify(steps),
        root,
      ],
      { encoding: 'utf8', env: { ...process.env, HOME: root }, timeout: 400_000 },
    );
    assert.is(drive.status, 0, drive.stderr);
    const { transcript: shown, status, problem, echo } = JSON.parse(drive.stdout);
    const transcript = (shown as string).replace(CURSOR_MOVES, '');
    assert.is(problem, null, transcript);
    assert.is(status, 0, transcript);
    // the terminal echoed the ordinary answers (so an echoed password would show up here too) …
    assert.match(transcript, 'Database name: ledger_tty');
    assert.match(transcript, `Read-only login: ${RO}`);
    assert.match(transcript, 'databases/ledger_tty.yaml: created (validated)');
    // … but not the password, nor any part of it longer than a few characters
    assert.match(transcript, `Password for ${RO}: `);
    // the terminal's echo was already off when the password prompt showed (a password typed the moment
    // its prompt appears must not be echoed by the terminal before the command mutes it)
    assert.is(echo.length, steps.length);
    assert.is(echo[steps.length - 1], false);
    assert.not.match(transcript, PASSWORD);
    assert.not.match(transcript, PASSWORD.slice(0, 8));
    const store = path.join(root, '.offload', 'credentials.yaml');
    for (const file of filesUnder(root))
      if (file !== store) assert.not.ok(readFileSync(file, 'utf8').includes(PASSWORD), `password in ${file}`);
    assert.match(readFileSync(store, 'utf8'), PASSWORD);
    assert.is(statSync(store).mode & 0o777, 0o600);
  } finally {
    removeTree(root);
  }
});

test.run();
