// A relay's ledger registration (economy/registration.ts) against a real ledger node in this process: a
// one-validator chain on a real libp2p host committing every 200 ms. Relays claim their start grant,
// register with what their descriptor says, stand for election with the validator role, register again
// when that changes, and retry a failed step after a back-off until it goes through. Their logs hold no
// key.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LedgerNode } from '../../src/consensus/ledger-node.ts';
import { LedgerNet } from '../../src/consensus/net/ledger-net.ts';
import { generateIdentity, type Identity } from '../../src/crypto/identity.ts';
import { verifyPow } from '../../src/crypto/pow.ts';
import { IdentityTxs } from '../../src/economy/identity-txs.ts';
import { createRegistration, type RegistrationSubsystem } from '../../src/economy/registration.ts';
import type { RelayContent } from '../../src/economy/registration-plan.ts';
import { credits } from '../../src/ledger/credits.ts';
import { keyHex } from '../../src/ledger/state.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createHost, type Host } from '../../src/p2p/host.ts';
import { signTx } from '../../src/wire/ledger-tx.ts';
import { until } from '../e2e/lib/testnet.ts';
import { loopbackHostOptions } from './lib/mini-net.ts';

const POW = 6;
const validator = generateIdentity();
const funded = generateIdentity(); // prefunded: pays a broke relay later
/** A key whose nonce 0 falls short of the difficulty: the driver must solve a proof of work itself. */
function keyNeedingWork(): Identity {
  for (;;) {
    const k = generateIdentity();
    if (!verifyPow(k.publicKey, 0n, POW)) return k;
  }
}
const relayA = keyNeedingWork(); // also a validator candidate
const relayB = keyNeedingWork(); // starts with nothing: its claim cannot pay its fee
const walletA = generateIdentity().publicKey;
const walletB = generateIdentity().publicKey;

let dir: string;
let host: Host;
let ledger: LedgerNode;
const drivers: RegistrationSubsystem[] = [];

function content(bandwidth: number, roles = 1): RelayContent {
  return {
    roles,
    bandwidth,
    onionKeyHash: new Uint8Array(32).fill(bandwidth & 0xff),
    exitPolicySummary: roles & 2 ? new TextEncoder().encode('reject 25') : new Uint8Array(0),
  };
}

function drive(
  name: string,
  identity: Identity,
  payout: Uint8Array,
  want: () => RelayContent | undefined,
  validatorRole: boolean,
): RegistrationSubsystem {
  const d = createRegistration(
    { validator: validatorRole, retryMinMs: 200, retryMaxMs: 800, payoutIsWallet: true },
    {
      log: createLogger({ level: 'debug', destination: join(dir, `${name}.log`) }),
      now: Date.now,
      ledger,
      txs: new IdentityTxs(ledger, identity),
      keys: { identity, powNonce: 0n },
      payout,
      content: want,
    },
  );
  d.start();
  drivers.push(d);
  return d;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anonnet-registration-'));
  host = await createHost({
    identitySeed: validator.seed,
    options: loopbackHostOptions,
    validators: {},
    selectors: {},
    agentVersion: 'anonnet-registration-test',
  });
  const net = new LedgerNet(host);
  await net.start();
  ledger = new LedgerNode({
    genesis: {
      chainId: 'registration-test',
      // No start grant: a claim mints nothing, so a relay without funds cannot pay its claim's fee.
      params: {
        blockIntervalMs: 200,
        validatorCount: 4,
        powDifficulty: POW,
        epochLength: 1000,
        startingCredits: credits(0),
      },
      validators: [validator.publicKey],
      accounts: [
        { key: relayA.publicKey, balance: credits(10_000) },
        { key: funded.publicKey, balance: credits(10_000) },
      ],
    },
    storePath: join(dir, 'ledger.sqlite'),
    signStatePath: join(dir, 'sign-state.json'),
    identity: validator,
    net,
    log: createLogger({ level: 'silent' }),
    timeouts: { proposeMs: 400, prevoteMs: 150, precommitMs: 150, deltaMs: 50 },
  });
  ledger.start();
});

