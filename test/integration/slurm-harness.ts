// Helpers for tests against the real single-node SLURM that scripts/slurm-up.sh
// starts: what squeue and scontrol say, the node, and the stand-in apptainer.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogTypes, sifPath } from '../../containers/catalog.js';
import { ROOT } from '../e2e/harness.js';

export const FAKES = join(ROOT, 'test/fakes');

/** scripts/slurm-up.sh's project account: root is a user of it (its default), and the cluster refuses any other. */
export const TEST_ACCOUNT = 'p200981';

export function requireSlurm(): void {
  try {
    execFileSync('scontrol', ['ping'], { stdio: 'pipe', timeout: 10_000 });
  } catch {
    throw new Error('SLURM does not answer: run scripts/slurm-up.sh first (bash scripts/test-all.sh does)');
  }
}

export function nodeName(): string {
  return execFileSync('sinfo', ['-h', '-o', '%N'], { encoding: 'utf8' }).trim().split('\n')[0];
}

export interface ListedJob {
  jobId: string;
  name: string;
  comment: string;
  state: string;
}

/** Every job SLURM still knows (queue and recently finished), from scontrol. */
export function allJobs(): ListedJob[] {
  const out = execFileSync('scontrol', ['show', 'job', '-o'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  return out
    .split('\n')
    .filter((l) => l.startsWith('JobId='))
    .map((l) => ({
      jobId: /JobId=(\d+)/.exec(l)![1],
      name: /JobName=(\S+)/.exec(l)?.[1] ?? '',
      comment: /Comment=(\S*)/.exec(l)?.[1] ?? '',
      state: /JobState=(\S+)/.exec(l)?.[1] ?? '',
    }));
}

export function cancelAifbJobs(): void {
  for (const j of allJobs()) if (j.name.startsWith('aifb-') && ['PENDING', 'RUNNING', 'CONFIGURING'].includes(j.state)) execFileSync('scancel', [j.jobId]);
}

export function setNode(state: 'down' | 'resume', reason = 'aifb-test'): void {
  const args = ['update', `nodename=${nodeName()}`, `state=${state}`];
  if (state === 'down') args.push(`reason=${reason}`);
  execFileSync('scontrol', args);
}

/**
 * A SIF cache holding every catalog image, as containers/pull.sh leaves it (the
 * controller under SLURM requires it). The files are empty: the stand-in
 * apptainer maps an image to its native program by the file's name.
 */
export const SIF_CACHE = (() => {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-sif-cache-'));
  for (const type of catalogTypes()) writeFileSync(sifPath(dir, type), '');
  return dir;
})();

export const envWithFakes = (): Record<string, string> => ({ PATH: `${FAKES}:${process.env.PATH}`, AIFB_SIF_CACHE: SIF_CACHE });
