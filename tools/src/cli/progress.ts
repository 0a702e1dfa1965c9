/**
 * Progress of long discoveries on stderr: a bar (cli-progress) when stderr is a terminal, plain lines
 * otherwise (CI logs), never on stdout (which holds the command's output). Databases discovered in
 * parallel share the bar: it counts every database's max(column) measurements.
 */
import cliProgress from 'cli-progress';
import type { DiscoverProgress } from '../catalog/discover.js';

export interface ProgressReporter {
  onProgress: (p: DiscoverProgress) => void;
  stop: () => void;
}

export function progressReporter(stream: NodeJS.WriteStream = process.stderr, quiet = false): ProgressReporter {
  if (quiet) return { onProgress: () => {}, stop: () => {} };
  if (!stream.isTTY) {
    const last = new Map<string, number>();
    return {
      onProgress(p) {
        if (p.phase === 'connect') stream.write(`${p.database}: connecting\n`);
        else if (p.phase === 'catalog') stream.write(`${p.database}: ${p.tables} tables in the catalog\n`);
        else if (p.done === p.total || p.done === 0 || Date.now() - (last.get(p.database) ?? 0) > 2000) {
          last.set(p.database, Date.now());
          stream.write(`${p.database}: measured max(column) of ${p.done}/${p.total} tables\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream, format: '{label} max(column) [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const counts = new Map<string, { done: number; total: number }>();
  let running = false;
  const sum = () =>
    [...counts.values()].reduce((a, c) => ({ done: a.done + c.done, total: a.total + c.total }), { done: 0, total: 0 });
  const label = () => (counts.size === 1 ? [...counts.keys()][0]! : `${counts.size} databases`);
  return {
    onProgress(p) {
      if (p.phase !== 'measure') {
        if (running) return; // the bar owns the line; the per-database summary is printed on stdout at the end
        stream.write(`${p.database}: ${p.phase === 'connect' ? 'connecting' : `${p.tables} tables in the catalog`}\n`);
        return;
      }
      counts.set(p.database, { done: p.done, total: p.total });
      const s = sum();
      if (!running) {
        bar.start(s.total, s.done, { label: label() });
        running = true;
      } else {
        bar.setTotal(s.total);
        bar.update(s.done, { label: label() });
      }
      if (s.done === s.total) {
        bar.stop();
        running = false;
        counts.clear();
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
