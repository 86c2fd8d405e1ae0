// Turns one parsed YAML document into a typed resource, or into a list of
// problems that each name the field path and say how to fix it.
import { z } from 'zod';
import { API_VERSION, KINDS, RESOURCE_SCHEMAS, type Kind, type Resource } from './schemas.js';

export interface FieldProblem {
  /** Dotted path into the document, e.g. `spec.load.duration`; empty for the document itself. */
  path: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; resource: Resource; kind: Kind; name: string }
  | { ok: false; problems: FieldProblem[]; kind?: string; name?: string };

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it or check the spelling`;
  }
  return issue.message;
}

export function problemsFromZod(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issueMessage(issue) }));
}

export function describeProblems(problems: FieldProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}

/** Validates a plain object (one YAML document) as an aifb resource. */
export function validateResource(doc: unknown): ValidationResult {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, problems: [{ path: '', message: 'a resource must be a YAML mapping with apiVersion, kind, metadata and spec' }] };
  }
  const obj = doc as Record<string, unknown>;
  const name = typeof (obj.metadata as Record<string, unknown> | undefined)?.name === 'string' ? ((obj.metadata as Record<string, unknown>).name as string) : undefined;
  const kind = typeof obj.kind === 'string' ? obj.kind : undefined;
  if (obj.apiVersion !== API_VERSION) {
    return {
      ok: false,
      kind,
      name,
      problems: [{ path: 'apiVersion', message: `must be "${API_VERSION}", got ${JSON.stringify(obj.apiVersion ?? null)}` }],
    };
  }
  if (!kind || !(KINDS as readonly string[]).includes(kind)) {
    return { ok: false, kind, name, problems: [{ path: 'kind', message: `must be one of ${KINDS.join(', ')}, got ${JSON.stringify(obj.kind ?? null)}` }] };
  }
  const parsed = RESOURCE_SCHEMAS[kind as Kind].safeParse(doc);
  if (!parsed.success) return { ok: false, kind, name, problems: problemsFromZod(parsed.error) };
  return { ok: true, resource: parsed.data as Resource, kind: kind as Kind, name: parsed.data.metadata.name };
}
