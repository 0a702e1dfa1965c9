/**
 * Progress of long discoveries on stderr: a bar (cli-progress) when stderr is a terminal, plain lines
 * otherwise (CI logs), never on stdout (which holds the command's output).
 */
import cliProgress from 'cli-progress';
import type { DiscoverProgress } from '../catalog/discover.js';

export function progressReporter(stream: NodeJS.WriteStream = process.stderr, quiet = false): { onProgress: (p: DiscoverProgress) => void; stop: () => void } {
  if (quiet) return { onProgress: () => {}, stop: () => {} };
  if (!stream.isTTY) {
    let lastLine = 0;
    return {
      onProgress(p) {
        if (p.phase === 'connect') stream.write(`${p.database}: connecting\n`);
        else if (p.phase === 'catalog') stream.write(`${p.database}: ${p.tables} tables in the catalog\n`);
        else if (p.done === p.total || Date.now() - lastLine > 2000) {
          lastLine = Date.now();
          stream.write(`${p.database}: measured max(column) of ${p.done}/${p.total} tables\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar({ stream, format: '{database} {phase} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress(p) {
      if (p.phase === 'measure') {
        if (!started) { bar.start(p.total, p.done, { database: p.database, phase: 'max(column)' }); started = true; }
        else bar.update(p.done, { database: p.database });
        if (p.done === p.total) { bar.stop(); started = false; }
      } else stream.write(`${p.database}: ${p.phase === 'connect' ? 'connecting' : `${p.tables} tables in the catalog`}\n`);
    },
    stop() { if (started) bar.stop(); },
  };
}
