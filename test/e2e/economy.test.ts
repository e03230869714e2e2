// The relay economy on real processes (docs/economy.md): a 5-process testnet (a client and four relays
// that are the validators), 200 MiB downloaded through three hops with curl. Within two epochs of the
// download the three relays of its circuit are paid, each within ±10% of the payout formula for the
// cells it carried; then one relay is made to inflate its claims (a test-only trigger) and the
// validators' audits catch it: its claim is penalised and its bond burned. At the end the ledger on disk
// conserves credits: balances + bonds + pool + burned = minted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { LEDGER_FILES } from '../../src/consensus/start-ledger.ts';
import { openBlockStore } from '../../src/consensus/store/block-store.ts';
import type { Credits } from '../../src/ledger/credits.ts';
import { genesisState, parseGenesis } from '../../src/ledger/genesis.ts';
import { payoutDue } from '../../src/ledger/payout.ts';
import { CELL_BYTES, MAX_RELAY_DATA } from '../../src/wire/cell.ts';
import { bigBodyHash, startFixture } from './lib/http-fixture.ts';
import {
  CLI,
  EPHEMERAL_PORTS,
  type RunningTestnet,
  readStatus,
  removeDir,
  startTestnet,
  tempDir,
  until,
} from './lib/testnet.ts';

const run = promisify(execFile);
const root = tempDir('anonnet-economy-');
const trigger = join(root, 'inflate-trigger');
const MIB = 200;
const EPOCH_BLOCKS = 60;
let net: RunningTestnet | undefined;
const fixture = await startFixture();
after(async () => {
  await net?.stop();
  await fixture.close();
  removeDir(root);
});

interface Settlement {
  epoch: number;
  paidCells: bigint;
  qualityPermille: number;
  paid: bigint;
  penalised: boolean;
  failVotes: number;
}
interface Relay {
  account: string;
  bond: bigint;
  earned: bigint;
  penalties: bigint;
  last: Settlement | undefined;
}

/** `anonnet ledger relays --json` from the client node. */
async function relays(): Promise<Relay[]> {
  const dir = net?.ready.children[0]?.dataDir ?? '';
  const { stdout } = await run(process.execPath, [CLI, 'ledger', 'relays', '--json', '--data-dir', dir], {
    timeout: 30_000,
  });
  const parsed = JSON.parse(stdout) as { relays?: Record<string, unknown>[] };
  return (parsed.relays ?? []).map((r) => {
    const s = r.lastSettlement as Record<string, unknown> | undefined;
    return {
      account: String(r.account),
      bond: BigInt(String(r.bond ?? '0')),
      earned: BigInt(String(r.earned ?? '0')),
      penalties: BigInt(String(r.penalties ?? '0')),
      last:
        s === undefined
          ? undefined
          : {
              epoch: Number(s.epoch ?? 0),
              paidCells: BigInt(String(s.paidCells ?? '0')),
              qualityPermille: Number(s.qualityPermille ?? 0),
              paid: BigInt(String(s.paid ?? '0')),
              penalised: s.penalised === true,
              failVotes: Number(s.failVotes ?? 0),
            },
    };
  });
}

/** The epoch of the client's next block (its status.json). */
function epochNow(): number {
  const dir = net?.ready.children[0]?.dataDir ?? '';
  return readStatus(dir)?.economy?.epoch ?? -1;
}

/** JSON.stringify replacer for bigints. */
function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

