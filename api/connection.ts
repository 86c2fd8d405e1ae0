// How a client reaches a service: what a Service's status publishes and the
// runner's spec carries. Credentials are references, never values.
import { z } from 'zod';
import type { ServiceType } from './schemas.js';

export const SCHEMES = ['http', 'https', 'postgresql', 'tcp'] as const;

export const Connection = z.strictObject({
  scheme: z.enum(SCHEMES),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});
export type Connection = z.output<typeof Connection>;

/** How each Service type is spoken to, when the Service does not say. */
export const DEFAULT_SCHEMES: Record<ServiceType, Connection['scheme']> = {
  vllm: 'http',
  ollama: 'http',
  triton: 'http',
  chromadb: 'http',
  faiss: 'tcp',
  weaviate: 'http',
  postgresql: 'postgresql',
  s3: 'http',
  minio: 'http',
  'file-storage': 'tcp',
  http: 'http',
};
