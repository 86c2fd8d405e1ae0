// Benchmark (not a test): with many resources in flight, how many SLURM
// commands does one poll interval cost, and how long from `cp` to `sbatch`?
// Two sizes run in the same process; the ratio shows whether cost grows with N.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../../controller/controller.js';
import { SlurmExecutor } from '../../controller/executor/slurm-executor.js';
import { silentLogger } from '../../controller/runtime/logger.js';
import { resolvePaths } from '../../controller/runtime/paths.js';
import { Slurm } from '../../slurm/commands.js';

const POLL_MS = 1000;

export interface ScaleResult {
  resources: number;
  commandsPerInterval: number;
  squeuePerInterval: number;
  medianCpToSbatchMs: number;
  p95CpToSbatchMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

export async function measure(n: number, intervals = 10): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-bench-'));
  const paths = resolvePaths({ resources: join(dir, 'resources') });
  mkdirSync(paths.resourcesDir, { recursive: true });
  const commands: { at: number; argv: string[] }[] = [];
  const slurm = new Slurm({ onCommand: (argv) => commands.push({ at: Date.now(), argv }) });
  const executor = new SlurmExecutor({ stateDir: paths.stateDir, slurm, log: silentLogger, pollMs: POLL_MS });
  const controller = new Controller({ paths, executor, log: silentLogger, resyncMs: 60_000, workers: 8 });
  await controller.start();
  const written = new Map<string, number>();
  try {
    for (let i = 0; i < n; i++) {
      const name = `scale-${n}-${i}`;
      // --begin keeps every job pending: the load here is SLURM's bookkeeping, not the runners.
      const yaml = `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: ${name}\nspec:\n  workload: { type: file-storage }\n  load: { duration: 1m }\n  runner:\n    slurm: { extraDirectives: ["--begin=now+1hour"] }\n`;
      written.set(name, Date.now());
      writeFileSync(join(paths.resourcesDir, `${name}.yaml`), yaml);
    }
    const sbatchAt = new Map<string, number>();
    const deadline = Date.now() + 300_000;
    while (sbatchAt.size < n && Date.now() < deadline) {
      for (const c of commands) {
        if (c.argv[0] !== 'sbatch') continue;
        const name = /\/runs\/([^/]+)\//.exec(c.argv[c.argv.length - 1])?.[1];
        if (name && !sbatchAt.has(name)) sbatchAt.set(name, c.at);
      }
      await sleep(200);
    }
    if (sbatchAt.size < n) throw new Error(`only ${sbatchAt.size} of ${n} benchmarks were submitted in 5 minutes`);
    await controller.idle();
    // Steady state: count every SLURM command over whole poll intervals.
    await sleep(2 * POLL_MS);
    const from = commands.length;
    await sleep(intervals * POLL_MS);
    const window = commands.slice(from);
    const lags = [...sbatchAt].map(([name, at]) => at - written.get(name)!);
    return {
      resources: n,
      commandsPerInterval: window.length / intervals,
      squeuePerInterval: window.filter((c) => c.argv[0] === 'squeue').length / intervals,
      medianCpToSbatchMs: quantile(lags, 0.5),
      p95CpToSbatchMs: quantile(lags, 0.95),
    };
  } finally {
    await controller.stop();
    for (const l of await executor.list()) await executor.stop(l, 10_000).catch(() => undefined);
  }
}
