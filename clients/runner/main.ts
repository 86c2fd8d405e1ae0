// The runner process: `node dist/clients/runner/main.js --spec <file> --out <dir> [--rank N]`.
// Process glue only (argv, signals, stdout, exit code); the work is in run.ts,
// once per rank: the process's own, or with runner.threads > 1 one rank per
// worker thread (threads.ts).
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../engine/clock.js';
import { RUNNER_EXIT, rankFile, type RunnerLine } from '../../api/runner-contract.js';
import { doneRecord } from './results.js';
import { runRunner } from './run.js';
import { readSpec } from './spec.js';
import { runThreads } from './threads.js';

const USAGE = 'usage: node dist/clients/runner/main.js --spec <spec.json> --out <dir> [--rank N]  (rank defaults to $SLURM_PROCID or 0; with the spec\'s threads: T, process N runs ranks N*T .. N*T+T-1)';

function fail(text: string): never {
  process.stderr.write(`aifb-runner: ${text}\n${USAGE}\n`);
  process.exit(RUNNER_EXIT.config);
}

function parseRank(value: string | undefined, from: string): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value)) fail(`${from} must be a non-negative whole number, got "${value}"`);
  return Number(value);
}

async function main(): Promise<void> {
  // Results are for the user and their group, also when the runner is started by hand.
  process.umask(0o027);
  let values: { spec?: string; out?: string; rank?: string };
  try {
    ({ values } = parseArgs({ options: { spec: { type: 'string' }, out: { type: 'string' }, rank: { type: 'string' } }, strict: true }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (!values.spec) fail('--spec is required: the spec.json the controller wrote');
  if (!values.out) fail('--out is required: the folder for rank-N result files');
  const processRank = values.rank !== undefined ? parseRank(values.rank, '--rank') : parseRank(process.env.SLURM_PROCID, 'SLURM_PROCID');
  const outDir = values.out;
  // An unreadable spec runs as one rank, which says what is wrong with it.
  const read = await readSpec(values.spec);
  const threads = (read.ok && read.spec.threads) || 1;
  const ranks = Array.from({ length: threads }, (_, t) => processRank * threads + t);

  const emit = (line: RunnerLine) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const ctl = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`aifb-runner: ${name} received; stopping and writing partial results (send again to quit at once)\n`);
      ctl.abort();
      return;
    }
    // Second signal: leave now, but still leave a done file behind.
    const reason = `${name} received twice; quit without writing results`;
    for (const rank of ranks) {
      try {
        writeFileSync(join(outDir, rankFile(rank, 'done')), `${JSON.stringify(doneRecord(rank, RUNNER_EXIT.interrupted, reason), null, 2)}\n`);
      } catch {
        // Nothing more we can do on the way out.
      }
      emit({ event: 'done', rank, exitCode: RUNNER_EXIT.interrupted, reason });
    }
    process.exit(RUNNER_EXIT.interrupted);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const common = {
    specPath: values.spec,
    read,
    outDir,
    signal: ctl.signal,
    emit,
    warn: (m: string) => process.stderr.write(`aifb-runner: ${m}\n`),
    report: (text: string) => process.stderr.write(text),
  };
  const code = threads > 1 ? await runThreads({ ...common, ranks }) : await runRunner({ ...common, rank: processRank, clock: systemClock });
  // Exit explicitly: a request abandoned after the drain timeout may still hold the loop open.
  process.exit(code);
}

main().catch((e) => {
  process.stderr.write(`aifb-runner: crashed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(RUNNER_EXIT.crashed);
});
