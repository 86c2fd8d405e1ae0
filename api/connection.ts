// How a client reaches a service: what a Service's status publishes and the
// runner's spec carries. Credentials are references (an environment variable
// or a file, resolved where the process runs), never values.
import { z } from 'zod';

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A secret by reference: `{env: NAME}` or `{file: /path}` (first line, trailing newline dropped). */
export const SecretRef = z.union([
  z.strictObject({ env: z.string().regex(ENV_NAME, 'must be an environment variable name: letters, digits and "_"') }),
  z.strictObject({ file: z.string().min(1, 'give the path of a file that holds the secret') }),
]);
export type SecretRef = z.output<typeof SecretRef>;

export const Credentials = z.strictObject({
  /** User name or access key: not a secret, written as is. */
  user: z.string().min(1).optional(),
  /** Password or secret key. */
  password: SecretRef.optional(),
  /** Bearer token (an OpenAI-compatible server's --api-key, for instance). */
  token: SecretRef.optional(),
});
export type Credentials = z.output<typeof Credentials>;

export const SCHEMES = ['http', 'https', 'postgresql', 'tcp'] as const;

export const Connection = z.strictObject({
  scheme: z.enum(SCHEMES),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** PostgreSQL: the database to connect to. */
  database: z.string().min(1).optional(),
  /** S3: the region to sign requests for. */
  region: z.string().min(1).optional(),
  credentials: Credentials.optional(),
});
export type Connection = z.output<typeof Connection>;

/** Where a reference points, for messages: `environment variable X` or `file /path`. Never the value. */
export const describeSecretRef = (ref: SecretRef): string => ('env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`);
