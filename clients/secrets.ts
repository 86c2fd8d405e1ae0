// Resolves credential references where the process runs (the runner on its
// node, the local executor for a service it starts): the value is read at the
// last moment and never written anywhere.
import { readFileSync } from 'node:fs';
import { describeSecretRef, type SecretRef } from '../api/connection.js';

export class SecretError extends Error {
  override name = 'SecretError';
}

/**
 * The secret's value: the environment variable's value, or the file's first
 * line. `field` names where the reference was written, for the message.
 */
export function resolveSecret(ref: SecretRef, field: string, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new SecretError(`${field}: ${describeSecretRef(ref)} is not set where this runs (host ${process.env.HOSTNAME ?? 'here'}); export it before starting the controller, or use {file: /path} instead`);
    }
    return value;
  }
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (e) {
    throw new SecretError(`${field}: cannot read ${describeSecretRef(ref)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); make it readable by the user that runs aifb`);
  }
  const value = text.split(/\r?\n/)[0];
  if (value === '') throw new SecretError(`${field}: ${describeSecretRef(ref)} is empty; write the secret on its first line`);
  return value;
}

/** Every `{ NAME: ref }` resolved to `{ NAME: value }`. */
export function resolveSecretEnv(secretEnv: Readonly<Record<string, SecretRef>>, field: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(secretEnv)) out[name] = resolveSecret(ref, `${field}.${name}`, env);
  return out;
}
