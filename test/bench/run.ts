// `npm run bench`: benchmarks that print numbers and ratios against a peer
// measured in the same run. Needs the SLURM test cluster (scripts/slurm-up.sh).
import { measure } from './slurm-scale.js';

const small = await measure(20);
const large = await measure(200);
const row = (r: Awaited<ReturnType<typeof measure>>) =>
  `${String(r.resources).padStart(9)}  ${r.commandsPerInterval.toFixed(2).padStart(16)}  ${r.squeuePerInterval.toFixed(2).padStart(14)}  ${String(r.medianCpToSbatchMs).padStart(14)}  ${String(r.p95CpToSbatchMs).padStart(11)}`;
console.log('RESOURCES  SLURM_CMDS/POLL  SQUEUE/POLL  CP->SBATCH_P50  P95 (ms)');
console.log(row(small));
console.log(row(large));
console.log(`ratio 200/20: SLURM commands per poll interval x${(large.commandsPerInterval / small.commandsPerInterval).toFixed(2)} (1.00 = constant)`);
