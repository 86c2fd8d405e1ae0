// The job name and comment that make every aifb job findable again after a
// crash: the comment carries kind, name, uid, generation, attempt and role.
import { KINDS, type Kind } from '../api/schemas.js';
import { ROLES, type LaunchRef, type Role } from '../api/launch.js';

const PREFIX = 'aifb:v1';
// No ';', '=' or whitespace: the comment is split on them and lands unquoted in
// an #SBATCH line.
const TOKEN = /^[A-Za-z0-9_.-]+$/;

/** `aifb-<kind lowercased>-<name>`, e.g. `aifb-benchmark-vllm-load`. */
export function jobName(kind: Kind, name: string): string {
  return `aifb-${kind.toLowerCase()}-${name}`;
}

/** `aifb:v1;kind=Benchmark;name=x;uid=...;gen=1;attempt=2;role=runner` */
export function encodeJobComment(ref: LaunchRef): string {
  for (const [field, value] of [
    ['name', ref.name],
    ['uid', ref.uid],
  ] as const) {
    if (!TOKEN.test(value)) {
      throw new Error(`cannot put ${field} ${JSON.stringify(value)} in a job comment: only letters, digits, "_", "-" and "." are allowed`);
    }
  }
  for (const [field, value] of [
    ['generation', ref.generation],
    ['attempt', ref.attempt],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`cannot put ${field} ${value} in a job comment: it must be a whole number >= 0`);
  }
  return `${PREFIX};kind=${ref.kind};name=${ref.name};uid=${ref.uid};gen=${ref.generation};attempt=${ref.attempt};role=${ref.role}`;
}

/** The launch a job comment names, or undefined for a comment aifb did not write. */
export function decodeJobComment(comment: string | undefined | null): LaunchRef | undefined {
  if (!comment) return undefined;
  const [head, ...pairs] = comment.trim().split(';');
  if (head !== PREFIX) return undefined;
  const fields = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const kind = fields.get('kind');
  const name = fields.get('name');
  const uid = fields.get('uid');
  const role = fields.get('role');
  const generation = wholeNumber(fields.get('gen'));
  const attempt = wholeNumber(fields.get('attempt'));
  if (!kind || !(KINDS as readonly string[]).includes(kind)) return undefined;
  if (!role || !(ROLES as readonly string[]).includes(role)) return undefined;
  if (!name || !TOKEN.test(name) || !uid || !TOKEN.test(uid)) return undefined;
  if (generation === undefined || attempt === undefined) return undefined;
  return { kind: kind as Kind, name, uid, generation, attempt, role: role as Role };
}

function wholeNumber(s: string | undefined): number | undefined {
  if (!s || !/^\d{1,15}$/.test(s)) return undefined;
  return Number(s);
}
