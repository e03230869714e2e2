// The attacks bench/attacks.ts measures: each runs one attack script of test/e2e/attackers/ (the same
// scripts the attack tests run) against one node of a 6-node testnet.
export interface Victims {
  readonly nodes: ReadonlyArray<{ pid: number; peerId: string; address: string }>;
  readonly api: string;
  readonly token: string;
}

export interface Attack {
  readonly name: string;
  /** test/e2e/attackers/<script>.ts */
  readonly script: string;
  /** Index of the testnet node whose costs are measured (0 is the client with the proxies). */
  readonly victim: number;
  readonly testnetArgs?: readonly string[];
  /** The script's JSON argument. */
  args(v: Victims, webPort: number, seconds: number): Record<string, unknown>;
  /** What the attacker sent, from its report lines. */
  attackerBytes(reports: ReadonlyArray<Record<string, unknown>>): number;
}

const num = (x: unknown): number => (typeof x === 'number' ? x : 0);
const sumOf = (field: string) => (reports: ReadonlyArray<Record<string, unknown>>) =>
  reports.reduce((a, r) => Math.max(a, num(r[field])), 0);

export const ATTACKS: readonly Attack[] = [
  {
    name: 'hostile-cells',
    script: 'raw-cells',
    victim: 1,
    args: (v) => ({ address: v.nodes[1]!.address, mode: 'zero-id', channels: 200 }),
    attackerBytes: (r) => sumOf('cells')(r) * 2048,
  },
  {
    // Class 5: one identity tries to take every circuit slot with garbage handshakes.
    name: 'circuit-fill',
    script: 'circuit-flood',
    victim: 1,
    args: (v, _port, seconds) => ({
      address: v.nodes[1]!.address,
      mode: 'fill',
      handshake: 'garbage',
      durationMs: seconds * 1000,
    }),
    attackerBytes: (r) => sumOf('sent')(r) * 2048,
  },
  {
    // Class 5: CREATE/DESTROY loop with valid handshakes (the relay's handshake CPU).
    name: 'create-destroy',
    script: 'circuit-flood',
    victim: 1,
    args: (v, _port, seconds) => ({
      address: v.nodes[1]!.address,
      mode: 'churn',
      handshake: 'valid',
      durationMs: seconds * 1000,
    }),
    attackerBytes: (r) => sumOf('sent')(r) * 2 * 2048,
  },
  {
    // Class 6: one identity opens many connections.
    name: 'connections',
    script: 'connection-flood',
    victim: 1,
    args: (v) => ({
      address: v.nodes[1]!.address,
      mode: 'one-identity',
      connections: 60,
      dialFrom: '127.0.0.2',
    }),
    attackerBytes: () => 0,
  },
  {
    // Class 11: 60 valid Sybil descriptors stored in the DHT and named in every DHT answer the
    // attacker gives; the victim is the client, whose discovery, view and prober take the flood.
    name: 'sybil-flood',
    script: 'sybil-flood',
    victim: 0,
    args: (v) => ({ peers: v.nodes.map((n) => n.address), count: 60, powDifficulty: 8 }),
    attackerBytes: () => 0,
  },
];
