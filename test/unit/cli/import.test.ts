import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validateResource } from '../../../controller/api/validate.js';
import { runImport } from '../../../controller/cli/import.js';
import { convertRecipe, RecipeError, type ConvertResult } from '../../../controller/cli/recipe/convert.js';
import { parseResourceText } from '../../../controller/store/parse.js';
import { serviceYaml, tempDirs, type TempDirs } from './files.fixture.js';
import { capture } from './fixtures.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recipe-fixtures');
const fixture = (name: string) => readFile(path.join(FIXTURES, name), 'utf8');

type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, any> };
const docs = (r: ConvertResult) => r.documents as Doc[];
const services = (r: ConvertResult) => docs(r).filter((d) => d.kind === 'Service');
const benchmarks = (r: ConvertResult) => docs(r).filter((d) => d.kind === 'Benchmark');
const warningKeys = (r: { warnings: Array<{ key: string }> }) => r.warnings.map((w) => w.key);

function failure(text: string): RecipeError {
  try {
    convertRecipe(text);
  } catch (e) {
    if (e instanceof RecipeError) return e;
    throw e;
  }
  throw new Error('expected the recipe to be refused');
}

/** Every document valid on its own, and every file's text read back valid, as the controller reads it. */
function expectAllValid(r: ConvertResult): void {
  for (const d of r.documents) expect(validateResource(d)).toMatchObject({ ok: true });
  for (const f of r.files) {
    const read = parseResourceText(f.text, f.fileName);
    expect(read.map((d) => d.validation.ok)).toEqual(f.documents.map(() => true));
    expect(read.map((d) => d.key)).toEqual((f.documents as Doc[]).map((d) => `${d.kind}/${d.metadata.name}`));
  }
}

/** Every Benchmark with a serviceRef names a Service of this import, and every Service has its Benchmark. */
function expectRefsMatch(r: ConvertResult): void {
  const names = services(r).map((s) => s.metadata.name);
  const refs = benchmarks(r)
    .map((b) => b.spec.serviceRef)
    .filter((x) => x !== undefined);
  expect([...refs].sort()).toEqual([...names].sort());
}

/** The guide's service entry (a list item) with its slurm: block replaced by one of the guide's slurm fragments. */
function withSlurm(entry: string, slurmFragment: string): string {
  let lines = entry.split('\n').filter((l) => !l.startsWith('#') && l.trim() !== '');
  const at = lines.indexOf('  slurm:');
  if (at >= 0) {
    let end = at + 1;
    while (end < lines.length && lines[end].startsWith('    ')) end++;
    lines = [...lines.slice(0, at), ...lines.slice(end)];
  }
  const fragment = slurmFragment
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.trim() !== '')
    .map((l) => `  ${l.replace(/\s+#.*$/, '')}`);
  return [...lines, ...fragment].join('\n') + '\n';
}

