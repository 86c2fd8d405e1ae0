// The SLURM executor: every launch is a batch job, found again by its name and
// comment; job state comes from ONE squeue call per poll interval for all jobs.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { decodeJobComment, encodeJobComment, jobName } from '../../slurm/job-comment.js';
import { shellQuote } from '../../slurm/quote.js';
import { renderJobScript } from '../../slurm/script.js';
import { classify, pendingVerdict } from '../../slurm/states.js';
import { SubmitLimited, type Slurm, type SlurmJob } from '../../slurm/commands.js';
import { systemClock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { pollUntil } from '../runtime/poll.js';
import { launchId, ranksOf, type Executor, type LaunchRef, type LaunchSpec, type LaunchState, type Launched } from './types.js';

export interface SlurmExecutorOptions {
  stateDir: string;
  slurm: Slurm;
  log: Logger;
  /** squeue at most this often, whatever the number of jobs. */
  pollMs?: number;
  /** A job neither squeue nor scontrol knows is declared gone after this long. */
  vanishWindowMs?: number;
  /** Shell lines every job runs first (controller run --job-setup), before the resource's slurm.setup. */
  setup?: string[];
}

/** After a launch, the next listing is due this soon (instead of a whole poll interval), and no sooner. */
const SOON_MS = 1000;

interface JobRecord extends Launched {
  jobId: string;
  script: string;
  /** Set while SLURM does not know the job: when it was first missing. */
  missingSince?: number;
  /** Set while sbatch refuses the job for a submit limit: the refusal; jobId is empty until a submission is accepted. */
  heldBack?: string;
  /** Why aifb cancelled the job while it was pending (a reason it could never start with): its end, for good. */
  refused?: string;
}


export class SlurmExecutor implements Executor {
  readonly name = 'slurm' as const;
  private readonly dir: string;
  private readonly pollMs: number;
  private readonly vanishWindowMs: number;
  private queue = new Map<string, SlurmJob>();
  /** The listing by launch id, built once per listing (every launch looks itself up in it). */
  private byLaunchId: Map<string, SlurmJob> | undefined;
  /** Jobs that left the queue, as scontrol last described them. */
  private readonly departed = new Map<string, SlurmJob>();
  /** When the last listing that succeeded began. */
  private lastPoll = 0;
  /** When the last job was submitted: a listing begun before it does not show it. */
  private lastLaunch = 0;
  private polling?: Promise<void>;
  private readonly records: Map<string, JobRecord>;
  /** Launches held back by a submit limit: when sbatch was last tried, and the try in flight. */
  private readonly lastSubmitTry = new Map<string, number>();
  private readonly submitting = new Map<string, Promise<void>>();

  constructor(private readonly opts: SlurmExecutorOptions) {
    this.dir = join(opts.stateDir, 'slurm-jobs');
    mkdirSync(this.dir, { recursive: true });
    this.pollMs = opts.pollMs ?? 2000;
    this.vanishWindowMs = opts.vanishWindowMs ?? 120_000;
    this.records = this.loadRecords();
  }

  private recordPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  /** Records are read from disk once and kept in memory: every reconcile lists them. */
  private loadRecords(): Map<string, JobRecord> {
    const records = new Map<string, JobRecord>();
    for (const f of readdirSync(this.dir).filter((f) => f.endsWith('.json'))) {
      try {
        const r = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as JobRecord;
        records.set(r.id, r);
      } catch (e) {
        this.opts.log.warn('Ignored unreadable job record', { file: f, error: (e as Error).message });
      }
    }
    return records;
  }

  private read(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  private write(record: JobRecord): void {
    writeFileAtomic.sync(this.recordPath(record.id), JSON.stringify(record, null, 2));
    this.records.set(record.id, record);
  }

  /** One squeue for everything; scontrol only for our jobs that left the queue. */
  async refresh(force = false): Promise<void> {
    const since = Date.now() - this.lastPoll;
    const unlisted = this.lastLaunch >= this.lastPoll && since >= SOON_MS;
    if (!force && since < this.pollMs && !unlisted) return this.polling;
    if (this.polling) return this.polling;
    this.polling = (async () => {
      try {
        const began = Date.now();
        const jobs = await this.opts.slurm.queue();
        this.queue = new Map(jobs.map((j) => [j.jobId, j]));
        this.byLaunchId = undefined;
        this.lastPoll = began;
        for (const record of await this.list()) {
          const r = record as JobRecord;
          if (!r.jobId || this.queue.has(r.jobId) || this.isFinal(this.departed.get(r.jobId))) continue;
          // Submitted while the listing ran: not listed yet, not gone (a burst of launches must not cost an scontrol each).
          if (Date.parse(r.startedAt) >= began) continue;
          const shown = await this.opts.slurm.show(r.jobId);
          if (shown) {
            this.departed.set(r.jobId, shown);
            if (r.missingSince) this.write({ ...r, missingSince: undefined });
          } else if (!r.missingSince) {
            this.write({ ...r, missingSince: Date.now() });
          }
        }
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  private isFinal(job: SlurmJob | undefined): boolean {
    return job !== undefined && classify(job).phase === 'exited';
  }

  /** Our jobs in the current queue listing, by launch id (from their comments). */
  private queuedByLaunchId(): Map<string, SlurmJob> {
    if (this.byLaunchId) return this.byLaunchId;
    const out = new Map<string, SlurmJob>();
    for (const job of this.queue.values()) {
      const ref = decodeJobComment(job.comment);
      if (ref) out.set(launchId(ref), job);
    }
    return (this.byLaunchId = out);
  }

  async find(ref: LaunchRef): Promise<Launched | undefined> {
    const id = launchId(ref);
    const record = this.read(id);
    if (record) return record;
    // The record may be lost (a new state folder): the job comment still says who it is.
    await this.refresh();
    const job = this.queuedByLaunchId().get(id);
    // Same name and attempt is not enough: an older resource of that name had another uid.
    if (!job || decodeJobComment(job.comment)?.uid !== ref.uid) return undefined;
    const adopted: JobRecord = { id, ref, dir: '', startedAt: job.submitTime ?? new Date().toISOString(), jobId: job.jobId, script: '' };
    this.write(adopted);
    return adopted;
  }

  async launch(spec: LaunchSpec): Promise<Launched> {
    const ref: LaunchRef = { kind: spec.kind, name: spec.name, uid: spec.uid, generation: spec.generation, attempt: spec.attempt, role: spec.role };
    const existing = await this.find(ref);
    if (existing) return existing;
    const id = launchId(ref);
    mkdirSync(spec.dir, { recursive: true });
    const script = join(spec.dir, `${spec.role}.sbatch`);
    // Owner-only: it may hold environment values, and other users of a shared node must not read them.
    writeFileSync(script, this.render(spec), { mode: 0o700 });
    let jobId: string;
    try {
      jobId = await this.opts.slurm.submit(script, { cwd: spec.dir });
    } catch (e) {
      if (!(e instanceof SubmitLimited)) throw e;
      // Not a failure of this attempt: the launch waits, pending, and is submitted again (see state()).
      const held: JobRecord = { id, ref, dir: spec.dir, startedAt: new Date().toISOString(), jobId: '', script, heldBack: e.stderr.trim() };
      this.write(held);
      this.lastSubmitTry.set(id, Date.now());
      this.opts.log.warn('SLURM refused a job for a submit limit; will submit it again', { kind: spec.kind, name: spec.name, role: spec.role, error: held.heldBack });
      return held;
    }
    const record: JobRecord = { id, ref, dir: spec.dir, startedAt: new Date().toISOString(), jobId, script };
    this.write(record);
    // The new job should be listed soon, not after a whole poll interval; but a
    // burst of launches must not cost one squeue each: see refresh().
    this.lastLaunch = Date.now();
    this.opts.log.info('Submitted job', { kind: spec.kind, name: spec.name, role: spec.role, attempt: spec.attempt, jobId, script });
    return record;
  }

  /** The job script: exactly what is submitted, kept beside the run for the user to read. */
  render(spec: LaunchSpec): string {
    const ranks = ranksOf(spec);
    // The site's and the resource's preamble (module load Apptainer, ...), as written: they are the user's own commands.
    const lines: string[] = [...(this.opts.setup ?? []), ...(spec.slurm?.setup ?? [])];
    if (spec.endpoint) {
      const tmp = `${spec.endpoint.file}.tmp`;
      lines.push(
        `printf '{"host":"%s","port":%s,"jobId":"%s"}\\n' "$(hostname)" ${spec.endpoint.port} "$SLURM_JOB_ID" > ${shellQuote(tmp)}`,
        `mv ${shellQuote(tmp)} ${shellQuote(spec.endpoint.file)}`,
      );
    }
    const argv = spec.command.map(shellQuote).join(' ');
    if (ranks > 1) {
      // One process per rank; each writes its own log so progress can be followed per rank.
      // One rank failing ends the others rather than leaving them to run out the time
      // limit; SLURM 22.05's srun no longer takes --cpus-per-task from the job, so it is repeated.
      const cpus = spec.slurm?.cpusPerTask !== undefined ? ` --cpus-per-task=${spec.slurm.cpusPerTask}` : '';
      lines.push(
        `srun --nodes=${spec.nodes ?? 1} --ntasks-per-node=${spec.tasksPerNode ?? 1}${cpus} --kill-on-bad-exit=1 --output=${shellQuote(join(spec.dir, `${spec.role}.%t.stdout.log`))} --error=${shellQuote(join(spec.dir, `${spec.role}.%t.stderr.log`))} ${argv}`,
      );
    } else {
      lines.push(`exec ${argv}`);
    }
    return renderJobScript({
      jobName: jobName(spec.kind, spec.name),
      comment: encodeJobComment(spec),
      slurm: spec.slurm ?? {},
      nodes: spec.nodes,
      ntasksPerNode: spec.tasksPerNode,
      gpus: spec.gpus,
      output: join(spec.dir, `${spec.role}.stdout.log`),
      error: join(spec.dir, `${spec.role}.stderr.log`),
      workdir: spec.dir,
      env: spec.env,
      secretEnv: spec.secretEnv,
      lines,
    });
  }

  async state(launched: Launched): Promise<LaunchState> {
    const record = (this.read(launched.id) ?? launched) as JobRecord;
    if (record.refused) return { state: 'exited', exitCode: null, reason: record.refused, retryable: false };
    if (record.heldBack !== undefined) return this.submitAgain(record);
    await this.refresh();
    const job = this.queue.get(record.jobId) ?? this.departed.get(record.jobId);
    if (!job) {
      const fresh = this.read(launched.id) as JobRecord | undefined;
      if (fresh?.missingSince && Date.now() - fresh.missingSince > this.vanishWindowMs) {
        return { state: 'exited', exitCode: null, reason: `job ${record.jobId} is unknown to SLURM (purged before its end was seen)`, retryable: true };
      }
      return { state: 'pending', reason: 'NotYetListed' };
    }
    const c = classify(job);
    if (c.phase === 'pending') return this.pending(record, job, c.reason);
    if (c.phase === 'running') return { state: 'running', node: c.nodes, ...(job.endTime ? { endsAt: job.endTime } : {}) };
    return { state: 'exited', exitCode: c.exitCode ?? null, reason: c.reason, retryable: c.retryable };
  }

  /**
   * A launch sbatch refused for a submit limit: submitted again at most once a
   * poll interval, pending meanwhile with sbatch's words as the reason (so
   * status, maxPendingTime and a delete treat it as any job in the queue).
   */
  private async submitAgain(record: JobRecord): Promise<LaunchState> {
    const waiting: LaunchState = { state: 'pending', reason: `SubmitLimit: sbatch refused the job (${record.heldBack}); aifb submits it again every ${Math.round(this.pollMs / 1000)} s, and no attempt is used up` };
    const tried = this.lastSubmitTry.get(record.id) ?? 0;
    if (Date.now() - tried < this.pollMs) return waiting;
    let inFlight = this.submitting.get(record.id);
    if (!inFlight) {
      this.lastSubmitTry.set(record.id, Date.now());
      inFlight = this.opts.slurm
        .submit(record.script, { cwd: record.dir })
        .then((jobId) => {
          this.write({ ...record, jobId, heldBack: undefined });
          this.lastLaunch = Date.now();
          this.opts.log.info('Submitted job', { kind: record.ref.kind, name: record.ref.name, role: record.ref.role, attempt: record.ref.attempt, jobId, script: record.script });
        })
        .catch((e: unknown) => {
          if (!(e instanceof SubmitLimited)) throw e;
          this.write({ ...record, heldBack: e.stderr.trim() });
        })
        .finally(() => this.submitting.delete(record.id));
      this.submitting.set(record.id, inFlight);
    }
    await inFlight;
    const now = this.read(record.id);
    return now?.heldBack === undefined ? { state: 'pending', reason: 'NotYetListed' } : waiting;
  }

  /**
   * A pending job: waiting is the norm, but a reason it can never start with
   * (a time limit above the partition's) ends it at once, cancelled, with what
   * to change; a reason a person should know is said in the state's reason.
   */
  private async pending(record: JobRecord, job: SlurmJob, reason: string | undefined): Promise<LaunchState> {
    const submitted = job.submitTime ? Date.parse(job.submitTime) : Date.parse(record.startedAt);
    const verdict = pendingVerdict(reason, Date.now() - submitted);
    if (verdict.action === 'wait') return { state: 'pending', reason };
    if (verdict.action === 'surface') return { state: 'pending', reason: verdict.message };
    const refused = `job ${record.jobId} cannot start (${verdict.message}); aifb cancelled it`;
    await this.opts.slurm.cancel(record.jobId);
    this.write({ ...record, refused });
    this.opts.log.warn('Cancelled a job that cannot start', { id: record.id, jobId: record.jobId, reason });
    return { state: 'exited', exitCode: null, reason: refused, retryable: false };
  }

  async stop(launched: Launched, graceMs = 30_000): Promise<void> {
    // A submission in flight may yet be accepted: its job must be cancelled too.
    await this.submitting.get(launched.id)?.catch(() => undefined);
    const record = (this.read(launched.id) ?? launched) as JobRecord;
    if (!record.jobId) return;
    await this.opts.slurm.cancel(record.jobId);
    try {
      await pollUntil(
        async () => {
          await this.refresh(true);
          const job = this.queue.get(record.jobId);
          return !job || classify(job).phase === 'exited' ? true : undefined;
        },
        { clock: systemClock, intervalMs: 500, timeoutMs: graceMs, what: `job ${record.jobId} to leave the queue` },
      );
    } catch {
      this.opts.log.warn('Job still listed after scancel', { jobId: record.jobId, id: launched.id });
    }
  }

  async list(): Promise<Launched[]> {
    return [...this.records.values()];
  }

  async forget(launched: Launched): Promise<void> {
    rmSync(this.recordPath(launched.id), { force: true });
    this.records.delete(launched.id);
  }

  /** Every aifb job SLURM lists now, mine or not (for `aifbctl` and the restart test). */
  listedJobs(): SlurmJob[] {
    return [...this.queue.values()].filter((j) => decodeJobComment(j.comment) !== undefined);
  }
}
