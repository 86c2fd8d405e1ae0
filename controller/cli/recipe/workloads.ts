// Each service type's own recipe keys (prompts, operation mixes, sizes,
// collections, buckets...) as the Benchmark's spec.workload, in the field
// names of clients/<type>/schema.ts. Where a recipe leaves a setting out, the
// Python framework's default is used when it differs from aifb's, so the
// imported benchmark asks for what the recipe ran.
import { MIX_OPERATIONS } from '../../../clients/postgresql/schema.js';
import { S3_OPERATIONS } from '../../../clients/s3/schema.js';
import { FILE_STORAGE_OPERATIONS } from '../../../clients/file-storage/schema.js';
import { VECTOR_OPERATIONS } from '../../../clients/vector/schema.js';
import { sizes, weights, type EntryContext } from './entry.js';
import { bool, describe, durationMs, durationText, num, str } from './reader.js';
import { secretDropped, setCredentialUser } from './service.js';
import type { Target } from './types.js';

/** Keys each workload reads, for "did you mean" hints. */
export const WORKLOAD_KEYS: Record<Target['workload'], readonly string[]> = {
  llm: ['model', 'prompt', 'prompts', 'prompt_file', 'max_tokens', 'temperature', 'stream', 'timeout'],
  http: ['method', 'timeout'],
  postgresql: ['operation_mix', 'table_name', 'batch_size', 'database', 'user', 'password'],
  s3: ['operation_mix', 'object_sizes', 'bucket_name', 'access_key', 'secret_key', 'region'],
  faiss: ['dimension', 'operation_mix', 'batch_size', 'search_k', 'collection_name'],
  chromadb: ['dimension', 'operation_mix', 'batch_size', 'search_k', 'collection_name'],
  weaviate: ['dimension', 'operation_mix', 'batch_size', 'search_k', 'collection_name'],
  'file-storage': ['base_path', 'operation_mix', 'file_sizes', 'sync_mode', 'use_direct_io'],
};

/** The Python clients' defaults (src/client/*.py) where they differ from aifb's. */
const PY = {
  prompt: 'Hello, this is a benchmark test.',
  vllmMaxTokens: 50,
  vector: { dimension: 384, batchSize: 10, mix: { insert: 0.3, search: 0.5, update: 0.1, delete: 0.1 } },
  fileSizes: { '1KB': 0.2, '10KB': 0.2, '100KB': 0.2, '1MB': 0.2, '10MB': 0.1, '100MB': 0.1 },
  basePath: '/tmp/benchmark_storage',
};

export function mapWorkload(ctx: EntryContext, target: Target, service: Record<string, unknown>): Record<string, unknown> {
  switch (target.workload) {
    case 'llm':
      return llm(ctx, target, service);
    case 'http':
      return http(ctx);
    case 'postgresql':
      return postgresql(ctx, service);
    case 's3':
      return s3(ctx, service);
    case 'file-storage':
      return fileStorage(ctx);
    default:
      return vector(ctx, target);
  }
}

function put(ctx: EntryContext, w: Record<string, unknown>, field: string, value: unknown, key: string): void {
  w[field] = value;
  ctx.benchmarkOrigins[`spec.workload.${field}`] = key;
}