describe("convertRecipe: the guide's own example recipes (section 5.3)", () => {
  const cases = [
    { file: '5.3-ollama.yml', service: 'ollama', workload: 'llm', name: 'ollama-llama2' },
    { file: '5.3-vllm.yml', service: 'vllm', workload: 'llm', name: 'vllm-opt' },
    { file: '5.3-chromadb.yml', service: 'chromadb', workload: 'chromadb', name: 'chromadb' },
    { file: '5.3-faiss.yml', service: undefined, workload: 'faiss', name: 'faiss' },
    { file: '5.3-postgresql.yml', service: 'postgresql', workload: 'postgresql', name: 'postgresql' },
    { file: '5.3-minio-s3.yml', service: 'minio', workload: 's3', name: 'minio-s3' },
    { file: '5.3-file-storage.yml', service: undefined, workload: 'file-storage', name: 'file-storage' },
  ];

  it.each(cases)('$file converts into valid resources of the right types', async ({ file, service, workload, name }) => {
    const r = convertRecipe(await fixture(file), { source: file });
    expectAllValid(r);
    expectRefsMatch(r);
    expect(services(r).map((s) => [s.metadata.name, s.spec.type])).toEqual(service ? [[name, service]] : []);
    expect(benchmarks(r).map((b) => [b.metadata.name, b.spec.workload.type, b.spec.serviceRef])).toEqual([[`${name}-load`, workload, service ? name : undefined]]);
    expect(r.files.map((f) => f.fileName)).toEqual([`${name}.yaml`]);
    expect(r.files[0].text).toMatch(new RegExp(`^# Imported by \`aifbctl import\` from ${file.replace('.', '\\.')} \\(\\[0\\], service_name "${name}"\\)`));
  });

  it('ollama: the load, the model and the SLURM settings of the recipe', async () => {
    const r = convertRecipe(await fixture('5.3-ollama.yml'));
    const [svc] = services(r);
    const [bench] = benchmarks(r);
    expect(svc.spec).toEqual({ type: 'ollama', model: 'llama2', port: 11434, slurm: { partition: 'gpu', account: 'p200981' } });
    // 5 clients x 10 req/s each, at most 5 in flight, 300 s.
    expect(bench.spec.load).toEqual({ mode: 'open', arrival: 'constant', rate: 50, concurrency: 5, duration: '5m' });
    expect(bench.spec.workload).toMatchObject({ type: 'llm', protocol: 'ollama', api: 'generate', model: 'llama2' });
    expect(bench.spec.runner).toEqual({ slurm: { partition: 'gpu', account: 'p200981' } });
    expect(r.warnings).toEqual([]);
  });

  it('vllm: OpenAI completions with the max_tokens the Python client sent', async () => {
    const r = convertRecipe(await fixture('5.3-vllm.yml'));
    expect(services(r)[0].spec).toEqual({ type: 'vllm', model: 'facebook/opt-125m', port: 8000 });
    expect(benchmarks(r)[0].spec.workload).toMatchObject({ protocol: 'openai', api: 'completions', model: 'facebook/opt-125m', maxTokens: 50 });
    expect(benchmarks(r)[0].spec.load).toMatchObject({ rate: 200, concurrency: 10, duration: '5m' });
  });

  it('vector databases: dimension, operation mix, batch size and search k', async () => {
    const chroma = benchmarks(convertRecipe(await fixture('5.3-chromadb.yml')))[0].spec.workload;
    expect(chroma).toEqual({
      type: 'chromadb',
      dimension: 384,
      operationMix: { insert: 0.3, search: 0.5, update: 0.1, delete: 0.1 },
      batchSize: 10,
      searchK: 10,
      metric: 'cosine',
    });
    const faiss = convertRecipe(await fixture('5.3-faiss.yml'));
    expect(benchmarks(faiss)[0].spec.workload).toEqual({ type: 'faiss', dimension: 384, operationMix: { insert: 0.4, search: 0.6 }, batchSize: 10, index: 'Flat', metric: 'l2' });
    expect(benchmarks(faiss)[0].spec.serviceRef).toBeUndefined();
  });

  it('postgresql: mix, database and user carried over; the password never written', async () => {
    const r = convertRecipe(await fixture('5.3-postgresql.yml'));
    expect(services(r)[0].spec).toEqual({ type: 'postgresql', port: 5432, database: 'benchmark', credentials: { user: 'postgres' } });
    expect(benchmarks(r)[0].spec.workload).toEqual({ type: 'postgresql', operationMix: { select: 0.4, insert: 0.3, update: 0.2, delete: 0.1 } });
    expect(warningKeys(r)).toEqual(['[0].password']);
    expect(r.warnings[0].message).toContain('spec.credentials.password: { file: /path/to/it }');
    expect(JSON.stringify(r.documents)).not.toContain('password');
  });

  it('s3: bucket, mix and object sizes; MinIO as the Service; the secret key dropped', async () => {
    const r = convertRecipe(await fixture('5.3-minio-s3.yml'));
    expect(services(r)[0].spec).toEqual({ type: 'minio', port: 9000, credentials: { user: 'minioadmin' } });
    expect(benchmarks(r)[0].spec.workload).toEqual({
      type: 's3',
      bucket: 'benchmark-bucket',
      operationMix: { put: 0.4, get: 0.4, list: 0.1, delete: 0.1 },
      objectSizes: { '1KB': 0.3, '10KB': 0.3, '100KB': 0.2, '1MB': 0.15, '10MB': 0.05 },
    });
    expect(warningKeys(r)).toEqual(['[0].secret_key']);
  });

  it('file storage: base path, mix and file sizes, run from the runner with no Service', async () => {
    const r = convertRecipe(await fixture('5.3-file-storage.yml'));
    expect(benchmarks(r)[0].spec.workload).toEqual({
      type: 'file-storage',
      basePath: '/tmp/benchmark_storage',
      operationMix: { write: 0.4, read: 0.4, stat: 0.1, delete: 0.1 },
      fileSizes: { '1KB': 0.2, '10KB': 0.2, '100KB': 0.2, '1MB': 0.2, '10MB': 0.2 },
    });
  });
});

