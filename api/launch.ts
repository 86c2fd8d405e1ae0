// Launch references: the names that make everything the controller launches
// findable again (job names and comments, record files) after a crash.
import type { Kind } from './schemas.js';

export const ROLES = ['service', 'runner', 'stack'] as const;
export type Role = (typeof ROLES)[number];

/** Everything that names one launch; the same ref always means the same launch. */
export interface LaunchRef {
  kind: Kind;
  name: string;
  uid: string;
  generation: number;
  attempt: number;
  role: Role;
}

export const launchId = (ref: LaunchRef): string =>
  `${ref.kind.toLowerCase()}.${ref.name}.g${ref.generation}.a${ref.attempt}.${ref.role}`;
