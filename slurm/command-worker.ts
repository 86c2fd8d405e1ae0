// The thread SLURM commands are spawned from (command-thread.ts says why): runs
// each request through runCommand and posts its outcome back; an abort message
// aborts the one command it names.
import { parentPort } from 'node:worker_threads';
import { runCommand } from './run-command.js';
import type { ThreadRequest, ThreadReply } from './command-thread.js';

const aborts = new Map<number, AbortController>();

parentPort!.on('message', (m: ThreadRequest) => {
  if (m.type === 'abort') return aborts.get(m.id)?.abort();
  const abort = new AbortController();
  aborts.set(m.id, abort);
  void runCommand(m.argv, { ...m.opts, signal: abort.signal }).then((outcome) => {
    aborts.delete(m.id);
    parentPort!.postMessage({ id: m.id, outcome } satisfies ThreadReply);
  });
});
