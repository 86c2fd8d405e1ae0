// Plain HTTP against any Service with an HTTP endpoint: a user's own model or
// embedding server, Triton's REST API, a web service. GET/POST/PUT/DELETE with
// headers and a body, or a weighted mix of named requests; time to first byte.
import { defineWorkload } from '../workload.js';
import { HttpWorkload } from './schema.js';

export const http = defineWorkload({
  type: 'http',
  summary: 'HTTP requests (method, path, headers, body) or a weighted mix of named ones, against any HTTP endpoint',
  schema: HttpWorkload,
  services: ['http', 'vllm', 'ollama', 'triton', 'chromadb', 'weaviate', 'minio', 's3'],
  needsService: true,
  metrics: [
    { name: 'ttfb', kind: 'timing', unit: 'ms', help: 'time to first byte: until the response headers arrived, from the intended send time', sinceSend: true },
    { name: 'bytes', kind: 'count', unit: 'bytes', help: 'response body bytes' },
  ],
  example: 'http.yaml',
  create: async (workload, ctx) =>
    new (await import('./client.js')).HttpClient(workload, { service: ctx.service, connections: ctx.connections, token: ctx.credential('token') }),
});
