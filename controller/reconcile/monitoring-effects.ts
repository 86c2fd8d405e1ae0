// The effects of the MonitoringStack machine: start the components (host
// binaries locally when present, containers otherwise) on the ports the job
// chooses on its node, wait until each answers over HTTP from a socket the job
// saw is its own, watch them through the batched launch sweep, stop them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { z } from 'zod';
import type { AttemptOf, StartInput } from '../../machines/lifecycle-machine.js';
import { ActorFailure, type StopInput } from '../../machines/lifecycle.js';
import type { StackEndpoints } from '../../machines/monitoring-stack.js';
import { defaultSifCache, MONITORING_COMPONENTS } from '../../containers/catalog.js';
import type { EndpointHost } from '../../containers/serve-script.js';
import { nativeAvailable, stackScript, type Component } from '../../monitoring/stack-script.js';
import type { SecretRef } from '../../api/connection.js';
import type { MonitoringStackResource } from '../api/schemas.js';
import { EndpointRecord, launchId, type LaunchRef, type Launched } from '../executor/types.js';
import { httpProbe, ReadinessTimeout, waitUntilReady } from '../health/readiness.js';
import { cleanupLaunches, stopLaunch } from './common.js';
import type { ReconcilerDeps } from './deps.js';
import { awaitEndpoint, launchEnded, readEndpoint, writtenBy } from './endpoint.js';
import { ensureGeneratedPassword } from './service-connection.js';
import type { Target } from './machine-reconciler.js';

const READY_PATHS = { prometheus: '/-/ready', pushgateway: '/-/ready', grafana: '/api/health' } as const;
const READY_TIMEOUT_MS = 120_000;

const perComponent = <T extends z.ZodType>(value: T) => z.object(Object.fromEntries(MONITORING_COMPONENTS.map((c) => [c, value.optional()])) as Record<Component, z.ZodOptional<T>>);

/**
 * The record the stack's job writes (monitoring/stack-script.ts): a launch's
 * endpoint record with each component's port and, once the job saw each port's
 * listening socket held by its component, that process.
 */
const StackRecord = EndpointRecord.extend({
  ports: perComponent(z.number().int().min(1).max(65535)),
  listenerPids: perComponent(z.number().int()).optional(),
});
type StackRecord = z.output<typeof StackRecord>;

export function stackRef(t: Target<MonitoringStackResource>, attempt: number): LaunchRef {
  return { kind: 'MonitoringStack', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'stack' };
}

function stackDir(deps: ReconcilerDeps, t: Target<MonitoringStackResource>, attempt: number): string {
  return join(deps.paths.stateDir, 'monitoring', t.resource.metadata.name, `g${t.generation}-a${attempt}`);
}

/** Grafana's admin password: the spec's reference, or one generated once into the state folder (owner-only). */
export function grafanaPassword(deps: Pick<ReconcilerDeps, 'paths'>, t: Target<MonitoringStackResource>): SecretRef {
  return t.resource.spec.grafana.adminPassword ?? { file: join(deps.paths.stateDir, 'monitoring', t.resource.metadata.name, 'credentials', 'grafana-admin-password') };
}

function grafanaSecretEnv(deps: ReconcilerDeps, t: Target<MonitoringStackResource>, mode: 'native' | 'containers'): Record<string, SecretRef> {
  const ref = grafanaPassword(deps, t);
  if (!t.resource.spec.grafana.adminPassword && 'file' in ref) ensureGeneratedPassword(ref.file);
  // Apptainer hands APPTAINERENV_<NAME> to the container as <NAME>, off its command line.
  return { [mode === 'containers' ? 'APPTAINERENV_GF_SECURITY_ADMIN_PASSWORD' : 'GF_SECURITY_ADMIN_PASSWORD']: ref };
}

/** Locally the address the controller probes; under SLURM the node's name, or the address of spec.slurm.interface. */
function endpointHost(t: Target<MonitoringStackResource>, executor: 'local' | 'slurm'): EndpointHost {
  if (executor === 'local') return { address: '127.0.0.1' };
  return t.resource.spec.slurm.interface ? { interface: t.resource.spec.slurm.interface } : 'hostname';
}

