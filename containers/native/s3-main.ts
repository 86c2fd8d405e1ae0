// The S3 server the local executor runs for an `s3` or `minio` Service:
// `node s3-main.js --data DIR --port N [--host H]`, the access key in
// MINIO_ROOT_USER and the secret key in MINIO_ROOT_PASSWORD (as MinIO's
// container takes them). s3rver serves the S3 protocol from DIR; every request
// must be signed with that key pair, or it is refused as S3 refuses it.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { errorXml, signatureVersion, verifySigV4, type Rejection } from './s3-signature.js';

interface S3rverApp {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}
interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKey: string, secret: string): void; revokeAccessKey(accessKey: string): void };
}

function fail(message: string): never {
  process.stderr.write(`aifb s3: ${message}\n`);
  process.exit(1);
}

const { values } = parseArgs({ options: { data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } }, strict: true });
if (!values.data || !values.port) fail('usage: node s3-main.js --data DIR --port N [--host H]');
const accessKey = process.env.MINIO_ROOT_USER;
const secret = process.env.MINIO_ROOT_PASSWORD;
// Read once; nothing started from here needs it.
delete process.env.MINIO_ROOT_PASSWORD;
if (!accessKey || !secret) fail('MINIO_ROOT_USER and MINIO_ROOT_PASSWORD must hold the access key and the secret key (the controller sets them from spec.credentials)');

const require = createRequire(import.meta.url);
let S3rver: new (opts: Record<string, unknown>) => S3rverApp;
let accounts: S3rverAccounts;
try {
  S3rver = require('s3rver');
  accounts = require('s3rver/lib/models/account');
} catch {
  fail("s3rver is not installed: it is an npm development dependency of aifb; run `npm install s3rver` (or `npm ci` without --omit=dev) in aifb's folder");
}

// s3rver knows one hard-wired key pair (S3RVER/S3RVER): replace it with this service's own.
accounts.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
accounts.DUMMY_ACCOUNT.createKeyPair(accessKey, secret);

mkdirSync(values.data, { recursive: true });
// silent: a request log line per object would grow without bound under load and cost the server time.
const s3 = new S3rver({ directory: values.data, silent: true }).callback();

function refuse(res: ServerResponse, r: Rejection): void {
  const id = randomBytes(8).toString('hex').toUpperCase();
  // The body of a refused upload is not read: close the connection rather than drain it.
  res.writeHead(r.status, { 'content-type': 'application/xml', 'x-amz-request-id': id, connection: 'close' }).end(errorXml(r, id));
}

const server = createServer((req, res) => {
  const signed = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct };
  const version = signatureVersion(signed);
  // s3rver itself serves unsigned requests to anyone: S3 does not.
  if (version === 'none') return refuse(res, { status: 403, code: 'AccessDenied', message: 'Access Denied' });
  if (version === 'v4') {
    const verdict = verifySigV4(signed, (key) => (key === accessKey ? secret : undefined));
    if (!verdict.ok) return refuse(res, verdict);
  }
  // SigV2 is checked by s3rver, against the key pair above.
  s3(req, res);
});

const port = Number(values.port);
server.once('error', (e) => fail(`cannot listen on ${values.host}:${port}: ${e.message}`));
server.listen(port, values.host, () => {
  process.stdout.write(`aifb s3: s3rver serves S3 at http://${values.host}:${port} from ${values.data}, for access key ${accessKey} only\n`);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