describe("convertRecipe: the guide's structure, SLURM and global examples (sections 5.2, 5.4, 10.2, 10.3, 11.2)", () => {
  it('5.2 as printed is refused at its <type> placeholder', async () => {
    const e = failure(await fixture('5.2-basic-structure.yml'));
    expect(e.problems).toEqual([{ key: 'services[0].service_type', message: expect.stringContaining(`"<type>" is the guide's placeholder; replace it with one of ollama, vllm`) }]);
  });

  it('5.2 with a type filled in: the global section applies to the service, or is named as not carried over', async () => {
    const r = convertRecipe((await fixture('5.2-basic-structure.yml')).replace('<type>', 'vllm'));
    expectAllValid(r);
    const [bench] = benchmarks(r);
    expect(bench.metadata.name).toBe('unique-service-id-load');
    expect(bench.metadata.labels).toEqual({ suite: 'my-benchmark' });
    expect(bench.spec.pushgateway).toBe('http://localhost:9091');
    expect(bench.spec.reports).toBeUndefined(); // reports_dir: reports is aifb's default
    expect(warningKeys(r).sort()).toEqual(['benchmark.duration', 'global.log_level', 'global.logs_dir', 'global.metrics_db']);
    expect(r.files[0].text).toContain('# Suite: My Benchmark: Description of this benchmark run');
  });

  it('5.4 under a service: scheduling to both jobs, the GPU and task count to the Service', async () => {
    const r = convertRecipe(withSlurm(await fixture('5.3-ollama.yml'), await fixture('5.4-slurm.yml')));
    expectAllValid(r);
    const [svc] = services(r);
    expect(svc.spec.slurm).toEqual({ partition: 'gpu', account: 'p200981', qos: 'default', time: '01:00:00', nodes: 1, ntasks: 1 });
    expect(svc.spec.gpus).toBe(1);
    expect(benchmarks(r)[0].spec.runner).toEqual({ slurm: { partition: 'gpu', account: 'p200981', qos: 'default', time: '01:00:00' } });
    expect(r.warnings).toEqual([]);
  });

  it('10.2 multi-node: runner ranks for file storage; for a server, runner ranks and a warning', async () => {
    const multi = await fixture('10.2-multi-node-slurm.yml');
    const fs = convertRecipe(withSlurm(await fixture('5.3-file-storage.yml'), multi));
    expectAllValid(fs);
    expect(benchmarks(fs)[0].spec.runner).toEqual({ nodes: 4, tasksPerNode: 1 });
    expect(fs.warnings).toEqual([]);

    const llm = convertRecipe(withSlurm(await fixture('5.3-ollama.yml'), multi));
    expectAllValid(llm);
    expect(benchmarks(llm)[0].spec.runner).toEqual({ nodes: 4, tasksPerNode: 1 });
    expect(services(llm)[0].spec.slurm).toBeUndefined();
    expect(warningKeys(llm)).toEqual(['[0].slurm.nodes']);
  });

  it('10.3 GPU configuration: gres gpu:1 becomes the Service\'s GPU', async () => {
    const r = convertRecipe(withSlurm(await fixture('5.3-chromadb.yml'), await fixture('10.3-gpu-slurm.yml')));
    expectAllValid(r);
    expect(services(r)[0].spec).toMatchObject({ type: 'chromadb', gpus: 1, slurm: { partition: 'gpu', ntasks: 1 } });
    expect(benchmarks(r)[0].spec.runner).toEqual({ slurm: { partition: 'gpu' } });
  });

  it('11.2 debug logging: alone it is no recipe; beside services it is a warning', async () => {
    const debug = await fixture('11.2-debug-global.yml');
    const e = failure(debug);
    expect(e.problems.map((p) => p.key)).toEqual(['services']);
    expect(warningKeys(e)).toEqual(['global.log_level']);

    const entry = (await fixture('5.3-vllm.yml'))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .map((l) => (l ? `  ${l}` : l))
      .join('\n');
    const r = convertRecipe(`${debug}services:\n${entry}`);
    expect(benchmarks(r)).toHaveLength(1);
    expect(warningKeys(r)).toEqual(['global.log_level']);
  });

  it('a slurm: block alone says where it belongs', async () => {
    const e = failure(await fixture('5.4-slurm.yml'));
    expect(e.problems.map((p) => p.key)).toEqual(['services']);
    expect(e.warnings).toEqual([{ key: 'slurm', message: expect.stringContaining('belongs under a service entry, or under global:') }]);
  });
});

