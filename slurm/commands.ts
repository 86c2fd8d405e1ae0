// The one place aifb runs SLURM binaries (sbatch, squeue, scontrol, sacct,
// scancel): each call has a timeout and an abort signal, and failures become typed errors.
import { CommandThread } from './command-thread.js';

export interface SlurmJob {
  jobId: string;
  name: string;
  comment: string;
  /** Base state: PENDING RUNNING COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL PREEMPTED BOOT_FAIL OUT_OF_MEMORY REQUEUED COMPLETING ... */
  state: string;
  reason?: string;
  nodes?: string;
  exitCode?: number | null;
  signal?: number | null;
  /** ISO 8601 times; absent when SLURM has none. */
  submitTime?: string;
  startTime?: string;
  endTime?: string;
}

/** slurmctld could not be reached (down, restarting, or overloaded); retrying later may work. */
export class SlurmUnavailable extends Error {
  constructor(
    readonly argv: string[],
    detail: string,
  ) {
    super(
      `SLURM is unavailable: ${argv[0]} could not reach slurmctld (${detail}). ` +
        'Check that slurmctld runs and answers ("scontrol ping"); aifb retries on its own.',
    );
    this.name = 'SlurmUnavailable';
  }
}

/** A SLURM command failed for a reason other than an unreachable controller; carries its stderr. */
export class SlurmCommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly stderr: string,
    readonly exitCode?: number,
  ) {
    super(`${argv.join(' ')} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${stderr.trim() || 'no error output'}`);
    this.name = 'SlurmCommandError';
  }
}

/**
 * sbatch refused the job for a limit on what this user may have queued
 * (QOSMaxSubmitJobPerUserLimit and the like): it may be accepted once some of
 * the user's jobs have ended.
 */
export class SubmitLimited extends SlurmCommandError {
  override name = 'SubmitLimited';
}

// What sbatch says when an accounting or QOS policy refuses the submission.
const SUBMIT_LIMIT = /violates accounting\/QOS policy|MaxSubmitJob|submit limit/i;

export interface SlurmOptions {
  /** Per command; SLURM clients retry an absent slurmctld for ~10 s (scontrol ~20 s) before giving up. */
  timeoutMs?: number;
  /** Called with each argv before it runs (the benchmark counts commands per poll). */
  onCommand?: (argv: string[]) => void;
  /** Called with each argv and the bytes of its output once it returns (the benchmark's bytes per poll). */
  onOutput?: (argv: string[], bytes: number) => void;
  /** Extra environment for the commands, e.g. SLURM_CONF. */
  env?: Record<string, string>;
  /** Where commands are spawned; by default a worker thread of this process's own (command-thread.ts). */
  thread?: CommandThread;
  /** SLURM commands under way at once; the rest wait their turn, in order (default 8). */
  maxConcurrent?: number;
}

/** One command thread for every Slurm of the process. */
let shared: CommandThread | undefined;

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const UNREACHABLE =
  /Unable to contact slurm controller|Socket timed out|Connection refused|Zero Bytes were transmitted|Communication connection failure|Transport endpoint is not connected|Slurm backup controller in standby mode/i;
const INVALID_JOB = /Invalid job id specified/i;
const JOB_ID = /^\d+(_\d+)?$/;
const ALREADY_DONE = /already completing or completed|Invalid job id specified/i;
// What sacct says on a cluster that keeps no accounting (AccountingStorageType=accounting_storage/none).
const NO_ACCOUNTING = /accounting storage is disabled|not running a supported accounting_storage plugin/i;

