// The SigV4 check of the native S3 server, against requests the AWS SDK signs
// itself (an independent implementation): the right key pair passes, for keys
// and queries that need encoding, and anything else is refused as S3 refuses it.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorXml, signatureVersion, verifySigV4, type SignedRequest } from '../../../containers/native/s3-signature.js';

const require = createRequire(import.meta.url);
const s3sdk = require('@aws-sdk/client-s3');
// The SDK's own signer (a dependency of @aws-sdk/client-s3), for presigned URLs.
const { SignatureV4 } = require('@smithy/signature-v4');

const KEY = 'bench';
const SECRET = 'the-secret-key';

/** Records what reached it and answers as the native S3 server's front does: S3 XML, 403 when the signature fails. */
let server: Server;
let port: number;
const seen: SignedRequest[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    const signed = { method: req.method!, url: req.url!, headers: req.headersDistinct as Record<string, string[]> };
    seen.push(signed);
    req.resume();
    const verdict = signatureVersion(signed) === 'v4' ? verifySigV4(signed, (k) => (k === KEY ? SECRET : undefined)) : ({ ok: false, status: 403, code: 'AccessDenied', message: 'Access Denied' } as const);
    if (!verdict.ok) return res.writeHead(verdict.status, { 'content-type': 'application/xml' }).end(errorXml(verdict, 'R1'));
    const body = req.url!.includes('list-type=2') ? '<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>0</KeyCount></ListBucketResult>' : 'ok';
    res.writeHead(200, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

const client = (secretAccessKey = SECRET, accessKeyId = KEY) =>
  new s3sdk.S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-central-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId, secretAccessKey } });

describe('verifySigV4', () => {
  it('accepts what the SDK signs with the right key pair: keys and queries that need encoding, bodies, every method', async () => {
    const c = client();
    const key = "runs/ä ö+x (1)!*'~.json";
    await c.send(new s3sdk.PutObjectCommand({ Bucket: 'bench-bucket', Key: key, Body: Buffer.alloc(70_000, 1) }));
    await c.send(new s3sdk.GetObjectCommand({ Bucket: 'bench-bucket', Key: key, Range: 'bytes=0-9' }));
    await c.send(new s3sdk.HeadObjectCommand({ Bucket: 'bench-bucket', Key: key }));
    await c.send(new s3sdk.ListObjectsV2Command({ Bucket: 'bench-bucket', Prefix: 'runs/ä b', Delimiter: '/', StartAfter: 'x*y=z&w', MaxKeys: 5 }));
    await c.send(new s3sdk.DeleteObjectCommand({ Bucket: 'bench-bucket', Key: key }));
    // The key reached the server encoded, and the signature still matched.
    expect(seen.some((r) => r.url.includes('%C3%A4%20%C3%B6%2Bx%20%281%29%21%2A%27~.json'))).toBe(true);
  });

  it('refuses a wrong secret, an unknown key, and no signature, with the codes S3 uses', async () => {
    await expect(client('not-it').send(new s3sdk.HeadBucketCommand({ Bucket: 'bench-bucket' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(client('not-it').send(new s3sdk.ListObjectsV2Command({ Bucket: 'bench-bucket' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    await expect(client(SECRET, 'S3RVER').send(new s3sdk.ListObjectsV2Command({ Bucket: 'bench-bucket' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    const anonymous = await fetch(`http://127.0.0.1:${port}/bench-bucket/x`);
    expect(anonymous.status).toBe(403);
  });

  it('refuses a signed request whose path or query was changed on the way', () => {
    const signed = seen.find((r) => r.url.includes('list-type=2') && r.headers.authorization?.[0]?.includes(`Credential=${KEY}/`))!;
    expect(verifySigV4(signed, () => SECRET).ok).toBe(true);
    const tampered = { ...signed, url: signed.url.replace('max-keys=5', 'max-keys=6') };
    expect(verifySigV4(tampered, () => SECRET)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    const otherObject = { ...signed, url: signed.url.replace('/bench-bucket', '/other-bucket') };
    expect(verifySigV4(otherObject, () => SECRET)).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    // Signed more than 15 minutes from the server's clock: refused, as S3 does.
    expect(verifySigV4(signed, () => SECRET, Date.now() + 16 * 60_000)).toMatchObject({ ok: false, code: 'RequestTimeTooSkewed' });
  });

  it('accepts a presigned URL until it expires, and not with another secret', async () => {
    class Sha256 {
      private readonly h;
      constructor(secret?: string | Uint8Array) {
        this.h = secret ? createHmac('sha256', secret) : createHash('sha256');
      }
      update(data: string | Uint8Array) {
        this.h.update(data);
      }
      async digest() {
        return new Uint8Array(this.h.digest());
      }
    }
    const presign = (secretAccessKey: string) =>
      new SignatureV4({ service: 's3', region: 'eu-central-1', credentials: { accessKeyId: KEY, secretAccessKey }, sha256: Sha256, uriEscapePath: false }).presign(
        // As @aws-sdk/s3-request-presigner does it: an unsigned payload, that header itself left out of the URL.
        { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port, path: '/bench-bucket/a%20b.txt', query: {}, headers: { host: `127.0.0.1:${port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
        { expiresIn: 60, unsignableHeaders: new Set(['x-amz-content-sha256']) },
      );
    const url = (r: { path: string; query: Record<string, string> }) => `http://127.0.0.1:${port}${r.path}?${new URLSearchParams(r.query).toString()}`;
    const good = url(await presign(SECRET));
    expect((await fetch(good)).status).toBe(200);
    const presigned = seen.at(-1)!;
    expect(signatureVersion(presigned)).toBe('v4');
    expect(verifySigV4(presigned, () => SECRET, Date.now() + 61_000)).toMatchObject({ ok: false, code: 'AccessDenied', message: 'Request has expired' });
    const bad = await fetch(url(await presign('not-it')));
    expect(bad.status).toBe(403);
    expect(await bad.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('tells SigV2 (left to s3rver, which checks it) from SigV4 and from no signature', () => {
    const req = (headers: Record<string, string[]>, url = '/b/k') => ({ method: 'GET', url, headers });
    expect(signatureVersion(req({ authorization: ['AWS bench:c2lnbmF0dXJl'] }))).toBe('v2');
    expect(signatureVersion(req({}, '/b/k?AWSAccessKeyId=bench&Signature=x&Expires=1'))).toBe('v2');
    expect(signatureVersion(req({ authorization: ['AWS4-HMAC-SHA256 Credential=bench/20250101/us-east-1/s3/aws4_request'] }))).toBe('v4');
    expect(signatureVersion(req({}))).toBe('none');
    const malformed = req({ authorization: ['AWS4-HMAC-SHA256 Credential=bench'], 'x-amz-content-sha256': ['UNSIGNED-PAYLOAD'] });
    expect(verifySigV4(malformed, () => SECRET)).toMatchObject({ ok: false, status: 400, code: 'AuthorizationHeaderMalformed' });
    expect(verifySigV4({ ...malformed, headers: { authorization: malformed.headers.authorization } }, () => SECRET)).toMatchObject({ ok: false, status: 400, code: 'InvalidRequest' });
  });
});
