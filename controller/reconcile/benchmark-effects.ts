// The effects of the Benchmark machine, given to it by the reconciler: launch a
// runner, follow it, collect its results into reports, and stop it.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { Connection } from '../../api/connection.js';
import type { RunnerSpec } from '../../clients/registry.js';
import { encodeSpec } from '../../clients/runner/spec.js';
import { summarize } from '../../monitoring/results/merge.js';
import { collectResults } from '../../monitoring/results/sweep.js';
import { writeReports } from '../../monitoring/reports/index.js';
import { renderPrometheus } from '../../monitoring/reports/prometheus.js';
import { renderLive } from '../../monitoring/live.js';
import { ActorFailure } from '../../machines/lifecycle.js';
import type { BenchmarkResource } from '../api/schemas.js';
import type { LaunchRef, LaunchState, Launched } from '../executor/types.js';
import { RUNNER_EXIT } from '../../api/runner-contract.js';
import { runnerRanks } from '../../api/schemas.js';
import type { InterruptInput, RunnerExited } from '../../machines/benchmark.js';
import { cleanupLaunches, stopLaunch } from './common.js';
import type { StopInput } from '../../machines/lifecycle.js';
import type { ReconcilerDeps } from './deps.js';
import type { Target } from './machine-reconciler.js';
import { serviceNameOf } from './owned-service.js';
import { pushTargetOf } from './push-target.js';
import { LineTail, ProgressMerger, runnerExit, stdoutLogs } from './runner-watch.js';

export type BenchmarkTarget = Target<BenchmarkResource>;

export const runIdOf = (name: string, generation: number, attempt: number) => `${name}-g${generation}-a${attempt}`;

export function runDirOf(deps: ReconcilerDeps, name: string, runId: string): string {
  return join(deps.paths.runsDir, name, runId);
}

export function reportsDirOf(deps: ReconcilerDeps, t: BenchmarkTarget, runId: string): string {
  return join(t.resource.spec.reports.dir ?? join(deps.paths.reportsDir, t.resource.metadata.name), runId);
}


/**
 * A benchmark deleted and created again starts over at generation 1: its earlier
 * runs keep their ids, folders and rows in results.db, and the new run gets a suffix.
 */
function freshRunId(deps: ReconcilerDeps, name: string, base: string): string {
  let runId = base;
  for (let n = 2; existsSync(runDirOf(deps, name, runId)); n++) runId = `${base}-${n}`;
  return runId;
}

function runnerRef(t: BenchmarkTarget, attempt: number): LaunchRef {
  return { kind: 'Benchmark', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'runner' };
}

/** How to reach the benchmark's service, as the Service published it once Ready. */
export function serviceConnectionOf(deps: ReconcilerDeps, t: BenchmarkTarget): Connection | undefined {
  const ref = serviceNameOf(t.resource);
  const endpoint = ref ? deps.lastStatus(`Service/${ref}`)?.endpoint : undefined;
  if (!endpoint) return undefined;
  const { scheme, host, port, database, region, credentials } = endpoint;
  // A status written before services published their scheme meant HTTP.
  const parsed = Connection.safeParse({ scheme: scheme ?? 'http', host, port, database, region, credentials });
  return parsed.success ? parsed.data : undefined;
}

const serviceOf = (t: BenchmarkTarget) => serviceNameOf(t.resource) ?? t.resource.spec.workload.type;

