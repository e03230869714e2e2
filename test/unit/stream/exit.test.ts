// The exit on its own (hardening issue, class 9): a BEGIN takes its stream slot and its unit of the
// socket budget before the name lookup; a circuit that dies (or a stream the client ends) cancels its
// pending lookups and connects and leaves no socket behind; the process-wide socket budget and each
// circuit's share hold under a flood; BEGINs are rate-limited and a circuit that keeps pushing is
// closed; what a circuit buffers towards a destination that does not read is bounded.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  CIRCUIT_SENDME_EVERY,
  CIRCUIT_WINDOW,
  STREAM_SENDME_EVERY,
  STREAM_WINDOW,
} from '../../../src/circuit/flow.ts';
import { EndReason } from '../../../src/stream/anon-stream.ts';
import {
  DestroyReason,
  decodeRelayPayload,
  MAX_RELAY_DATA,
  RELAY_BODY_BYTES,
  RelayCommand,
} from '../../../src/wire/cell.ts';
import {
  attachCircuit,
  HeldLookup,
  type HoldingServer,
  makeExit,
  openFds,
  startHoldingServer,
  until,
} from './exit-fixtures.ts';

/** A plaintext relay body for handle() (only a circuit SENDME reads it: the digest field it names). */
const BODY = new Uint8Array(RELAY_BODY_BYTES);

let server: HoldingServer;
const servers: HoldingServer[] = [];
async function holding(opts: { read: boolean } = { read: true }): Promise<HoldingServer> {
  const s = await startHoldingServer(opts);
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.close();
});

describe('Exit: reservation before the lookup', () => {
  it('holds the slot and the socket unit while the name resolves, and refuses past the share at once', async () => {
    const lookup = new HeldLookup();
    const exit = makeExit({ maxSocketsPerCircuit: 2 }, { lookup: lookup.lookup });
    const c = attachCircuit(exit);
    const pending = [c.begin(1, 'a.example', 80), c.begin(2, 'b.example', 80)];
    await until(() => lookup.pending === 2, 'two lookups');
    assert.equal(exit.socketsInUse, 2, 'both BEGINs hold a socket unit during the lookup');
    assert.equal(c.table.reserved, 2, 'both hold a stream slot');
    await c.begin(3, 'c.example', 80);
    assert.equal(c.answer(3), EndReason.RESOURCELIMIT, 'the third is refused before any lookup');
    assert.equal(lookup.calls.length, 2, 'no lookup for the refused BEGIN');
    assert.equal(exit.refusals.count('EXIT_CIRCUIT_SHARE'), 1);
    // The names resolve to a refused address: the units come back.
    lookup.answer(['10.1.2.3']);
    await Promise.all(pending);
    assert.equal(c.answer(1), EndReason.EXITPOLICY);
    assert.equal(exit.socketsInUse, 0);
    assert.equal(c.table.reserved, 0);
  });

  it("counts reservations against the stream table's limit", async () => {
    const lookup = new HeldLookup();
    const exit = makeExit({}, { lookup: lookup.lookup });
    const c = attachCircuit(exit, 1);
    const first = c.begin(1, 'a.example', 80);
    await until(() => lookup.pending === 1, 'the lookup');
    await c.begin(2, 'b.example', 80);
    assert.equal(c.answer(2), EndReason.RESOURCELIMIT);
    c.die();
    await first;
  });

  it('closes the circuit on a BEGIN for a stream id that is pending', async () => {
    const lookup = new HeldLookup();
    const exit = makeExit({}, { lookup: lookup.lookup });
    const c = attachCircuit(exit);
    const first = c.begin(7, 'a.example', 80);
    await until(() => lookup.pending === 1, 'the lookup');
    await c.begin(7, 'b.example', 80);
    assert.equal(c.closedWith, DestroyReason.PROTOCOL);
    await first;
    assert.equal(exit.socketsInUse, 0);
  });
});

