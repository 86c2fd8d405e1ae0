// The http peers benchmark end to end on tiny sizes: every tool (aifb, autocannon,
// wrk) runs each scenario (a GET, the llm request whole and streamed) against the
// bench's raw server, and the GET against the node-http one, and reports a rate
// and the server's CPU share; no number is judged here.
import { describe, expect, it } from 'vitest';
import { measurePeers, SCENARIOS } from '../../bench/http-peers.js';

describe('npm run bench -- http', () => {
  it('runs aifb, autocannon and wrk against one loopback server in every scenario and gives their ratios', async () => {
    const results = await measurePeers({ connections: 2, seconds: 1, rounds: 1 });
    expect(Object.keys(results)).toEqual([...SCENARIOS]);
    for (const scenario of SCENARIOS) {
      const { rps, cpuUs, serverPct, ratios, cpuRatios } = results[scenario]!;
      for (const tool of ['aifb', 'autocannon', 'wrk'] as const) {
        expect(rps[tool], `${scenario} ${tool}`).toHaveLength(1);
        expect(rps[tool][0], `${scenario} ${tool}`).toBeGreaterThan(100);
        // A request costs a tool some µs of CPU, never nothing and never a second.
        expect(cpuUs[tool][0], `${scenario} ${tool}`).toBeGreaterThan(1);
        expect(cpuUs[tool][0], `${scenario} ${tool}`).toBeLessThan(10_000);
        // The server answered thousands of requests: some CPU, at most its one core (and a tick's rounding).
        expect(serverPct[tool][0], `${scenario} ${tool}`).toBeGreaterThan(0);
        expect(serverPct[tool][0], `${scenario} ${tool}`).toBeLessThan(120);
      }
      expect(ratios.autocannon).toBeCloseTo(rps.aifb[0] / rps.autocannon[0], 10);
      expect(ratios.wrk).toBeCloseTo(rps.aifb[0] / rps.wrk[0], 10);
      expect(cpuRatios.autocannon).toBeCloseTo(cpuUs.aifb[0] / cpuUs.autocannon[0], 10);
    }
  }, 120_000);

  it('runs the GET against the node-http server too', async () => {
    const results = await measurePeers({ connections: 2, seconds: 1, rounds: 1 }, ['http'], undefined, 'node-http');
    expect(Object.keys(results)).toEqual(['http']);
    for (const tool of ['aifb', 'autocannon', 'wrk'] as const) expect(results.http!.rps[tool][0], tool).toBeGreaterThan(100);
  }, 60_000);
});