export function benchmarkEffects(deps: ReconcilerDeps, t: BenchmarkTarget) {
  const name = t.resource.metadata.name;
  const { runner } = t.resource.spec;
  const { processes, ranks } = runnerRanks(runner);

  return {
    // Safe to run again after a restart: an existing launch for this attempt is returned, not repeated.
    launchRunner: fromPromise<{ runId: string; startedAt: number }, { attempt: number }>(async ({ input }) => {
      const ref = runnerRef(t, input.attempt);
      const existing = await deps.executor.find(ref);
      // Adopted after a restart: the run folder it was launched in names the run.
      if (existing) return { runId: basename(existing.dir), startedAt: Date.parse(existing.startedAt) };
      const runId = freshRunId(deps, name, runIdOf(name, t.generation, input.attempt));
      // Anything an earlier attempt left running (a controller restart mid-retry) must not send alongside this one.
      await cleanupLaunches(deps, 'Benchmark', name, (r) => r.generation === t.generation && r.attempt === input.attempt);
      const dir = runDirOf(deps, name, runId);
      mkdirSync(dir, { recursive: true });
      const spec: RunnerSpec = {
        benchmark: name,
        runId,
        workload: t.resource.spec.workload,
        load: t.resource.spec.load,
        service: serviceConnectionOf(deps, t),
        ranks,
        threads: runner.threads,
        ...(t.resource.spec.slo ? { slo: t.resource.spec.slo } : {}),
      };
      // Encoded by the same schema the runner decodes it with: durations travel as "1500ms".
      writeFileSync(join(dir, 'spec.json'), JSON.stringify(encodeSpec(spec), null, 2));
      try {
        const launched = await deps.executor.launch({ ...ref, command: [...deps.runnerCommand, '--spec', join(dir, 'spec.json'), '--out', dir], dir, nodes: runner.nodes, tasksPerNode: runner.tasksPerNode, slurm: runner.slurm });
        deps.log.info('Launched runner', { kind: 'Benchmark', name, runId, executor: deps.executor.name, pids: launched.pids?.join(','), jobId: launched.jobId });
        return { runId, startedAt: Date.parse(launched.startedAt) };
      } catch (e) {
        throw new ActorFailure(`could not launch the runner: ${(e as Error).message}`, 'LaunchFailed', true);
      }
    }),

    // Progress and the end come from the one batched sweep of launches, not a timer per benchmark.
    watchRunner: fromCallback<{ type: string }, { runId: string; attempt: number }>(({ sendBack, input }) => {
      const tails = new Map<string, LineTail>();
      const merger = new ProgressMerger();
      let ended = false;
      const liveRun = () => {
        const operations = merger.live();
        return operations && { benchmark: name, service: serviceOf(t), run: input.runId, operations };
      };
      const push = pushTargetOf(t.resource, deps.lastStatus, deps.pushDefaults);
      const stopPushing =
        push?.intervalMs !== undefined
          ? deps.pusher.startLive(t.key, name, push.target, push.intervalMs, () => {
              const run = liveRun();
              return run && renderLive([run]);
            })
          : undefined;
      const unwatch = deps.observer.watch(runnerRef(t, input.attempt), ({ launched, state }) => {
        if (ended) return;
        if (!launched) {
          ended = true;
          sendBack({ type: 'RUNNER_EXITED', exitCode: 1, reason: 'no record of the runner launch was found; it will be launched again', retryable: true });
          return;
        }
        let changed = false;
        for (const file of stdoutLogs(launched, processes)) {
          if (!tails.has(file)) tails.set(file, new LineTail(file));
          for (const line of tails.get(file)!.read()) changed = merger.add(line) || changed;
        }
        const progress = merger.total();
        if (changed && progress) sendBack({ type: 'PROGRESS', progress });
        const run = changed ? liveRun() : undefined;
        if (run) deps.metrics.setLive(t.key, run);
        const exit = runnerExit(state, launched, ranks, processes) ?? pendingTooLong(state, launched, runner.slurm?.maxPendingTime);
        if (exit) {
          if (state.state === 'pending') void stopLaunch(deps, runnerRef(t, input.attempt)).catch(() => undefined);
          ended = true;
          sendBack({ type: 'RUNNER_EXITED', ...exit });
        }
      });
      return () => {
        unwatch();
        stopPushing?.();
        deps.metrics.clearLive(t.key);
      };
    }),

    collectResults: fromPromise<{ results: unknown; reports: Record<string, string>; completedAt: number }, { runId: string; attempt: number }>(
      async ({ input }) => {
        const dir = runDirOf(deps, name, input.runId);
        const result = await collectResults(dir, {
          runId: input.runId,
          benchmark: name,
          generation: t.generation,
          attempt: input.attempt,
          service: serviceOf(t),
          slo: t.resource.spec.slo,
        });
        const reports = await writeReports(result, reportsDirOf(deps, t, input.runId), t.resource.spec.reports.formats);
        deps.results.saveRun(result, reports);
        // The results are safe on disk already: a gateway that is away costs a warning and retries, never the run.
        const push = pushTargetOf(t.resource, deps.lastStatus, deps.pushDefaults);
        if (push) deps.pusher.pushFinal(t.key, name, push.target, renderPrometheus(result));
        const launched = await deps.executor.find(runnerRef(t, input.attempt));
        if (launched) await deps.executor.forget(launched);
        deps.log.info('Collected results', { kind: 'Benchmark', name, runId: input.runId, requests: result.summary.total_requests });
        return { results: summarize(result), reports, completedAt: Date.now() };
      },
    ),

    stop: fromPromise<void, StopInput>(async ({ input }) => {
      await stopLaunch(deps, runnerRef(t, input.attempt));
    }),

    interruptRunner: fromPromise<void, InterruptInput>(async ({ input }) => {
      await stopLaunch(deps, runnerRef(t, input.attempt));
      // Said in the run's own folder, so whoever finds the partial files there knows they are no result.
      const dir = input.runId ? runDirOf(deps, name, input.runId) : undefined;
      if (dir && existsSync(dir)) writeFileSync(join(dir, 'interrupted.json'), `${JSON.stringify({ interruptedAt: new Date().toISOString(), reason: input.message }, null, 2)}\n`);
      deps.log.warn('Interrupted a run: its service went away', { kind: 'Benchmark', name, runId: input.runId, reason: input.message });
    }),
  };
}

/** A runner job still queued after runner.slurm.maxPendingTime: it ends, cancelled, and is not tried again. */
function pendingTooLong(state: LaunchState, launched: Launched, maxPendingMs: number | undefined): RunnerExited | undefined {
  if (state.state !== 'pending' || maxPendingMs === undefined || Date.now() - Date.parse(launched.startedAt) <= maxPendingMs) return undefined;
  return {
    type: 'RUNNER_EXITED',
    exitCode: RUNNER_EXIT.crashed,
    reason: `the runner job waited in the queue longer than runner.slurm.maxPendingTime (last reason: ${state.reason ?? 'unknown'}); it was cancelled. Raise maxPendingTime, or ask for less (nodes, time, GPUs) so it starts sooner`,
    retryable: false,
  };
}
