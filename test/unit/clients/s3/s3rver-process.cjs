// s3rver in a process of its own, as a native local service runs: started by
// s3rver.ts with --openssl-legacy-provider, because s3rver makes the
// continuation token of a truncated listing with DES, which Node 17+ has only
// from OpenSSL's legacy provider (without it, such a listing is an HTTP 500).
// Tells its parent every request it gets (method and URL) and holds answers
// back when asked, so tests can see what the server saw and when.
'use strict';
const http = require('node:http');
const S3rver = require('s3rver');

const handle = new S3rver({ directory: process.argv[2], silent: true }).callback();
const delays = [];

/** From the answer's first write or end (its headers go with it), holds the answer for `ms`, then lets it through in order. */
function hold(res, ms) {
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  let queue;
  let started = false;
  const later = (f) => {
    if (!started) {
      started = true;
      queue = [];
      setTimeout(() => {
        const waiting = queue;
        queue = undefined;
        for (const g of waiting) g();
      }, ms);
    }
    if (!queue) return false;
    queue.push(f);
    return true;
  };
  res.write = (...a) => later(() => write(...a)) || write(...a);
  res.end = (...a) => (later(() => end(...a)) || end(...a), res);
}

/** Lets the first body chunk through, then holds the rest of the answer for `ms`. */
function slowRest(res, ms) {
  const write = res.write.bind(res);
  const end = res.end.bind(res);
  let queue;
  let first = true;
  res.write = (...a) => {
    if (first) {
      first = false;
      queue = [];
      setTimeout(() => {
        const waiting = queue;
        queue = undefined;
        for (const f of waiting) f();
      }, ms);
      return write(...a);
    }
    return queue ? (queue.push(() => write(...a)), true) : write(...a);
  };
  res.end = (...a) => (queue ? queue.push(() => end(...a)) : end(...a), res);
}

const server = http.createServer((req, res) => {
  const line = `${req.method} ${req.url}`;
  process.send({ log: line });
  const d = delays.find((x) => x.match.test(line))?.d ?? {};
  if (d.afterFirstChunk) slowRest(res, d.afterFirstChunk);
  if (d.beforeBody) {
    // Headers now, at the first write; the body after the delay.
    const write = res.write.bind(res);
    res.write = (...a) => (res.flushHeaders(), (res.write = write), hold(res, d.beforeBody), res.write(...a));
  }
  if (d.beforeHeaders) hold(res, d.beforeHeaders);
  if (d.beforeHandling) setTimeout(() => handle(req, res), d.beforeHandling);
  else handle(req, res);
});

process.on('message', (m) => {
  if (m.delay) delays.push({ match: new RegExp(m.delay.source, m.delay.flags), d: m.delay.d });
  // Messages arrive in order: the answer to a ping follows every log line sent before it.
  if (m.ping !== undefined) process.send({ pong: m.ping });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
