// Keeps the client's circuits: a few built ahead so the first request does not wait, reuse of an open
// circuit for many streams, strict isolation (streams with different isolation keys never share a
// circuit), build timeouts and retries on other paths, and retirement of circuits that died or aged.
// Every build in flight can be cancelled: stop() aborts them all (and closes a circuit that completes
// anyway), and lowering `prebuilt` aborts the prebuilds no longer wanted, so nothing waits on or leaks
// a build.
import type { Libp2p } from '@libp2p/interface';
import type { RelayList } from '../directory/ledger-relay-list.ts';
import type { RelayView } from '../directory/relay-view.ts';
import type { ReceiptSigner } from '../economy/receipt-counter.ts';
import type { Logger } from '../log/logger.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { CircuitStream, ClientStreamsFactory } from './circuit-streams.ts';
import { ClientCircuit, type PathHop } from './client-circuit.ts';
import { CircuitError } from './errors.ts';
import type { GuardSet } from './guards.ts';
import { candidates, defaultPathLimits, exitAccepts, selectPath } from './path-selection.ts';
import { RelayHealth } from './relay-health.ts';

export interface CircuitManagerOptions {
  readonly hops: number;
  /** Clean circuits kept ready for new isolation keys. */
  readonly prebuilt: number;
  readonly buildTimeoutMs: number;
  readonly buildAttempts: number;
  /** A circuit takes no new streams after this age (old streams keep it alive until they end). */
  readonly maxDirtyMs: number;
  readonly allowSameSubnet: boolean;
  /** Without a ledger: a relay's claimed bandwidth weighs at most this many times its pool's median claim. */
  readonly unmeasuredWeightCap: number;
}

export const defaultCircuitManagerOptions: CircuitManagerOptions = {
  hops: 3,
  prebuilt: 2,
  buildTimeoutMs: 15_000,
  buildAttempts: 3,
  maxDirtyMs: 10 * 60_000,
  allowSameSubnet: false,
  unmeasuredWeightCap: defaultPathLimits.unmeasuredWeightCap,
};

export interface CircuitManagerInit {
  readonly host: Libp2p;
  readonly view: RelayView;
  readonly guards: GuardSet;
  readonly selfId: string;
  readonly options: CircuitManagerOptions;
  readonly log: Logger;
  /** The streams of each circuit (src/stream/stream-table.ts: clientStreams). */
  readonly streams: ClientStreamsFactory;
  /** A receipt signer with a fresh key per circuit (docs/economy.md); none: no receipts. */
  readonly receipts?: (() => ReceiptSigner) | undefined;
  readonly now?: () => number;
  readonly metrics?: Pick<Metrics, 'circuits' | 'streams'> | undefined;
  /** Relays recently found unreachable (a fresh one when not given). */
  readonly health?: RelayHealth;
  /**
   * The ledger's relay list now (directory/ledger-relay-list.ts): paths use only its relays, at its
   * weights. Absent, or undefined: no ledger, every verified relay of the view (path-selection.ts).
   */
  readonly relayList?: (() => RelayList | undefined) | undefined;
}

interface Managed {
  readonly circuit: ClientCircuit;
  /** undefined while clean (prebuilt, no stream yet). */
  isolationKey: string | undefined;
  firstUsedAt: number | undefined;
}

export class CircuitManagerStats {
  built = 0;
  failed = 0;
  closed = 0;
  readonly buildMs: number[] = [];
}

export class CircuitManager {
  readonly #init: CircuitManagerInit;
  readonly #circuits = new Set<Managed>();
  /** Every build in flight (prebuilds, and builds for a stream or the API), for stop() to await. */
  readonly #building = new Set<Promise<unknown>>();
  /** Aborts every build in flight when the manager stops. */
  readonly #stopping = new AbortController();
  /** One controller per prebuild in flight, oldest first: lowering `prebuilt` aborts the newest. */
  readonly #prebuilds: AbortController[] = [];
  readonly stats = new CircuitManagerStats();
  readonly health: RelayHealth;
  readonly #listeners = new Set<(event: 'built' | 'closed', c: ClientCircuit) => void>();
  #stopped = false;

  constructor(init: CircuitManagerInit) {
    this.#init = init;
    this.health = init.health ?? new RelayHealth();
  }

  get #now(): number {
    return (this.#init.now ?? Date.now)();
  }