const EVERY_TYPE = `
benchmark:
  name: Every type
global:
  slurm:
    account: p200981
    partition: cpu
  duration: 120
services:
  - service_name: ollama-llama2
    service_type: ollama
    model: llama2
    slurm: { partition: gpu }
  - service_name: vllm-opt
    service_type: vllm
    model: facebook/opt-125m
    slurm: { partition: gpu, gres: gpu:2 }
  - service_name: triton-inference
    service_type: triton
    model: vllm_model
  - service_name: chromadb
    service_type: vectordb
    backend: chromadb
    collection_name: benchmark_collection
  - service_name: faiss
    service_type: vectordb
    backend: faiss
  - service_name: weaviate
    service_type: vectordb
    backend: weaviate
    collection_name: benchmark_collection
  - service_name: milvus
    service_type: vectordb
    backend: milvus
  - service_name: postgresql
    service_type: database
    backend: postgresql
  - service_name: mysql
    service_type: database
    backend: mysql
  - service_name: minio-s3
    service_type: s3
  - service_name: file-storage
    service_type: file_storage
`;

describe('convertRecipe: every service type of section 5.3 (and triton, weaviate of section 9)', () => {
  it('maps each type to its aifb Service and workload, and skips the unsupported with a warning saying why', () => {
    const r = convertRecipe(EVERY_TYPE);
    expectAllValid(r);
    expectRefsMatch(r);
    const byName = Object.fromEntries(benchmarks(r).map((b) => [b.metadata.name, [b.spec.workload.type, services(r).find((s) => s.metadata.name === b.spec.serviceRef)?.spec.type ?? null]]));
    expect(byName).toEqual({
      'ollama-llama2-load': ['llm', 'ollama'],
      'vllm-opt-load': ['llm', 'vllm'],
      'triton-inference-load': ['llm', 'triton'],
      'chromadb-load': ['chromadb', 'chromadb'],
      'faiss-load': ['faiss', null],
      'weaviate-load': ['weaviate', 'weaviate'],
      'postgresql-load': ['postgresql', 'postgresql'],
      'minio-s3-load': ['s3', 'minio'],
      'file-storage-load': ['file-storage', null],
    });
    expect(services(r)).toHaveLength(7);
    const skipped = r.warnings.filter((w) => w.key === 'services[6].backend' || w.key === 'services[8].backend');
    expect(skipped.map((w) => w.message)).toEqual([
      expect.stringContaining('aifb has no milvus workload: its vector workloads are chromadb, faiss and weaviate'),
      expect.stringContaining('aifb has no mysql workload: its database workload is postgresql'),
    ]);
  });

  it('global settings apply to every service unless the service overrides them', () => {
    const r = convertRecipe(EVERY_TYPE);
    const svc = (n: string) => services(r).find((s) => s.metadata.name === n)!.spec;
    expect(svc('ollama-llama2').slurm).toEqual({ partition: 'gpu', account: 'p200981' });
    expect(svc('postgresql').slurm).toEqual({ partition: 'cpu', account: 'p200981' });
    expect(svc('vllm-opt').gpus).toBe(2);
    expect(benchmarks(r).every((b) => b.spec.load.duration === '2m')).toBe(true);
    expect(benchmarks(r).find((b) => b.metadata.name === 'faiss-load')!.spec.runner).toEqual({ slurm: { partition: 'cpu', account: 'p200981' } });
  });

  it('names the collection as each database wants it', () => {
    const r = convertRecipe(EVERY_TYPE);
    const wl = (n: string) => benchmarks(r).find((b) => b.metadata.name === n)!.spec.workload;
    expect(wl('chromadb-load').collection).toBe('benchmark_collection');
    expect(wl('weaviate-load').className).toBe('Benchmark_collection');
  });
});

