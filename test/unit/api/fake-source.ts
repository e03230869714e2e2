// A typed, in-memory ApiSource for route tests: real values that the tests change and read back.

import { ApiError } from '../../../src/api/errors.ts';
import type { NodeStatus } from '../../../src/api/gen/anonnet/v1/node_pb.js';
import type {
  ApiSource,
  CircuitInfo,
  JsonObject,
  JsonValue,
  LedgerRelayInfo,
  LedgerSource,
  PeerInfo,
  ProposalInit,
  RelayInfo,
  StreamRow,
  TxState,
} from '../../../src/api/source.ts';

export const PEER_A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
export const PEER_B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
export const PEER_C = '12D3KooWCccccccccccccccccccccccccccccccccccccccccccc';

export class FakeLedger implements LedgerSource {
  height = 7n;
  readonly accounts = new Map<string, { balance: bigint; nonce: bigint }>();
  readonly txs = new Map<string, TxState>();
  submitted: Uint8Array[] = [];
  readonly registered: LedgerRelayInfo[] = [
    {
      account: 'ef'.repeat(32),
      roles: ['relay', 'exit'],
      bandwidth: 1e6,
      exitPolicySummary: 'reject 25',
      height: 3n,
      payout: 'aa'.repeat(32),
      bond: '100',
      measured: true,
      measuredBandwidth: 2_000_000n,
      measuredLatencyMs: 40,
      measuredEpoch: 2,
      reputation: '15',
      earned: '40',
      uptimeEpochs: 1n,
      penalties: 0n,
      relayedBytes: 81_920_000n,
    },
  ];

  status() {
    return {
      height: this.height,
      latestBlockHash: 'ab'.repeat(32),
      latestBlockTime: 1_700_000_000_000,
      validators: ['cd'.repeat(32)],
      powDifficulty: 8,
    };
  }
  relays() {
    return this.registered;
  }
  balance(account: Uint8Array) {
    return this.accounts.get(Buffer.from(account).toString('hex'));
  }
  async submit(tx: Uint8Array): Promise<string> {
    this.submitted.push(tx);
    const id = Buffer.alloc(32, this.submitted.length).toString('hex');
    this.txs.set(id, { status: 'pending' });
    return id;
  }
  transaction(txId: Uint8Array): TxState {
    return this.txs.get(Buffer.from(txId).toString('hex')) ?? { status: 'unknown' };
  }
  /** Whether this node may propose and vote. */
  validator = true;
  readonly open: ProposalInit[] = [];
  proposals() {
    return this.open;
  }
  async propose(paramId: number, value: bigint) {
    if (!this.validator) throw new ApiError('NOT_A_VALIDATOR', 'not a validator');
    const id = Buffer.alloc(32, this.open.length + 0x40).toString('hex');
    this.open.push({ id, paramId, value: value.toString(), height: this.height, votes: [], needed: 1 });
    return { proposalId: id, height: this.height };
  }
  async vote(proposalId: Uint8Array, yes: boolean) {
    if (!this.validator) throw new ApiError('NOT_A_VALIDATOR', 'not a validator');
    const id = Buffer.from(proposalId).toString('hex');
    const i = this.open.findIndex((p) => p.id === id);
    if (i < 0) throw new ApiError('NOT_FOUND', `no open proposal ${id}`);
    if (yes) this.open.splice(i, 1);
    return { height: this.height, passed: yes };
  }
}

export class FakeSource implements ApiSource {
  circuitList: CircuitInfo[] = [
    {
      id: 'c1',
      state: 'open',
      hops: [PEER_A, PEER_B, PEER_C],
      ageMs: 1200,
      streams: 1,
      bytesIn: 5000,
      bytesOut: 300,
    },
  ];
  relayList: RelayInfo[] = [
    { peerId: PEER_A, roles: ['relay', 'exit'], bandwidth: 1e6, expiresAt: 1_800_000_000_000 },
  ];
  peerList: PeerInfo[] = [
    { peerId: PEER_A, direction: 'outbound', transport: 'tcp', remoteAddr: '/ip4/127.0.0.1/tcp/4001' },
    {
      peerId: PEER_B,
      direction: 'inbound',
      transport: 'quic',
      remoteAddr: '/ip4/127.0.0.1/udp/4002/quic-v1',
    },
  ];
  streamRows: StreamRow[] = [{ circuitId: 'c1', streamId: 9, bytesRead: 10, bytesWritten: 20 }];
  built = 0;
  buildFails = false;
  configValues: JsonObject = {
    dataDir: '/tmp/x',
    logLevel: 'info',
    circuits: { prebuilt: 2, hops: 3 },
    secretKey: 'hide me',
  };
  applied: Array<{ path: string; value: JsonValue }> = [];
  /** Status fields a test sets (identity key, roles, registration, economy), over the defaults. */
  statusExtra: Partial<Omit<NodeStatus, '$typeName' | '$unknown'>> = {};
  ledger?: LedgerSource;

  constructor(opts: { ledger?: LedgerSource } = {}) {
    if (opts.ledger) this.ledger = opts.ledger;
  }

  status() {
    return {
      version: '0.1.0',
      pid: 42,
      peerId: PEER_C,
      roles: ['relay'],
      startedAt: 1_700_000_000_000,
      uptimeMs: 5000,
      bootstrap: { percent: 100, phase: 'done', summary: 'Done' },
      peers: this.peerList.length,
      relaysKnown: this.relayList.length,
      circuitsOpen: this.circuitList.filter((c) => c.state === 'open').length,
      relayedCircuits: 0,
      listen: ['/ip4/127.0.0.1/tcp/4000'],
      socks: '127.0.0.1:9050',
      api: '127.0.0.1:9080',
      ledger: this.ledger !== undefined,
      ...this.statusExtra,
    };
  }
  circuits() {
    return this.circuitList;
  }
  relays() {
    return this.relayList;
  }
  peers() {
    return this.peerList;
  }
  streams() {
    return this.streamRows;
  }
  bandwidth() {
    return {
      readBytesPerSecond: 2048,
      writtenBytesPerSecond: 4096,
      readBytesTotal: 1e6,
      writtenBytesTotal: 2e6,
      history: [{ at: 1_700_000_001_000, readBytesPerSecond: 2048, writtenBytesPerSecond: 4096 }],
    };
  }
  async buildCircuit(signal: AbortSignal) {
    if (this.buildFails) throw new Error('no relays');
    signal.throwIfAborted();
    this.built++;
    const id = `new${this.built}`;
    this.circuitList.push({
      id,
      state: 'open',
      hops: [PEER_A, PEER_B],
      ageMs: 0,
      streams: 0,
      bytesIn: 0,
      bytesOut: 0,
    });
    return { id, buildMs: 12.5, hops: [PEER_A, PEER_B] };
  }
  closeCircuit(id: string) {
    const before = this.circuitList.length;
    this.circuitList = this.circuitList.filter((c) => c.id !== id);
    return this.circuitList.length < before;
  }
  readonly config = {
    effective: () => this.configValues,
    apply: (path: string, value: JsonValue) => {
      this.applied.push({ path, value });
      if (path === 'logLevel') this.configValues['logLevel'] = value;
      else (this.configValues['circuits'] as JsonObject)['prebuilt'] = value;
    },
  };
}
