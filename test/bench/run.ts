// `npm run bench`: benchmarks that print numbers and ratios against a peer
// measured in the same run. `npm run bench -- NAME` runs one.
//   llm:   the llm client's cost against the http workload on the same LLM stand-in, and its send lag (about 45 s).
//   slurm: SLURM commands and bytes read per poll at 10, 100, 200 and 1,000 jobs, alone and beside 1,000 jobs of
//          another user (created here; root), and cp -> sbatch; needs the SLURM test cluster (scripts/slurm-up.sh; about 6 min).
//   postgresql: aifb's select-only tps against pgbench -S on one PostgreSQL started here (needs Debian's postgresql).
//   faiss: aifb's Faiss Flat search QPS against a bare faiss-node loop (needs faiss-node, DEVELOPERS.md).
//   http: the http and llm workloads' closed-loop requests/s and CPU per request against autocannon and wrk on one loopback server
//         (a raw one that answers faster than the tools ask): a GET, the llm chat request whole and streamed; then the GET against
//         Node's http server, which limits every tool (about 10 min).
//   stream-reader: the llm client's OpenAI stream reader's CPU per answer against JSON.parse of every event (about 40 s).
//   open-loop: the engine's open-loop accuracy at 1k, 5k and 10k requests/s: share sent, send lag, the generator verdict (about 20 s).
//   coordinated-omission: a 1 s server stall under open loop (200 req/s) and closed loop (4 workers): p50, p99, max of each against wrk2's expectation (about 25 s).
//   controller: a controller process given 200, then 1,000 endpoint Services at once: time to Ready, idle CPU and RSS, status API list p50/p99 (about 2.5 min).
//   status-writes: status writes per second through the store's re-read check against write-file-atomic, and lost edits while another process edits the same files (about 25 s).
//   memory: a runner process's RSS over 1M and 10M http requests against a loopback server, and the report build (merge, reports, SQLite) of each run (about 7 min).
import { main as llm } from './llm.js';

const BENCHES: Record<string, () => Promise<unknown>> = {
  llm: () => llm(),
  slurm: async () => (await import('./slurm-scale.js')).main(),
  postgresql: async () => (await import('./postgresql.js')).main(),
  faiss: async () => (await import('./faiss.js')).main(),
  http: async () => (await import('./http-peers.js')).main(),
  'stream-reader': async () => (await import('./stream-reader.js')).main(),
  'open-loop': async () => (await import('./open-loop.js')).main(),
  'coordinated-omission': async () => (await import('./coordinated-omission.js')).main(),
  controller: async () => (await import('./controller-scale.js')).main(),
  'status-writes': async () => (await import('./status-writes.js')).main(),
  memory: async () => (await import('./runner-memory.js')).main(),
};

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(`no benchmark named ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
// The llm benchmark first: it needs nothing but this machine.
for (const name of asked.length > 0 ? asked : Object.keys(BENCHES)) {
  if (asked.length === 0 && name !== Object.keys(BENCHES)[0]) console.log('');
  await BENCHES[name]();
}