function llm(ctx: EntryContext, target: Target, service: Record<string, unknown>): Record<string, unknown> {
  const { s, p } = ctx;
  const { protocol, api } = target.llm!;
  const w: Record<string, unknown> = { type: 'llm', protocol, api };
  ctx.benchmarkOrigins['spec.workload'] = `${ctx.key}.service_type`;

  const modelF = s.take('model');
  const model = str(modelF, p);
  // Named here even when missing, so "triton needs the model name" points at the key to add.
  ctx.benchmarkOrigins['spec.workload.model'] = modelF?.key ?? `${ctx.key}.model`;
  if (model !== undefined && modelF) {
    w.model = model;
    if (target.service === 'triton') {
      // Triton's spec.model is its model repository; the recipe names a model in it.
      p.warn(
        modelF.key,
        `"${model}" is the model Triton serves (the workload's model). Triton also needs its model repository: set the Service's spec.model to the repository as the container sees it and bind it there (spec.binds), as examples/triton.yaml does. The llm workload's generate API needs an LLM backend (vLLM or TensorRT-LLM); for another model set workload.api: infer with its inputs`,
      );
    } else {
      service.model = model;
      ctx.serviceOrigins['spec.model'] = modelF.key;
    }
  }

  const promptsF = s.take('prompts');
  const promptF = s.take('prompt');
  if (promptsF) {
    const list = promptsF.value;
    if (Array.isArray(list) && list.length > 0 && list.every((x) => typeof x === 'string' && x.trim() !== '')) put(ctx, w, 'prompts', list, promptsF.key);
    else p.error(promptsF.key, `must be a list of prompts (non-empty text) (${describe(list)} given)`);
    if (promptF) p.warn(promptF.key, 'not used: prompts was given too, and wins. Keep one of the two');
  } else if (promptF) {
    const one = str(promptF, p);
    if (one !== undefined) put(ctx, w, 'prompts', [one], promptF.key);
  }
  const fileF = s.take('prompt_file');
  const file = str(fileF, p);
  if (file !== undefined && fileF) put(ctx, w, 'promptFile', file, fileF.key);
  if (!promptsF && !promptF && !fileF) {
    w.prompts = [PY.prompt];
    ctx.notes.push(`prompts: none given, so the Python client's own: "${PY.prompt}"`);
  }

  const maxF = s.takeAny(['max_tokens', 'num_predict']);
  const max = num(maxF, p, { integer: true, positive: true });
  if (max !== undefined && maxF) put(ctx, w, 'maxTokens', max, maxF.key);
  else if (target.service === 'vllm') {
    w.maxTokens = PY.vllmMaxTokens;
    ctx.notes.push(`max_tokens: not set, so ${PY.vllmMaxTokens}, what the Python client asked vLLM for`);
  } else if (target.service === 'ollama') {
    ctx.notes.push("max_tokens: not set; the Python client let Ollama answer at any length, aifb asks for at most 64 tokens (num_predict) so runs compare: set max_tokens to change it");
  }
  const tempF = s.take('temperature');
  const temp = num(tempF, p, { min: 0, max: 2 });
  if (temp !== undefined && tempF) put(ctx, w, 'temperature', temp, tempF.key);
  const streamF = s.take('stream');
  const stream = bool(streamF, p);
  if (stream !== undefined && streamF) put(ctx, w, 'stream', stream, streamF.key);
  const timeoutF = s.take('timeout');
  const timeout = durationMs(timeoutF, p);
  if (timeout !== undefined && timeoutF) put(ctx, w, 'timeout', durationText(timeout), timeoutF.key);
  return w;
}

function http(ctx: EntryContext): Record<string, unknown> {
  const w: Record<string, unknown> = { type: 'http' };
  const methodF = ctx.s.take('method');
  const method = str(methodF, ctx.p)?.toUpperCase();
  if (method !== undefined && methodF) put(ctx, w, 'method', method, methodF.key);
  const timeoutF = ctx.s.take('timeout');
  const timeout = durationMs(timeoutF, ctx.p);
  if (timeout !== undefined && timeoutF) put(ctx, w, 'timeout', durationText(timeout), timeoutF.key);
  return w;
}

function postgresql(ctx: EntryContext, service: Record<string, unknown>): Record<string, unknown> {
  const { s, p } = ctx;
  const w: Record<string, unknown> = { type: 'postgresql' };
  const mixF = s.take('operation_mix');
  const mix = weights(mixF, MIX_OPERATIONS, 'postgresql', ctx);
  if (mix && mixF) put(ctx, w, 'operationMix', mix, mixF.key);
  const tableF = s.take('table_name');
  const table = str(tableF, p);
  if (table !== undefined && tableF) put(ctx, w, 'table', table, tableF.key);
  const batchF = s.take('batch_size');
  const batch = num(batchF, p, { integer: true, positive: true });
  if (batch !== undefined && batchF && batch !== 1) {
    p.warn(batchF.key, `not carried over: aifb's postgresql workload runs one statement per row (as batch_size 1 did), not batches of ${batch}. Remove it`);
  }
  ctx.notes.push('operations: by primary key on a table of the run\'s own, loaded with 10000 rows first and dropped at the end (the Python client used an unindexed value column)');

  const dbF = s.take('database');
  const db = str(dbF, p);
  if (db !== undefined && dbF) {
    service.database = db;
    ctx.serviceOrigins['spec.database'] = dbF.key;
  }
  const userF = s.take('user');
  const user = str(userF, p);
  if (user !== undefined && userF) setCredentialUser(ctx, service, user, userF.key);
  const passF = s.take('password');
  if (passF) secretDropped(passF, 'password', ctx);
  return w;
}

function s3(ctx: EntryContext, service: Record<string, unknown>): Record<string, unknown> {
  const { s, p } = ctx;
  const w: Record<string, unknown> = { type: 's3' };
  const bucketF = s.takeAny(['bucket_name', 'bucket']);
  const bucket = str(bucketF, p);
  if (bucket !== undefined && bucketF) put(ctx, w, 'bucket', bucket, bucketF.key);
  const mixF = s.take('operation_mix');
  const mix = weights(mixF, S3_OPERATIONS, 's3', ctx);
  if (mix && mixF) put(ctx, w, 'operationMix', mix, mixF.key);
  const sizesF = s.take('object_sizes');
  const objectSizes = sizes(sizesF, ctx);
  if (objectSizes && sizesF) put(ctx, w, 'objectSizes', objectSizes, sizesF.key);

  const userF = s.take('access_key');
  const user = str(userF, p);
  if (user !== undefined && userF) setCredentialUser(ctx, service, user, userF.key);
  const secretF = s.take('secret_key');
  if (secretF) secretDropped(secretF, 'secret_key', ctx);
  const regionF = s.take('region');
  const region = str(regionF, p);
  if (region !== undefined && regionF) {
    service.region = region;
    ctx.serviceOrigins['spec.region'] = regionF.key;
  }
  return w;
}