describe('Exit: cancellation with the circuit', () => {
  it('a lookup that answers after the circuit died connects nowhere', async () => {
    server = await holding();
    const lookup = new HeldLookup();
    const exit = makeExit({}, { lookup: lookup.lookup });
    const c = attachCircuit(exit);
    const begin = c.begin(1, 'slow.example', server.port);
    await until(() => lookup.pending === 1, 'the lookup');
    c.die();
    await begin;
    assert.equal(exit.socketsInUse, 0, 'the unit is back as soon as the circuit is gone');
    lookup.answer(['127.0.0.1']);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.accepted, 0, 'no connection was opened for a dead circuit');
    assert.equal(c.answer(1), undefined, 'nothing is sent on a dead circuit');
    assert.equal(exit.lookupsInFlight, 0);
  });

  it('a connect in progress when the circuit dies is closed, and its unit comes back', async () => {
    server = await holding();
    const before = server.accepted;
    const exit = makeExit();
    const c = attachCircuit(exit);
    const begin = c.begin(1, '127.0.0.1', server.port);
    // The connect is under way (an IP needs no lookup); the circuit dies before it completes.
    assert.equal(exit.socketsInUse, 1);
    c.die();
    await begin;
    await until(() => exit.socketsInUse === 0, 'the unit to come back');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.answer(1), undefined);
    assert.equal(server.sockets.size, 0, 'no socket of the dead circuit stays open at the destination');
    assert.ok(server.accepted - before <= 1);
  });

  it('END from the client for a pending BEGIN cancels it', async () => {
    server = await holding();
    const lookup = new HeldLookup();
    const exit = makeExit({}, { lookup: lookup.lookup });
    const c = attachCircuit(exit);
    const begin = c.begin(5, 'slow.example', server.port);
    await until(() => lookup.pending === 1, 'the lookup');
    c.table.handle(5, { kind: 'end', reason: EndReason.TIMEOUT }, BODY);
    await begin;
    assert.equal(exit.socketsInUse, 0);
    assert.equal(c.table.reserved, 0);
    lookup.answer(['127.0.0.1']);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.accepted, 0);
  });

  it('open streams close their sockets when the circuit dies', async () => {
    server = await holding();
    const exit = makeExit();
    const c = attachCircuit(exit);
    await Promise.all([1, 2, 3].map((id) => c.begin(id, '127.0.0.1', server.port)));
    assert.deepEqual([1, 2, 3].map(c.answer), ['connected', 'connected', 'connected']);
    await until(() => server.sockets.size === 3, 'three connections');
    c.die();
    await until(() => server.sockets.size === 0 && exit.socketsInUse === 0, 'every socket to close');
  });
});

describe('Exit: the circuit signal binds every wait of BEGIN and RESOLVE', () => {
  /** The circuit as the relay hands it to the exit (Exit.open): its signal is the only link. */
  function opened(exit: ReturnType<typeof makeExit>) {
    const ac = new AbortController();
    const sent: number[] = [];
    const streams = exit.open({
      sender: {
        maxData: MAX_RELAY_DATA,
        linkWritable: true,
        onLinkWritable: (fn) => fn(),
        sendRelay: (_s, command) => sent.push(command),
      },
      maxStreams: 256,
      closeCircuit: () => ac.abort(new Error('closed')),
      signal: ac.signal,
    });
    // As the relay does when the circuit goes: its signal aborts, its streams close.
    ac.signal.addEventListener('abort', () => streams.closeAll(new Error('circuit destroyed')));
    return { ac, sent, streams };
  }

  it('a RESOLVE whose circuit dies mid-lookup answers nothing and frees its slot', async () => {
    const lookup = new HeldLookup();
    const exit = makeExit({}, { lookup: lookup.lookup });
    const { ac, sent, streams } = opened(exit);
    const resolving = streams.resolve(1, 'slow.example');
    await until(() => lookup.pending === 1, 'the lookup');
    assert.equal(streams.full, false);
    ac.abort(new Error('circuit destroyed'));
    await resolving;
    lookup.answer(['1.2.3.4']);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(sent, [], 'nothing is sent on a dead circuit');
    assert.equal(exit.lookupsInFlight, 0);
  });

  it('a BEGIN through Exit.open is cancelled mid-lookup and mid-connect by the signal alone', async () => {
    server = await holding();
    const lookup = new HeldLookup();
    const exit = makeExit({}, { lookup: lookup.lookup });
    const { ac, sent, streams } = opened(exit);
    const looking = streams.begin(1, 'slow.example', server.port);
    await until(() => lookup.pending === 1, 'the lookup');
    // An IP needs no lookup: the connect is under way when the circuit dies, in the same turn.
    const connecting = streams.begin(2, '127.0.0.1', server.port);
    assert.equal(exit.socketsInUse, 2, 'each holds its unit while it waits');
    ac.abort(new Error('circuit destroyed'));
    await Promise.all([looking, connecting]);
    await until(() => exit.socketsInUse === 0, 'both units to come back');
    lookup.answer(['127.0.0.1']);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(sent, [], 'no CONNECTED, no END on a dead circuit');
    assert.equal(server.sockets.size, 0, 'no socket of the dead circuit stays open');
  });

  it('a BEGIN waiting for its lookup turn leaves the line when the circuit dies', async () => {
    const lookup = new HeldLookup();
    const exit = makeExit({ maxLookupsPerCircuit: 1 }, { lookup: lookup.lookup });
    const c = attachCircuit(exit);
    const first = c.begin(1, 'a.example', 80);
    const waiting = c.begin(2, 'b.example', 80);
    await until(() => lookup.pending === 1, 'the first lookup');
    assert.equal(exit.socketsInUse, 2);
    c.die();
    await Promise.all([first, waiting]);
    assert.equal(exit.socketsInUse, 0, 'the waiting BEGIN gave its unit back');
    lookup.answer(['10.0.0.1']);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(lookup.calls, ['a.example'], 'the waiting BEGIN never looked its name up');
    assert.equal(c.sent.length, 0);
  });
});

