// Turns one parsed YAML document into a typed resource, or into a list of
// problems that each name the field path and say how to fix it.
import { problemsFromZod, type FieldProblem } from '../../api/problems.js';
import { API_VERSION, KINDS, RESOURCE_SCHEMAS, type Kind, type Resource } from './schemas.js';

export type ValidationResult =
  | { ok: true; resource: Resource; kind: Kind; name: string }
  | { ok: false; problems: FieldProblem[]; kind?: string; name?: string };

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
