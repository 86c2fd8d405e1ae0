// The SLURM executor: every launch is a batch job, found again by its name and
// comment; job state comes from ONE squeue call per poll interval for all jobs.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../runtime/atomic-write.js';
import { decodeJobComment, encodeJobComment, jobName } from '../../slurm/job-comment.js';
import { shellQuote } from '../../slurm/quote.js';
import { renderJobScript } from '../../slurm/script.js';
import { classify, pendingVerdict, submitRefusal } from '../../slurm/states.js';
import { SlurmCommandError, SubmitLimited, type Slurm, type SlurmJob } from '../../slurm/commands.js';
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
  /** A job neither squeue, scontrol nor sacct knows is declared gone after this long. */
  vanishWindowMs?: number;
  /** Shell lines every job runs first (controller run --job-setup), before the resource's slurm.setup. */
  setup?: string[];
  /**
   * At most this many of this controller's jobs submitted and not ended at
   * once; a launch beyond it waits, pending, and is submitted (first come,
   * first served) when one ends. Undefined: no cap.
   */
  maxJobsInFlight?: number;
}

/** After a launch, the next listing is due this soon (instead of a whole poll interval), and no sooner. */
const SOON_MS = 1000;

interface JobRecord extends Launched {
  jobId: string;
  script: string;
  /** Set while SLURM does not know the job: when it was first missing. */
  missingSince?: number;
  /**
   * jobId is empty until a submission is accepted: the launch waits for a slot
   * under maxJobsInFlight, or sbatch refused it for a submit limit (then this
   * holds sbatch's words).
   */
  heldBack?: string;
  /** Why the job can never run (sbatch refused it for good, or aifb cancelled it for a pending reason it cannot start with): its end. */
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
  /** Submissions under way, by launch id: they count against maxJobsInFlight, and stop() waits for them. */
  private readonly submitting = new Map<string, Promise<JobRecord>>();
  /** Whether the last sacct call failed, so a lasting failure is logged once. */
  private sacctFailing = false;

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
    writeFileAtomicSync(this.recordPath(record.id), JSON.stringify(record, null, 2), { fsync: true });
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
        const forgotten: JobRecord[] = [];
        for (const record of await this.list()) {
          const r = record as JobRecord;
          if (!r.jobId || this.queue.has(r.jobId) || this.isFinal(this.departed.get(r.jobId))) continue;
          // Submitted while the listing ran: not listed yet, not gone (a burst of launches must not cost an scontrol each).
          if (Date.parse(r.startedAt) >= began) continue;
          const shown = await this.opts.slurm.show(r.jobId);
          if (shown) this.found(r, shown);
          else forgotten.push(r);
        }
        // slurmctld forgets a job MinJobAge after its end; accounting keeps the end.
        const ended = await this.accounted(forgotten);
        for (const r of forgotten) {
          const job = ended.get(r.jobId);
          if (job) this.found(r, job);
          else if (!r.missingSince) this.write({ ...r, missingSince: Date.now() });
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

  private found(record: JobRecord, job: SlurmJob): void {
    this.departed.set(record.jobId, job);
    if (record.missingSince) this.write({ ...record, missingSince: undefined });
  }

  /**
   * The recorded ends of these jobs, from one sacct call; empty where the
   * cluster keeps no accounting, or sacct fails (the jobs then count as
   * missing, as before accounting was asked).
   */
  private async accounted(records: JobRecord[]): Promise<Map<string, SlurmJob>> {
    const out = new Map<string, SlurmJob>();
    if (records.length === 0) return out;
    let jobs: SlurmJob[] | undefined;
    try {
      jobs = await this.opts.slurm.accounting(records.map((r) => r.jobId));
      if (this.sacctFailing) this.opts.log.info('sacct answers again');
      this.sacctFailing = false;
    } catch (e) {
      if (!this.sacctFailing) this.opts.log.warn('sacct failed; jobs slurmctld has forgotten count as missing until it answers', { error: (e as Error).message });
      this.sacctFailing = true;
      return out;
    }
    const byJobId = new Map(records.map((r) => [r.jobId, r]));
    for (const job of jobs ?? []) {
      const record = byJobId.get(job.jobId);
      // A job id given out again (a test cluster's state reset) is another launch's job: the comment says whose.
      const ref = decodeJobComment(job.comment);
      if (!record || (ref && launchId(ref) !== record.id)) continue;
      // Only an end is taken from accounting: a job it still calls running, slurmctld has lost.
      if (this.isFinal(job)) out.set(job.jobId, job);
    }
    return out;
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
    const unsubmitted: JobRecord = { id, ref, dir: spec.dir, startedAt: new Date().toISOString(), jobId: '', script };
    if (this.slotWait(unsubmitted)) {
      // Not a failure of this attempt: the launch waits, pending, and is submitted once a slot frees (see state()).
      this.write(unsubmitted);
      this.opts.log.info('Held back a job: maxJobsInFlight reached', { kind: spec.kind, name: spec.name, role: spec.role, max: this.opts.maxJobsInFlight });
      return unsubmitted;
    }
    return this.submit(unsubmitted);
  }

  /**
   * sbatch for a launch not yet submitted, recorded whatever the outcome: a
   * job id; sbatch's words for a submit limit (the launch waits and is
   * submitted again); or, for a refusal no retry gets past (an account the
   * user may not use), the launch's end.
   */
  private submit(record: JobRecord): Promise<JobRecord> {
    const running = this.submitting.get(record.id);
    if (running) return running;
    const { ref } = record;
    const submission = (async (): Promise<JobRecord> => {
      this.lastSubmitTry.set(record.id, Date.now());
      let next: JobRecord;
      try {
        const jobId = await this.opts.slurm.submit(record.script, { cwd: record.dir });
        next = { ...record, jobId, heldBack: undefined };
        // The new job should be listed soon, not after a whole poll interval; but a
        // burst of launches must not cost one squeue each: see refresh().
        this.lastLaunch = Date.now();
        this.opts.log.info('Submitted job', { kind: ref.kind, name: ref.name, role: ref.role, attempt: ref.attempt, jobId, script: record.script });
      } catch (e) {
        if (e instanceof SubmitLimited) {
          next = { ...record, heldBack: e.stderr.trim() };
          if (record.heldBack === undefined) this.opts.log.warn('SLURM refused a job for a submit limit; will submit it again', { kind: ref.kind, name: ref.name, role: ref.role, error: next.heldBack });
        } else {
          const refusal = e instanceof SlurmCommandError ? submitRefusal(e.stderr, ref.role === 'runner' ? 'spec.runner.slurm' : 'spec.slurm') : undefined;
          if (!refusal || !(e instanceof SlurmCommandError)) throw e;
          next = { ...record, heldBack: undefined, refused: `sbatch refused the job (${e.stderr.trim()}): ${refusal}` };
          this.opts.log.warn('SLURM refused a job for good', { kind: ref.kind, name: ref.name, role: ref.role, error: e.stderr.trim() });
        }
      }
      this.write(next);
      return next;
    })().finally(() => this.submitting.delete(record.id));
    this.submitting.set(record.id, submission);
    return submission;
  }

  /**
   * Why a launch not yet submitted must wait for maxJobsInFlight, or undefined
   * when it may go: in flight are this controller's jobs SLURM has not ended
   * plus submissions under way, and launches waiting longer go first.
   */
  private slotWait(record: JobRecord): string | undefined {
    const max = this.opts.maxJobsInFlight;
    if (max === undefined) return undefined;
    let inFlight = this.submitting.size;
    let ahead = 0;
    for (const r of this.records.values()) {
      if (r.refused || r.id === record.id) continue;
      if (!r.jobId) {
        if (!this.submitting.has(r.id) && (r.startedAt < record.startedAt || (r.startedAt === record.startedAt && r.id < record.id))) ahead++;
        continue;
      }
      const job = this.queue.get(r.jobId) ?? this.departed.get(r.jobId);
      if (job ? classify(job).phase !== 'exited' : r.missingSince === undefined) inFlight++;
    }
    if (inFlight + ahead < max) return undefined;
    const line = ahead ? `, with ${ahead} held-back launch${ahead === 1 ? '' : 'es'} ahead of it` : '';
    return `MaxJobsInFlight: ${inFlight} of this controller's jobs are in flight and at most ${max} may be (controller run --max-jobs)${line}; submitted when one ends, and no attempt is used up`;
  }

  /** The job script: exactly what is submitted, kept beside the run for the user to read. */
  render(spec: LaunchSpec): string {
    const ranks = ranksOf(spec);
    // The site's and the resource's preamble (module load Apptainer, ...), as written: they are the user's own commands.
    const lines: string[] = [...(this.opts.setup ?? []), ...(spec.slurm?.setup ?? [])];
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
    if (!record.jobId) return this.submitAgain(record);
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
   * A launch not yet submitted: it waits for a slot under maxJobsInFlight, and
   * one sbatch refused for a submit limit is tried again at most once a poll
   * interval. Pending meanwhile, with why as the reason (so status,
   * maxPendingTime and a delete treat it as any job in the queue).
   */
  private async submitAgain(record: JobRecord): Promise<LaunchState> {
    const limited = (r: JobRecord): LaunchState => ({
      state: 'pending',
      reason: `SubmitLimit: sbatch refused the job (${r.heldBack}); aifb submits it again every ${Math.round(this.pollMs / 1000)} s, and no attempt is used up`,
    });
    if (!this.submitting.has(record.id)) {
      // Which jobs have ended, to count those in flight.
      await this.refresh();
      const slot = this.slotWait(record);
      if (slot) return { state: 'pending', reason: slot };
      const tried = this.lastSubmitTry.get(record.id) ?? 0;
      if (record.heldBack !== undefined && Date.now() - tried < this.pollMs) return limited(record);
    }
    // Joins the submission under way, if there is one.
    const now = await this.submit(record);
    if (now.refused) return { state: 'exited', exitCode: null, reason: now.refused, retryable: false };
    return now.jobId ? { state: 'pending', reason: 'NotYetListed' } : limited(now);
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
