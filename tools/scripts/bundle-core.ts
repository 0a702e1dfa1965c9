/**
 * Bundles the core library (tools/src/core/index.ts) into one ES module for Node — what a Lambda or the
 * local runner ships. `npm run bundle:core -- <outfile>` (default dist/core.mjs).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CORE_ENTRY = path.join(ROOT, 'tools/src/core/index.ts');
/**
 * Packages left out of the bundle, to be installed next to it (CDK: `bundling.nodeModules`): re2-wasm
 * reads its .wasm file relative to its own location, so it cannot be inlined.
 */
export const CORE_EXTERNALS = ['re2-wasm'];

/** Bundles `entry` (default: the core) to `outfile`; returns esbuild's metafile (every input bundled). */
export async function bundleCore(outfile: string, entry = CORE_ENTRY): Promise<Metafile> {
  const result = await build({
    entryPoints: [entry],
    outfile,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: CORE_EXTERNALS,
    metafile: true,
    logLevel: 'error',
    // CommonJS dependencies (yaml, ajv) call require() for Node built-ins: give the ES module one.
    banner: {
      js:
        "import { createRequire as __offloadRequire } from 'node:module';\n" +
        'const require = __offloadRequire(import.meta.url);',
    },
  });
  return result.metafile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist/core.mjs'));
  const meta = await bundleCore(out);
  console.log(`wrote ${out} (${Object.keys(meta.inputs).length} inputs)`);
}