after(async () => {
  for (const d of drivers) d.stop();
  ledger?.stop();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('relay registration on a real ledger', () => {
  it('claims, registers with the descriptor, stands as a candidate, and re-registers on change', async () => {
    const a = keyHex(relayA.publicKey);
    let want: RelayContent | undefined;
    const driver = drive('a', relayA, walletA, () => want, true);
    await until(() => ledger.height >= 3, 10_000, 'blocks');
    assert.equal(driver.status().registration.state, 'waiting', 'no descriptor yet: nothing sent');
    assert.equal(ledger.state.accounts.get(a)?.genesisClaimed, false);

    want = content(5_000_000, 3);
    await until(() => driver.status().registration.state === 'registered', 30_000, 'registered');
    const account = ledger.state.accounts.get(a);
    assert.equal(account?.genesisClaimed, true, 'the start grant was claimed');
    assert.equal(account?.nonce, 3n, 'claim, registration, candidacy: three transactions');
    const reg = ledger.state.relays.get(a);
    assert.equal(reg?.bandwidth, 5_000_000);
    assert.equal(reg?.roles, 3);
    assert.deepEqual(reg?.onionKeyHash, want.onionKeyHash);
    assert.equal(new TextDecoder().decode(reg?.exitPolicySummary), 'reject 25');
    assert.equal(reg?.payout, keyHex(walletA), 'earnings go to the wallet');
    assert.equal(reg?.bond, ledger.state.params.relayBond, 'the bond is locked');
    assert.ok(ledger.state.candidates.has(a), 'stood for election');
    assert.equal(driver.status().registration.registeredAt, reg?.height);
    assert.equal(driver.status().registration.failures, 0);

    // The onion key rotates and the bandwidth claim changes: one new registration, no new claim.
    const first = reg?.height ?? 0;
    want = content(7_000_000, 3);
    await until(() => ledger.state.relays.get(a)?.bandwidth === 7_000_000, 20_000, 'the new registration');
    assert.ok((ledger.state.relays.get(a)?.height ?? 0) > first);
    await until(() => driver.status().registration.state === 'registered', 10_000, 'registered again');
    assert.equal(ledger.state.accounts.get(a)?.nonce, 4n, 'one more transaction only');
  });

  it('retries a failed step after a back-off, and gets through once it can', async () => {
    const b = keyHex(relayB.publicKey);
    const driver = drive('b', relayB, walletB, () => content(1_000_000), false);
    await until(() => driver.status().registration.failures >= 2, 20_000, 'failed claims');
    const s = driver.status().registration;
    assert.ok(['retrying', 'claiming'].includes(s.state), s.state);
    assert.match(s.lastFailure ?? '', /FUNDS|UNFUNDED/, 'its claim cannot pay the fee');
    assert.equal(ledger.state.accounts.get(b)?.genesisClaimed ?? false, false);

    // Someone pays the relay: the next try goes through, and so does the registration.
    const pay = signTx(
      { kind: 'TRANSFER', sender: funded.publicKey, nonce: 1n, fee: 1n, to: relayB.publicKey, amount: 500n },
      (m) => funded.sign(m),
    );
    assert.equal(ledger.submit(pay.bytes).ok, true);
    await until(() => driver.status().registration.state === 'registered', 30_000, 'registered after paid');
    assert.equal(ledger.state.accounts.get(b)?.genesisClaimed, true);
    assert.equal(ledger.state.relays.get(b)?.bandwidth, 1_000_000);
    assert.equal(ledger.state.candidates.has(b), false, 'no validator role: no candidacy');
  });

  it('logs each step once it commits, and no key', () => {
    const logs = ['a', 'b'].map((n) => readFileSync(join(dir, `${n}.log`), 'utf8')).join('');
    for (const key of [relayA, relayB]) {
      for (const secret of [keyHex(key.publicKey), keyHex(key.seed)])
        assert.equal(logs.includes(secret), false);
    }
    for (const w of [walletA, walletB]) assert.equal(logs.includes(keyHex(w)), false);
    assert.match(logs, /claimed the relay identity's start grant/);
    assert.match(logs, /registered as a relay on the ledger/);
    assert.match(logs, /stood for election as a validator/);
  });
});
