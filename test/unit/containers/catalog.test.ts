import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVICE_TYPES } from '../../../api/schemas.js';
import { imagesFileText } from '../../../containers/catalog-list.js';
import {
  atPort,
  catalogEntry,
  catalogImageLines,
  catalogTypes,
  defaultSifCache,
  gpusFor,
  resolveImage,
  sifPath,
  type ImageType,
} from '../../../containers/catalog.js';
import { JOB_PORTS } from '../../../containers/serve-script.js';
import { problemsOf } from './problems-of.js';
import { useTempDirs } from './temp-dirs.js';

const tempDir = useTempDirs();
const IMAGES_TXT = fileURLToPath(new URL('../../../containers/images.txt', import.meta.url));


describe('catalog', () => {
  it('gives the guide images for every containerised type', () => {
    const images: Record<string, string> = {
      vllm: 'docker://vllm/vllm-openai:v0.8.5',
      ollama: 'docker://ollama/ollama:0.5.7',
      chromadb: 'docker://chromadb/chroma:1.0.0',
      postgresql: 'docker://postgres:16.4',
      minio: 'docker://minio/minio:RELEASE.2024-10-13T13-34-11Z',
      s3: 'docker://minio/minio:RELEASE.2024-10-13T13-34-11Z',
      weaviate: 'docker://semitechnologies/weaviate:1.25.0',
      triton: 'docker://nvcr.io/nvidia/tritonserver:24.08-py3',
      prometheus: 'docker://prom/prometheus:v2.53.0',
      pushgateway: 'docker://prom/pushgateway:v1.9.0',
      grafana: 'docker://grafana/grafana:11.1.0',
    };
    for (const [type, image] of Object.entries(images)) expect(catalogEntry(type)?.image, type).toBe(image);
    expect(catalogTypes().sort()).toEqual(Object.keys(images).sort());
  });

  it('has no image for types that run no container', () => {
    for (const type of ['faiss', 'file-storage', 'http']) expect(catalogEntry(type)).toBeUndefined();
    // Every other service type must have one, so a new type cannot silently lack an image.
    const withImage = SERVICE_TYPES.filter((t) => !['faiss', 'file-storage', 'http'].includes(t));
    for (const t of withImage) expect(catalogEntry(t), t).toBeDefined();
  });

  it('knows default ports and which types want GPUs', () => {
    const ports: Record<string, number> = {
      vllm: 8000,
      ollama: 11434,
      chromadb: 8000,
      postgresql: 5432,
      minio: 9000,
      weaviate: 8080,
      prometheus: 9090,
      pushgateway: 9091,
      grafana: 3000,
    };
    for (const [type, port] of Object.entries(ports)) expect(catalogEntry(type)?.port, type).toBe(port);
    const gpu = catalogTypes().filter((t) => catalogEntry(t)!.wantsGpu);
    expect(gpu.sort()).toEqual(['ollama', 'triton', 'vllm']);
    expect(gpusFor({ type: 'triton' })).toBe(1);
    expect(gpusFor({ type: 'triton', gpus: 0 })).toBe(0);
    expect(gpusFor({ type: 'chromadb' })).toBe(0);
    expect(gpusFor({ type: 'http' })).toBe(0);
  });

  it('builds each container default command for a port and model', () => {
    expect(catalogEntry('vllm')!.serve({ ...atPort(8123), model: 'meta-llama/Llama-3.2-1B' }).args).toEqual([
      '--model',
      'meta-llama/Llama-3.2-1B',
      '--port',
      '8123',
      '--host',
      '0.0.0.0',
    ]);
    expect(catalogEntry('ollama')!.serve({ ...atPort(11500) }).env).toEqual({ OLLAMA_HOST: '0.0.0.0:11500' });
    expect(catalogEntry('chromadb')!.serve({ ...atPort(8001) }).args).toEqual(['run', '--host', '0.0.0.0', '--port', '8001', '--path', '/data']);
    const pg = catalogEntry('postgresql')!.serve({ ...atPort(5433) });
    expect(pg.args).toEqual(['postgres', '-p', '5433']);
    expect(pg.env).toEqual({ POSTGRES_DB: 'aifb', PGPORT: '5433', PGDATA: '/var/lib/postgresql/data' });
    // No credential is a catalog constant: the container takes them from these variables.
    expect(catalogEntry('postgresql')!.credentialEnv).toEqual({ user: { env: 'POSTGRES_USER', default: 'aifb' }, password: 'POSTGRES_PASSWORD' });
    expect(catalogEntry('minio')!.serve({ ...atPort(9000) }).env).toEqual({});
    expect(catalogEntry('s3')!.serve({ ...atPort(9100) }).args).toEqual(['server', '/data', '--address', ':9100']);
    expect(catalogEntry('weaviate')!.serve({ ...atPort(8081) }).args).toContain('8081');
    expect(catalogEntry('triton')!.serve({ ...atPort(8000), model: '/models' }).args).toEqual([
      'tritonserver',
      '--model-repository=/models',
      '--http-port=8000',
      '--grpc-port=8001',
      '--metrics-port=8002',
    ]);
    expect(catalogEntry('prometheus')!.serve({ ...atPort(9095) }).args).toContain('--web.listen-address=:9095');
    expect(catalogEntry('grafana')!.serve({ ...atPort(3001) }).env.GF_SERVER_HTTP_PORT).toBe('3001');
  });

  it("builds them with the job's port references, for the serve wrapper to fill in where the job runs", () => {
    expect(catalogEntry('vllm')!.serve({ ...JOB_PORTS }).args).toEqual(['--model', 'facebook/opt-125m', '--port', '${AIFB_PORT}', '--host', '0.0.0.0']);
    expect(catalogEntry('ollama')!.serve({ ...JOB_PORTS }).env).toEqual({ OLLAMA_HOST: '0.0.0.0:${AIFB_PORT}' });
    expect(catalogEntry('triton')!.serve({ ...JOB_PORTS }).args.slice(2)).toEqual(['--http-port=${AIFB_PORT}', '--grpc-port=${AIFB_PORT_1}', '--metrics-port=${AIFB_PORT_2}']);
    // Triton takes three ports in a row; the job finds three free ones.
    expect(catalogEntry('triton')!.ports).toBe(3);
    expect(catalogEntry('vllm')!.ports).toBeUndefined();
  });

  it('names SIFs <cache>/<type>.sif, with s3 sharing MinIO\'s', () => {
    expect(sifPath('/c', 'vllm')).toBe('/c/vllm.sif');
    expect(sifPath('/c', 'postgresql')).toBe('/c/postgresql.sif');
    expect(sifPath('/c', 's3')).toBe('/c/minio.sif');
    expect(defaultSifCache({ AIFB_SIF_CACHE: '/scratch/sif' }, '/w')).toBe('/scratch/sif');
    expect(defaultSifCache({}, '/w')).toBe('/w/containers/sif');
  });
});

