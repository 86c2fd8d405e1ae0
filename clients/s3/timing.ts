// When a request's body left and its answer began, seen on Node's own HTTP
// request object: the moments warp's PUT time to first byte lies between.
//
// The SDK never shows its http.ClientRequest, but Node publishes every one it
// creates on the `http.client.request.start` diagnostics channel, synchronously
// in the constructor, so still inside the async context of the send() that
// caused it. An AsyncLocalStorage set around that send() tells ours apart from
// any other request in the process; each then reports two events:
//
// - `finish`: the last byte of the body was handed to the kernel (the SDK
//   writes a Buffer body with one end(); Node emits finish from that write's
//   callback, once all of it is in the socket's send buffer);
// - `response`: the status line and headers of the answer were parsed.
//
// response - finish is the time to first byte after the upload. How close:
// it starts when the last byte entered the send buffer, not when it left the
// host, so it also holds the time to drain that buffer (at most its size,
// typically a few MiB, at the link's rate: ~3 ms for 4 MiB at 10 Gb/s, ~0.3 ms
// on loopback); and it ends when Node parsed the headers, after the first
// byte came (the same packet, in practice). No SDK patch, no timer of ours.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/** Filled in for the HTTP request made inside `observe()` (performance.now() times). */
export interface RequestTimes {
  bodySent?: number;
  answered?: number;
}

const current = new AsyncLocalStorage<RequestTimes>();
let subscribed = false;

function watch(message: unknown): void {
  const times = current.getStore();
  if (!times) return;
  const req = (message as { request: ClientRequest }).request;
  req.once('finish', () => (times.bodySent = performance.now()));
  req.once('response', () => (times.answered = performance.now()));
}

/** Runs `send` with its HTTP request's times recorded in `times` (one request: the SDK here never retries). */
export function observe<T>(times: RequestTimes, send: () => Promise<T>): Promise<T> {
  if (!subscribed) {
    subscribed = true;
    subscribe('http.client.request.start', watch);
  }
  return current.run(times, send);
}

/**
 * Milliseconds from the last body byte sent to the answer of a SUCCESSFUL
 * upload, or undefined when no answer was seen. A store answers a PUT only
 * once it holds the whole body, so an answer seen before `finish` (or before a
 * `finish` still queued when send() resolved) means both completed in the
 * same turn of a busy event loop: the time between them is below what this
 * process can resolve, and is 0, not missing.
 */
export function afterUpload(t: RequestTimes): number | undefined {
  if (t.answered === undefined) return undefined;
  return t.bodySent === undefined ? 0 : Math.max(0, t.answered - t.bodySent);
}