function fileStorage(ctx: EntryContext): Record<string, unknown> {
  const { s, p } = ctx;
  const w: Record<string, unknown> = { type: 'file-storage' };
  const pathF = s.take('base_path');
  const base = str(pathF, p);
  if (base !== undefined && pathF) put(ctx, w, 'basePath', base, pathF.key);
  else {
    w.basePath = PY.basePath;
    ctx.notes.push(`base_path: not set, so ${PY.basePath}, the Python client's default`);
  }
  const mixF = s.take('operation_mix');
  const mix = weights(mixF, FILE_STORAGE_OPERATIONS, 'file-storage', ctx);
  if (mix && mixF) put(ctx, w, 'operationMix', mix, mixF.key);
  const sizesF = s.take('file_sizes');
  const fileSizes = sizes(sizesF, ctx);
  if (fileSizes && sizesF) put(ctx, w, 'fileSizes', fileSizes, sizesF.key);
  else if (!sizesF) {
    w.fileSizes = PY.fileSizes;
    ctx.notes.push("file_sizes: not set, so the Python client's default spread (1KB to 100MB)");
  }
  const syncF = s.take('sync_mode');
  const sync = bool(syncF, p);
  if (sync !== undefined && syncF) put(ctx, w, 'fsync', sync, syncF.key);
  const directF = s.take('use_direct_io');
  const direct = bool(directF, p);
  if (direct && directF) {
    p.warn(directF.key, "not carried over: aifb's file-storage workload reads and writes through the page cache; it has no O_DIRECT mode. Set sync_mode: true (fsync after each write) for writes that reach the storage, or remove it");
  }
  return w;
}

function vector(ctx: EntryContext, target: Target): Record<string, unknown> {
  const { s, p } = ctx;
  const type = target.workload;
  const w: Record<string, unknown> = { type };
  const dimF = s.take('dimension');
  const dim = num(dimF, p, { integer: true, positive: true });
  if (dim !== undefined && dimF) put(ctx, w, 'dimension', dim, dimF.key);
  else w.dimension = PY.vector.dimension;
  const mixF = s.take('operation_mix');
  const mix = weights(mixF, VECTOR_OPERATIONS, type, ctx);
  if (mix && mixF) put(ctx, w, 'operationMix', mix, mixF.key);
  else if (!mixF) w.operationMix = PY.vector.mix;
  const batchF = s.take('batch_size');
  const batch = num(batchF, p, { integer: true, positive: true });
  if (batch !== undefined && batchF) put(ctx, w, 'batchSize', batch, batchF.key);
  else w.batchSize = PY.vector.batchSize;
  const kF = s.take('search_k');
  const k = num(kF, p, { integer: true, positive: true });
  if (k !== undefined && kF) put(ctx, w, 'searchK', k, kF.key);
  const missing = [!dimF && `dimension ${PY.vector.dimension}`, !mixF && 'operation_mix insert 0.3, search 0.5, update 0.1, delete 0.1', !batchF && `batch_size ${PY.vector.batchSize}`].filter(Boolean);
  if (missing.length > 0) ctx.notes.push(`the Python client's defaults for what the entry leaves out: ${missing.join('; ')}`);

  const collF = s.take('collection_name');
  const coll = str(collF, p);
  if (type === 'faiss') {
    // The Python client built IndexFlatL2: exact search, and the one index that can delete.
    w.index = 'Flat';
    w.metric = 'l2';
    ctx.notes.push("index: Flat with L2 distance, the index the Python client built (IndexFlatL2); set workload.index (e.g. HNSW32) for an approximate one");
    if (collF) p.warn(collF.key, 'not carried over: Faiss runs inside the runner and has no collections. Remove it');
  } else {
    // The Python client created ChromaDB collections with hnsw:space cosine; a Weaviate class without vectorIndexConfig uses cosine too.
    w.metric = 'cosine';
    if (coll !== undefined && collF) {
      if (type === 'chromadb') put(ctx, w, 'collection', coll, collF.key);
      else {
        // As the Python client did: str.capitalize(), Weaviate's class names start with a capital.
        const className = coll.charAt(0).toUpperCase() + coll.slice(1).toLowerCase();
        put(ctx, w, 'className', className, collF.key);
        if (className !== coll) ctx.notes.push(`collection_name: the Weaviate class ${className}, capitalised as the Python client did`);
      }
    }
    ctx.notes.push(`metric: cosine, as the Python client's ${type === 'chromadb' ? 'collections (hnsw:space cosine)' : 'classes (Weaviate\'s default)'}`);
  }
  ctx.notes.push('data: aifb loads 10000 seeded vectors before the run (the Python client started empty) and scores every search for recall@k');
  return w;
}
