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
];
