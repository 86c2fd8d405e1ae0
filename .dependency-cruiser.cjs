// The project's layers, lowest first. A folder may import only from its own
// layer's folders listed in `uses` (and from npm packages); no import cycles.
// `npm test` runs `npm run deps` (dependency-cruiser) with this file.
const LAYERS = [
  // The resource API: schemas, units, field problems, the runner contract,
  // launch references. A leaf: imports nothing else of the project.
  { folder: 'api', uses: [] },
  // Pure state machines and the adapters for SLURM and Apptainer.
  { folder: 'machines', uses: ['api'] },
  { folder: 'slurm', uses: ['api'] },
  { folder: 'containers', uses: ['api'] },
  // The runner side: load engine and one folder per workload type.
  { folder: 'clients', uses: ['api'] },
  // Results, reports and the monitoring stack's scripts.
  { folder: 'monitoring', uses: ['api', 'clients', 'containers', 'slurm'] },
  // Wiring, reconcilers, executors, status API and CLI: may use everything below.
  { folder: 'controller', uses: ['api', 'machines', 'slurm', 'containers', 'clients', 'monitoring'] },
];

const ALL = LAYERS.map((l) => l.folder);

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle ties modules together so neither can be understood or tested alone.',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.map(({ folder, uses }) => ({
      name: `layer-${folder}`,
      severity: 'error',
      comment: `${folder}/ may import only from ${uses.length ? uses.join(', ') : 'nothing else of the project'} (see LAYERS in .dependency-cruiser.cjs)`,
      from: { path: `^${folder}/` },
      to: { path: `^(${ALL.filter((f) => f !== folder && !uses.includes(f)).join('|')})/` },
    })),
    {
      name: 'no-tests-in-product',
      severity: 'error',
      comment: 'Product code never imports test code.',
      from: { path: `^(${ALL.join('|')})/` },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // `./x.js` in TypeScript source means `./x.ts`.
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
