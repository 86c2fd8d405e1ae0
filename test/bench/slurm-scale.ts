// Benchmark (not a test): what the controller costs the SLURM cluster (issue
// 13, row 6). With N of aifb's jobs in the queue, how many SLURM commands does
// one poll interval cost, how many bytes does aifb read per interval, and how
// long from `cp` to `sbatch`? Then the same with another user's jobs in the
// queue (a second local user, jobs held): aifb's cost must not grow with them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller } from '../../controller/controller.js';
import { SlurmExecutor } from '../../controller/executor/slurm-executor.js';
import { silentLogger } from '../../controller/runtime/logger.js';
import { resolvePaths } from '../../controller/runtime/paths.js';
import { Slurm } from '../../slurm/commands.js';

const POLL_MS = 1000;
/** The second user whose jobs fill the queue; created here when missing. */
export const OTHER_USER = 'aifbbench';

export interface Cost {
  commandsPerInterval: number;
  squeuePerInterval: number;
  bytesPerInterval: number;
}

export interface ScaleResult {
  resources: number;
  alone: Cost;
  /** The same steady state with otherJobs of another user in the queue. */
  crowded: Cost;
  otherJobs: number;
  /** The peer: what one `squeue --json --me` (the old listing; 22.05 ignores --me with it) returns in the crowded queue. */
  jsonBytes: number;
  medianCpToSbatchMs: number;
  p95CpToSbatchMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** scripts/slurm-up.sh's project account: the test cluster accepts only jobs of a user of an account. */
const ACCOUNT = 'p200981';

/** Creates the other user (no home) unless it exists, and makes it a user of the test account; root only. */
export function ensureOtherUser(): void {
  if (spawnSync('id', ['-u', OTHER_USER]).status !== 0) execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
  const assoc = execFileSync('sacctmgr', ['-n', '-P', 'show', 'assoc', 'where', `user=${OTHER_USER}`, `account=${ACCOUNT}`, 'format=user'], { encoding: 'utf8' });
  if (assoc.trim() === '') execFileSync('sacctmgr', ['-i', 'add', 'user', OTHER_USER, `account=${ACCOUNT}`], { stdio: 'ignore' });
}

/** Submits n held jobs as the other user, 8 sbatch at a time; they never run. */
export async function fillQueue(n: number): Promise<void> {
  const { execa } = await import('execa');
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      await execa('runuser', ['-u', OTHER_USER, '--', 'sbatch', '--hold', '--chdir=/tmp', '-o', '/dev/null', '-J', `other-${i}`, '--wrap', 'sleep 60']);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

export function emptyQueue(): void {
  spawnSync('scancel', ['-u', OTHER_USER]);
}

export async function measure(n: number, otherJobs: number, intervals = 10): Promise<ScaleResult> {
  // The controller's timers never hold a process open (controller/runtime/clock.ts): its server
  // does. Without this one, the process ended while the cleanup waited for its jobs to leave the queue.
  const hold = setInterval(() => undefined, 60_000);
  const dir = mkdtempSync(join(tmpdir(), 'aifb-bench-'));
  const paths = resolvePaths({ resources: join(dir, 'resources') });
  mkdirSync(paths.resourcesDir, { recursive: true });
  const commands: { at: number; argv: string[] }[] = [];
  let bytes = 0;
  const slurm = new Slurm({ onCommand: (argv) => commands.push({ at: Date.now(), argv }), onOutput: (_argv, b) => (bytes += b) });
  const executor = new SlurmExecutor({ stateDir: paths.stateDir, slurm, log: silentLogger, pollMs: POLL_MS });
  const controller = new Controller({ paths, executor, log: silentLogger, resyncMs: 60_000, workers: 8 });
  await controller.start();
  const written = new Map<string, number>();
  try {
    // As `cp many.yaml resources/` would: every file written at once.
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const name = `scale-${n}-${i}`;
        // --begin keeps every job pending: the load here is SLURM's bookkeeping, not the runners.
        const yaml = `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: ${name}\nspec:\n  workload: { type: file-storage }\n  load: { duration: 1m }\n  runner:\n    slurm: { extraDirectives: ["--begin=now+1hour"] }\n`;
        written.set(name, Date.now());
        return writeFile(join(paths.resourcesDir, `${name}.yaml`), yaml);
      }),
    );
    const sbatchAt = new Map<string, number>();
    const deadline = Date.now() + 600_000;
    while (sbatchAt.size < n && Date.now() < deadline) {
      for (const c of commands) {
        if (c.argv[0] !== 'sbatch') continue;
        const name = /\/runs\/([^/]+)\//.exec(c.argv[c.argv.length - 1])?.[1];
        if (name && !sbatchAt.has(name)) sbatchAt.set(name, c.at);
      }
      await sleep(200);
    }
    if (sbatchAt.size < n) throw new Error(`only ${sbatchAt.size} of ${n} benchmarks were submitted in 10 minutes`);
    await controller.idle();
    // Steady state: count every SLURM command over whole poll intervals.
    const window = async (): Promise<Cost> => {
      await sleep(2 * POLL_MS);
      const from = commands.length;
      const bytesFrom = bytes;
      await sleep(intervals * POLL_MS);
      const seen = commands.slice(from);
      return {
        commandsPerInterval: seen.length / intervals,
        squeuePerInterval: seen.filter((c) => c.argv[0] === 'squeue').length / intervals,
        bytesPerInterval: Math.round((bytes - bytesFrom) / intervals),
      };
    };
    const alone = await window();
    await fillQueue(otherJobs);
    const crowded = await window();
    const jsonBytes = execFileSync('squeue', ['--json', '--me'], { maxBuffer: 1 << 30 }).length;
    const lags = [...sbatchAt].map(([name, at]) => at - written.get(name)!);
    return { resources: n, alone, crowded, otherJobs, jsonBytes, medianCpToSbatchMs: quantile(lags, 0.5), p95CpToSbatchMs: quantile(lags, 0.95) };
  } finally {
    try {
      emptyQueue();
      await controller.stop();
      await Promise.all((await executor.list()).map((l) => executor.stop(l, 10_000).catch(() => undefined)));
    } finally {
      clearInterval(hold);
    }
  }
}