export class Slurm {
  private readonly timeoutMs: number;
  /** Set once sacct said the cluster keeps no accounting: it is not asked again. */
  private noAccounting = false;
  private readonly thread: CommandThread;
  /** Commands under way, and the turns of those waiting for one to end. */
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly options: SlurmOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.thread = options.thread ?? (shared ??= new CommandThread());
  }

  /**
   * Two hundred resources copied in at once would otherwise start two hundred
   * sbatch processes at once on a shared login node, each a connection to
   * slurmctld. A few at a time cost nothing in speed: 200 submissions on the
   * 2-core machine reached sbatch at p95 5.1-5.8 s with 2, 4, 8 or 16 at a
   * time (measure() of test/bench/slurm-scale.ts).
   */
  private async turn(): Promise<() => void> {
    const max = this.options.maxConcurrent ?? 8;
    if (this.running >= max) await new Promise<void>((r) => this.waiting.push(r));
    else this.running++;
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }

  /** Submits a batch script; returns the job id. */
  async submit(scriptPath: string, opts: CallOptions & { cwd?: string } = {}): Promise<string> {
    const argv = ['sbatch', '--parsable', scriptPath];
    const r = await this.run(argv, opts, opts.cwd, submitEnv(process.env));
    if (r.exitCode !== 0) throw SUBMIT_LIMIT.test(r.stderr) ? new SubmitLimited(argv, r.stderr, r.exitCode) : this.failure(argv, r);
    // --parsable prints "<id>" or "<id>;<cluster>".
    const jobId = r.stdout.trim().split(';')[0];
    if (!JOB_ID.test(jobId)) throw new SlurmCommandError(argv, `unexpected output ${JSON.stringify(r.stdout)}`, r.exitCode);
    return jobId;
  }

  /**
   * This user's jobs, from ONE squeue call. By default only aifb's jobs (names
   * starting with `aifb-`); `all: true` keeps every job of the user.
   *
   * Not `--json`: SLURM 22.05 ignores `--me` with it and returns every job of
   * every user (about 3 KB each), so a busy cluster's queue would be parsed each
   * poll. The fixed-format listing with `--me` asks slurmctld for this user's
   * jobs only, so the bytes read stay flat in other users' jobs.
   */
  async queue(opts: CallOptions & { all?: boolean } = {}): Promise<SlurmJob[]> {
    const argv = ['squeue', '--me', '--states=all', '--noheader', `--Format=${QUEUE_FIELDS.map((f) => `${f}:${SEP}`).join(',')}`];
    const r = await this.run(argv, opts);
    if (r.exitCode !== 0) throw this.failure(argv, r);
    const jobs: SlurmJob[] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const job = fromSqueueLine(line);
      if (!job) throw new SlurmCommandError(argv, `unexpected line ${JSON.stringify(line.slice(0, 200))}`, r.exitCode);
      if (opts.all || job.name.startsWith('aifb-')) jobs.push(job);
    }
    return jobs;
  }

  /** One job from `scontrol show job`; undefined once SLURM has forgotten it (MinJobAge passed). */
  async show(jobId: string, opts: CallOptions = {}): Promise<SlurmJob | undefined> {
    checkJobId(jobId);
    const argv = ['scontrol', 'show', 'job', '-o', jobId];
    const r = await this.run(argv, opts);
    if (r.exitCode !== 0) {
      if (INVALID_JOB.test(r.stderr)) return undefined;
      throw this.failure(argv, r);
    }
    const line = r.stdout.split('\n').find((l) => l.startsWith(`JobId=${jobId} `)) ?? r.stdout.split('\n')[0];
    if (!line?.trim()) return undefined;
    return fromScontrol(parseScontrolLine(line));
  }

  /**
   * What accounting recorded of these jobs (their end, once slurmctld has
   * forgotten them), from ONE sacct call for all; jobs it has no record of are
   * left out. undefined where the cluster keeps no accounting (sacct says so
   * once; it is not asked again).
   */
  async accounting(jobIds: string[], opts: CallOptions = {}): Promise<SlurmJob[] | undefined> {
    if (this.noAccounting) return undefined;
    if (jobIds.length === 0) return [];
    jobIds.forEach(checkJobId);
    // -X: the job's allocation only, not its steps; with -j, sacct searches from the epoch.
    const argv = ['sacct', '-X', '--noheader', '--parsable2', `--delimiter=${SEP}`, `--format=${ACCT_FIELDS.join(',')}`, '-j', jobIds.join(',')];
    const r = await this.run(argv, opts);
    if (r.exitCode !== 0) {
      if (NO_ACCOUNTING.test(r.stderr)) {
        this.noAccounting = true;
        return undefined;
      }
      throw this.failure(argv, r);
    }
    const jobs: SlurmJob[] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const job = fromSacctLine(line);
      if (!job) throw new SlurmCommandError(argv, `unexpected line ${JSON.stringify(line.slice(0, 200))}`, r.exitCode);
      jobs.push(job);
    }
    return jobs;
  }

  /**
   * Cancels a job; a job that is already gone is not an error. `signal` as a
   * string (e.g. 'USR1') is sent to the batch shell and every step instead of
   * ending the job; as an AbortSignal it aborts this call.
   */
  async cancel(jobId: string, opts: Omit<CallOptions, 'signal'> & { signal?: string | AbortSignal } = {}): Promise<void> {
    checkJobId(jobId);
    const send = typeof opts.signal === 'string' ? opts.signal : undefined;
    const abort = typeof opts.signal === 'string' ? undefined : opts.signal;
    if (send !== undefined && !/^(SIG)?[A-Z0-9]+$/.test(send)) throw new Error(`invalid signal ${JSON.stringify(send)}: use a name like USR1 or TERM`);
    const argv = ['scancel', ...(send ? ['--full', `--signal=${send}`] : []), jobId];
    const r = await this.run(argv, { timeoutMs: opts.timeoutMs, signal: abort });
    if (r.exitCode !== 0 && !ALREADY_DONE.test(r.stderr)) throw this.failure(argv, r);
  }

  /** `base`, when given, replaces this process's environment (options.env still goes on top). */
  private async run(argv: string[], opts: CallOptions, cwd?: string, base?: NodeJS.ProcessEnv): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    const done = await this.turn();
    // Told when the command starts, not when it queues for a turn.
    this.options.onCommand?.(argv);
    const r = await this.thread
      .run(argv, {
        timeoutMs: timeout,
        signal: opts.signal,
        cwd,
        // Always whole: a worker thread's process.env is a copy taken when it started.
        env: { ...(base ?? process.env), ...this.options.env },
        maxBuffer: 256 * 1024 * 1024,
      })
      .finally(done);
    if (r.kind === 'aborted') throw opts.signal?.reason ?? new Error(`${argv[0]} was aborted`);
    if (r.kind === 'timedOut') throw new SlurmUnavailable(argv, `no answer within ${Math.round(timeout / 1000)} s`);
    if (r.kind === 'missing') {
      throw new SlurmCommandError(argv, `${argv[0]} was not found on PATH: run aifb on a SLURM login node, or start the test cluster with scripts/slurm-up.sh`);
    }
    if (r.kind === 'failed') throw new SlurmCommandError(argv, r.message);
    this.options.onOutput?.(argv, Buffer.byteLength(r.stdout));
    return r;
  }

  private failure(argv: string[], r: { exitCode: number; stderr: string }): Error {
    if (UNREACHABLE.test(r.stderr)) return new SlurmUnavailable(argv, r.stderr.trim().split('\n').pop() ?? '');
    return new SlurmCommandError(argv, r.stderr, r.exitCode);
  }
}

