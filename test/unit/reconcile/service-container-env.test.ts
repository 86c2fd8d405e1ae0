// A Service's container on a shared cluster: started with --cleanenv and an
// explicit pass-through list, its caches in the data folder (bound at their own
// path), Apptainer's cache and build space there too, vLLM told how many GPUs
// it has. The job script is run as the node would run it, with the stand-in
// apptainer (test/fakes/apptainer, which honours --cleanenv like Apptainer),
// and the environment the server starts with is read back. Needs `npm run
// build` (the vLLM stand-in runs from dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceSpec } from '../../../api/schemas.js';
import { problemsFromZod } from '../../../api/problems.js';
import { dataPaths } from '../../../containers/data-dir.js';
import { PASS_ENV, serviceContainer } from '../../../containers/service-container.js';
import { SlurmExecutor } from '../../../controller/executor/slurm-executor.js';
import { serviceLaunch } from '../../../controller/reconcile/service-command.js';
import { silentLogger } from '../../../controller/runtime/logger.js';
import { Slurm } from '../../../slurm/commands.js';

const FAKES = resolve(import.meta.dirname, '../../fakes');
const dirs: string[] = [];
const jobs: ChildProcess[] = [];
afterEach(() => {
  for (const j of jobs.splice(0)) if (j.exitCode === null && j.pid) process.kill(-j.pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aifb-cleanenv-'));
  dirs.push(d);
  return d;
}

const spec = (s: Record<string, unknown>) => ServiceSpec.parse(s);

/** A SIF cache with an empty vllm.sif, as the stand-in maps images by name. */
function sifCache(dir: string): string {
  const cache = join(dir, 'sif');
  mkdirSync(cache);
  writeFileSync(join(cache, 'vllm.sif'), '');
  return cache;
}

function launchFor(s: ServiceSpec, dir: string, data = dataPaths({ dataDir: join(dir, 'data'), env: {} })) {
  return serviceLaunch(s, {
    dataDir: join(dir, 'attempt'),
    data,
    sifCache: sifCache(dir),
    executor: 'slurm',
    stateDir: dir,
    endpointFile: join(dir, 'endpoint.json'),
    launchId: 'service.llm.g1.a1.service',
  });
}

describe('a service container on a shared cluster', () => {
  it('runs with --cleanenv, its caches bound from the data folder, Apptainer\'s folders there, and a pass-through list', () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    const launch = launchFor(spec({ type: 'vllm', model: 'm', gpus: 1, passEnv: ['NCCL_DEBUG'] }), dir);
    const argv = launch.command.slice(launch.command.indexOf('aifb-serve') + 1);
    const hf = join(data, 'models/huggingface');
    const vllmCache = join(data, 'cache/vllm');
    expect(argv).toEqual([
      'apptainer', 'run', '--nv', '--cleanenv',
      '--bind', `${hf}:${hf}`, '--bind', `${vllmCache}:${vllmCache}`,
      join(dir, 'sif/vllm.sif'), '--model', 'm', '--port', '${AIFB_PORT}', '--host', '0.0.0.0',
    ]);
    expect(launch.env).toMatchObject({
      APPTAINERENV_HF_HOME: hf,
      APPTAINERENV_VLLM_CACHE_ROOT: vllmCache,
      APPTAINER_CACHEDIR: join(data, 'apptainer/cache'),
      APPTAINER_TMPDIR: join(data, 'apptainer/tmp'),
    });
    expect(launch.env.AIFB_PASS_ENV.split(' ')).toEqual([...PASS_ENV, 'NCCL_DEBUG']);
    // Bind sources must exist before Apptainer starts; the data folder is on the shared file system.
    for (const d of [hf, vllmCache, join(data, 'apptainer/cache'), join(data, 'apptainer/tmp')]) expect(existsSync(d), d).toBe(true);
  });

  it('leaves a cache where spec.env or the starting environment puts it, and keeps today\'s defaults without a data folder', () => {
    const dir = tempDir();
    const mine = launchFor(spec({ type: 'vllm', env: { HF_HOME: '/project/hf' }, binds: ['/project/hf'] }), dir);
    expect(mine.env.APPTAINERENV_HF_HOME).toBe('/project/hf');
    expect(mine.command.join(' ')).not.toContain('models/huggingface');
    expect(mine.env.APPTAINERENV_VLLM_CACHE_ROOT).toBe(join(dir, 'data/cache/vllm'));

    const data = dataPaths({ dataDir: '/d', env: {} });
    const fromHost = serviceContainer({ type: 'ollama', env: {}, args: [], binds: [] }, { data, hostEnv: { OLLAMA_MODELS: '/site/ollama' } });
    expect(fromHost.env.OLLAMA_MODELS).toBeUndefined();
    expect(fromHost.passEnv).toContain('OLLAMA_MODELS');
    expect(serviceContainer({ type: 'ollama', env: {}, args: [], binds: [] }, { data, hostEnv: {} })).toMatchObject({
      env: { OLLAMA_MODELS: '/d/models/ollama' },
      binds: ['/d/models/ollama:/d/models/ollama'],
    });

    const none = launchFor(spec({ type: 'vllm' }), tempDir(), dataPaths({ env: {}, cwd: '/w' }));
    expect(Object.keys(none.env).filter((k) => /HF_HOME|VLLM_CACHE_ROOT|APPTAINER_(CACHE|TMP)DIR/.test(k))).toEqual([]);
    expect(none.command).toContain('--cleanenv');
  });

  it('tells vLLM to spread the model over its GPUs, unless its args choose the parallelism', () => {
    const c = (s: Record<string, unknown>) => serviceContainer({ ...spec({ type: 'vllm', ...s }) }, {}).args;
    expect(c({ gpus: 4 }).slice(-2)).toEqual(['--tensor-parallel-size', '4']);
    expect(c({ gpus: 2, args: ['--model', 'x'] })).toEqual(['--model', 'x', '--tensor-parallel-size', '2']);
    expect(c({ gpus: 4, args: ['--model', 'x', '-tp', '2'] })).toEqual(['--model', 'x', '-tp', '2']);
    expect(c({ gpus: 4, args: ['--tensor-parallel-size=2'] })).toEqual(['--tensor-parallel-size=2']);
    expect(c({ gpus: 4, args: ['--pipeline-parallel-size', '4'] })).toEqual(['--pipeline-parallel-size', '4']);
    expect(c({ gpus: 1 })).not.toContain('--tensor-parallel-size');
    expect(serviceContainer(spec({ type: 'ollama', gpus: 2 }), {}).args).toEqual(['serve']);
  });

  it('refuses a spec.passEnv entry that is not a variable Apptainer would pass, naming it', () => {
    const r = ServiceSpec.safeParse({ type: 'vllm', passEnv: ['OK_NAME', '1BAD', 'HOME', 'APPTAINER_BIND'] });
    expect(r.success).toBe(false);
    const problems = problemsFromZod(r.error!, ['spec']);
    expect(problems.map((p) => p.path)).toEqual(['spec.passEnv[1]', 'spec.passEnv[2]', 'spec.passEnv[3]']);
    expect(problems[0].message).toMatch(/must be a variable name/);
    expect(problems[1].message).toMatch(/Apptainer sets HOME and PATH/);
  });

  it('in its job, the server sees the GPU SLURM gave, the pass-through variables and its caches, and nothing else of the controller\'s environment', async () => {
    const dir = tempDir();
    const envDir = join(dir, 'container-env');
    const launch = launchFor(spec({ type: 'vllm', model: 'm', gpus: 1, passEnv: ['SITE_SETTING'], env: { VLLM_LOGGING_LEVEL: 'INFO' } }), dir);
    const executor = new SlurmExecutor({ stateDir: dir, slurm: new Slurm(), log: silentLogger });
    const script = executor.render({ kind: 'Service', name: 'llm', uid: 'u1', generation: 1, attempt: 1, role: 'service', command: launch.command, env: launch.env, secretEnv: launch.secretEnv, gpus: launch.gpus, dir });
    expect(script).toMatch(/^#SBATCH --gres=gpu:1$/m);
    expect(script).toMatch(/^#SBATCH --cpus-per-gpu=4$/m);
    expect(script).toMatch(/^#SBATCH --mem-per-gpu=32G$/m);

    // As sbatch would run it on the node: the controller's environment, and what SLURM adds for the job.
    const job = spawn('bash', ['-c', script], {
      env: {
        ...process.env,
        PATH: `${FAKES}:${process.env.PATH}`,
        AIFB_FAKE_APPTAINER_ENV_DIR: envDir,
        SOME_SECRET_XYZ: 'controller-only',
        SITE_SETTING: 'from-the-site',
        HTTPS_PROXY: 'http://proxy.example:3128',
        SLURM_JOB_ID: '77',
        CUDA_VISIBLE_DEVICES: '1',
      },
      stdio: 'ignore',
      detached: true,
    });
    jobs.push(job);
    const file = await until('the container environment', () => (existsSync(envDir) ? readdirSync(envDir).find((f) => f.endsWith('.env')) : undefined));
    const seen = Object.fromEntries(
      readFileSync(join(envDir, file), 'utf8').split('\n').filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(seen).toMatchObject({
      CUDA_VISIBLE_DEVICES: '1',
      SITE_SETTING: 'from-the-site',
      VLLM_LOGGING_LEVEL: 'INFO',
      HF_HOME: join(dir, 'data/models/huggingface'),
      VLLM_CACHE_ROOT: join(dir, 'data/cache/vllm'),
      // Apptainer itself hands proxies on, and sets LANG.
      HTTPS_PROXY: 'http://proxy.example:3128',
      LANG: 'C',
    });
    for (const hidden of ['SOME_SECRET_XYZ', 'SLURM_JOB_ID', 'AIFB_PASS_ENV', 'AIFB_LAUNCH_ID', 'AIFB_ENDPOINT_FILE', 'APPTAINER_CACHEDIR', 'APPTAINERENV_HF_HOME']) {
      expect(seen, hidden).not.toHaveProperty(hidden);
    }
  });
});

async function until<T>(what: string, fn: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
