// PeerKeeper on its own, over a fake host (connections and dials recorded): only known candidates
// count as peers, a round dials at most what is missing (and at most 4), never a connected peer or
// one without addresses, one round at a time, and stop() aborts the dials in flight.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLogger } from '../../../src/log/logger.ts';
import { type DialCandidate, type KeeperHost, PeerKeeper } from '../../../src/p2p/peer-keeper.ts';

interface Dial {
  readonly addresses: Multiaddr[];
  readonly signal: AbortSignal;
  /** Ends the dial: it connects the peer (or fails, with `ok` false). */
  finish(ok: boolean): void;
}

class FakeHost implements KeeperHost {
  readonly connected = new Set<string>();
  readonly dials: Dial[] = [];

  getConnections() {
    return [...this.connected].map((id) => ({ remotePeer: { toString: () => id } }));
  }

  dial(addresses: Multiaddr[], options: { signal: AbortSignal }): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const peer = addresses[0]?.getComponents().findLast((c) => c.name === 'p2p')?.value;
      const finish = (ok: boolean) => {
        if (!ok) return reject(new Error('dial failed'));
        if (peer !== undefined) this.connected.add(peer);
        resolve(undefined);
      };
      options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
      this.dials.push({ addresses, signal: options.signal, finish });
    });
  }

  /** Peers the dials were for, in order. */
  get dialled(): string[] {
    return this.dials.map(
      (d) => d.addresses[0]?.getComponents().findLast((c) => c.name === 'p2p')?.value ?? '',
    );
  }
}

// Real peer ids (base58 Ed25519), so the multiaddrs parse.
const IDS = [
  '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA',
  '12D3KooWGC6TvWhfapngX6wvJHMYvKpDMXPb3ZnCZ6dMoaMtimQ5',
  '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp',
  '12D3KooWSCufgHzV4fCwRijfH2k3abtpmJ5B5EJL4CxCNG6wPs5E',
  '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK',
  '12D3KooWGjMCwMGdWgXMRdATpu3SgnUy2mknh3ZA6i2y97QQfjyx',
];

function candidate(i: number, withAddress = true): DialCandidate {
  const id = IDS[i]!;
  return {
    peerId: id,
    addresses: withAddress ? [multiaddr(`/ip4/198.51.100.${i + 1}/tcp/4001/p2p/${id}`)] : [],
  };
}

function keeper(host: FakeHost, minPeers: number, candidates: () => DialCandidate[], intervalMs?: number) {
  return new PeerKeeper({
    host,
    minPeers,
    candidates,
    log: createLogger({ level: 'silent' }),
    ...(intervalMs === undefined ? {} : { intervalMs }),
  });
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PeerKeeper', () => {
  it('does nothing while enough known candidates are connected', async () => {
    const host = new FakeHost();
    host.connected.add(IDS[0]!).add(IDS[1]!);
    await keeper(host, 2, () => [candidate(0), candidate(1), candidate(2)]).round();
    assert.deepEqual(host.dials, []);
  });

  it('connected strangers do not count: it dials what is missing, and only candidates', async () => {
    const host = new FakeHost();
    for (let i = 0; i < 50; i++) host.connected.add(`stranger-${i}`);
    host.connected.add(IDS[0]!);
    const k = keeper(host, 3, () => [candidate(0), candidate(1), candidate(2), candidate(3)]);
    const round = k.round();
    await tick();
    assert.equal(host.dials.length, 2, 'three wanted, one connected: two dials');
    assert.ok(!host.dialled.includes(IDS[0]!), 'never a connected peer');
    for (const d of host.dials) d.finish(true);
    await round;
  });

  it('dials at most 4 per round, never a candidate without addresses, and survives failed dials', async () => {
    const host = new FakeHost();
    const all = [candidate(0, false), ...[1, 2, 3, 4, 5].map((i) => candidate(i))];
    const k = keeper(host, 10, () => all);
    const round = k.round();
    await tick();
    assert.equal(host.dials.length, 4);
    assert.ok(!host.dialled.includes(IDS[0]!), 'no addresses, no dial');
    assert.equal(new Set(host.dialled).size, 4, 'each peer once');
    for (const d of host.dials) d.finish(false);
    await round;
    // The next round tries again.
    const again = k.round();
    await tick();
    assert.equal(host.dials.length, 8);
    for (const d of host.dials.slice(4)) d.finish(true);
    await again;
  });

  it('runs one round at a time', async () => {
    const host = new FakeHost();
    const k = keeper(host, 1, () => [candidate(0), candidate(1)]);
    const first = k.round();
    await tick();
    await k.round();
    assert.equal(host.dials.length, 1, 'the second round returned at once');
    host.dials[0]!.finish(true);
    await first;
  });

  it('start() rounds now and then every interval; stop() aborts dials in flight and ends the rounds', async () => {
    const host = new FakeHost();
    let asked = 0;
    const k = keeper(
      host,
      1,
      () => {
        asked++;
        return [candidate(0)];
      },
      20,
    );
    k.start();
    await tick();
    assert.equal(asked, 1, 'a round at once');
    assert.equal(host.dials.length, 1);
    host.dials[0]!.finish(false);
    await new Promise((r) => setTimeout(r, 60));
    assert.ok(asked >= 2, 'and again on the interval');
    const inFlight = host.dials.at(-1)!;
    k.stop();
    assert.ok(inFlight.signal.aborted, 'the dial in flight is aborted');
    const before = asked;
    await new Promise((r) => setTimeout(r, 60));
    await k.round();
    assert.equal(asked, before, 'no round after stop');
  });
});
