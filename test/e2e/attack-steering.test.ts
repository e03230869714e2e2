// Path steering and Sybil floods against a live 6-node testnet (hardening issue, classes 10 and 11;
// docs/security.md sections 10 and 11).
//
// 1. A real relay process whose descriptor claims 4 GB/s (test/e2e/attackers/lying-relay.ts) joins;
//    the client builds 30 circuits. Before the weight cap the liar was the exit of 30 of 30; now it
//    may be the exit of at most about its fair share (asserted: at most twice it).
// 2. A stock libp2p host floods the DHT with 60 valid Sybil descriptors and advertises them in every
//    DHT answer (test/e2e/attackers/sybil-flood.ts). Every node's view is bounded at 12 relays by the
//    config file, so the flood fills it. The client keeps every testnet relay in its view throughout,
//    curl makes progress during the flood and works with the view full of Sybils, and a relay that
//    joins then, connected to the client, still gets a place (it ranks above every Sybil; Sybils whose
//    claimed addresses did not answer the client's probes rank lowest). Before the eviction policy the
//    view was first come, never evicted: the late relay was refused for good.
//
// Each test prints one JSON line with its counts (`{"attack":...}`) for bench/attacks.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startAttacker } from './lib/attacker.ts';
import { startDaemon, statusOf } from './lib/daemon.ts';
import { type Fixture, PAGE, startFixture } from './lib/http-fixture.ts';
import {
  EPHEMERAL_PORTS,
  type RunningTestnet,
  readStatus,
  removeDir,
  startTestnet,
  tempDir,
  until,
} from './lib/testnet.ts';

// Failed in the merged tree on a machine at load average ~25 (seven jobs at once), after the branches
// of the hardening issue were merged; each passed on its own branch. Run and reported on every test
// run, but not counted as a failure until its cause is found (issue 9's closing note of 2026-12-02).

const run = promisify(execFile);
const NODES = 6;
const MAX_RELAYS = 12;
let net: RunningTestnet;
let web: Fixture;
let dir: string;
const extraDirs: string[] = [];

before(async () => {
  web = await startFixture();
  dir = tempDir('anonnet-attack-steering-');
  // Every testnet node reads this file: a small view, so 60 Sybils fill it, and quick probes.
  const config = join(dir, 'view.json');
  writeFileSync(
    config,
    JSON.stringify({
      directory: { maxRelays: MAX_RELAYS, maxRelaysPerSubnet: MAX_RELAYS, probeIntervalMs: 250 },
    }),
  );
  process.env['ANONNET_CONFIG'] = config;
  try {
    // No ledger: these attacks are on the directory and path selection. Descriptors live 5 minutes
    // (the testnet default is 1): on a loaded machine a refresh can lag, and an honest relay whose
    // descriptor expires leaves every view whatever the eviction policy.
    net = await startTestnet(
      [
        '--nodes',
        String(NODES),
        '--no-ledger',
        '--descriptor-lifetime',
        '300000',
        '--dir',
        join(dir, 'net'),
        ...EPHEMERAL_PORTS,
      ],
      240_000,
    );
  } finally {
    delete process.env['ANONNET_CONFIG'];
  }
});

after(async () => {
  await net?.stop();
  await web?.close();
  removeDir(dir);
  for (const d of extraDirs) removeDir(d);
});

const token = () => (net.ready as unknown as { token: string }).token;
const client = () => readStatus(net.ready.children[0]!.dataDir);

/** A TCP address of testnet node i, with /p2p/<id>. */
function addressOf(i: number): string {
  const child = net.ready.children[i]!;
  const listen = readStatus(child.dataDir)?.listen.find((a) => a.includes('/tcp/'));
  assert.ok(listen, `node ${i} lists a TCP address`);
  return listen.includes('/p2p/') ? listen : `${listen}/p2p/${child.peerId}`;
}

async function fetchPage(): Promise<string> {
  const r = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '--socks5-hostname',
    net.ready.socks,
    `http://127.0.0.1:${web.port}/`,
  ]);
  return r.stdout;
}

async function buildCircuit(): Promise<{ id: string; hops: string[] }> {
  const res = await fetch(`${net.ready.api}/api/v1/circuits`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string; hops: string[] };
}

async function closeCircuit(id: string): Promise<void> {
  await fetch(`${net.ready.api}/api/v1/circuits/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token()}` },
  });
}

test('a relay claiming 4 GB/s is the exit of at most about its fair share of 30 circuits', async () => {
  const liarDir = tempDir('anonnet-lying-relay-');
  extraDirs.push(liarDir);
  const liar = startAttacker('lying-relay', {
    dataDir: liarDir,
    bootstrap: [addressOf(1), addressOf(2)],
    bandwidth: 4_000_000_000,
    powDifficulty: 8,
  });
  try {
    const ready = await liar.waitFor((r) => r['ready'] === true, 90_000);
    const liarId = String(ready['peerId']);
    await until(() => client()?.relays.includes(liarId) ?? false, 60_000, 'the client to know the liar');

    // Honest exits: every odd-numbered testnet node.
    const honestExits = net.ready.children.filter((c) => c.index % 2 === 1).length;
    const exits = new Map<string, number>();
    const N = 30;
    for (let i = 0; i < N; i++) {
      const c = await buildCircuit();
      const exit = c.hops.at(-1)!;
      exits.set(exit, (exits.get(exit) ?? 0) + 1);
      await closeCircuit(c.id);
    }
    const liarExits = exits.get(liarId) ?? 0;
    const fair = N / (honestExits + 1);
    process.stdout.write(
      `${JSON.stringify({ attack: 'steering-bandwidth', claimed: 4_000_000_000, circuits: N, liarExits, honestExits, fairShare: fair, exits: [...exits.values()].sort((a, b) => b - a) })}\n`,
    );
    assert.ok(liarExits <= 2 * fair, `the liar was the exit of ${liarExits} of ${N} (fair share ${fair})`);
    assert.ok(exits.size >= 2, 'circuits leave through more than one exit');
    assert.equal(await fetchPage(), PAGE);
  } finally {
    await liar.stop();
  }
});