describe('Exit: the socket budget', () => {
  it('never holds more sockets than maxSockets, whatever many circuits ask', async () => {
    server = await holding();
    const exit = makeExit({ maxSockets: 20, maxSocketsPerCircuit: 8, busySocketsPerCircuit: 8 });
    const fdsBefore = openFds();
    const circuits = Array.from({ length: 5 }, () => attachCircuit(exit));
    let next = 1;
    await Promise.all(
      circuits.flatMap((c) => Array.from({ length: 12 }, () => c.begin(next++, '127.0.0.1', server.port))),
    );
    assert.equal(exit.socketsInUse, 20);
    const connected = circuits.flatMap((c) => c.sent.filter((s) => s.command === RelayCommand.CONNECTED));
    assert.equal(connected.length, 20);
    for (const c of circuits) assert.ok(c.exit.held <= 8, `a circuit holds ${c.exit.held}`);
    assert.ok(exit.refusals.count('EXIT_FD_BUDGET') > 0);
    assert.ok(exit.refusals.count('EXIT_CIRCUIT_SHARE') > 0);
    // Our sockets and the server's accepted ones: 2 descriptors per exit socket in this process.
    assert.ok(openFds() - fdsBefore <= 2 * 20 + 4, `${openFds() - fdsBefore} new descriptors`);
    // A stream that ends gives its unit back.
    const first = circuits[0]!;
    const [id] = first.table.streams.keys();
    first.table.streams.get(id!)!.destroy();
    await until(() => exit.socketsInUse === 19, 'the unit to come back');
    await circuits[4]!.begin(next++, '127.0.0.1', server.port);
    for (const c of circuits) c.die();
    await until(() => exit.socketsInUse === 0, 'every unit to come back');
  });

  it('once three quarters are in use, a heavy circuit stops growing and a light one still gets sockets', async () => {
    server = await holding();
    const exit = makeExit({ maxSockets: 16, maxSocketsPerCircuit: 16, busySocketsPerCircuit: 2 });
    const heavy = attachCircuit(exit);
    for (let id = 1; id <= 16; id++) await heavy.begin(id, '127.0.0.1', server.port);
    assert.equal(heavy.exit.held, 12, 'the heavy circuit stops at three quarters');
    const light = attachCircuit(exit);
    await light.begin(1, '127.0.0.1', server.port);
    await light.begin(2, '127.0.0.1', server.port);
    assert.equal(light.answer(1), 'connected');
    assert.equal(light.answer(2), 'connected');
    heavy.die();
    light.die();
    await until(() => exit.socketsInUse === 0, 'every unit to come back');
  });
});