describe('resolveImage', () => {
  it('uses the docker reference when the cache has no SIF, and the SIF once it does', () => {
    const cache = tempDir('aifb-sif-');
    expect(resolveImage({ type: 'vllm' }, { sifCache: cache })).toEqual({ image: 'docker://vllm/vllm-openai:v0.8.5', fromCatalog: true });
    writeFileSync(join(cache, 'vllm.sif'), 'sif');
    expect(resolveImage({ type: 'vllm' }, { sifCache: cache })).toEqual({ image: join(cache, 'vllm.sif'), fromCatalog: true });
    expect(resolveImage({ type: 'vllm' })).toEqual({ image: 'docker://vllm/vllm-openai:v0.8.5', fromCatalog: true });
  });

  it('under SLURM (requireCached) refuses a catalog image missing from the cache, naming the pull command; spec.image still goes', () => {
    const cache = tempDir('aifb-sif-');
    expect(() => resolveImage({ type: 'ollama' }, { sifCache: cache, requireCached: true })).toThrow(
      `spec.image: the ollama image is not in the SIF cache (${join(cache, 'ollama.sif')}): run \`containers/pull.sh ollama\``,
    );
    writeFileSync(join(cache, 'ollama.sif'), 'sif');
    expect(resolveImage({ type: 'ollama' }, { sifCache: cache, requireCached: true }).image).toBe(join(cache, 'ollama.sif'));
    expect(resolveImage({ type: 'vllm', image: 'docker://vllm/vllm-openai:v0.8.5' }, { sifCache: cache, requireCached: true }).image).toBe('docker://vllm/vllm-openai:v0.8.5');
  });

  it('honours spec.image, SIF path or registry reference, even when the cache has one', () => {
    const cache = tempDir('aifb-sif-');
    writeFileSync(join(cache, 'vllm.sif'), 'sif');
    expect(resolveImage({ type: 'vllm', image: '/opt/sif/my-vllm.sif' }, { sifCache: cache })).toEqual({ image: '/opt/sif/my-vllm.sif', fromCatalog: false });
    expect(resolveImage({ type: 'vllm', image: 'containers/sif/v.sif' })).toEqual({ image: 'containers/sif/v.sif', fromCatalog: false });
    expect(resolveImage({ type: 'http', image: 'docker://ghcr.io/acme/echo:1.2@sha256:' + 'a'.repeat(64) }).fromCatalog).toBe(false);
  });

  it('names spec.image and the fix when the image is bad', () => {
    const [p] = problemsOf(() => resolveImage({ type: 'vllm', image: 'docker://Vllm/VLLM:latest' }));
    expect(p.path).toBe('spec.image');
    expect(p.message).toMatch(/docker:\/\/\[registry\/\]name\[:tag\]/);
    expect(problemsOf(() => resolveImage({ type: 'vllm', image: '/x.sif\n--nv' }))[0]).toMatchObject({ path: 'spec.image', message: expect.stringMatching(/newlines/) });
    expect(problemsOf(() => resolveImage({ type: 'vllm', image: 'vllm/vllm-openai:latest' }))[0].message).toContain('docker://vllm/vllm-openai:latest');
    expect(problemsOf(() => resolveImage({ type: 'vllm', image: 'http://example.com/x.sif' }))[0].message).toMatch(/unsupported image scheme/);
  });

  it('asks for spec.image when the type has no catalog image, using the caller\'s field path', () => {
    expect(problemsOf(() => resolveImage({ type: 'faiss' }))[0]).toMatchObject({ path: 'spec.image', message: expect.stringMatching(/faiss.*spec\.image/) });
    expect(problemsOf(() => resolveImage({ type: 'grafana', image: '' }, { field: 'spec.grafana.image' }))[0].path).toBe('spec.grafana.image');
  });
});

describe('containers/images.txt', () => {
  it('is exactly what the catalog generates, so pull.sh pulls the catalog images', () => {
    expect(readFileSync(IMAGES_TXT, 'utf8')).toBe(imagesFileText());
  });

  it('lists each SIF once, with the types it serves', () => {
    const lines = catalogImageLines();
    const sifs = lines.map((l) => l.split(' ')[0]);
    expect(new Set(sifs).size).toBe(sifs.length);
    const served = lines.flatMap((l) => {
      const [sif, , ...aliases] = l.split(' ');
      return [sif, ...aliases];
    });
    expect(served.sort()).toEqual([...catalogTypes()].sort());
    for (const l of lines) {
      const [sif, ref] = l.split(' ');
      expect(catalogEntry(sif as ImageType)?.image, sif).toBe(ref);
    }
  });
});
