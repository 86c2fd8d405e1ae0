// The resource schemas as the controller uses them: api/schemas.ts with the
// registered workload types plugged into the Benchmark, and the checks that
// need to know a workload's type (an inline service it cannot talk to).
import type { z } from 'zod';
import { resourceSchemas, type Kind } from '../../api/schemas.js';
import { REQUEST_LIMITS, requestLimits } from '../../api/slo.js';
import { serviceMismatch, Workload, workloadDefinition } from '../../clients/registry.js';

export * from '../../api/schemas.js';
export { Workload } from '../../clients/registry.js';

export const RESOURCE_SCHEMAS = resourceSchemas(Workload, (spec, ctx) => {
  const def = workloadDefinition(spec.workload.type);
  if (!def) return;
  for (const p of def.preflight?.(spec.workload as never) ?? []) ctx.addIssue({ code: 'custom', path: p.path.split('.'), message: p.message });
  if (spec.slo) {
    // e2e is every workload's latency; the others must be metrics this workload measures.
    const limits = requestLimits(spec.slo);
    const timings = def.metrics.filter((m) => m.kind === 'timing').map((m) => m.name);
    for (const name of REQUEST_LIMITS) {
      if (name === 'e2e' || limits[name] === undefined || timings.includes(name)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['slo', spec.slo[name] === undefined ? 'preset' : name],
        message: `a ${def.type} workload does not measure ${name}${timings.length > 0 ? ` (it measures ${timings.join(', ')})` : ''}; limit e2e, or drop it`,
      });
    }
  }
  const parameter = spec.load.sweep?.parameter;
  if (parameter) {
    const names = def.sweepParameters?.(spec.workload as never) ?? [];
    if (!names.includes(parameter.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['load', 'sweep', 'parameter', 'name'],
        message:
          names.length > 0
            ? `a ${def.type} workload with these settings can sweep ${names.join(', ')}, not ${parameter.name}`
            : `a ${def.type} workload has no parameter to sweep; sweep rates or concurrencies instead`,
      });
    }
  }
  if (spec.service) {
    const mismatch = serviceMismatch(spec.workload, spec.service.type);
    if (mismatch) ctx.addIssue({ code: 'custom', path: ['service', 'type'], message: mismatch });
  } else if (def.needsService && !spec.serviceRef) {
    ctx.addIssue({
      code: 'custom',
      path: ['serviceRef'],
      message: `a ${def.type} workload needs a service: set spec.serviceRef to a Service of type ${def.services.join(', ')}, or declare one inline in spec.service`,
    });
  }
});

export const BenchmarkResource = RESOURCE_SCHEMAS.Benchmark;
export const BenchmarkSpec = RESOURCE_SCHEMAS.Benchmark.shape.spec;

export type BenchmarkResource = z.output<typeof BenchmarkResource>;
export type BenchmarkSpec = BenchmarkResource['spec'];
export type Resource = z.output<(typeof RESOURCE_SCHEMAS)[Kind]>;
export type SpecOf<K extends Kind> = z.output<(typeof RESOURCE_SCHEMAS)[K]>['spec'];
