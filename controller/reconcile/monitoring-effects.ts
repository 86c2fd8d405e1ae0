// The effects of the MonitoringStack machine on the local executor: start the
// components, wait until each answers over HTTP, watch them, stop them.
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { ActorFailure } from '../../machines/lifecycle.js';
import type { StackEndpoints } from '../../machines/monitoring-stack.js';
import { nativeAvailable, stackScript } from '../../monitoring/stack-script.js';
import { awaitEndpoint } from './endpoint.js';
import type { MonitoringStackResource } from '../api/schemas.js';
import type { LaunchRef } from '../executor/types.js';
import { httpProbe, waitUntilReady } from '../health/readiness.js';
import { stopLaunch } from './common.js';
import type { ReconcilerDeps } from './deps.js';
import type { Target } from './machine-reconciler.js';

const READY_PATHS = { prometheus: '/-/ready', pushgateway: '/-/ready', grafana: '/api/health' } as const;

function stackRef(t: Target<MonitoringStackResource>, attempt: number): LaunchRef {
  return { kind: 'MonitoringStack', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'stack' };
}

export function monitoringEffects(deps: ReconcilerDeps, t: Target<MonitoringStackResource>) {
  const { spec, metadata } = t.resource;
  return {
    // Host binaries when the controller's host has them all and runs the stack itself; containers otherwise.
    startStack: fromPromise<{ endpoints: StackEndpoints }, { attempt: number }>(async ({ input, signal }) => {
      const dir = join(deps.paths.stateDir, 'monitoring', metadata.name, `g${t.generation}-a${input.attempt}`);
      const mode = deps.executor.name === 'local' && nativeAvailable(spec) ? 'native' : 'containers';
      let built;
      try {
        built = stackScript(spec, dir, mode, process.env.AIFB_SIF_CACHE);
      } catch (e) {
        throw new ActorFailure((e as Error).message, 'InvalidStackSpec', false);
      }
      const ref = stackRef(t, input.attempt);
      const endpointFile = join(dir, 'endpoint.json');
      const launched = await deps.executor.launch({
        ...ref,
        command: ['bash', '-c', built.lines.join('\n')],
        dir,
        slurm: spec.slurm,
        endpoint: { file: endpointFile, port: spec[built.components[0]].port },
      });
      const { host } = await awaitEndpoint(deps.executor, launched, { file: endpointFile, what: `monitoring stack ${metadata.name}`, maxPendingMs: spec.slurm.maxPendingTime, signal });
      const endpoints: StackEndpoints = {};
      for (const c of built.components) endpoints[c] = { host, port: spec[c].port };
      return { endpoints };
    }),

    waitReady: fromPromise<void, { endpoints: StackEndpoints }>(async ({ input, signal }) => {
      for (const [c, ep] of Object.entries(input.endpoints)) {
        const path = READY_PATHS[c as keyof typeof READY_PATHS];
        await waitUntilReady(() => httpProbe(ep, path), { intervalMs: 1000, timeoutMs: 120_000, signal, what: `${c} at ${ep.host}:${ep.port}` });
      }
    }),

    watchStack: fromCallback<{ type: string }, { attempt: number }>(({ sendBack, input }) => {
      let timer: NodeJS.Timeout | undefined;
      const loop = async () => {
        const launched = await deps.executor.find(stackRef(t, input.attempt));
        const state = launched ? await deps.executor.state(launched) : { state: 'exited' as const, exitCode: null };
        if (state.state === 'exited') {
          sendBack({ type: 'STACK_EXITED', reason: 'ComponentExited', message: `a component exited (code ${state.exitCode ?? 'unknown'}); see ${launched?.dir ?? 'the stack folder'}`, retryable: true });
          return;
        }
        timer = setTimeout(() => void loop().catch(() => undefined), 1000);
      };
      timer = setTimeout(() => void loop().catch(() => undefined), 0);
      return () => clearTimeout(timer);
    }),

    stopStack: fromPromise<void, { attempt: number }>(async ({ input }) => {
      await stopLaunch(deps, stackRef(t, input.attempt));
    }),
  };
}
