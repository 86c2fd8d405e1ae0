// The servers' own client libraries, for the end-to-end tests that check what
// a benchmark did on a real PostgreSQL or S3 server.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface PgTestClient {
  connect(): Promise<void>;
  query(q: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

export const { Client } = require('pg') as { Client: new (c: Record<string, unknown>) => PgTestClient };
export const s3sdk = require('@aws-sdk/client-s3');
