// What a relay registers (from its own descriptor) and which step it takes next (from the ledger state):
// the onion key current now, the exit summary only for exits, and claim → register → candidacy → done,
// with a new registration whenever the descriptor's content moves away from the ledger's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { generateOnionKeyPair } from '../../../src/crypto/onion-keys.ts';
import { buildOwnDescriptor } from '../../../src/directory/build-descriptor.ts';
import { parseExitPolicy } from '../../../src/directory/exit-policy.ts';
import {
  nextRegistrationStep,
  onionKeyHash,
  type RegistrationGoal,
  registrationContent,
} from '../../../src/economy/registration-plan.ts';
import { applyTx } from '../../../src/ledger/apply.ts';
import { credits } from '../../../src/ledger/credits.ts';
import { genesisState } from '../../../src/ledger/genesis.ts';
import { keyHex, type LedgerState } from '../../../src/ledger/state.ts';
import type { UnixMillis } from '../../../src/wire/descriptor-types.ts';
import { signTx, type Tx } from '../../../src/wire/ledger-tx.ts';

const DAY = 86_400_000;
const now = 1_800_000_000_000;
const relay = generateIdentity();
const old = generateOnionKeyPair((now - 5 * DAY) as UnixMillis, (now + DAY) as UnixMillis);
const next = generateOnionKeyPair((now - DAY) as UnixMillis, (now + 6 * DAY) as UnixMillis);
const future = generateOnionKeyPair((now + DAY) as UnixMillis, (now + 8 * DAY) as UnixMillis);

function descriptor(roles: ('relay' | 'exit' | 'validator')[], bandwidth = 1_000_000) {
  return buildOwnDescriptor({
    identity: relay,
    powNonce: 0n,
    onionKeys: [old, next, future],
    addresses: [],
    roles,
    bandwidth,
    exitPolicy: parseExitPolicy(['reject *:25', 'accept *:*']),
    now,
    lifetimeMs: DAY,
  }).descriptor;
}

describe('registration content', () => {
  it('hashes the onion key current now (the newest already valid), not one still to come', () => {
    const c = registrationContent(descriptor(['relay', 'exit']), now);
    assert.deepEqual(c.onionKeyHash, onionKeyHash({ x25519: next.x25519Public, mlkem768: next.mlkemPublic }));
    const later = registrationContent(descriptor(['relay', 'exit']), now + 2 * DAY);
    assert.deepEqual(
      later.onionKeyHash,
      onionKeyHash({ x25519: future.x25519Public, mlkem768: future.mlkemPublic }),
      'after rotation the registration names the new key',
    );
    assert.equal(c.onionKeyHash.length, 32);
  });

  it('carries roles and the bandwidth claim; an exit summary only for an exit', () => {
    const exit = registrationContent(descriptor(['relay', 'exit'], 5_000), now);
    assert.equal(exit.roles, 3);
    assert.equal(exit.bandwidth, 5_000);
    assert.equal(new TextDecoder().decode(exit.exitPolicySummary), 'reject 25');
    const middle = registrationContent(descriptor(['relay', 'validator']), now);
    assert.equal(middle.roles, 5);
    assert.equal(middle.exitPolicySummary.length, 0);
  });
});

describe('next registration step', () => {
  const validator = generateIdentity();
  const self = keyHex(relay.publicKey);
  const base = genesisState({
    chainId: 'plan',
    params: { powDifficulty: 0, startingCredits: credits(1000) },
    validators: [validator.publicKey],
  });
  let nonce = 0n;
  const apply = (s: LedgerState, body: Record<string, unknown>): LedgerState => {
    nonce++;
    const t = signTx({ sender: relay.publicKey, nonce, fee: 1n, ...body } as Tx, (m) => relay.sign(m));
    const r = applyTx(s, t, { height: s.height + 1, validators: [validator.publicKey] });
    assert.ok(r.ok, r.ok ? '' : r.code);
    return r.ok ? r.state : s;
  };
  const wallet = generateIdentity().publicKey;
  const goal = (
    roles: ('relay' | 'exit' | 'validator')[],
    bandwidth = 1_000_000,
    payout = wallet,
  ): RegistrationGoal => ({
    content: registrationContent(descriptor(roles, bandwidth), now),
    payout,
  });
  const register = (g: RegistrationGoal) => ({
    kind: 'REGISTER_RELAY',
    payout: g.payout,
    roles: g.content.roles,
    bandwidth: g.content.bandwidth,
    onionKeyHash: g.content.onionKeyHash,
    exitPolicySummary: g.content.exitPolicySummary,
  });

  it('claim, then register, then (validators only) candidacy, then done', () => {
    const g = goal(['relay', 'validator']);
    assert.equal(nextRegistrationStep(base, self, g, true), 'claim');
    const claimed = apply(base, { kind: 'CLAIM_GENESIS', powNonce: 0n });
    assert.equal(nextRegistrationStep(claimed, self, g, true), 'register');
    const registered = apply(claimed, register(g));
    assert.equal(nextRegistrationStep(registered, self, g, false), 'done', 'no validator role: done');
    assert.equal(nextRegistrationStep(registered, self, g, true), 'candidacy');
    const standing = apply(registered, { kind: 'VALIDATOR_CANDIDACY' });
    assert.equal(nextRegistrationStep(standing, self, g, true), 'done');

    // What the descriptor says moves: register again (and only that).
    assert.equal(
      nextRegistrationStep(standing, self, goal(['relay', 'validator'], 2_000_000), true),
      'register',
    );
    assert.equal(
      nextRegistrationStep(standing, self, goal(['relay', 'exit', 'validator']), true),
      'register',
    );
    const rotated = { ...g, content: registrationContent(descriptor(['relay', 'validator']), now + 2 * DAY) };
    assert.equal(nextRegistrationStep(standing, self, rotated, true), 'register');
    const otherPayout = goal(['relay', 'validator'], 1_000_000, generateIdentity().publicKey);
    assert.equal(nextRegistrationStep(standing, self, otherPayout, true), 'register');

    // A penalty took the bond (or relayBond rose): out of the list until it registers again.
    const reg = standing.relays.get(self);
    assert.ok(reg !== undefined && reg.bond === standing.params.relayBond, 'the bond is locked');
    const burned = { ...standing, relays: new Map([[self, { ...reg, bond: credits(0) }]]) };
    assert.equal(nextRegistrationStep(burned, self, g, true), 'register');
    const raised = { ...standing, params: { ...standing.params, relayBond: credits(500) } };
    assert.equal(nextRegistrationStep(raised, self, g, true), 'register');
  });

  it('a genesis validator is a candidate already: once registered it is done, it never stands again', () => {
    const v = keyHex(validator.publicKey);
    const g = goal(['relay', 'validator']);
    const account = { ...(base.accounts.get(v) as NonNullable<ReturnType<typeof base.accounts.get>>) };
    const state: LedgerState = {
      ...base,
      accounts: new Map([[v, { ...account, genesisClaimed: true }]]),
      relays: new Map([
        [
          v,
          {
            ...g.content,
            height: 1,
            payout: keyHex(g.payout),
            bond: base.params.relayBond,
            measured: null,
            earned: credits(0),
          },
        ],
      ]),
    };
    assert.equal(nextRegistrationStep(state, v, g, true), 'done');
  });
});
