// A narrow face of the Kademlia DHT for the layers above: put, get, and a random walk that finds peers.
import { randomBytes } from 'node:crypto';
import type { KadDHT } from '@libp2p/kad-dht';
import type { DhtOp, Metrics } from '../metrics/registry.ts';

export interface DhtClient {
  /** Stores a record at the peers closest to its key; resolves with how many accepted it. */
  put(key: Uint8Array, value: Uint8Array, opts?: { signal?: AbortSignal }): Promise<number>;
  /** Records found for a key, at most `quorum` (default 2), each validated by the DHT; may disagree. */
  get(key: Uint8Array, opts?: { signal?: AbortSignal; quorum?: number }): Promise<Uint8Array[]>;
  /**
   * Looks up the peers closest to a random key and returns the peer ids it met on the way: the peers
   * that answered, and at most `perResponder` (default all) of the ids each one named, so one DHT
   * server advertising made-up ids (a Sybil flood) contributes no more than any other.
   */
  randomWalk(opts?: { signal?: AbortSignal; perResponder?: number }): Promise<string[]>;
}

export function dhtClient(dht: KadDHT, metrics?: Pick<Metrics, 'dht'>): DhtClient {
  const counted = (op: DhtOp, ok: boolean) => {
    metrics?.dht.lookups.inc({ op });
    if (!ok) metrics?.dht.failures.inc({ op });
  };
  return {
    async put(key, value, opts = {}) {
      let stored = 0;
      try {
        for await (const event of dht.put(key, value, opts.signal ? { signal: opts.signal } : {})) {
          if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') stored++;
        }
      } catch (err) {
        counted('put', false);
        throw err;
      }
      counted('put', stored > 0);
      return stored;
    },
    async get(key, opts = {}) {
      // Records arrive in peer responses as the query runs; kad-dht's own answer comes only when the
      // whole query is over, which a dead peer can hold up for seconds. Stop at the first `quorum`.
      const quorum = opts.quorum ?? 2;
      const found: Uint8Array[] = [];
      try {
        for await (const event of dht.get(key, opts.signal ? { signal: opts.signal } : {})) {
          if (event.name === 'PEER_RESPONSE' && event.record !== undefined) found.push(event.record.value);
          if (event.name === 'VALUE') found.push(event.value);
          if (found.length >= quorum) break;
        }
      } catch (err) {
        if (opts.signal?.aborted && found.length === 0) {
          counted('get', false);
          throw err;
        }
        // "Not found" and query failures both mean: no (more) records this time.
      }
      counted('get', found.length > 0);
      return found;
    },
    async randomWalk(opts = {}) {
      const seen = new Set<string>();
      try {
        for await (const event of dht.getClosestPeers(
          randomBytes(32),
          opts.signal ? { signal: opts.signal } : {},
        )) {
          if (event.name === 'FINAL_PEER') seen.add(event.peer.id.toString());
          if (event.name === 'PEER_RESPONSE')
            for (const p of event.closer.slice(0, opts.perResponder ?? event.closer.length))
              seen.add(p.id.toString());
        }
      } catch (err) {
        if (opts.signal?.aborted) {
          counted('walk', false);
          throw err;
        }
      }
      counted('walk', seen.size > 0);
      return [...seen];
    },
  };
}
