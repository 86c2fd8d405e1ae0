// Which aifb Service type and workload each recipe `service_type` (and
// `backend`) becomes, and why the ones aifb cannot run are skipped.
import type { ServiceType } from '../../../api/schemas.js';
import type { Protocol } from '../../../clients/llm/schema.js';
import { didYouMean, str, type Field, type Problems } from './reader.js';

export type WorkloadType = 'llm' | 'http' | 'postgresql' | 's3' | 'faiss' | 'chromadb' | 'weaviate' | 'file-storage';

export interface Target {
  /** The Service to start; absent for workloads that run inside aifb's runner (faiss, file-storage). */
  service?: ServiceType;
  workload: WorkloadType;
  /** llm: which API the Python framework spoke to this server. */
  llm?: { protocol: Protocol; api: 'completions' | 'generate' };
  /** Said in the file's notes: how the type was read. */
  note?: string;
}

export type Resolved = { target: Target } | { skip: string; key: string } | undefined;

/** The guide's service types (section 5.3, plus triton and weaviate of section 9). */
export const RECIPE_TYPES = ['ollama', 'vllm', 'triton', 'vectordb', 'database', 's3', 'file_storage', 'http'] as const;

const LLM: Record<string, Target> = {
  ollama: { service: 'ollama', workload: 'llm', llm: { protocol: 'ollama', api: 'generate' }, note: "llm workload over Ollama's own API, POST /api/generate, as the Python client sent it" },
  vllm: { service: 'vllm', workload: 'llm', llm: { protocol: 'openai', api: 'completions' }, note: 'llm workload over the OpenAI API, POST /v1/completions, as the Python client sent it' },
  triton: { service: 'triton', workload: 'llm', llm: { protocol: 'triton', api: 'generate' }, note: "llm workload over Triton's generate extension (KServe v2)" },
};

const VECTOR: Record<string, Target> = {
  chromadb: { service: 'chromadb', workload: 'chromadb' },
  faiss: { workload: 'faiss', note: "Faiss runs inside aifb's runner process, so there is no Service to start" },
  weaviate: { service: 'weaviate', workload: 'weaviate' },
};
const VECTOR_ALIASES: Record<string, string> = { chroma: 'chromadb' };
/** Known vector databases without an aifb workload: skipped with a warning, not an error. */
const VECTOR_MISSING = ['milvus', 'qdrant', 'pgvector', 'elasticsearch', 'opensearch', 'lancedb', 'pinecone', 'redis'];

const DATABASE: Record<string, Target> = { postgresql: { service: 'postgresql', workload: 'postgresql' } };
const DATABASE_ALIASES: Record<string, string> = { postgres: 'postgresql', pg: 'postgresql' };
const DATABASE_MISSING = ['mysql', 'mariadb', 'mongodb', 'redis', 'sqlite', 'cassandra', 'oracle', 'mssql'];

const OTHER: Record<string, Target> = {
  s3: { service: 'minio', workload: 's3', note: 'the guide\'s s3 service is MinIO: aifb starts MinIO (Service type minio) and runs its s3 workload against it' },
  file_storage: { workload: 'file-storage', note: "POSIX file storage is measured from aifb's runner, so there is no Service to start" },
  http: { service: 'http', workload: 'http' },
};

/** Other spellings of a service_type, and backends written as the type itself. */
const TYPE_ALIASES: Record<string, { type: string; backend?: string }> = {
  chromadb: { type: 'vectordb', backend: 'chromadb' },
  chroma: { type: 'vectordb', backend: 'chromadb' },
  faiss: { type: 'vectordb', backend: 'faiss' },
  weaviate: { type: 'vectordb', backend: 'weaviate' },
  vector_db: { type: 'vectordb' },
  postgresql: { type: 'database', backend: 'postgresql' },
  postgres: { type: 'database', backend: 'postgresql' },
  minio: { type: 's3' },
  'file-storage': { type: 'file_storage' },
  filestorage: { type: 'file_storage' },
  file: { type: 'file_storage' },
  posix: { type: 'file_storage' },
};
const TYPE_MISSING = [...new Set([...VECTOR_MISSING, ...DATABASE_MISSING])];

const KNOWN_TYPES = [...RECIPE_TYPES, ...Object.keys(TYPE_ALIASES)];
const typeList = `${RECIPE_TYPES.join(', ')} (vectordb with backend chromadb, faiss or weaviate; database with backend postgresql)`;

/**
 * The target for one service entry; records an error (unknown or missing type)
 * and returns undefined, or says why a known type is skipped.
 */
export function resolveType(typeField: Field | undefined, backendField: Field | undefined, entryKey: string, p: Problems): Resolved {
  if (!typeField) {
    p.error(`${entryKey}.service_type`, `is missing: every service needs a service_type, one of ${typeList}`);
    return undefined;
  }
  const raw = str(typeField, p);
  if (raw === undefined) return undefined;
  if (/^<.*>$/.test(raw.trim())) {
    p.error(typeField.key, `"${raw}" is the guide's placeholder; replace it with one of ${typeList}`);
    return undefined;
  }
  const lower = raw.trim().toLowerCase();
  const alias = TYPE_ALIASES[lower];
  const type = alias?.type ?? lower;
  const backendRaw = str(backendField, p);
  const backend = backendRaw?.trim().toLowerCase();

  if (LLM[type] || OTHER[type]) {
    if (backendField) p.warn(backendField.key, `a ${type} service has no backend; aifb does not use it. Remove it`);
    return { target: (LLM[type] ?? OTHER[type])! };
  }
  if (type === 'vectordb') {
    if (alias?.backend && backend && (VECTOR_ALIASES[backend] ?? backend) !== alias.backend) {
      p.error(backendField!.key, `"${backendRaw}" contradicts service_type ${raw}; remove backend or make them agree`);
      return undefined;
    }
    const name = alias?.backend ?? (backend ? (VECTOR_ALIASES[backend] ?? backend) : 'chromadb');
    if (VECTOR[name]) {
      const target = VECTOR[name];
      if (!backend && !alias?.backend) return { target: { ...target, note: 'no backend given: chromadb, the Python framework\'s default' } };
      return { target };
    }
    if (VECTOR_MISSING.includes(name)) {
      return { skip: `aifb has no ${name} workload: its vector workloads are chromadb, faiss and weaviate. This service was not imported; benchmark ${name} with one of those, or leave it out`, key: backendField?.key ?? typeField.key };
    }
    p.error(backendField!.key, `"${backendRaw}" is not a vector database aifb knows; use chromadb, faiss or weaviate${didYouMean(name, Object.keys(VECTOR))}`);
    return undefined;
  }
  if (type === 'database') {
    const name = alias?.backend ?? (backend ? (DATABASE_ALIASES[backend] ?? backend) : 'postgresql');
    if (DATABASE[name]) return { target: DATABASE[name] };
    if (DATABASE_MISSING.includes(name)) {
      return { skip: `aifb has no ${name} workload: its database workload is postgresql. This service was not imported`, key: backendField?.key ?? typeField.key };
    }
    p.error(backendField!.key, `"${backendRaw}" is not a database aifb knows; use postgresql${didYouMean(name, ['postgresql'])}`);
    return undefined;
  }
  if (TYPE_MISSING.includes(lower)) {
    return { skip: `aifb has no ${lower} workload, so this service was not imported; supported types: ${typeList}`, key: typeField.key };
  }
  p.error(typeField.key, `"${raw}" is not a service type aifb can import; use one of ${typeList}${didYouMean(lower, KNOWN_TYPES)}`);
  return undefined;
}
