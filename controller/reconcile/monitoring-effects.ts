// The effects of the MonitoringStack machine: start the components (host
// binaries locally when present, containers otherwise), wait until each
// answers over HTTP, watch them through the batched launch sweep, stop them.
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import type { AttemptOf, StartInput } from '../../machines/lifecycle-machine.js';
import { ActorFailure, type StopInput } from '../../machines/lifecycle.js';
import type { StackEndpoints } from '../../machines/monitoring-stack.js';
import { defaultSifCache } from '../../containers/catalog.js';
import { nativeAvailable, stackScript } from '../../monitoring/stack-script.js';
import type { SecretRef } from '../../api/connection.js';
import type { MonitoringStackResource } from '../api/schemas.js';
import type { LaunchRef } from '../executor/types.js';
import { httpProbe, waitUntilReady } from '../health/readiness.js';
import { stopLaunch } from './common.js';
import type { ReconcilerDeps } from './deps.js';
import { awaitEndpoint } from './endpoint.js';
import { ensureGeneratedPassword } from './service-connection.js';
import type { Target } from './machine-reconciler.js';

const READY_PATHS = { prometheus: '/-/ready', pushgateway: '/-/ready', grafana: '/api/health' } as const;

export function stackRef(t: Target<MonitoringStackResource>, attempt: number): LaunchRef {
  return { kind: 'MonitoringStack', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'stack' };
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

export function monitoringEffects(deps: ReconcilerDeps, t: Target<MonitoringStackResource>) {
  const { spec, metadata } = t.resource;
  const what = `monitoring stack ${metadata.name}`;
  return {
    start: fromPromise<StackEndpoints, StartInput>(async ({ input, signal }) => {
      const dir = join(deps.paths.stateDir, 'monitoring', metadata.name, `g${t.generation}-a${input.attempt}`);
      const mode = deps.executor.name === 'local' && nativeAvailable(spec) ? 'native' : 'containers';
      let built;
      try {
        built = stackScript(spec, dir, { mode, sifCache: defaultSifCache(), requireCached: deps.executor.name === 'slurm', controller: deps.api() });
      } catch (e) {
        throw new ActorFailure((e as Error).message, 'InvalidStackSpec', false);
      }
      const endpointFile = join(dir, 'endpoint.json');
      const launched = await deps.executor.launch({
        ...stackRef(t, input.attempt),
        command: ['bash', '-c', built.lines.join('\n')],
        dir,
        slurm: spec.slurm,
        endpoint: { file: endpointFile, port: spec[built.components[0]].port },
        ...(spec.grafana.enabled ? { secretEnv: grafanaSecretEnv(deps, t, mode) } : {}),
      });
      const { host } = await awaitEndpoint(deps, launched, { file: endpointFile, what, maxPendingMs: spec.slurm.maxPendingTime, signal });
      const endpoints: StackEndpoints = {};
      for (const c of built.components) endpoints[c] = { host, port: spec[c].port };
      return endpoints;
    }),

    waitReady: fromPromise<void, AttemptOf<StackEndpoints>>(async ({ input, signal }) => {
      for (const [c, ep] of Object.entries(input.started)) {
        const path = READY_PATHS[c as keyof typeof READY_PATHS];
        await waitUntilReady(() => httpProbe(ep, path), { intervalMs: 1000, timeoutMs: 120_000, signal, what: `${c} at ${ep.host}:${ep.port}`, clock: deps.clock });
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