describe('convertRecipe: keys it cannot map', () => {
  const RECIPE = `
benchmark:
  name: x
  owner: me
global:
  colour: blue
extra: 1
services:
  - service_name: pg
    service_type: database
    colour: red
    operation_mix: { select: 0.5, query: 0.5 }
    slurm:
      partiton: cpu
      job-name: mine
  - service_name: vllm
    service_type: vllm
    host: mel2154
    environment:
      HF_TOKEN: hf_secret_value
      HF_HOME: /tmp/hf
`;

  it('warns about each by its key path, with a hint, and never drops one silently', () => {
    const r = convertRecipe(RECIPE);
    expectAllValid(r);
    expect(warningKeys(r).sort()).toEqual(
      [
        'benchmark.owner',
        'extra',
        'global.colour',
        'services[0].colour',
        'services[0].operation_mix.query',
        'services[0].slurm.job-name',
        'services[0].slurm.partiton',
        'services[1].environment.HF_TOKEN',
        'services[1].host',
      ].sort(),
    );
    const msg = (k: string) => r.warnings.find((w) => w.key === k)!.message;
    expect(msg('services[0].slurm.partiton')).toContain('(did you mean partition?)');
    expect(msg('services[0].operation_mix.query')).toContain('has no "query" operation (it runs select, insert, update, delete)');
    expect(msg('services[1].host')).toContain('add endpoint: { host: mel2154, port: <port> }');
    expect(benchmarks(r)[0].spec.workload.operationMix).toEqual({ select: 0.5 });
  });

  it('keeps a secret-looking variable out of the file, as a reference', () => {
    const r = convertRecipe(RECIPE);
    expect(services(r)[1].spec.env).toEqual({ HF_TOKEN: { env: 'HF_TOKEN' }, HF_HOME: '/tmp/hf' });
    expect(r.files.map((f) => f.text).join('')).not.toContain('hf_secret_value');
  });
});

describe('convertRecipe: names', () => {
  it('makes DNS labels of at most 63 characters, unique within the import', () => {
    const long = 'A'.repeat(70);
    const r = convertRecipe(`services:
  - { service_name: "vLLM_OPT 125M", service_type: vllm }
  - { service_name: vllm-opt-125m, service_type: vllm }
  - { service_name: "${long}", service_type: file_storage }
`);
    expectAllValid(r);
    expect(docs(r).map((d) => d.metadata.name)).toEqual(['vllm-opt-125m', 'vllm-opt-125m-load', 'vllm-opt-125m-2', 'vllm-opt-125m-2-load', `${'a'.repeat(58)}-load`]);
    expect(warningKeys(r)).toEqual(['services[1].service_name']);
  });
});

describe('convertRecipe: load', () => {
  const load = (extra: string) => benchmarks(convertRecipe(`services:\n  - { service_name: f, service_type: file_storage, ${extra} }\n`))[0].spec.load;

  it('open loop at a total rate, closed loop with workers, a request cap and a warmup', () => {
    expect(load('rate: 100, concurrency: 16, duration: 30')).toEqual({ mode: 'open', arrival: 'constant', rate: 100, concurrency: 16, duration: '30s' });
    expect(load('concurrency: 8, duration: 5m')).toEqual({ mode: 'closed', workers: 8, duration: '5m' });
    expect(load('client_count: 3, requests_per_second: 2.5, max_requests: 500, warmup: 10')).toEqual({
      mode: 'open',
      arrival: 'constant',
      rate: 7.5,
      concurrency: 3,
      duration: '1m',
      warmup: '10s',
      maxRequests: 500,
    });
  });
});

describe('convertRecipe: where results go', () => {
  const recipe = (global: string) => `global:\n${global}\nservices:\n  - { service_name: f, service_type: file_storage }\n`;

  it('a reports_dir of its own becomes reports.dir, resolved from the recipe folder; a Pushgateway URL is kept', () => {
    const r = convertRecipe(recipe('  reports_dir: results\n  pushgateway_url: http://mel2345:9091'), { baseDir: '/data/bench' });
    expect(benchmarks(r)[0].spec.reports).toEqual({ dir: '/data/bench/results/f-load' });
    expect(benchmarks(r)[0].spec.pushgateway).toBe('http://mel2345:9091');
    expect(r.warnings).toEqual([]);
  });

  it('without the recipe folder a relative reports_dir is kept, with a warning', () => {
    const r = convertRecipe(recipe('  reports_dir: results'));
    expect(benchmarks(r)[0].spec.reports).toEqual({ dir: 'results/f-load' });
    expect(warningKeys(r)).toEqual(['global.reports_dir']);
  });
});