/** This launch's record, or undefined while there is none (or only another launch's). */
function ownRecord(file: string, launched: Launched): StackRecord | undefined {
  const base = readEndpoint(file);
  if (!base || !writtenBy(base, launched)) return undefined;
  // readEndpoint has checked it is JSON and an endpoint record; what is the stack's own is checked here.
  const parsed = StackRecord.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a monitoring stack's endpoint record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export function monitoringEffects(deps: ReconcilerDeps, t: Target<MonitoringStackResource>) {
  const { spec, metadata } = t.resource;
  const what = `monitoring stack ${metadata.name}`;
  return {
    start: fromPromise<StackEndpoints, StartInput>(async ({ input, signal }) => {
      // An earlier attempt or generation must not hold the node's ports any more: a pinned one would be taken.
      await cleanupLaunches(deps, 'MonitoringStack', metadata.name, (ref) => ref.attempt === input.attempt && ref.generation === t.generation);
      const ref = stackRef(t, input.attempt);
      const dir = stackDir(deps, t, input.attempt);
      const mode = deps.executor.name === 'local' && nativeAvailable(spec) ? 'native' : 'containers';
      let built;
      try {
        built = stackScript(spec, dir, {
          mode,
          sifCache: defaultSifCache(),
          requireCached: deps.executor.name === 'slurm',
          controller: deps.api(),
          launchId: launchId(ref),
          host: endpointHost(t, deps.executor.name),
        });
      } catch (e) {
        throw new ActorFailure((e as Error).message, 'InvalidStackSpec', false);
      }
      const launched = await deps.executor.launch({
        ...ref,
        command: ['bash', '-c', built.lines.join('\n')],
        env: built.env,
        dir,
        slurm: spec.slurm,
        ...(spec.grafana.enabled ? { secretEnv: grafanaSecretEnv(deps, t, mode) } : {}),
      });
      // No state changes until the job runs: a reconcile now shows it waiting in the queue, and why.
      deps.enqueue(t.key);
      const { host } = await awaitEndpoint(deps, launched, { file: built.endpointFile, what, maxPendingMs: spec.slurm.maxPendingTime, signal, own: true });
      const record = ownRecord(built.endpointFile, launched);
      const endpoints: StackEndpoints = {};
      for (const c of built.components) {
        const port = record?.ports[c];
        if (port === undefined) throw new ActorFailure(`${what}: its job's endpoint record ${built.endpointFile} names no port for ${c}; see ${join(dir, 'stack.stderr.log')}`, 'StartFailed', true);
        endpoints[c] = { host, port };
      }
      return endpoints;
    }),

    waitReady: fromPromise<void, AttemptOf<StackEndpoints>>(async ({ input, signal }) => {
      const dir = stackDir(deps, t, input.attempt);
      const log = join(dir, 'stack.stderr.log');
      const launched = await deps.executor.find(stackRef(t, input.attempt));
      if (!launched) throw new ActorFailure(`${what} is gone while starting: its launch record was removed`, 'ComponentExited', true);
      const started = Object.entries(input.started) as [Component, { host: string; port: number }][];
      // A server answering on a component's port may be anyone's: only once the job has seen
      // that each port's listening socket is its component's is the answer the stack's.
      const held = () => {
        const record = ownRecord(join(dir, 'endpoint.json'), launched);
        return record !== undefined && started.every(([c, ep]) => record.listenerPids?.[c] !== undefined && record.ports[c] === ep.port);
      };
      let heldSeen = false;
      let silent: string[] = [];
      try {
        await waitUntilReady(
          async () => {
            const state = await deps.executor.state(launched);
            if (state.state === 'exited') throw launchEnded(launched, state, `${what} exited while starting`, 'ComponentExited');
            heldSeen ||= held();
            if (!heldSeen) return false;
            const answers = await Promise.all(started.map(([c, ep]) => httpProbe(ep, READY_PATHS[c])));
            silent = started.filter((_, i) => !answers[i]).map(([c, ep]) => `${c} at ${ep.host}:${ep.port}`);
            return silent.length === 0;
          },
          { intervalMs: 1000, timeoutMs: READY_TIMEOUT_MS, signal, what, clock: deps.clock },
        );
      } catch (e) {
        if (!(e instanceof ReadinessTimeout)) throw e;
        const why = heldSeen ? `${silent.join(', ')} did not answer` : 'its job never saw every component listen on its port';
        throw new ReadinessTimeout(`${what} did not become ready within ${READY_TIMEOUT_MS / 1000}s: ${why}; see ${log}`);
      }
    }),

    // A sweep that fails (the scheduler hiccupped) is retried by the observer: the watch never goes blind.
    watch: fromCallback<{ type: string }, AttemptOf<StackEndpoints>>(({ sendBack, input }) => {
      let gone = false;
      const unwatch = deps.observer.watch(stackRef(t, input.attempt), (seen) => {
        if (gone || (seen.launched && seen.state.state !== 'exited')) return;
        gone = true;
        const why = !seen.launched ? 'its launch record is gone' : seen.state.state === 'exited' ? (seen.state.reason ?? `code ${seen.state.exitCode ?? 'unknown'}`) : '';
        sendBack({ type: 'EXITED', reason: 'ComponentExited', message: `a component of ${what} exited (${why}); see ${seen.launched?.dir ?? 'the stack folder'}`, retryable: true });
      });
      return unwatch;
    }),

    stop: fromPromise<void, StopInput>(async ({ input }) => {
      await stopLaunch(deps, stackRef(t, input.attempt));
    }),
  };
}
