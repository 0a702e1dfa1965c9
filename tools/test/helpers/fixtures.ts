/** Fixture trees for tests: write files into a fresh temp dir; locate «markers» written in them. */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type Tree = Record<string, string | Uint8Array | null>;

/** Writes a tree (null entries are skipped) to a new temp directory and returns its path. */
export function writeTree(tree: Tree, prefix = 'offload-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  for (const [rel, content] of Object.entries(tree)) {
    if (content === null) continue;
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? stripMarks(content) : content);
  }
  return dir;
}

export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const MARK = /«([a-z0-9]*)»/g;

/** The text without its «markers». */
export function stripMarks(text: string): string {
  return text.replace(MARK, '');
}

/** 1-based line and column of the marker «name» in the text (columns count characters). */
export function markAt(text: string, name = ''): { line: number; column: number } {
  const token = `«${name}»`;
  const idx = text.indexOf(token);
  if (idx < 0) throw new Error(`marker ${token} not found`);
  const before = stripMarks(text.slice(0, idx));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}