describe('convertRecipe: broken recipes', () => {
  it.each([
    ['not YAML', 'services: [\n  - a\n', '', /line \d+, column \d+: not valid YAML/],
    ['no services', 'benchmark:\n  name: x\n', 'services', /is missing: list the services/],
    ['services not a list', 'services: vllm\n', 'services', /must be a list/],
    ['a service without type', 'services:\n  - service_name: a\n', 'services[0].service_type', /is missing: every service needs a service_type/],
    ['a misspelt type', 'services:\n  - { service_name: a, service_type: olama }\n', 'services[0].service_type', /\(did you mean ollama\?\)/],
    ['a bad SLURM value', 'services:\n  - { service_name: a, service_type: vllm, slurm: { mem: 64GB } }\n', 'services[0].slurm.mem', /SLURM spells it "64G"/],
    ['triton without its model', 'services:\n  - { service_name: t, service_type: triton }\n', 'services[0].model', /protocol triton needs the model name/],
    ['a table name the schema refuses', 'services:\n  - { service_name: p, service_type: database, table_name: Bad-Name }\n', 'services[0].table_name', /must be lowercase letters/],
    ['a bucket name the schema refuses', 'services:\n  - { service_name: s, service_type: s3, bucket_name: B }\n', 'services[0].bucket_name', /must be 3-63 lowercase letters/],
    ['a bad size', 'services:\n  - { service_name: f, service_type: file_storage, file_sizes: { huge: 1 } }\n', 'services[0].file_sizes.huge', /is not a size/],
  ])('%s: refused, naming the key', (_what, text, key, message) => {
    const e = failure(text);
    expect(e.problems.map((p) => p.key)).toContain(key);
    expect(e.problems.find((p) => p.key === key)!.message).toMatch(message);
  });
});

