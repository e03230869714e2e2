// The exit on its own: a real Exit and StreamTable behind a recording circuit (no relay, no libp2p),
// and TCP servers on 127.0.0.1 that hold what they accept (a slow destination) or answer.
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import { defaultExitLimits, Exit, type ExitDeps, type ExitLimits } from '../../../src/stream/exit.ts';
import type { ExitCircuit } from '../../../src/stream/exit-circuit.ts';
import { StreamTable } from '../../../src/stream/stream-table.ts';
import { MAX_RELAY_DATA, RelayCommand } from '../../../src/wire/cell.ts';

export interface Sent {
  readonly streamId: number;
  readonly command: number;
  readonly data: Uint8Array;
}

export interface FakeCircuit {
  readonly table: StreamTable;
  readonly exit: ExitCircuit;
  readonly sent: Sent[];
  /** The DestroyReason the exit closed the circuit with, if it did. */
  closedWith: number | undefined;
  /** What the relay does when the circuit goes: abort its signal, close its streams. */
  die(): void;
  begin(streamId: number, host: string, port: number): Promise<void>;
  /** The END reason sent for `streamId`, or 'connected', or undefined (no answer yet). */
  answer(streamId: number): number | 'connected' | undefined;
}

export function makeExit(limits: Partial<ExitLimits> = {}, deps: ExitDeps = {}): Exit {
  return new Exit(
    {
      enabled: true,
      policy: parseExitPolicy(['accept *:*']),
      allowLoopback: true,
      connectTimeoutMs: 5_000,
      limits: { ...defaultExitLimits, ...limits },
    },
    deps,
  );
}

export function attachCircuit(exit: Exit, maxStreams = 256): FakeCircuit {
  const ac = new AbortController();
  const sent: Sent[] = [];
  const table = new StreamTable(
    {
      maxData: MAX_RELAY_DATA,
      linkWritable: true,
      onLinkWritable: (fn) => fn(),
      sendRelay: (streamId, command, data) => sent.push({ streamId, command, data: Uint8Array.from(data) }),
    },
    maxStreams,
  );
  const circuit: FakeCircuit = {
    table,
    sent,
    closedWith: undefined,
    exit: exit.attach({
      table,
      sendRelay: (streamId, command, data) => sent.push({ streamId, command, data: Uint8Array.from(data) }),
      closeCircuit: (reason) => {
        circuit.closedWith ??= reason;
        circuit.die();
      },
      signal: ac.signal,
    }),
    die: () => {
      ac.abort(new Error('circuit destroyed'));
      table.closeAll(new Error('circuit destroyed'));
    },
    begin: (streamId, host, port) => circuit.exit.begin(streamId, host, port),
    answer: (streamId) => {
      const m = sent.find(
        (s) =>
          s.streamId === streamId && (s.command === RelayCommand.END || s.command === RelayCommand.CONNECTED),
      );
      if (m === undefined) return undefined;
      return m.command === RelayCommand.CONNECTED ? 'connected' : m.data[0];
    },
  };
  return circuit;
}

/** A lookup the test answers by hand: every call waits until `answer()`. */
export class HeldLookup {
  readonly calls: string[] = [];
  readonly #waiting: Array<(addresses: string[]) => void> = [];

  readonly lookup = (host: string): Promise<string[]> => {
    this.calls.push(host);
    return new Promise((resolve) => this.#waiting.push(resolve));
  };

  get pending(): number {
    return this.#waiting.length;
  }

  /** Answers every waiting lookup with `addresses`. */
  answer(addresses: string[]): void {
    for (const w of this.#waiting.splice(0)) w(addresses);
  }
}

/**
 * A destination that accepts and never answers: with `read: false` it does not even read (a slow or
 * hostile server whose buffers fill); with `read: true` it reads and drops, so it sees closes.
 */
export interface HoldingServer {
  readonly port: number;
  readonly sockets: Set<Socket>;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

export async function startHoldingServer(opts: { read: boolean }): Promise<HoldingServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ pauseOnConnect: !opts.read }, (s) => {
    holding.accepted++;
    sockets.add(s);
    s.on('error', () => {});
    if (opts.read) s.resume();
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const holding: HoldingServer = {
    port: (server.address() as { port: number }).port,
    sockets,
    accepted: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  return holding;
}

export async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Open file descriptors of this process (Linux). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}
