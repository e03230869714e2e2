// The layers of DESIGN.md ("Layers"), checked on every `npm test` (npm run lint:layers): a module
// imports only its own layer and the layers below it, and no import cycle exists anywhere in src/.
// Type-only imports count (tsPreCompilationDeps): a type reaching up the layers is a dependency too.
//
// Layers, lowest first. Folders on one line are one layer: they may import each other (no cycles).
//   0  wire/ crypto/          pure codecs and primitives: they import only each other of src/ (crypto/
//                             uses wire/ today), no I/O module, no network library, no timers (those
//                             are globals, not imports: biome.json's override for src/wire, src/crypto)
//      api/gen/               generated protobuf schemas (buf generate): data shapes, import nothing of
//                             src/; every layer may use them (the event bus, the bandwidth meter)
//   1  log/ metrics/ daemon/ version.ts
//                             utilities, from what they import today: log/ and version.ts import
//                             nothing of src/; metrics/ only api/gen; daemon/ (data dir, key files,
//                             the event bus) wire/, crypto/, api/gen. Used by every layer above.
//   2  p2p/                   libp2p host
//   3  consensus/ ledger/     BFT engine, block store, the ledger's state machine
//   4  economy/               (when it exists)
//   5  directory/             relay descriptors, the relay view
//   6  circuit/               circuit build, extend, forward, flow control
//   7  stream/                streams over circuits, the exit side
//   8  proxy/ service/        SOCKS5 / HTTP proxy; .anon services (service/ when it exists)
//   9  config/                the config schema, built from the defaults of the layers below it
//  10  api/ cli/ testnet/     people and programs (testnet/ is the CLI's supervisor of local nets)
//      node.ts node/          the composition root (node/: the config→options map, the API adapter,
//                             the status assembly): may import every layer; only cli/ and testnet/,
//                             which start daemons, import it.
// A new folder under src/ must be placed here first (rule "layer-unknown").

/** Layer paths (regular expressions on the path from the repository root), lowest first. */
const LAYERS = [
  { name: 'pure', path: '^src/(wire|crypto|api/gen)/' },
  { name: 'utility', path: '^src/((log|metrics|daemon)/|version\\.ts$)' },
  { name: 'p2p', path: '^src/p2p/' },
  { name: 'consensus', path: '^src/(consensus|ledger)/' },
  { name: 'economy', path: '^src/economy/' },
  { name: 'directory', path: '^src/directory/' },
  { name: 'circuit', path: '^src/circuit/' },
  { name: 'stream', path: '^src/stream/' },
  { name: 'proxy', path: '^src/(proxy|service)/' },
  { name: 'config', path: '^src/config/' },
  { name: 'top', path: '^src/((api/(?!gen/))|cli/|testnet/)' },
];
const NODE = '^src/(node\\.ts$|node/)';

/** One rule per layer: nothing of a layer imports a layer above it. */
const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} imports only its own layer and those below it (DESIGN.md, Layers)`,
  severity: 'error',
  from: { path: layer.path },
  to: {
    path: [...LAYERS.slice(i + 1).map((l) => l.path), NODE],
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...upward,
    {
      name: 'node-is-the-root',
      comment:
        'node.ts (and node/) composes the daemon; only the entry points that start one (cli/, testnet/) ' +
        'import it. The API reads the node through ApiSource only (node/api-source.ts implements it).',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/(cli|testnet|node)/', NODE] },
      to: { path: NODE },
    },
    {
      name: 'layer-unknown',
      comment: 'every module of src/ belongs to a layer of this file (add a new folder to LAYERS)',
      severity: 'error',
      from: { path: '^src/', pathNot: [...LAYERS.map((l) => l.path), NODE] },
      to: {},
    },
    {
      name: 'pure-self-contained',
      comment: 'wire/ and crypto/ import only each other of src/ (crypto/ uses wire/ today)',
      severity: 'error',
      from: { path: '^src/(wire|crypto)/' },
      to: { path: '^src/', pathNot: '^src/(wire|crypto)/' },
    },
    {
      name: 'generated-self-contained',
      comment: 'api/gen/ (buf generate) imports nothing of src/ outside itself',
      severity: 'error',
      from: { path: '^src/api/gen/' },
      to: { path: '^src/', pathNot: '^src/api/gen/' },
    },
    {
      name: 'pure-no-io',
      comment: 'wire/ and crypto/ do no I/O and keep no time: pure functions, fuzzable, vector-tested',
      severity: 'error',
      from: { path: '^src/(wire|crypto)/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(net|fs|fs/promises|dgram|dns|dns/promises|http|https|http2|tls|child_process|cluster|worker_threads|timers|timers/promises|readline|os|process)$',
      },
    },
    {
      name: 'pure-no-packages-with-io',
      comment: 'wire/ and crypto/ reach no network library (libp2p and friends bring I/O)',
      severity: 'error',
      from: { path: '^src/(wire|crypto)/' },
      to: { path: '(^|node_modules/)(libp2p|@libp2p|@chainsafe|@multiformats|fastify|pino|prom-client)(/|$)' },
    },
    {
      name: 'no-circular',
      comment:
        'no import cycle anywhere: each module can be understood (and tested) before its users.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // .ts imports with their extension (Node's type stripping), resolved by TypeScript's rules.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