describe('aifbctl import', () => {
  let t: TempDirs;
  beforeEach(async () => {
    t = await tempDirs();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('writes one file per service into imported/ beside the recipe, and says what it wrote', async () => {
    const recipe = await t.write('recipe.yml', EVERY_TYPE);
    const io = capture();
    expect(await runImport({ file: recipe, resourcesDir: t.resources }, io)).toBe(0);
    const out = path.join(t.root, 'imported');
    expect((await readdir(out)).sort()).toEqual(
      ['chromadb', 'faiss', 'file-storage', 'minio-s3', 'ollama-llama2', 'postgresql', 'triton-inference', 'vllm-opt', 'weaviate'].map((n) => `${n}.yaml`).sort(),
    );
    const text = await readFile(path.join(out, 'vllm-opt.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# Imported by `aifbctl import` from recipe.yml (services[1], service_name "vllm-opt").');
    expect(text.replace(/\n#\s+/g, ' ')).toContain(`\`aifbctl validate -f ${path.join(out, 'vllm-opt.yaml')}\``);
    expect(parseResourceText(text, 'vllm-opt.yaml').map((d) => [d.key, d.validation.ok])).toEqual([
      ['Service/vllm-opt', true],
      ['Benchmark/vllm-opt-load', true],
    ]);
    expect(io.out).toContain(`${path.join(out, 'vllm-opt.yaml')}: service/vllm-opt, benchmark/vllm-opt-load\n`);
    expect(io.out).toContain(`${path.join(out, 'faiss.yaml')}: benchmark/faiss-load\n`);
    expect(io.out).toContain(`Imported ${recipe} into ${out}: 9 service entries: 7 Services, 9 Benchmarks, 3 warnings\n`);
    expect(io.err.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^warning: services\[2\]\.model: "vllm_model" is the model Triton serves/),
      expect.stringMatching(/^warning: services\[6\]\.backend: aifb has no milvus workload/),
      expect.stringMatching(/^warning: services\[8\]\.backend: aifb has no mysql workload/),
    ]);
  });

  it('never overwrites an existing file without --force, and writes nothing then', async () => {
    const recipe = await t.write('recipe.yml', EVERY_TYPE);
    const out = path.join(t.root, 'out');
    expect(await runImport({ file: recipe, outDir: out, resourcesDir: t.resources }, capture())).toBe(0);
    await writeFile(path.join(out, 'faiss.yaml'), '# my edits\n');
    const io = capture();
    expect(await runImport({ file: recipe, outDir: out, resourcesDir: t.resources }, io)).toBe(1);
    expect(io.err).toContain(`error: ${path.join(out, 'faiss.yaml')} exists already\n`);
    expect(io.err).toContain('pass --force to replace them, or -o DIR');
    expect(await readFile(path.join(out, 'faiss.yaml'), 'utf8')).toBe('# my edits\n');

    expect(await runImport({ file: recipe, outDir: out, resourcesDir: t.resources, force: true }, capture())).toBe(0);
    expect(await readFile(path.join(out, 'faiss.yaml'), 'utf8')).toMatch(/^# Imported by/);
  });

  it('--dry-run prints the resources and writes nothing', async () => {
    const recipe = await t.write('recipe.yml', EVERY_TYPE);
    const io = capture();
    expect(await runImport({ file: recipe, resourcesDir: t.resources, dryRun: true }, io)).toBe(0);
    await expect(readdir(path.join(t.root, 'imported'))).rejects.toThrow(/ENOENT/);
    const printed = parseAllDocuments(io.out).map((d) => d.toJS() as Doc);
    expect(printed.map((d) => `${d.kind}/${d.metadata.name}`)).toHaveLength(16);
    expect(printed.every((d) => validateResource(d).ok)).toBe(true);
    expect(io.err).toContain(`would write ${path.join(t.root, 'imported', 'postgresql.yaml')}: service/postgresql, benchmark/postgresql-load\n`);
    expect(io.err).toContain('nothing was written');
  });

  it('exits 1 on a broken recipe, naming the key and the fix', async () => {
    const recipe = await t.write('recipe.yml', 'services:\n  - service_name: a\n    port: 80\n');
    const io = capture();
    expect(await runImport({ file: recipe, resourcesDir: t.resources }, io)).toBe(1);
    expect(io.err).toContain('error: services[0].service_type: is missing: every service needs a service_type, one of ollama, vllm');
    expect(io.err).toContain(`Error: ${recipe} was not imported (nothing was written)`);
    await expect(readdir(path.join(t.root, 'imported'))).rejects.toThrow(/ENOENT/);
  });

  it('exits 1 on a recipe that is not YAML or not there', async () => {
    const bad = await t.write('bad.yml', 'services: [\n');
    const io = capture();
    expect(await runImport({ file: bad, resourcesDir: t.resources }, io)).toBe(1);
    expect(io.err).toMatch(/^error: bad\.yml: line \d+, column \d+: not valid YAML: .*; fix the syntax\n/);

    const io2 = capture();
    expect(await runImport({ file: path.join(t.root, 'none.yml'), resourcesDir: t.resources }, io2)).toBe(1);
    expect(io2.err).toMatch(/^Error: cannot read the recipe .*none\.yml: .*ENOENT.*; check the path\n$/);
  });

  it('warns when the watched folder already defines a resource of the same name', async () => {
    await mkdir(t.resources, { recursive: true });
    await writeFile(path.join(t.resources, 'mine.yaml'), serviceYaml('chromadb'));
    const recipe = await t.write('recipe.yml', await fixture('5.3-chromadb.yml'));
    const io = capture();
    expect(await runImport({ file: recipe, resourcesDir: t.resources }, io)).toBe(0);
    expect(io.err).toContain(`warning: [0].service_name: service/chromadb is already defined in ${path.join(t.resources, 'mine.yaml')}`);
  });

  it('writes the same documents the converter validated', async () => {
    const recipe = await t.write('recipe.yml', await fixture('5.3-ollama.yml'));
    expect(await runImport({ file: recipe, resourcesDir: t.resources }, capture())).toBe(0);
    const written = parseAllDocuments(await readFile(path.join(t.root, 'imported', 'ollama-llama2.yaml'), 'utf8')).map((d) => d.toJS());
    expect(written).toEqual(convertRecipe(await fixture('5.3-ollama.yml')).documents);
  });
});
