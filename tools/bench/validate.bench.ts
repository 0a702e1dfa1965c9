/**
 * Benchmark: `offload validate` over 1,000 database and 100 policy files, next to a bare YAML parse
 * of the same files in the same run (the floor any validator pays). Targets: 1,000 files in under
 * 1 s on the 2-core machine; schema and rule passes add at most 25% over parsing.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { writeTree, removeTree } from '../test/helpers/fixtures.js';
import { baseRepo, DB1, MONTHLY } from '../test/helpers/repo.js';
import { validate } from '../src/validate/validate.js';
import { parseConfigFile } from '../src/config/yaml-file.js';

const DATABASES = 1000;
const POLICIES = 100;
const ROUNDS = 7;

function generate(): Record<string, string> {
  const tree: Record<string, string> = { ...(baseRepo() as Record<string, string>) };
  delete tree['databases/db1.yaml'];
  for (let p = 0; p < POLICIES; p++) {
    tree[`policies/p${p}.yaml`] = MONTHLY.replace('name: monthly', `name: p${p}`).replace(
      'priority: 10',
      `priority: ${10 + p}`,
    );
  }
  for (let d = 0; d < DATABASES; d++) {
    tree[`databases/db${d}.yaml`] = DB1.replace('name: db1', `name: db${d}`)
      .replace('db1.example.internal', `db${d}.example.internal`)
      .replace('policies: [monthly]', `policies: [p${d % POLICIES}]`)
      .replace(
        '    policies: [audit]',
        `    policies: [audit]\n  - schema: s${d}\n    include: ["^orders_[0-9]{8}$"]\n` +
          `    policies: [p${(d + 1) % POLICIES}]`,
      );
  }
  return tree;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main() {
  const dir = writeTree(generate(), 'offload-bench-validate-');
  try {
    const files = [
      'offload.settings.yaml',
      ...['databases', 'policies'].flatMap((d) => readdirSync(path.join(dir, d)).map((f) => `${d}/${f}`)),
    ];
    // Warm up both paths (JIT, schema compilation, RE2 instantiation).
    const check = await validate({ root: dir, paths: [], cwd: dir });
    if (!check.ok)
      throw new Error(
        `generated repo is invalid: ${check.findings
          .slice(0, 3)
          .map((f) => f.message)
          .join('; ')}`,
      );
    const parseTimes: number[] = [];
    const pass1Times: number[] = [];
    const validateTimes: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      for (const f of files) parse(readFileSync(path.join(dir, f), 'utf8'));
      parseTimes.push(performance.now() - t);
      t = performance.now();
      for (const f of files) parseConfigFile(f, readFileSync(path.join(dir, f)));
      pass1Times.push(performance.now() - t);
      t = performance.now();
      const res = await validate({ root: dir, paths: [], cwd: dir });
      validateTimes.push(performance.now() - t);
      if (res.summary.files !== files.length) throw new Error('file count');
    }
    const p = median(parseTimes),
      p1 = median(pass1Times),
      v = median(validateTimes);
    console.log(
      `validate benchmark: ${files.length} files (${DATABASES} databases, ${POLICIES + 2} policies, settings), ` +
        `median of ${ROUNDS}`,
    );
    console.log(`  bare YAML parse (read + yaml.parse): ${p.toFixed(0)} ms`);
    console.log(
      `  pass 1 alone (read + YAML pass):     ${p1.toFixed(0)} ms  ` +
        `(${(p1 / p).toFixed(2)}× the bare parse: line mapping, refusals, depth)`,
    );
    console.log(
      `  offload validate (3 passes):        ${v.toFixed(0)} ms  (${(files.length / (v / 1000)).toFixed(0)} files/s)`,
    );
    console.log(
      `  schema + rule passes add ${(((v - p1) / p1) * 100).toFixed(0)}% over the YAML pass (target ≤ 25%); ` +
        `whole validate / bare parse: ${(v / p).toFixed(2)}×`,
    );
    console.log(`  1,000 files in ${((v * 1000) / files.length).toFixed(0)} ms (target < 1000 ms)`);
  } finally {
    removeTree(dir);
  }
}

await main();
