/**
 * Architecture rules for tools/src, checked by `npx depcruise tools/src` (a lint step of scripts/test.sh).
 *
 * Layers, lowest first. A room (folder or file under tools/src) imports only rooms of LOWER layers:
 * never upward, never sideways (rooms of one layer are independent of each other).
 */
const LAYERS = [
  ['generated', 'errors.ts', 'version.ts'], // types generated from schema/, error classes, the tool's version
  ['dirs.ts', 'lockfile.ts'], // output folders checked or created without ever looping or throwing a stack trace;
  // the local file mutex (sync's local target, local ledger, local governance state)
  ['config'], // config model: parse, schema, rules, loading from any source, derived names
  ['inventory'], // the inventory snapshot format
  ['engine'], // the retention policy engine: configs + inventory + as-of date → decisions
  ['report', 'work', 'ledger/model.ts'], // run-report renderer; work units; the run ledger's state machine
  ['core'], // the one entry point every runtime imports (CLI, Lambdas, DAG helpers, local runner)
  ['catalog', 'validate', 'sync', 'init', 'archives'], // edges: live catalog discovery, `offload validate`,
  // `offload sync`, `offload init` (a new config repo), `offload archives` (a local warehouse's metadata)
  ['ledger', 'governance'], // the run ledger's stores (local directory, DynamoDB); `offload governance` (Lake
  // Formation grants from YAML)
  ['preview'], // `offload preview` (may discover live, so above catalog)
  ['run', 'onboard', 'restore'], // `offload run`: the local runner and its Spark worker; `offload onboard`
  // (validate, test the login, discover, store the credentials); `offload restore` (an archive into a new table)
  ['status', 'delete-db'], // `offload status`: the engine's decisions with their dates and the ledger's states;
  // `offload delete-archive-database` (catalog, files, ledger, grants of one archive database)
  ['cli'], // the commander shell: the only place that prints and exits
];
/** Rooms that make up the core: bundled into Lambdas, so free of CLI, GitHub, driver and AWS SDK packages. */
const CORE = [
  ...['generated', 'errors.ts', 'version.ts', 'dirs.ts', 'config', 'inventory', 'engine'],
  ...['report', 'work', 'ledger/model.ts', 'core'],
];

const ROOMS = LAYERS.flat();
/** A room's paths: a file, or a folder without the files of it that are rooms of their own (`work/plan.ts`). */
const room = (name) => {
  const esc = (n) => n.replace(/\./g, '\\.');
  if (name.endsWith('.ts')) return `^tools/src/${esc(name)}$`;
  const own = ROOMS.filter((r) => r.startsWith(`${name}/`)).map((r) => `${esc(r.slice(name.length + 1))}$`);
  return `^tools/src/${esc(name)}/${own.length ? `(?!${own.join('|')})` : ''}`;
};
const layerRules = LAYERS.flatMap((rooms, i) => {
  const forbidden = LAYERS.slice(i + 1).flat();
  const rules = rooms.map((name) => ({
    name: `layer-${name.replace(/\.ts$/, '')}`,
    comment: `${name} is in layer ${i}: it may import only lower layers (see LAYERS in .dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: room(name) },
    to: {
      path: [...forbidden, ...rooms.filter((r) => r !== name)].map(room),
    },
  }));
  return rules.filter((r) => r.to.path.length > 0); // the top layer may import anything below
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make modules load half-initialised and rooms impossible to read alone',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'layer-unknown',
      comment: 'every room of tools/src has its place in LAYERS (.dependency-cruiser.cjs): add a new one there',
      severity: 'error',
      from: { path: '^tools/src/', pathNot: LAYERS.flat().map(room) },
      to: {},
    },
    {
      name: 'core-no-edge-packages',
      comment:
        'the core is bundled into Lambdas: no CLI (commander, cli-progress), GitHub (@octokit), ' +
        'database driver (pg, mysql2, oracledb, mssql) or AWS SDK client packages',
      severity: 'error',
      from: { path: CORE.map(room) },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        path:
          '(^|/)node_modules/' +
          '(commander|cli-progress|@octokit|pg|pg-[^/]+|mysql2|oracledb|mssql|tedious|@aws-sdk)(/|$)',
      },
    },
    {
      name: 'src-not-to-test',
      comment: 'production code never imports test code or test doubles',
      severity: 'error',
      from: { path: '^tools/src/' },
      to: { path: '^tools/(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: a type cycle is still a cycle for the reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
