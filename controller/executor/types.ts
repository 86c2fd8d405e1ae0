// The executor interface: how the controller launches, finds, watches and stops
// what a resource needs, whether as local processes or as SLURM jobs.
import { z } from 'zod';
import type { SecretRef } from '../../api/connection.js';
import type { LaunchRef } from '../../api/launch.js';
import type { SlurmSpec } from '../api/schemas.js';

export { launchId, type LaunchRef, type Role } from '../../api/launch.js';

export interface LaunchSpec extends LaunchRef {
  /** argv of one process (one rank); the executor adds `--rank i` when ranks > 1. */
  command: string[];
  env?: Record<string, string>;
  /**
   * Variables whose values are secrets, by reference: resolved only where the
   * process starts (the local executor reads them; a job script reads the file
   * or variable itself), so no value is ever written into a script or a log.
   */
  secretEnv?: Record<string, SecretRef>;
  /** Folder for logs and anything the launch writes. */
  dir: string;
  /** Processes per launch: nodes x tasksPerNode ranks (srun under SLURM, N processes locally). */
  nodes?: number;
  tasksPerNode?: number;
  gpus?: number;
  /** Batch settings; the local executor ignores them. */
  slurm?: SlurmSpec;
}

/** The program a launch runs is not on this host (or not executable): starting again cannot help. */
export class ProgramNotFound extends Error {
  override name = 'ProgramNotFound';
  constructor(
    readonly program: string,
    readonly code: string,
  ) {
    super(`could not start ${program}: ${code === 'EACCES' ? 'it is not executable' : 'no such program on this host'}`);
  }
}

export const ranksOf = (spec: Pick<LaunchSpec, 'nodes' | 'tasksPerNode'>): number => (spec.nodes ?? 1) * (spec.tasksPerNode ?? 1);

/** What a launch's endpoint file says: where it answers and, from a Service's serve wrapper (containers/serve-script.ts), who wrote it. */
export const EndpointRecord = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** The SLURM job that wrote it. */
  jobId: z.string().optional(),
  launchId: z.string().optional(),
  /** The serve wrapper's pid: the process the local executor started. */
  pid: z.number().int().optional(),
  /** The process holding the socket that listens on the port, once the wrapper saw that it is the server or one of its children. */
  listenerPid: z.number().int().optional(),
});
export type EndpointRecord = z.output<typeof EndpointRecord>;

export interface Launched {
  id: string;
  ref: LaunchRef;
  dir: string;
  startedAt: string;
  pids?: number[];
  jobId?: string;
  node?: string;
}

export type LaunchState =
  /** endsAt: when the scheduler will end it (its time limit), ISO 8601; absent when nothing will. */
  | { state: 'running'; node?: string; endsAt?: string }
  | { state: 'pending'; reason?: string }
  | { state: 'exited'; exitCode: number | null; reason?: string; retryable?: boolean };

export interface Executor {
  readonly name: 'local' | 'slurm';
  /** Launches, or returns the launch already made for this ref: never launches twice. */
  launch(spec: LaunchSpec): Promise<Launched>;
  find(ref: LaunchRef): Promise<Launched | undefined>;
  state(launched: Launched): Promise<LaunchState>;
  /** Stops it (TERM, then KILL after the grace period) and waits until it is gone. */
  stop(launched: Launched, graceMs?: number): Promise<void>;
  /** Everything launched and not yet forgotten, for adoption after a restart and cleanup on delete. */
  list(): Promise<Launched[]>;
  /** Drops the record of a launch that has ended and been handled. */
  forget(launched: Launched): Promise<void>;
}
