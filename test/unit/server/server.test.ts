import { createServer } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../controller/server/app.js';
import { startServer } from '../../../controller/server/server.js';
import { FakeSource, views } from '../cli/fixtures.js';

describe('startServer', () => {
  it('listens on a free port when given 0 and reports the real URL', async () => {
    const server = await startServer(buildApp({ source: new FakeSource(views()) }), { port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.url).not.toMatch(/:0$/);
      const res = await request(`${server.url}/api/v1/benchmarks/fs`);
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { metadata: { name: string } }).metadata.name).toBe('fs');
    } finally {
      await server.close();
    }
  });

  it('says which port is taken and what to do', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startServer(buildApp({ source: new FakeSource([]) }), { port })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