/**
 * sbatch's environment without the SLURM_* variables of the job the controller
 * itself runs in: sbatch hands its whole environment to the new job, and its
 * allocation's SLURM_MEM_PER_NODE, SLURM_CPUS_PER_TASK, ... would then shape
 * that job's steps (a multi-rank srun aborts on mutually exclusive memory
 * variables). SLURM_CONF (where SLURM is) stays; SBATCH_* stay too, being how
 * a user gives every job a default account or partition.
 */
export function submitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('SLURM_') || k === 'SLURM_CONF'));
}

function checkJobId(jobId: string): void {
  // argv never meets a shell, but "-x" would still read as an option.
  if (!JOB_ID.test(jobId)) throw new Error(`invalid SLURM job id ${JSON.stringify(jobId)}: expected digits like "12345"`);
}

/** SLURM's state strings carry flags (`CANCELLED by 0`, `COMPLETED+`); keep the base. */
function baseState(s: unknown): string {
  const v = Array.isArray(s) ? s[0] : s;
  return String(v ?? 'UNKNOWN').trim().split(/[\s+]/)[0].toUpperCase();
}

// The listing's columns, each ended by SEP (the ASCII unit separator, which
// no job name or comment aifb writes contains); the comment goes last so a
// stray SEP in it cannot shift the other columns.
const QUEUE_FIELDS = ['JobID', 'Name', 'State', 'Reason', 'NodeList', 'exit_code', 'SubmitTime', 'StartTime', 'EndTime', 'Comment'] as const;
const SEP = '\x1f';

