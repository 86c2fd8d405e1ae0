// A GPU service as a SLURM job on a shared cluster, against the real
// single-node SLURM (2 fake GPUs, 8 CPUs): the job asks for its GPU and each
// GPU's CPUs and memory and is scheduled with them; its image comes from the
// data folder's SIF cache; its container (the stand-in apptainer, which
// honours --cleanenv as Apptainer does) sees the GPU SLURM gave it, the
// pass-through variables and its model cache in the data folder, and not a
// variable of the controller's own environment.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { catalogTypes, sifPath } from '../../containers/catalog.js';
import { api, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from '../e2e/harness.js';
import { FAKES, requireSlurm } from './slurm-harness.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;

beforeAll(() => requireSlurm());
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  // This test's jobs only, from the executor's records: other jobs on the cluster are not ours to end.
  const records = ws ? join(ws.state, 'slurm-jobs') : '';
  if (records && existsSync(records)) {
    for (const f of readdirSync(records).filter((f) => f.endsWith('.json'))) {
      const { jobId } = JSON.parse(readFileSync(join(records, f), 'utf8')) as { jobId: string };
      if (jobId) execFileSync('scancel', [jobId]);
    }
  }
  controller = ws = undefined;
});

/** `Key=Value` fields of `scontrol show job -o`. */
function jobFields(jobId: string): Record<string, string> {
  const line = execFileSync('scontrol', ['show', 'job', '-o', jobId], { encoding: 'utf8' });
  return Object.fromEntries(line.trim().split(/\s+/).filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
}

describe('a GPU service container as a SLURM job', { timeout: 240_000 }, () => {
  it('is scheduled with its GPU and its share of CPUs and memory, and its container sees what it needs and no more', async () => {
    ws = workspace();
    const data = join(ws.dir, 'data');
    // The SIF cache as containers/pull.sh leaves it under the data folder: empty files the stand-in maps by name.
    mkdirSync(join(data, 'sif'), { recursive: true });
    for (const type of catalogTypes()) writeFileSync(sifPath(join(data, 'sif'), type), '');
    const envDir = join(ws.dir, 'container-env');
    const argvLog = join(ws.dir, 'apptainer.jsonl');
    controller = await startController(ws, ['--executor', 'slurm', '--poll', '1s'], {
      // Empty is unset: the cache is the data folder's.
      AIFB_SIF_CACHE: '',
      PATH: `${FAKES}:${process.env.PATH}`,
      AIFB_DATA_DIR: data,
      AIFB_FAKE_APPTAINER_LOG: argvLog,
      AIFB_FAKE_APPTAINER_ENV_DIR: envDir,
      SOME_SECRET_XYZ: 'the-controllers-own',
      SITE_SETTING: 'for-the-server',
    });
    writeFileSync(
      join(ws.resources, 'llm.yaml'),
      [
        'apiVersion: aifb.io/v1alpha1',
        'kind: Service',
        'metadata:',
        '  name: llm',
        'spec:',
        '  type: vllm',
        '  model: facebook/opt-125m',
        '  gpus: 1',
        '  passEnv: [SITE_SETTING]',
        // Small, so that the test node (8 CPUs, shared with other tests) has room beside it.
        '  slurm: { cpusPerGpu: 2, memPerGpu: 1G }',
        '  readiness: { interval: 1s, timeout: 90s }',
        '  retries: { max: 0 }',
        '',
      ].join('\n'),
    );
    const svc = await until('service llm to be Ready or Failed', async () => {
      const { body } = await api(controller!.url, '/api/v1/services/llm');
      return ['Ready', 'Failed'].includes(body.status?.phase) ? body : undefined;
    }, 180_000, 500);
    expect(svc.status.phase, JSON.stringify(svc.status)).toBe('Ready');

    // One GPU request, and the share per GPU, as submitted and as SLURM holds them.
    const dir = join(ws.state, 'services', 'llm', 'g1-a1');
    const script = readFileSync(join(dir, 'service.sbatch'), 'utf8');
    expect(script.match(/^#SBATCH --(gres|gpus)\b.*$/gm)).toEqual(['#SBATCH --gres=gpu:1']);
    expect(script).toMatch(/^#SBATCH --cpus-per-gpu=2$/m);
    expect(script).toMatch(/^#SBATCH --mem-per-gpu=1G$/m);
    expect(script).toContain(`export APPTAINER_CACHEDIR=${join(data, 'apptainer/cache')}`);
    const { jobId } = JSON.parse(readFileSync(join(ws.state, 'slurm-jobs', 'service.llm.g1.a1.service.json'), 'utf8')) as { jobId: string };
    const job = jobFields(jobId);
    expect(job).toMatchObject({ JobState: 'RUNNING', NumCPUs: '2', TresPerNode: 'gres:gpu:1', CpusPerTres: 'gres:gpu:2', MemPerTres: 'gres:gpu:1024' });

    // The image from the data folder's cache, a clean environment, the model cache bound.
    const hf = join(data, 'models/huggingface');
    const argv = JSON.parse(readFileSync(argvLog, 'utf8').trim().split('\n')[0]) as string[];
    expect(argv).toEqual(expect.arrayContaining(['run', '--nv', '--cleanenv', '--bind', `${hf}:${hf}`, join(data, 'sif/vllm.sif')]));
    expect(statSync(hf).isDirectory()).toBe(true);

    const files = readdirSync(envDir).filter((f) => f.endsWith('.env'));
    expect(files).toHaveLength(1);
    const seen = Object.fromEntries(
      readFileSync(join(envDir, files[0]), 'utf8').split('\n').filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(seen).toMatchObject({ SITE_SETTING: 'for-the-server', HF_HOME: hf, VLLM_CACHE_ROOT: join(data, 'cache/vllm') });
    // SLURM sets the GPU's index for the job when its GPUs are device files (scripts/slurm-up.sh makes them so where mknod works).
    if (statSync('/var/lib/aifb-fake-gpu/nvidia0').isCharacterDevice()) expect(seen.CUDA_VISIBLE_DEVICES).toMatch(/^[01]$/);
    for (const hidden of ['SOME_SECRET_XYZ', 'AIFB_DATA_DIR', 'SLURM_JOB_ID', 'SLURM_CPUS_ON_NODE', 'AIFB_LAUNCH_ID']) expect(seen, hidden).not.toHaveProperty(hidden);
  });
});
