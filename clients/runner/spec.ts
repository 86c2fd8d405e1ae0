// Reads and checks the runner's spec.json with the same schemas the controller
// used to write it (decoding what it encoded): a hand-edited or stale file
// fails with the field named, not with a crash later.
import { readFile } from 'node:fs/promises';
import { problemsFromZod } from '../../api/problems.js';
import type { ConfigProblem } from '../client.js';
import { RunnerSpec } from '../registry.js';

export type SpecResult = { ok: true; spec: RunnerSpec } | { ok: false; problems: ConfigProblem[] };

export function checkSpec(doc: unknown): SpecResult {
  const parsed = RunnerSpec.safeDecode(doc as never);
  return parsed.success ? { ok: true, spec: parsed.data } : { ok: false, problems: problemsFromZod(parsed.error) };
}

/** What the controller writes to spec.json: the parsed spec encoded back to its text form. */
export function encodeSpec(spec: RunnerSpec): unknown {
  return RunnerSpec.encode(spec);
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
