import { describe, expect, it } from 'vitest';
import { describeView, runDescribe } from '../../../controller/cli/describe.js';
import { FakeSource, NOW, NO_GLOBALS, capture, opened, views } from './fixtures.js';

describe('aifbctl describe', () => {
  it('prints identity, spec, conditions, results, reports and events sections', async () => {
    const io = capture();
    const code = await runDescribe({ ...NO_GLOBALS, kind: 'benchmark', name: 'vllm-load', now: () => NOW, open: opened(new FakeSource(views())) }, io);
    expect(code).toBe(0);
    const out = io.out;
    for (const line of [
      /^Name:\s+vllm-load$/m,
      /^Kind:\s+Benchmark$/m,
      /^File:\s+\/r\/vllm\.yaml \(document 1\)$/m,
      /^Generation:\s+2$/m,
      /^Observed Generation:\s+2$/m,
      /^Phase:\s+Succeeded$/m,
      /^Started:\s+2024-05-01T11:57:10Z$/m,
      /^Completed:\s+2024-05-01T11:57:40Z$/m,
      /^Spec:\n {2}Service:\s+vllm \(serviceRef\)$/m,
      /^ {2}Load:\s+open loop at 50 req\/s \(constant arrivals\), duration 30s$/m,
      /^ {2}SLO:\s+p99=500ms$/m,
      /^Conditions:\n {2}TYPE\s+STATUS\s+REASON\s+MESSAGE\s+LAST-TRANSITION$/m,
      /^ {2}Ready\s+True\s+Completed\s+run finished\s+2024-05-01T11:57:40Z$/m,
      /^ {2}SLOMet\s+True\s+WithinTargets\s+<none>\s+2024-05-01T11:57:40Z$/m,
      /^Results:\n {2}Requests:\s+1500$/m,
      /^ {2}Errors:\s+3 \(0\.20%\)$/m,
      /^ {2}Throughput:\s+50\.0 req\/s$/m,
      /^ {2}Latency:\s+p50 4\.2ms {2}p90 8\.5ms {2}p95 10\.3ms {2}p99 12\.3ms {2}p99\.9 40\.0ms$/m,
      /^ {2}Max:\s+1\.20s$/m,
      /^ {2}SLO:\s+Passed$/m,
      // The summary as vLLM's serving benchmark lays it out.
      /^Summary:\n {2}=+ file-storage result =+$/m,
      /^ {2}Successful requests:\s+1497$/m,
      /^ {2}Failed requests:\s+3$/m,
      /^ {2}Total generated tokens:\s+192000$/m,
      /^ {2}Request throughput \(req\/s\):\s+49\.96$/m,
      /^ {2}Output token throughput \(tok\/s\):\s+6400\.00$/m,
      /^ {2}-+ Time to First Token -+\n {2}Mean TTFT \(ms\):\s+80\.50\n {2}Median TTFT \(ms\):\s+75\.25\n {2}P99 TTFT \(ms\):\s+210\.00$/m,
      /^ {2}P99 E2EL \(ms\):\s+12\.34$/m,
      /^Reports:\n {2}json:\s+\/reports\/vllm-load\/report\.json\n {2}csv:\s+\/reports\/vllm-load\/report\.csv$/m,
      /^Events:\n {2}LAST SEEN\s+TYPE\s+REASON\s+MESSAGE$/m,
      /^ {2}3m\s+Normal\s+Submitted\s+Started runner pid=123$/m,
      /^ {2}20s\s+Normal\s+Completed\s+Run finished: 1500 requests$/m,
    ]) {
      expect(out).toMatch(line);
    }
    // Sections come in kubectl's order.
    const order = ['Name:', 'Spec:', 'Conditions:', 'Results:', 'Summary:', 'Reports:', 'Events:'].map((s) => out.indexOf(`\n${s}`) + (s === 'Name:' ? 1 : 0));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('shows <none> for a resource the controller has not seen yet', () => {
    const v = views()[2]!;
    v.status = {};
    v.events = [];
    const out = describeView(v, NOW);
    expect(out).toMatch(/^Phase:\s+<none>$/m);
    expect(out).toMatch(/^Conditions:\n {2}<none>$/m);
    expect(out).toMatch(/^Results:\n {2}<none>$/m);
    expect(out).toMatch(/^Events:\n {2}<none>$/m);
  });

  it("shows a monitoring stack's endpoints, Grafana login (where the password is, never it) and the SSH tunnel line", () => {
    const v = views().find((x) => x.kind === 'MonitoringStack')!;
    v.status = {
      ...v.status,
      tunnel: 'ssh -L 9090:node02:9090 -L 3000:node02:3000 u100@login.lxp.lu -p 8822',
      grafana: { url: 'http://node02:3000', adminUser: 'admin', adminPassword: { file: '/s/.aifb/monitoring/mon/credentials/grafana-admin-password' } },
    };
    const out = describeView(v, NOW);
    expect(out).toMatch(/^Prometheus:\s+node02:9090$/m);
    expect(out).toMatch(/^Grafana Login:\s+admin, password in file \/s\/\.aifb\/monitoring\/mon\/credentials\/grafana-admin-password$/m);
    expect(out).toMatch(/^SSH Tunnel:\s+ssh -L 9090:node02:9090 -L 3000:node02:3000 u100@login\.lxp\.lu -p 8822$/m);
  });

  it('shows the endpoint of a service', () => {
    const out = describeView(views()[3]!, NOW);
    expect(out).toMatch(/^Endpoint:\s+node01:8000$/m);
    expect(out).toMatch(/^ {2}Model:\s+facebook\/opt-125m$/m);
    expect(out).not.toContain('Results:');
  });

  it('exits 1 with a kubectl-style message when the resource is missing', async () => {
    const io = capture();
    const code = await runDescribe({ ...NO_GLOBALS, kind: 'benchmark', name: 'x', open: opened(new FakeSource(views())) }, io);
    expect(code).toBe(1);
    expect(io.out).toBe('');
    expect(io.err).toBe('Error: benchmark "x" not found\n');
  });
});
