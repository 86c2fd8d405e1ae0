// The effects of the MonitoringStack machine on the local executor: start the
// components, wait until each answers over HTTP, watch them, stop them.
import { join } from 'node:path';
import { fromCallback, fromPromise } from 'xstate';
import { ActorFailure } from '../../machines/lifecycle.js';
import type { StackEndpoints } from '../../machines/monitoring-stack.js';
import { localStackScript } from '../../monitoring/local-stack.js';
import type { MonitoringStackResource } from '../api/schemas.js';
import type { LaunchRef } from '../executor/types.js';
import { httpProbe, waitUntilReady } from '../health/readiness.js';
import type { ReconcilerDeps } from './deps.js';
import type { Target } from './machine-reconciler.js';

const READY_PATHS = { prometheus: '/-/ready', pushgateway: '/-/ready', grafana: '/api/health' } as const;

function stackRef(t: Target<MonitoringStackResource>, attempt: number): LaunchRef {
  return { kind: 'MonitoringStack', name: t.resource.metadata.name, uid: t.uid, generation: t.generation, attempt, role: 'stack' };
}

export function monitoringEffects(deps: ReconcilerDeps, t: Target<MonitoringStackResource>) {
  const { spec, metadata } = t.resource;
  return {
    startStack: fromPromise<{ endpoints: StackEndpoints }, { attempt: number }>(async ({ input }) => {
      const dir = join(deps.paths.stateDir, 'monitoring', metadata.name, `g${t.generation}-a${input.attempt}`);
      let built;
      try {
        built = localStackScript(spec, dir);
      } catch (e) {
        throw new ActorFailure((e as Error).message, 'BinaryNotFound', false);
      }
      await deps.executor.launch({ ...stackRef(t, input.attempt), command: ['bash', '-c', built.script], dir });
      const endpoints: StackEndpoints = {};
      for (const c of built.components) endpoints[c] = { host: '127.0.0.1', port: spec[c].port };
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
      const launched = await deps.executor.find(stackRef(t, input.attempt));
      if (!launched) return;
      await deps.executor.stop(launched);
      await deps.executor.forget(launched);
    }),
  };
}