/** One line of the fixed-format listing; undefined when it does not have the columns asked for. */
export function fromSqueueLine(line: string): SlurmJob | undefined {
  const cols = line.split(SEP);
  if (cols.length < QUEUE_FIELDS.length || !JOB_ID.test(cols[0].trim())) return undefined;
  const [jobId, name, state, reason, nodes, exit, submit, start, end] = cols.map((c) => c.trim());
  const comment = cols.slice(QUEUE_FIELDS.length - 1).join(SEP).replace(/\x1f$/, '').trim();
  const none = (v: string): string | undefined => (v === '' || v === '(null)' || v === 'None' || v === 'N/A' ? undefined : v);
  // 22.05 prints the raw wait status: the exit code in the high byte, the signal in the low bits.
  const status = /^\d+$/.test(exit) ? Number(exit) : undefined;
  return {
    jobId,
    name,
    comment: none(comment) ?? '',
    state: baseState(state),
    reason: none(reason),
    nodes: none(nodes),
    exitCode: status === undefined ? null : (status >> 8) & 0xff,
    signal: status === undefined ? null : status & 0x7f,
    submitTime: localTime(submit),
    startTime: localTime(start),
    endTime: localTime(end),
  };
}

// sacct's columns, between SEPs (--parsable2 ends a line without one); the comment goes last, as in the listing.
const ACCT_FIELDS = ['JobIDRaw', 'JobName', 'State', 'ExitCode', 'NodeList', 'Submit', 'Start', 'End', 'Comment'] as const;

/** One line of `sacct --parsable2`; undefined when it does not have the columns asked for. */
export function fromSacctLine(line: string): SlurmJob | undefined {
  const cols = line.split(SEP);
  if (cols.length < ACCT_FIELDS.length || !JOB_ID.test(cols[0].trim())) return undefined;
  const [jobId, name, state, exit, nodes, submit, start, end] = cols.map((c) => c.trim());
  const comment = cols.slice(ACCT_FIELDS.length - 1).join(SEP).trim();
  // "code:signal", as scontrol prints it.
  const [code, sig] = exit.split(':');
  return {
    jobId,
    name,
    comment,
    state: baseState(state),
    nodes: nodes === '' || nodes === 'None assigned' ? undefined : nodes,
    exitCode: /^\d+$/.test(code ?? '') ? Number(code) : null,
    signal: /^\d+$/.test(sig ?? '') ? Number(sig) : null,
    submitTime: localTime(submit),
    startTime: localTime(start),
    endTime: localTime(end),
  };
}

/**
 * `Key=value Key2=value with spaces ...` to a map. A value runs until the next
 * ` Key=`; keys hold letters, digits and `_ / :` (`AllocNode:Sid`, `CPUs/Task`).
 */
export function parseScontrolLine(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const keyRe = /(?:^|\s)([A-Za-z][A-Za-z0-9_/:]*)=/g;
  const starts: Array<{ key: string; valueStart: number; keyStart: number }> = [];
  for (let m = keyRe.exec(line); m; m = keyRe.exec(line)) {
    starts.push({ key: m[1], keyStart: m.index, valueStart: m.index + m[0].length });
  }
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].keyStart : line.length;
    if (!out.has(s.key)) out.set(s.key, line.slice(s.valueStart, end).trim());
  });
  return out;
}

/** scontrol prints local time without a zone, or Unknown/None/N/A. */
function localTime(v: string | undefined): string | undefined {
  if (!v || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(v)) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function fromScontrol(f: Map<string, string>): SlurmJob {
  const none = (v: string | undefined): string | undefined => (v === undefined || v === '' || v === '(null)' || v === 'None' ? undefined : v);
  const [code, sig] = (f.get('ExitCode') ?? '').split(':');
  return {
    jobId: f.get('JobId') ?? '',
    name: f.get('JobName') ?? '',
    comment: none(f.get('Comment')) ?? '',
    state: baseState(f.get('JobState')),
    reason: none(f.get('Reason')),
    nodes: none(f.get('NodeList')),
    exitCode: /^\d+$/.test(code ?? '') ? Number(code) : null,
    signal: /^\d+$/.test(sig ?? '') ? Number(sig) : null,
    submitTime: localTime(f.get('SubmitTime')),
    startTime: localTime(f.get('StartTime')),
    endTime: localTime(f.get('EndTime')),
  };
}