async function untilAsync(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function download(mib: number): Promise<void> {
  const socks = net?.ready.socks ?? '';
  const out = join(root, `body-${mib}`);
  await run(
    'curl',
    [
      '-sS',
      '--max-time',
      '600',
      '--socks5-hostname',
      socks,
      '-o',
      out,
      `http://127.0.0.1:${fixture.port}/big?mib=${mib}`,
    ],
    { timeout: 620_000 },
  );
  const hash = createHash('sha256').update(readFileSync(out)).digest('hex');
  assert.equal(hash, bigBodyHash(mib), 'the body arrived intact');
}

test('relays are paid for proven work by the formula; a lying relay is caught; credits are conserved', async () => {
  net = await startTestnet(
    ['--nodes', '5', '--dir', root, '--epoch-length', String(EPOCH_BLOCKS), ...EPHEMERAL_PORTS],
    180_000,
    { ...process.env, ANONNET_TEST_INFLATE_CLAIMS: `50:${trigger}` },
  );
  await untilAsync(
    async () => (await relays()).filter((r) => r.bond > 0n).length === 4,
    120_000,
    'four bonded relays',
  );
  // Every settlement while the download runs and until it is paid, per relay and epoch (the ledger keeps
  // only the latest): each relay's quality moves between epochs (first measured, uptime), so the formula
  // is applied epoch by epoch, to the cells each settlement paid for.
  const seen = new Map<string, Map<number, Settlement>>();
  const record = async () => {
    for (const r of await relays()) {
      if (r.last === undefined) continue;
      const byEpoch = seen.get(r.account) ?? new Map<number, Settlement>();
      byEpoch.set(r.last.epoch, r.last);
      seen.set(r.account, byEpoch);
    }
  };
  await record();
  const startEpoch = epochNow();
  let recording = true;
  const recorder = (async () => {
    while (recording) {
      await record().catch(() => {});
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  await download(MIB);
  const doneEpoch = epochNow();
  assert.ok(doneEpoch >= 0);
  // Claims for epoch e are made early in e+1 and settled at its end: paid within two epochs.
  await until(() => epochNow() >= doneEpoch + 2, 240_000, 'two epochs after the download');
  recording = false;
  await recorder;
  await record();

  // The cells of the download: DATA cells of MAX_RELAY_DATA bytes each, every one carried by each hop.
  const cells = BigInt(Math.ceil((MIB * 1024 * 1024) / MAX_RELAY_DATA));
  const carriers = [...seen.entries()]
    .map(([account, byEpoch]) => {
      const settled = [...byEpoch.values()].filter((s) => s.epoch >= startEpoch && s.epoch <= doneEpoch);
      const paidCells = settled.reduce((n, s) => n + s.paidCells, 0n);
      const paid = settled.reduce((n, s) => n + s.paid, 0n);
      const formula = settled.reduce(
        (n, s) => n + payoutDue(s.paidCells, 1000n as Credits, s.qualityPermille),
        0n,
      );
      const q = settled.length === 0 ? 0 : Math.max(...settled.map((s) => s.qualityPermille));
      return { account, epochs: settled.length, paidCells, paid, formula, q };
    })
    .filter((c) => c.paidCells * 2n >= cells);
  assert.equal(carriers.length, 3, `three relays carried the download: ${JSON.stringify(carriers, bigints)}`);
  for (const c of carriers) {
    // Proven work: the cells it was paid for are the download's, within 10%.
    const ratio = Number(c.paidCells) / Number(cells);
    assert.ok(
      ratio > 0.9 && ratio < 1.1,
      `paid for ${c.paidCells} cells of ${cells} (ratio ${ratio.toFixed(3)})`,
    );
    // Pay: the formula for those cells at each epoch's quality (one credit of rounding an epoch).
    assert.ok(
      c.paid <= c.formula && c.formula - c.paid <= BigInt(c.epochs),
      `paid ${c.paid}, formula ${c.formula} over ${c.epochs} epochs`,
    );
    // And so within 10% of the formula for the whole download at its best quality.
    const whole = payoutDue(cells, 1000n as Credits, c.q);
    assert.ok(Number(c.paid) <= Number(whole) * 1.1, `paid ${c.paid}, at most ${whole} × 1.1`);
  }
  process.stderr.write(
    `economy e2e: ${MIB} MiB, ${cells} cells (${Number(cells * BigInt(CELL_BYTES)) / 2 ** 20} MiB of cells); paid ${carriers.map((c) => `${c.paid} credits for ${c.paidCells} cells over ${c.epochs} epochs (formula ${c.formula})`).join(', ')}\n`,
  );

  // A liar: the first relay to claim after the trigger appears inflates its claims by 50%.
  writeFileSync(trigger, '');
  await download(20);
  const liarEpoch = epochNow();
  await until(() => epochNow() >= liarEpoch + 2, 240_000, 'two epochs after the second download');
  await untilAsync(async () => (await relays()).some((r) => r.penalties > 0n), 60_000, 'a penalty');
  const after = await relays();
  const liars = after.filter((r) => r.penalties > 0n);
  assert.equal(liars.length, 1, 'exactly the one inflating relay is penalised');
  const liar = liars[0]!;
  // Its claim was refuted and paid nothing; its bond was burned (the relay's registration bonds again
  // from its balance: the penalty costs it the bond and all reputation, docs/economy.md).
  assert.equal(liar.last?.penalised, true, 'its latest claim was penalised');
  assert.equal(liar.last?.paid, 0n);
  assert.ok((liar.last?.failVotes ?? 0) * 3 > 4, 'more than a third of the validators failed it');
  assert.ok(
    after.filter((r) => r !== liar).every((r) => r.bond > 0n && r.penalties === 0n),
    'honest relays are not penalised',
  );

  // Credits conserved in the ledger a validator stored on disk.
  const validatorDir = net.ready.children[1]?.dataDir ?? '';
  await net.stop();
  net = undefined;
  const genesis = genesisState(parseGenesis(readFileSync(join(root, 'genesis.json'), 'utf8')));
  const store = openBlockStore(join(validatorDir, LEDGER_FILES.store));
  try {
    const state = store.loadState(genesis);
    let sum = state.economy.pool + state.burned;
    for (const a of state.accounts.values()) sum += a.balance;
    for (const r of state.relays.values()) sum += r.bond;
    assert.equal(sum, state.minted, 'balances + bonds + pool + burned = minted');
    assert.ok(state.economy.settlements.size > 0);
    assert.ok(state.burned >= 100n, "the liar's bond was burned");
  } finally {
    store.close();
  }
});
