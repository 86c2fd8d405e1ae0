// Why an S3 request failed, as the reason the reports count it under: the
// S3 error code and the server's words, then what to change. No keys, request
// ids or secrets in it, so one fault is one reason however many requests hit it.
import { errorText, excerpt } from '../http-common.js';

export interface FailureContext {
  /** What was asked, as a user reads it: `PUT`, `GET`, `LIST`, `CreateBucket`... */
  action: string;
  bucket: string;
  /** `http://host:port`. */
  origin: string;
  host: string;
  /** The region requests are signed for. */
  region: string;
  /** The access key id (credentials.user); undefined when requests go unsigned. */
  accessKey?: string;
  /** Where the secret key is read from, e.g. `file /home/me/.s3-secret`: never the value. */
  secretFrom?: string;
  timeoutMs: number;
  connectTimeoutMs: number;
}

/** An S3 error answer carries its HTTP status in `$metadata`; a network error carries none. */
function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** The server's message, short: HEAD answers have no body, and the SDK then says `UnknownError`. */
function serverWords(e: Error): string {
  const m = e.message?.trim();
  return m && m !== 'UnknownError' && m !== e.name ? `: ${excerpt(m, 80)}` : '';
}

/** The SDK names a bodiless error answer `Unknown`, `Forbidden`, `NotFound` or by its status: no S3 code. */
const NO_CODE = new Set(['Unknown', 'UnknownError', 'Forbidden', 'NotFound', '403', '404']);

function accessDenied(code: string, words: string, c: FailureContext): string {
  const what = `access denied to ${c.action} in bucket "${c.bucket}" (${code}${words})`;
  if (c.accessKey === undefined) return `${what}; requests go unsigned: set credentials (user, password) on the Service`;
  return `${what}; check access key "${c.accessKey}", its secret and its rights`;
}

/** The reason for a failed request, naming the fix where there is one. */
export function s3Reason(e: unknown, c: FailureContext): string {
  if (!(e instanceof Error)) return `${c.action} failed: ${String(e)}`;
  const status = statusOf(e);
  if (status !== undefined) {
    const code = e.name;
    const words = serverWords(e);
    switch (code) {
      case 'InvalidAccessKeyId':
        return `the server does not know access key "${c.accessKey}" (InvalidAccessKeyId, HTTP ${status}); set credentials.user on the Service to an access key it has`;
      case 'SignatureDoesNotMatch':
        return `the secret key does not match access key "${c.accessKey}" (SignatureDoesNotMatch, HTTP ${status}); check the secret key in ${c.secretFrom ?? 'credentials.password'}`;
      case 'AuthorizationHeaderMalformed':
      case 'InvalidRegion':
        return `the server is not in region ${c.region} (${code}${words}); set spec.region on the Service to the server's region`;
      case 'RequestTimeTooSkewed':
        return `this host's clock is more than 15 minutes off the server's (RequestTimeTooSkewed, HTTP ${status}); synchronise it (NTP)`;
      case 'NoSuchBucket':
        return `bucket "${c.bucket}" does not exist (NoSuchBucket, HTTP ${status}) at ${c.action}; was it removed while the benchmark ran?`;
      case 'NoSuchKey':
        return `the object was not there at ${c.action} (NoSuchKey, HTTP ${status}); something else removed objects under workload.keyPrefix while the benchmark ran`;
      case 'InvalidBucketName':
        return `the server refuses the bucket name "${c.bucket}" (InvalidBucketName${words}); set workload.bucket to another name`;
      case 'BucketAlreadyExists':
        return `bucket "${c.bucket}" belongs to someone else (BucketAlreadyExists, HTTP ${status}); set workload.bucket to another name`;
      case 'EntityTooSmall':
        return `the server refused a part as too small (EntityTooSmall, HTTP ${status}); raise workload.multipart.partSize`;
      case 'EntityTooLarge':
        return `the server refused a body as too large (EntityTooLarge, HTTP ${status}); lower workload.multipart.threshold or partSize`;
      case 'SlowDown':
        return `the server asked to slow down (SlowDown, HTTP ${status}): it cannot take this rate`;
      case 'NotImplemented':
        return `the server does not implement ${c.action} (NotImplemented, HTTP ${status}); take it out of workload.operationMix`;
      case 'AccessDenied':
      case 'AllAccessDisabled':
        return accessDenied(code, words, c);
    }
    // HEAD answers have no body: the status is all there is.
    if (status === 403) return accessDenied(NO_CODE.has(code) ? 'HTTP 403' : `${code}, HTTP 403`, words, c);
    if (status === 404 && NO_CODE.has(code)) {
      return `the object was not there at ${c.action} (HTTP 404); something else removed objects under workload.keyPrefix while the benchmark ran`;
    }
    if (status === 503) return `the server is unavailable or overloaded (${code}, HTTP 503${words})`;
    return `${code} (HTTP ${status}) from ${c.action}${words}`;
  }
  return networkReason(e, c);
}

function networkReason(e: Error, c: FailureContext): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${c.origin} (ECONNREFUSED); check that the Service is running and its host and port are right`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host "${c.host}" not found (${code}); check the Service's host`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${c.origin} (${code}); check the Service's host and the network between`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection dropped during ${c.action} (${code})`;
  }
  if (e.name === 'TimeoutError') {
    if (/establish a connection/.test(e.message)) {
      return `no connection to ${c.origin} within ${c.connectTimeoutMs} ms; check the host, the port and any firewall between`;
    }
    if (/inactivity|no activity/.test(e.message)) return `the transfer stalled for ${c.timeoutMs} ms (workload.timeout) during ${c.action}; raise workload.timeout if the server is this slow`;
    return `no answer within ${c.timeoutMs} ms (workload.timeout) to ${c.action}; raise workload.timeout if the server is this slow`;
  }
  if (/socket hang up/i.test(e.message)) return `the connection dropped during ${c.action} (socket hang up)`;
  return `${c.action} failed: ${excerpt(errorText(e))}`;
}
