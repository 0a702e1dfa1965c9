/**
 * The Lambda runtime's node_modules as the bundles see it (they leave `@aws-sdk/*` to the runtime,
 * infra/lib/functions.ts RUNTIME_PROVIDED): the @aws-sdk packages a bundle imports and everything they
 * depend on, this checkout's versions, symlinked into `dir` (a `node_modules` beside the bundle
 * directories) so that those imports resolve and nothing else does.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function linkRuntimeSdk(dir: string, packages: Iterable<string>): void {
  const seen = new Set<string>();
  const visit = (pkg: string) => {
    if (seen.has(pkg)) return;
    seen.add(pkg);
    const manifest = path.join(ROOT, 'node_modules', pkg, 'package.json');
    if (!existsSync(manifest)) return; // nested under its dependant, which is linked whole
    const deps = (JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> }).dependencies;
    for (const d of Object.keys(deps ?? {})) visit(d);
  };
  for (const p of packages) visit(p);
  for (const pkg of seen) {
    const target = path.join(ROOT, 'node_modules', pkg);
    const link = path.join(dir, pkg);
    if (!existsSync(target) || existsSync(link)) continue;
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(target, link);
  }
}

/** The packages (not node's own modules) a bundle's esbuild metafile leaves external, sorted. */
export function externalPackages(meta: {
  outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}): string[] {
  const builtin = new Set(builtinModules);
  return [
    ...new Set(
      Object.values(meta.outputs)
        .flatMap((o) => o.imports)
        .filter((i) => i.external && !i.path.startsWith('node:') && !builtin.has(i.path))
        .map((i) => i.path),
    ),
  ].sort();
}