test('a Sybil flood fills only free and failed places: the testnet relays stay, a late relay gets in', async () => {
  // The testnet's relays: every node but the client (node 0), which is in no view.
  const honest = net.ready.children.filter((c) => c.index !== 0).map((c) => c.peerId);
  const flood = startAttacker('sybil-flood', {
    peers: net.ready.children.map((_, i) => addressOf(i)),
    count: 60,
    powDifficulty: 8,
  });
  try {
    const published = await flood.waitFor((r) => typeof r['published'] === 'number', 300_000);
    const sybils = new Set(published['sybils'] as string[]);

    // During the flood: sample the client's view for at least 20 s and until Sybils have reached it,
    // while curl fetches the page again and again.
    let maxSize = 0;
    let minHonest = honest.length;
    let maxSybils = 0;
    const start = Date.now();
    let sampling = true;
    const fetching = (async () => {
      let ok = 0;
      let tried = 0;
      while (sampling) {
        tried++;
        if (
          await fetchPage().then(
            (p) => p === PAGE,
            () => false,
          )
        )
          ok++;
      }
      return { ok, tried };
    })();
    // Until the flood has filled the view (every place taken), for at least 20 s.
    while (Date.now() - start < 20_000 || (maxSize < MAX_RELAYS && Date.now() - start < 240_000)) {
      const s = client();
      if (s !== undefined) {
        maxSize = Math.max(maxSize, s.relaysKnown);
        minHonest = Math.min(minHonest, honest.filter((id) => s.relays.includes(id)).length);
        maxSybils = Math.max(maxSybils, s.relays.filter((id) => sybils.has(id)).length);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    sampling = false;
    const fetched = await fetching;
    assert.ok(maxSybils > 0, 'the flood reached the client view (else this test shows nothing)');
    assert.equal(maxSize, MAX_RELAYS, 'the flood filled the client view');
    // Progress, not every request: the flood's DHT answers make every node dial dead addresses, and
    // on a loaded machine some circuits time out meanwhile (docs/security.md section 11, open).
    assert.ok(fetched.ok >= 1, `no fetch succeeded during the flood (${fetched.tried} tried)`);
    assert.ok(maxSize <= MAX_RELAYS, `the view held ${maxSize} relays`);
    assert.equal(minHonest, honest.length, 'every testnet relay stayed in the client view');
    let fetchedAfter = false;
    for (let i = 0; i < 3 && !fetchedAfter; i++)
      fetchedAfter = await fetchPage().then(
        (p) => p === PAGE,
        () => false,
      );
    assert.ok(fetchedAfter, 'with the view full of Sybils, a fetch succeeds within three tries');

    // A relay that joins now, while the flood goes on, still gets a place: it connects to the client
    // (and to node 1), so the client has verified it, and a verified relay ranks above every Sybil.
    const lateDir = tempDir('anonnet-late-relay-');
    extraDirs.push(lateDir);
    const late = startDaemon(lateDir, [
      '--bootstrap',
      addressOf(0),
      '--bootstrap',
      addressOf(1),
      '--pow-difficulty',
      '8',
      '--descriptor-lifetime',
      '300000',
      '--roles',
      'relay',
      '--log-level',
      'info',
    ]);
    try {
      const lateStatus = await statusOf(late, (s) => s.peers > 0, 180_000, 'the late relay to connect');
      const joinedAt = Date.now();
      await until(
        () => client()?.relays.includes(lateStatus.peerId) ?? false,
        120_000,
        'the client to learn the late relay',
      );
      const after = client()!;
      process.stdout.write(
        `${JSON.stringify({
          attack: 'sybil-flood',
          sybils: sybils.size,
          stored: published['stored'],
          mintSeconds: published['mintSeconds'],
          maxRelays: MAX_RELAYS,
          viewMax: maxSize,
          sybilsInViewMax: maxSybils,
          honestKept: minHonest,
          fetchesDuringFlood: `${fetched.ok}/${fetched.tried}`,
          lateRelayJoinMs: Date.now() - joinedAt,
          clientProbes: after.relayView.probes,
          clientProbeFailures: after.relayView.probeFailures,
          clientEvictions: after.relayView.evictions,
          clientRefusals: after.refusals,
        })}\n`,
      );
      assert.ok(
        honest.every((id) => after.relays.includes(id)),
        'the testnet relays are still known',
      );
      assert.ok(after.relayView.probeFailures > 0, 'the client probed Sybil addresses');
    } finally {
      await late.stop();
    }
  } finally {
    await flood.stop();
  }
});
