// Reads and checks the runner's spec.json: the controller wrote it, but a
// hand-edited or stale file must fail with the field named, not crash later.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { FileStorageWorkload, LlmWorkload, type Load, type Workload } from '../../api/schemas.js';
import type { ConfigProblem } from '../client.js';
import type { RunnerSpec } from '../../api/runner-contract.js';

/**
 * `Load` as it is AFTER the resource schema parsed it (durations already ms).
 * Re-parsing with `Load` itself would read those ms as seconds; `satisfies`
 * ties this check to the one Load type so the two cannot drift apart.
 */
const ParsedLoad = z
  .strictObject({
    mode: z.enum(['closed', 'open']),
    workers: z.number().int().positive(),
    rate: z.number().positive().optional(),
    arrival: z.enum(['constant', 'poisson', 'gamma']),
    burstiness: z.number().positive(),
    concurrency: z.number().int().positive(),
    duration: z.number().nonnegative().optional(),
    warmup: z.number().nonnegative(),
    maxRequests: z.number().int().positive().optional(),
    seed: z.number().int(),
  })
  .refine((l) => l.mode !== 'open' || l.rate !== undefined, { message: 'open loop needs a rate (requests per second)', path: ['rate'] })
  .refine((l) => l.duration !== undefined || l.maxRequests !== undefined, {
    message: 'set duration or maxRequests so the run ends',
    path: ['duration'],
  }) satisfies z.ZodType<Load>;

/** `Workload` after parsing, likewise: every Duration field is already ms and must stay so. */
const ParsedWorkload = z.discriminatedUnion('type', [
  FileStorageWorkload,
  LlmWorkload.extend({ timeout: z.number().nonnegative() }),
]) satisfies z.ZodType<Workload>;

const SpecSchema = z.object({
  benchmark: z.string().min(1),
  // Used in folder names on shared file systems: keep it to safe characters.
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be letters, digits, ".", "_" or "-" (it names folders)'),
  workload: ParsedWorkload,
  load: ParsedLoad,
  endpoint: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535), scheme: z.enum(['http', 'https']) }).optional(),
  ranks: z.number().int().positive(),
}) satisfies z.ZodType<RunnerSpec>;

export type SpecResult = { ok: true; spec: RunnerSpec } | { ok: false; problems: ConfigProblem[] };

export function checkSpec(doc: unknown): SpecResult {
  const parsed = SpecSchema.safeParse(doc);
  if (parsed.success) return { ok: true, spec: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => ({
      path: i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`)).join(''),
      message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}; remove or check the spelling` : i.message,
    })),
  };
}

export async function readSpec(path: string): Promise<SpecResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ path: '', message: `cannot read spec file ${path}: ${(e as Error).message}` }] };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [{ path: '', message: `spec file ${path} is not valid JSON: ${(e as Error).message}` }] };
  }
  return checkSpec(doc);
}
