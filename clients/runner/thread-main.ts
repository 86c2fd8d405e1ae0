// One rank of a runner process with runner.threads > 1, in its worker thread
// (threads.ts starts it): the rank runs as run.ts runs it in a process of its
// own, and what it would print goes to the main thread instead.
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../engine/clock.js';
import { runRunner } from './run.js';
import type { ThreadInput, ThreadMessage } from './threads.js';

const port = parentPort!;
const input = workerData as ThreadInput;
const post = (m: ThreadMessage) => port.postMessage(m);
const ctl = new AbortController();
port.on('message', (m) => {
  if (m === 'abort') ctl.abort();
});

const code = await runRunner({
  specPath: input.specPath,
  read: input.read,
  outDir: input.outDir,
  rank: input.rank,
  clock: systemClock,
  signal: ctl.signal,
  emit: (line) => post({ kind: 'line', line }),
  warn: (text) => post({ kind: 'warn', text }),
  report: (text) => post({ kind: 'report', text }),
});
// Its last word: the main thread ends the thread then, since a request abandoned after the drain timeout may still hold its loop open.
post({ kind: 'exit', code });