export async function main(sizes = [10, 100, 200, 1000], otherJobs = 1000): Promise<void> {
  ensureOtherUser();
  emptyQueue();
  const version = execFileSync('squeue', ['--version'], { encoding: 'utf8' }).trim();
  console.log(`slurm cost: aifb's jobs pending in the queue, poll interval ${POLL_MS} ms, then ${otherJobs} held jobs of user ${OTHER_USER} added (${version})`);
  const rows: ScaleResult[] = [];
  for (const n of sizes) rows.push(await measure(n, otherJobs));
  console.log('AIFB_JOBS  CMDS/POLL  SQUEUE/POLL  BYTES/POLL  +OTHERS: CMDS/POLL  BYTES/POLL  BYTES_RATIO  JSON_BYTES  CP->SBATCH_P50  P95 (ms)');
  for (const r of rows) {
    console.log(
      [
        String(r.resources).padStart(9),
        r.alone.commandsPerInterval.toFixed(2).padStart(9),
        r.alone.squeuePerInterval.toFixed(2).padStart(11),
        String(r.alone.bytesPerInterval).padStart(10),
        r.crowded.commandsPerInterval.toFixed(2).padStart(18),
        String(r.crowded.bytesPerInterval).padStart(10),
        (r.crowded.bytesPerInterval / Math.max(1, r.alone.bytesPerInterval)).toFixed(2).padStart(11),
        String(r.jsonBytes).padStart(10),
        String(r.medianCpToSbatchMs).padStart(14),
        String(r.p95CpToSbatchMs).padStart(8),
      ].join('  '),
    );
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  console.log(`ratio ${last.resources}/${first.resources} jobs: SLURM commands per poll x${(last.alone.commandsPerInterval / first.alone.commandsPerInterval).toFixed(2)} (1.00 = constant)`);
  console.log('JSON_BYTES: one `squeue --json --me` in the crowded queue, the listing aifb used before (SLURM 22.05 ignores --me with --json)');
  console.log(`goal: commands and bytes per poll flat in the other user's jobs (BYTES_RATIO 1.00); cp->sbatch p95 under 2000 ms at 200 resources`);
}
