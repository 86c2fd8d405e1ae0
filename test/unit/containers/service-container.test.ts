import { describe, expect, it } from 'vitest';
import { ServiceSpec } from '../../../api/schemas.js';
import { runCommand } from '../../../containers/apptainer.js';
import { ContainerSpecError } from '../../../containers/errors.js';
import { serviceContainer } from '../../../containers/service-container.js';
import { problemsOf } from './problems-of.js';

const spec = (s: Record<string, unknown>) => ServiceSpec.parse(s);

describe('serviceContainer', () => {
  it('gives a catalog service its image, port, serving args and writable binds', () => {
    const c = serviceContainer(spec({ type: 'postgresql', port: 5544 }), { dataDir: '/scratch/run1' });
    expect(c.image).toBe('docker://postgres:16.4');
    expect(c.fromCatalog).toBe(true);
    expect(c.port).toBe(5544);
    expect(c.args).toEqual(['postgres', '-p', '5544']);
    expect(c.env).toMatchObject({ PGPORT: '5544', POSTGRES_DB: 'aifb' });
    expect(c.binds).toEqual(['/scratch/run1/var_lib_postgresql_data:/var/lib/postgresql/data', '/scratch/run1/var_run_postgresql:/var/run/postgresql']);
    expect(c.writableDirs).toEqual(['/scratch/run1/var_lib_postgresql_data', '/scratch/run1/var_run_postgresql']);
  });

  it('lets spec.args replace the defaults, spec.env override single variables, and user binds win', () => {
    const c = serviceContainer(
      spec({ type: 'vllm', model: 'm', gpus: 1, args: ['--model', 'other', '--port', '8000'], env: { HF_HOME: '/hf' }, binds: ['/scratch/hf:/hf'] }),
      {},
    );
    expect(c.args).toEqual(['--model', 'other', '--port', '8000']);
    expect(c.env).toEqual({ HF_HOME: '/hf' });
    expect(c.binds).toEqual(['/scratch/hf:/hf']);
    expect(runCommand(c)).toEqual(['apptainer', 'run', '--nv', '--cleanenv', '--bind', '/scratch/hf:/hf', '--env', 'HF_HOME=/hf', 'docker://vllm/vllm-openai:v0.8.5', '--model', 'other', '--port', '8000']);

    const pg = serviceContainer(spec({ type: 'postgresql', env: { POSTGRES_PASSWORD: 's3cret' }, binds: ['/fast/pg:/var/lib/postgresql/data'] }), { dataDir: '/d' });
    expect(pg.env.POSTGRES_PASSWORD).toBe('s3cret');
    expect(pg.binds).toEqual(['/d/var_run_postgresql:/var/run/postgresql', '/fast/pg:/var/lib/postgresql/data']);
  });

  it('takes credentials as references: the user as plain environment, the password never on the command line', () => {
    const c = serviceContainer(spec({ type: 'postgresql' }), { dataDir: '/d', credentials: { user: 'bench', password: { file: '/state/pw' } } });
    expect(c.env).toMatchObject({ POSTGRES_USER: 'bench', POSTGRES_DB: 'aifb' });
    expect(c.secretEnv).toEqual({ POSTGRES_PASSWORD: { file: '/state/pw' } });
    expect(runCommand(c).join(' ')).not.toMatch(/PASSWORD/);
    const vllm = serviceContainer(spec({ type: 'vllm' }), { credentials: { token: { env: 'MY_KEY' } } });
    expect(vllm.secretEnv).toEqual({ VLLM_API_KEY: { env: 'MY_KEY' } });
    expect(serviceContainer(spec({ type: 'minio' }), {}).env).toMatchObject({ MINIO_ROOT_USER: 'aifb' });
  });

  it("passes the model to the serving args and uses the type's default port and GPUs", () => {
    const c = serviceContainer(spec({ type: 'vllm', model: 'Qwen/Qwen2.5-0.5B' }));
    expect(c.port).toBe(8000);
    expect(c.args).toEqual(['--model', 'Qwen/Qwen2.5-0.5B', '--port', '8000', '--host', '0.0.0.0']);
    // Unset gpus takes the catalog default: vLLM wants one GPU, PostgreSQL none, and 0 means none.
    expect(c.gpus).toBe(1);
    expect(runCommand(c)).toContain('--nv');
    expect(serviceContainer(spec({ type: 'vllm', gpus: 0 })).gpus).toBe(0);
    expect(serviceContainer(spec({ type: 'postgresql' })).gpus).toBe(0);
    expect(serviceContainer(spec({ type: 'vllm', gpus: 4 })).gpus).toBe(4);
  });

  it('asks for spec.port when a custom image has no catalog type', () => {
    try {
      serviceContainer(spec({ type: 'http', image: 'docker://ghcr.io/acme/echo:1' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ContainerSpecError);
      expect((e as ContainerSpecError).problems[0].path).toBe('spec.port');
    }
    expect(serviceContainer(spec({ type: 'http', image: 'docker://ghcr.io/acme/echo:1', port: 8080 })).args).toEqual([]);
  });

  it('reports image, port, bind and env problems together', () => {
    try {
      serviceContainer(spec({ type: 'faiss', binds: ['/a:/b,/c:/d'], env: { 'NO-DASH': '1' } }));
      expect.unreachable();
    } catch (e) {
      expect((e as ContainerSpecError).problems.map((p) => p.path)).toEqual(['spec.image', 'spec.port', 'spec.binds[0]', 'spec.env.NO-DASH']);
      expect((e as Error).message).toMatch(/^spec\.image: .*; spec\.port: /);
    }
  });
});

describe('serviceContainer for the serve wrapper (jobPort)', () => {
  it('refers to the port the job chooses, unless spec.port pins it, which the wrapper then passes', () => {
    const free = serviceContainer(spec({ type: 'ollama' }), { jobPort: true });
    expect(free.port).toBeUndefined();
    expect(free.env).toEqual({ OLLAMA_HOST: '0.0.0.0:${AIFB_PORT}' });
    const pinned = serviceContainer(spec({ type: 'vllm', port: 8100 }), { jobPort: true });
    expect(pinned.port).toBe(8100);
    expect(pinned.args).toEqual(['--model', 'facebook/opt-125m', '--port', '${AIFB_PORT}', '--host', '0.0.0.0']);
    expect(serviceContainer(spec({ type: 'triton' }), { jobPort: true }).ports).toBe(3);
  });

  it("keeps the type's port when spec.args replace the defaults and name no port, and the job's when they refer to it", () => {
    expect(serviceContainer(spec({ type: 'vllm', args: ['--model', 'm'] }), { jobPort: true }).port).toBe(8000);
    expect(serviceContainer(spec({ type: 'vllm', args: ['--model', 'm', '--port', '${AIFB_PORT}'] }), { jobPort: true }).port).toBeUndefined();
    const echo = serviceContainer(spec({ type: 'http', image: 'docker://ghcr.io/acme/echo:1', args: ['--listen=:${AIFB_PORT}'] }), { jobPort: true });
    expect(echo.port).toBeUndefined();
    expect(problemsOf(() => serviceContainer(spec({ type: 'http', image: 'docker://ghcr.io/acme/echo:1' }), { jobPort: true }))).toEqual([
      {
        path: 'spec.port',
        message: 'type "http" has no default port; set spec.port to the port the container listens on, or write ${AIFB_PORT} in spec.args where the server takes its port, for one the job chooses',
      },
    ]);
  });
});