describe('Exit: BEGIN rate and refusals', () => {
  it('refuses BEGINs past the burst and closes a circuit that keeps pushing', async () => {
    let now = 1_000_000;
    const lookup = new HeldLookup();
    const exit = makeExit(
      { beginBurst: 4, beginsPerSecond: 1, maxRefusalsPerCircuit: 10 },
      { lookup: lookup.lookup, now: () => now },
    );
    const c = attachCircuit(exit);
    for (let id = 1; id <= 5; id++) void c.begin(id, 'x.example', 80);
    assert.equal(c.answer(5), EndReason.RESOURCELIMIT);
    assert.equal(exit.refusals.count('EXIT_BEGIN_RATE'), 1);
    now += 1_000;
    void c.begin(6, 'x.example', 80);
    assert.equal(c.answer(6), undefined, 'the bucket refilled one token in a second');
    for (let id = 7; id <= 20; id++) void c.begin(id, 'x.example', 80);
    assert.equal(c.closedWith, DestroyReason.RESOURCELIMIT, 'the circuit was closed');
    assert.equal(exit.refusals.count('EXIT_CIRCUIT_CLOSED'), 1);
    await until(() => exit.socketsInUse === 0, 'the pending BEGINs to give their units back');
    lookup.answer(['127.0.0.1']);
  });

  it('rate-limits RESOLVE with the same bucket', async () => {
    const exit = makeExit({ beginBurst: 2, beginsPerSecond: 0.001 }, { lookup: async () => ['1.2.3.4'] });
    const c = attachCircuit(exit);
    for (let id = 1; id <= 3; id++) await c.exit.resolve(id, 'a.example');
    const answers = c.sent.map((s) => {
      const m = decodeRelayPayload(RelayCommand.RESOLVED, s.data);
      return m.kind === 'ok' && m.value.kind === 'resolved' && m.value.status === 'ok';
    });
    assert.deepEqual(answers, [true, true, false]);
  });

  it('waits for its turn past maxLookupsPerCircuit, and refuses past the global maxLookups', async () => {
    const lookup = new HeldLookup();
    const exit = makeExit({ maxLookupsPerCircuit: 2, maxLookups: 3 }, { lookup: lookup.lookup });
    const a = attachCircuit(exit);
    const b = attachCircuit(exit);
    const pending = [1, 2, 3].map((id) => a.begin(id, 'a.example', 80));
    await until(() => lookup.pending === 2, 'two lookups of circuit a');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(lookup.pending, 2, 'the third waits for its turn');
    pending.push(b.begin(1, 'b.example', 80));
    await until(() => lookup.pending === 3, 'the lookup of circuit b');
    pending.push(b.begin(2, 'b.example', 80));
    await pending.at(-1);
    assert.equal(b.answer(2), EndReason.RESOURCELIMIT);
    assert.equal(exit.refusals.count('EXIT_LOOKUPS'), 1);
    lookup.answer(['10.0.0.1']);
    await until(() => lookup.pending === 1, 'the waiting lookup to start');
    lookup.answer(['10.0.0.1']);
    await Promise.all(pending);
    assert.equal(exit.lookupsInFlight, 0);
    assert.equal(exit.socketsInUse, 0);
  });
});

describe('Exit: what a circuit buffers', () => {
  it('ends the stream holding the most when a circuit buffers past its bound', async () => {
    server = await holding({ read: false });
    const bound = 256 * 1024;
    const exit = makeExit({ maxBufferedPerCircuit: bound });
    const c = attachCircuit(exit);
    const ids = [1, 2, 3];
    for (const id of ids) await c.begin(id, '127.0.0.1', server.port);
    const cell = new Uint8Array(MAX_RELAY_DATA);
    // A client that keeps to the windows: 500 cells per stream, 1000 per circuit, and as many more
    // as the exit's SENDMEs grant. The destination never reads, so the kernel's buffers fill first
    // (megabytes on loopback), then the exit's.
    const sendmes = (id: number) =>
      c.sent.filter((s) => s.streamId === id && s.command === RelayCommand.SENDME).length;
    const sentCells = new Map<number, number>(ids.map((id) => [id, 0]));
    let peak = 0;
    for (let round = 0; round < 20_000 && exit.refusals.count('EXIT_BUFFER') === 0; round++) {
      let progressed = false;
      for (const id of ids) {
        const n = sentCells.get(id)!;
        if (!c.table.streams.has(id) || n >= STREAM_WINDOW + STREAM_SENDME_EVERY * sendmes(id)) continue;
        const circuitSent = [...sentCells.values()].reduce((a, b) => a + b, 0);
        if (circuitSent >= CIRCUIT_WINDOW + CIRCUIT_SENDME_EVERY * sendmes(0)) continue;
        c.table.handle(id, { kind: 'data', data: cell }, BODY);
        sentCells.set(id, n + 1);
        progressed = true;
      }
      peak = Math.max(peak, c.exit.buffered);
      await new Promise((r) => (progressed && round % 32 !== 0 ? r(undefined) : setTimeout(r, 1)));
    }
    await until(() => exit.refusals.count('EXIT_BUFFER') > 0, 'the buffer bound to end a stream');
    const ended = c.sent.filter(
      (s) => s.command === RelayCommand.END && s.data[0] === EndReason.RESOURCELIMIT,
    );
    assert.ok(ended.length >= 1, 'a stream was ended with RESOURCELIMIT');
    assert.ok(c.exit.buffered <= bound, `the circuit holds ${c.exit.buffered} bytes after the cut`);
    // Checked at every cell: the bound is passed by at most one cell or one socket read.
    assert.ok(peak <= bound + 64 * 1024, `peak ${peak}`);
    c.die();
    await until(() => exit.socketsInUse === 0, 'every unit to come back');
  });
});
