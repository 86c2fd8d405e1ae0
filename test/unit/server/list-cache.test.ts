// A source that has a version lets the status API serve a list it already
// serialized: the same bytes while the version stands, a new list once it moves.
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../controller/server/app.js';
import type { Kind } from '../../../controller/api/schemas.js';
import { FakeSource, views } from '../cli/fixtures.js';

class VersionedSource extends FakeSource {
  v = 1;
  lists = 0;
  override async list(kind: Kind) {
    this.lists++;
    return super.list(kind);
  }
  version(): number {
    return this.v;
  }
}

describe('status API list cache', () => {
  it('builds a list once per version, and the cached answer is the same JSON', async () => {
    const source = new VersionedSource(views());
    const app = buildApp({ source });
    try {
      const first = await app.inject({ method: 'GET', url: '/api/v1/benchmarks' });
      const second = await app.inject({ method: 'GET', url: '/api/v1/benchmarks' });
      expect(second.headers['content-type']).toBe(first.headers['content-type']);
      expect(first.headers['content-type']).toMatch(/^application\/json/);
      expect(second.body).toBe(first.body);
      expect(first.json().items.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['broken', 'fs', 'vllm-load']);
      expect(source.lists).toBe(1);

      // Another kind is its own list; a new version rebuilds.
      await app.inject({ method: 'GET', url: '/api/v1/services' });
      expect(source.lists).toBe(2);
      source.items = source.items.filter((v) => v.metadata.name !== 'fs');
      source.v++;
      const third = await app.inject({ method: 'GET', url: '/api/v1/benchmarks' });
      expect(third.json().items.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['broken', 'vllm-load']);
      expect(source.lists).toBe(3);
    } finally {
      await app.close();
    }
  });
});
