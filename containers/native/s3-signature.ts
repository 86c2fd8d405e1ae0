// Checks an S3 request's AWS Signature Version 4 (in the Authorization header
// or a presigned URL) the way S3 does. s3rver accepts any V4 signature from a
// known key, so the native S3 server checks it here: the secret key the Service
// publishes is then the only one that works.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received. */
  url: string;
  /** Each header's values as received (Node's `req.headersDistinct`). */
  headers: Record<string, string[] | undefined>;
}

export interface Rejection {
  status: number;
  /** S3's error code, e.g. SignatureDoesNotMatch. */
  code: string;
  message: string;
}

export type Verdict = { ok: true; accessKey: string } | ({ ok: false } & Rejection);

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** S3 refuses a request signed more than 15 minutes away from its own clock. */
const MAX_SKEW_MS = 15 * 60_000;

/** How the request authenticates: SigV4 (checked here), SigV2 (s3rver checks it with the same key pair), or not at all. */
export function signatureVersion(req: SignedRequest): 'v4' | 'v2' | 'none' {
  const auth = req.headers.authorization?.[0] ?? '';
  const query = new URLSearchParams(req.url.split('?')[1] ?? '');
  if (auth.startsWith(ALGORITHM) || query.has('X-Amz-Algorithm')) return 'v4';
  if (auth.startsWith('AWS ') || (query.has('AWSAccessKeyId') && query.has('Signature'))) return 'v2';
  return 'none';
}

/** RFC 3986 encoding as AWS signs it: everything but A-Z a-z 0-9 - _ . ~ is %XX. */
export function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}

interface Parts {
  accessKey: string;
  scope: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
  /** Query parameters left out of the canonical query (the signature itself, when presigned). */
  exclude: string[];
  expiresMs?: number;
}

const reject = (status: number, code: string, message: string): Verdict => ({ ok: false, status, code, message });

function partsOf(req: SignedRequest): Parts | Verdict {
  const header = (name: string) => req.headers[name]?.[0];
  const auth = header('authorization');
  let credential: string | undefined;
  let signedHeaders: string | undefined;
  let signature: string | undefined;
  let amzDate: string | undefined;
  let expiresMs: number | undefined;
  let payloadHash: string | undefined;
  let exclude: string[] = [];
  if (auth?.startsWith(ALGORITHM)) {
    const fields = new Map(
      auth
        .slice(ALGORITHM.length)
        .split(',')
        .map((f) => {
          const eq = f.indexOf('=');
          return [f.slice(0, eq).trim(), f.slice(eq + 1).trim()] as [string, string];
        }),
    );
    credential = fields.get('Credential');
    signedHeaders = fields.get('SignedHeaders');
    signature = fields.get('Signature');
    amzDate = header('x-amz-date');
    payloadHash = header('x-amz-content-sha256');
    if (!payloadHash) return reject(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  } else {
    const query = new URLSearchParams(req.url.split('?')[1] ?? '');
    if (query.get('X-Amz-Algorithm') !== ALGORITHM) return reject(400, 'AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
    credential = query.get('X-Amz-Credential') ?? undefined;
    signedHeaders = query.get('X-Amz-SignedHeaders') ?? undefined;
    signature = query.get('X-Amz-Signature') ?? undefined;
    amzDate = query.get('X-Amz-Date') ?? undefined;
    const expires = Number(query.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1) return reject(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be a whole number of seconds');
    expiresMs = expires * 1000;
    payloadHash = header('x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD';
    exclude = ['X-Amz-Signature'];
  }
  const scope = credential?.split('/') ?? [];
  if (!credential || scope.length !== 5 || scope[4] !== 'aws4_request' || !signedHeaders || !signature || !amzDate) {
    return reject(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; it needs Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders and Signature, and the request x-amz-date');
  }
  const [accessKey, date, region, service] = scope;
  return { accessKey, scope: scope.slice(1).join('/'), date, region, service, signedHeaders: signedHeaders.split(';'), signature, amzDate, payloadHash, exclude, expiresMs };
}

/** The canonical request of AWS's SigV4 specification, for S3 (paths are encoded once, not normalised). */
export function canonicalRequest(req: SignedRequest, signedHeaders: string[], payloadHash: string, exclude: string[] = []): string {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const path = rawPath.split('/').map((seg) => awsEncode(decode(seg))).join('/') || '/';
  const query = rawQuery
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [decode(k), decode(v)];
    })
    .filter(([k]) => !exclude.includes(k))
    .map(([k, v]) => [awsEncode(k), awsEncode(v)])
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders.map((name) => `${name}:${(req.headers[name] ?? []).map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`).join('');
  return [req.method, path, query, headers, signedHeaders.join(';'), payloadHash].join('\n');
}

/** Checks a SigV4 request against the secret of its access key. */
export function verifySigV4(req: SignedRequest, secretOf: (accessKey: string) => string | undefined, now = Date.now()): Verdict {
  const parts = partsOf(req);
  if ('ok' in parts) return parts;
  const secret = secretOf(parts.accessKey);
  if (secret === undefined) return reject(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const signedAt = parseAmzDate(parts.amzDate);
  if (signedAt === undefined || parts.amzDate.slice(0, 8) !== parts.date) {
    return reject(400, 'AuthorizationHeaderMalformed', 'x-amz-date must be YYYYMMDDTHHMMSSZ, on the day the credential scope names');
  }
  if (parts.expiresMs !== undefined ? now > signedAt + parts.expiresMs : Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return parts.expiresMs !== undefined
      ? reject(403, 'AccessDenied', 'Request has expired')
      : reject(403, 'RequestTimeTooSkewed', "The difference between the request time and the server's time is too large.");
  }
  const canonical = canonicalRequest(req, parts.signedHeaders, parts.payloadHash, parts.exclude);
  const toSign = [ALGORITHM, parts.amzDate, parts.scope, sha256(canonical)].join('\n');
  const key = [parts.date, parts.region, parts.service, 'aws4_request'].reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${secret}`);
  const expected = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  const given = Buffer.from(parts.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    return reject(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ok: true, accessKey: parts.accessKey };
}

/** An S3 error document, as S3 sends it. */
export function errorXml(r: Rejection, requestId: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(r.code)}</Code><Message>${esc(r.message)}</Message><RequestId>${requestId}</RequestId></Error>`;
}
