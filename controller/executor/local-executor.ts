// The local executor: runs services and runners as processes on this host,
// tracked by record files in the state folder so a restarted controller adopts them.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../runtime/atomic-write.js';
import { resolveSecretEnv } from '../../clients/secrets.js';
import { systemClock } from '../runtime/clock.js';
import { pollUntil } from '../runtime/poll.js';
import { launchId, ProgramNotFound, ranksOf, type Executor, type LaunchRef, type LaunchSpec, type LaunchState, type Launched } from './types.js';

interface ProcRecord extends Launched {
  /** Kernel start time of each pid (from /proc), so a reused pid is never mistaken for ours. */
  startTimes: (string | null)[];
  command: string[];
}

interface ExitRecord {
  exitCodes: (number | null)[];
}

function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces, start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number, startTime: string | null): boolean {
  const now = procStartTime(pid);
  if (now === null || (startTime !== null && now !== startTime)) return false;
  // A zombie has ended; only its parent has not collected it yet.
  return processState(pid) !== 'Z';
}

function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomicSync(path, JSON.stringify(value, null, 2), { fsync: true });
}


export class LocalExecutor implements Executor {
  readonly name = 'local' as const;
  private readonly procDir: string;
  /** Records are read from disk once and kept in memory: every reconcile and sweep lists them. */
  private readonly records = new Map<string, ProcRecord>();

  constructor(stateDir: string) {
    this.procDir = join(stateDir, 'procs');
    mkdirSync(this.procDir, { recursive: true });
    for (const f of readdirSync(this.procDir)) {
      if (!f.endsWith('.json') || f.endsWith('.exit.json')) continue;
      try {
        const r = JSON.parse(readFileSync(join(this.procDir, f), 'utf8')) as ProcRecord;
        this.records.set(r.id, r);
      } catch {
        // Half a record from a crash mid-write: nothing was launched under it that we could stop.
      }
    }
  }

  private recordPath(id: string): string {
    return join(this.procDir, `${id}.json`);
  }

  private exitPath(id: string): string {
    return join(this.procDir, `${id}.exit.json`);
  }

  private read(id: string): ProcRecord | undefined {
    return this.records.get(id);
  }

  async find(ref: LaunchRef): Promise<Launched | undefined> {
    return this.read(launchId(ref));
  }

  async launch(spec: LaunchSpec): Promise<Launched> {
    const id = launchId(spec);
    const existing = this.read(id);
    if (existing) return existing;
    mkdirSync(spec.dir, { recursive: true });
    // Secrets are read here, at the last moment, and live only in the child's environment.
    const secrets = resolveSecretEnv(spec.secretEnv ?? {}, `${spec.kind} ${spec.name}: secret`);
    const ranks = ranksOf(spec);
    const pids: number[] = [];
    const exitCodes: (number | null)[] = new Array(ranks).fill(undefined);
    let exited = 0;
    for (let rank = 0; rank < ranks; rank++) {
      const suffix = ranks > 1 ? `.${rank}` : '';
      const out = openSync(join(spec.dir, `${spec.role}${suffix}.stdout.log`), 'a');
      const err = openSync(join(spec.dir, `${spec.role}${suffix}.stderr.log`), 'a');
      const argv = ranks > 1 ? [...spec.command, '--rank', String(rank)] : spec.command;
      const child = spawn(argv[0], argv.slice(1), {
        cwd: spec.dir,
        env: { ...process.env, ...spec.env, ...secrets, AIFB_LAUNCH_ID: id },
        // Own process group, so stop() reaches its children and a dying controller does not take it along.
        detached: true,
        stdio: ['ignore', out, err],
      });
      closeSync(out);
      closeSync(err);
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('spawn', () => resolve(child.pid!));
        child.once('error', (e) => {
          const code = (e as NodeJS.ErrnoException).code ?? '';
          reject(code === 'ENOENT' || code === 'EACCES' ? new ProgramNotFound(argv[0], code) : new Error(`could not start ${argv[0]}: ${e.message}`));
        });
      });
      pids.push(pid);
      // While this controller is the parent it learns the real exit code; after a
      // restart the runner's own done file tells the outcome instead.
      child.once('exit', (code, signal) => {
        exitCodes[rank] = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null);
        // A launch that was stopped and forgotten already needs no exit record.
        if (++exited === ranks && this.records.has(id)) writeJsonAtomic(this.exitPath(id), { exitCodes } satisfies ExitRecord);
      });
      child.unref();
    }
    const record: ProcRecord = {
      id,
      ref: { kind: spec.kind, name: spec.name, uid: spec.uid, generation: spec.generation, attempt: spec.attempt, role: spec.role },
      dir: spec.dir,
      startedAt: new Date().toISOString(),
      pids,
      startTimes: pids.map(procStartTime),
      command: spec.command,
      node: 'localhost',
    };
    writeJsonAtomic(this.recordPath(id), record);
    this.records.set(id, record);
    return record;
  }

  async state(launched: Launched): Promise<LaunchState> {
    const record = this.read(launched.id) ?? (launched as ProcRecord);
    const startTimes = record.startTimes ?? [];
    const running = (record.pids ?? []).some((pid, i) => alive(pid, startTimes[i] ?? null));
    if (running) return { state: 'running', node: 'localhost' };
    if (existsSync(this.exitPath(launched.id))) {
      const { exitCodes } = JSON.parse(readFileSync(this.exitPath(launched.id), 'utf8')) as ExitRecord;
      const failed = exitCodes.find((c) => c !== 0);
      return { state: 'exited', exitCode: failed === undefined ? 0 : failed };
    }
    return { state: 'exited', exitCode: null, reason: 'the process ended while the controller was not its parent; its exit code is unknown' };
  }

  async stop(launched: Launched, graceMs = 5_000): Promise<void> {
    const record = this.read(launched.id) ?? (launched as ProcRecord);
    const live = () => (record.pids ?? []).filter((pid, i) => alive(pid, record.startTimes?.[i] ?? null));
    const signal = (sig: NodeJS.Signals) =>
      live().forEach((pid) => {
        try {
          process.kill(-pid, sig);
        } catch {
          try {
            process.kill(pid, sig);
          } catch {
            /* already gone */
          }
        }
      });
    const gone = async () => (live().length === 0 ? true : undefined);
    signal('SIGTERM');
    try {
      await pollUntil(gone, { clock: systemClock, intervalMs: 50, timeoutMs: graceMs, what: `${launched.id} to end after SIGTERM` });
    } catch {
      // It ignored SIGTERM for the whole grace period.
      signal('SIGKILL');
      await pollUntil(gone, { clock: systemClock, intervalMs: 20, what: `${launched.id} to end after SIGKILL` });
    }
  }

  async list(): Promise<Launched[]> {
    return [...this.records.values()];
  }

  async forget(launched: Launched): Promise<void> {
    this.records.delete(launched.id);
    rmSync(this.recordPath(launched.id), { force: true });
    rmSync(this.exitPath(launched.id), { force: true });
  }
}