  list(): ClientCircuit[] {
    return [...this.#circuits].map((m) => m.circuit);
  }

  onEvent(listener: (event: 'built' | 'closed', c: ClientCircuit) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Tops up the prebuilt circuits (call when relays become known, after a circuit is taken, and when
   * `prebuilt` changes). Prebuilds in flight beyond what is still wanted (`prebuilt` was lowered) are
   * aborted: a circuit nobody asked for would only sit in the pool. Clean circuits already built stay.
   */
  maintain(): void {
    if (this.#stopped) return;
    const clean = [...this.#circuits].filter(
      (m) => m.isolationKey === undefined && m.circuit.state === 'open',
    ).length;
    const wanted = Math.max(0, this.#init.options.prebuilt - clean);
    while (this.#prebuilds.length > wanted)
      this.#prebuilds.pop()?.abort(new CircuitError('CLOSED', 'prebuilt circuit no longer wanted'));
    while (this.#prebuilds.length < wanted) this.#prebuild();
  }

  #prebuild(): void {
    const ac = new AbortController();
    this.#prebuilds.push(ac);
    // It stops counting as in flight in the very turn its circuit joins the pool (never both at once).
    const settled = () => {
      const i = this.#prebuilds.indexOf(ac);
      if (i >= 0) this.#prebuilds.splice(i, 1);
    };
    this.#build(undefined, ac.signal, undefined, settled).catch((err: unknown) =>
      this.#init.log.debug({ err: (err as Error).message }, 'prebuild failed'),
    );
  }

  /** Opens a stream to host:port on a circuit of this isolation key, building one if needed. */
  async openStream(
    host: string,
    port: number,
    isolationKey: string,
    signal: AbortSignal,
  ): Promise<CircuitStream> {
    let lastErr: Error | undefined;
    // Up to two circuits that died under us (a relay lost, not yet reported) before a fresh build.
    for (let attempt = 0; attempt < 3; attempt++) {
      const m = await this.#circuitFor(isolationKey, port, signal);
      try {
        const stream = await m.circuit.openStream(host, port, signal);
        m.firstUsedAt ??= this.#now;
        this.#init.metrics?.streams.opened.inc();
        return stream;
      } catch (err) {
        lastErr = err as Error;
        // A circuit that died under us is retried on another one; a refusal by the exit is final.
        if (!(err instanceof CircuitError) || signal.aborted) throw err;
      }
    }
    throw lastErr ?? new CircuitError('BUILD_FAILED', 'no circuit');
  }

  async #circuitFor(isolationKey: string, port: number, signal: AbortSignal): Promise<Managed> {
    const now = this.#now;
    const usable = (m: Managed) =>
      m.circuit.state === 'open' &&
      !m.circuit.streams.full &&
      (m.firstUsedAt === undefined || now - m.firstUsedAt < this.#init.options.maxDirtyMs) &&
      this.#exitAccepts(m.circuit, port) &&
      this.#stillListed(m.circuit);
    const mine = [...this.#circuits].find((m) => m.isolationKey === isolationKey && usable(m));
    if (mine) return mine;
    const clean = [...this.#circuits].find((m) => m.isolationKey === undefined && usable(m));
    if (clean) {
      clean.isolationKey = isolationKey;
      this.maintain();
      return clean;
    }
    const built = await this.#build(port, signal, isolationKey);
    this.maintain();
    return built;
  }

  /**
   * Every relay of the circuit is still on the ledger's list (no ledger: true). A circuit through a relay
   * that left it (a penalty took its bond) takes no new streams; those it carries keep it until they end.
   */
  #stillListed(circuit: ClientCircuit): boolean {
    const list = this.#init.relayList?.();
    if (list === undefined) return true;
    return circuit.path.every(
      (hop) => (list.relays.get(Buffer.from(hop.identityKey).toString('hex'))?.weight ?? 0) > 0,
    );
  }

  #exitAccepts(circuit: ClientCircuit, port: number): boolean {
    const exitId = circuit.path.at(-1)?.peerId;
    const entry = exitId === undefined ? undefined : this.#init.view.get(exitId);
    if (entry === undefined) return false;
    const [c] = candidates([entry], {
      hops: 1,
      selfId: this.#init.selfId,
      now: this.#now,
      allowSameSubnet: true,
    });
    return c !== undefined && exitAccepts(c, port);
  }

  /**
   * Builds a circuit for `port` (any exit when undefined), cancelled by `signal` or by stop(), and adds
   * it to the manager's circuits under `isolationKey` (clean when undefined) in the same turn, so no
   * other request takes it first. A circuit that completes after stop() is closed at once: the caller
   * gets CLOSED, nothing stays open.
   */
  async #build(
    port: number | undefined,
    signal: AbortSignal,
    isolationKey: string | undefined,
    settled?: () => void,
  ): Promise<Managed> {
    const p = this.#attempts(port, AbortSignal.any([signal, this.#stopping.signal]));
    this.#building.add(p);
    try {
      const m = await p;
      if (this.#stopped) {
        m.circuit.close();
        throw new CircuitError('CLOSED', 'circuit manager stopped');
      }
      m.isolationKey = isolationKey;
      this.#circuits.add(m);
      return m;
    } finally {
      this.#building.delete(p);
      settled?.();
    }
  }

  async #attempts(port: number | undefined, signal: AbortSignal): Promise<Managed> {
    const avoid = new Set<string>();
    let lastErr: Error = new CircuitError('NO_PATH', 'no path');
    for (let attempt = 0; attempt < this.#init.options.buildAttempts; attempt++) {
      if (this.#stopped) throw new CircuitError('CLOSED', 'circuit manager stopped');
      signal.throwIfAborted();
      const path = this.#selectPath(port, avoid);
      const started = performance.now();
      try {
        const circuit = await ClientCircuit.build(
          this.#init.host,
          path,
          AbortSignal.any([signal, AbortSignal.timeout(this.#init.options.buildTimeoutMs)]),
          { streams: this.#init.streams, receipts: this.#init.receipts?.() },
        );
        this.stats.built++;
        this.stats.buildMs.push(performance.now() - started);
        this.#init.metrics?.circuits.built.inc();
        this.#init.metrics?.circuits.buildSeconds.observe((performance.now() - started) / 1000);
        if (this.stats.buildMs.length > 1000) this.stats.buildMs.splice(0, 500);
        for (const hop of path) this.health.markReachable(hop.peerId);
        const managed: Managed = { circuit, isolationKey: undefined, firstUsedAt: undefined };
        circuit.onClose((c, err) => {
          this.#noteUnreachable(err);
          this.#circuits.delete(managed);
          this.stats.closed++;
          this.#init.metrics?.circuits.closed.inc();
          this.#init.log.debug({ circuit: c.id, reason: err.message }, 'circuit closed');
          for (const l of this.#listeners) l('closed', c);
          this.maintain();
        });
        for (const l of this.#listeners) l('built', circuit);
        return managed;
      } catch (err) {
        this.stats.failed++;
        this.#init.metrics?.circuits.failed.inc();
        lastErr = err as Error;
        this.#noteUnreachable(lastErr);
        this.#init.log.debug({ err: lastErr.message, attempt }, 'circuit build failed');
        // Try again without the middle and exit of the failed path (keep the guards).
        for (const hop of path.slice(1)) avoid.add(hop.peerId);
        if (signal.aborted) throw lastErr;
      }
    }
    throw lastErr;
  }

  /**
   * A path that leaves out `avoid` and the relays recently found unreachable. When those leave no
   * path, one without the second filter (a relay's backoff may be stale; a try beats a refusal).
   * No path at all means no path on a retry either (NO_EXIT, NO_PATH): that error goes straight up.
   */
  #selectPath(port: number | undefined, avoid: ReadonlySet<string>): PathHop[] {
    const relays = this.#init.view.list();
    const now = this.#now;
    const opts = {
      hops: this.#init.options.hops,
      port,
      selfId: this.#init.selfId,
      now,
      allowSameSubnet: this.#init.options.allowSameSubnet,
      unmeasuredWeightCap: this.#init.options.unmeasuredWeightCap,
      list: this.#init.relayList?.(),
      avoid,
    };
    const unreachable = this.health.unreachable(now);
    if (unreachable.size > 0) {
      try {
        const guards = this.#init.guards.current(relays, { ...opts, avoid: new Set() }, unreachable);
        return selectPath(relays, { ...opts, avoid: new Set([...avoid, ...unreachable]) }, guards);
      } catch (err) {
        if (!(err instanceof CircuitError)) throw err;
      }
    }
    return selectPath(relays, opts, this.#init.guards.current(relays, { ...opts, avoid: new Set() }));
  }

  #noteUnreachable(err: Error): void {
    if (err instanceof CircuitError && err.unreachable !== undefined) {
      this.health.markUnreachable(err.unreachable, this.#now);
    }
  }

  /** Builds one clean circuit now (the API's "new circuit"); it joins the prebuilt pool. */
  async buildNow(signal: AbortSignal): Promise<{ circuit: ClientCircuit; buildMs: number }> {
    const started = performance.now();
    const m = await this.#build(undefined, signal, undefined);
    return { circuit: m.circuit, buildMs: performance.now() - started };
  }

  /** Closes a circuit by id; false when there is none. */
  closeCircuit(id: string): boolean {
    const m = [...this.#circuits].find((c) => c.circuit.id === id);
    if (m === undefined) return false;
    m.circuit.close();
    return true;
  }

  /** Aborts every build in flight, closes every circuit, and returns once no build is left. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping.abort(new CircuitError('CLOSED', 'circuit manager stopped'));
    for (const m of this.#circuits) m.circuit.close();
    this.#circuits.clear();
    await Promise.allSettled([...this.#building]);
  }
}
