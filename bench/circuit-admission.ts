// What a CREATE costs a relay's CPU, by how the relay answers it (docs/security.md, section 5), against
// a baseline measured in the same run: one X25519 agreement.
//
//   handshake        respondHandshake on a CREATE that names the relay's onion key (garbage after the
//                    key id: the relay cannot tell it from a real one) + the hop's cipher contexts:
//                    what every admitted CREATE costs
//   unknown key      respondHandshake on a CREATE naming no key of ours (refused PROTOCOL)
//   refused          CircuitAdmission.admit refusing (share or rate) + the DESTROY cell: what a CREATE
//                    past the limits costs before libp2p
//
// Then the handshake CPU the default limits allow: one peer's sustained CREATE rate and everyone's.
//
//   node bench/circuit-admission.ts [--creates 2000] [--rounds 5] [--json]
import { diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { CircuitAdmission } from '../src/circuit/admission.ts';
import { defaultAdmissionLimits } from '../src/circuit/admission-limits.ts';
import { onionKeyId, respondHandshake } from '../src/crypto/circuit-handshake.ts';
import { generateOnionKeyPair } from '../src/crypto/onion-keys.ts';
import { RelayHopCrypto } from '../src/crypto/relay-crypto.ts';
import {
  type CircuitId,
  CREATE_MESSAGE_BYTES,
  DestroyReason,
  encodeCell,
  LinkCommand,
} from '../src/wire/cell.ts';
import type { UnixMillis } from '../src/wire/descriptor-types.ts';

const { values } = parseArgs({
  options: {
    creates: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const n = Number(values.creates);
const rounds = Number(values.rounds);

const now = Date.now();
const pair = generateOnionKeyPair((now - 3_600_000) as UnixMillis, (now + 3_600_000) as UnixMillis);
const identity = randomBytes(32);

function creates(ownKey: boolean): Uint8Array[] {
  return Array.from({ length: n }, () => {
    const m = randomBytes(CREATE_MESSAGE_BYTES);
    if (ownKey) m.set(onionKeyId(pair.x25519Public), 0);
    return m;
  });
}

/** CPU µs per item of `work` over `items`, median of the rounds. */
function measure<T>(make: () => T[], work: (item: T) => void): number {
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const items = make();
    const c0 = process.cpuUsage();
    for (const it of items) work(it);
    const c = process.cpuUsage(c0);
    per.push((c.user + c.system) / items.length);
  }
  return per.sort((a, b) => a - b)[Math.floor(per.length / 2)]!;
}

const a = generateKeyPairSync('x25519');
const b = generateKeyPairSync('x25519');
const baseline = measure(
  () => new Array<number>(n).fill(0),
  () => diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }),
);
const handshake = measure(
  () => creates(true),
  (m) => {
    const answer = respondHandshake(m, identity, [pair]);
    if ('keys' in answer) new RelayHopCrypto(answer.keys);
  },
);
const unknownKey = measure(
  () => creates(false),
  (m) => respondHandshake(m, identity, [pair]),
);
const admission = new CircuitAdmission({ ...defaultAdmissionLimits, maxCircuitsPerPeer: 1 }, 0);
admission.admit('flood', undefined, 0);
const refused = measure(
  () => new Array<number>(n).fill(0),
  () => {
    admission.admit('flood', undefined, 0);
    encodeCell({
      circuitId: 7 as CircuitId,
      command: LinkCommand.DESTROY,
      body: Uint8Array.of(DestroyReason.RESOURCELIMIT),
    });
  },
);

const l = defaultAdmissionLimits;
const rows = [
  { op: 'x25519 agreement (baseline)', usPerCreate: baseline },
  { op: 'handshake (admitted CREATE)', usPerCreate: handshake },
  { op: 'unknown onion key', usPerCreate: unknownKey },
  { op: 'refused at admission', usPerCreate: refused },
].map((r) => ({ ...r, vsBaseline: r.usPerCreate / baseline }));
const budget = {
  onePeerCoreShare: (l.createRatePerPeer * handshake) / 1e6,
  allPeersCoreShare: (l.createRateGlobal * handshake) / 1e6,
};
if (values.json) {
  console.log(JSON.stringify({ creates: n, rounds, rows, budget }));
} else {
  console.log(`CPU per CREATE at a relay (${n} CREATEs, median of ${rounds} rounds)`);
  for (const r of rows)
    console.log(
      `  ${r.op.padEnd(30)} ${r.usPerCreate.toFixed(1).padStart(8)} µs  ${r.vsBaseline.toFixed(1)}x baseline`,
    );
  console.log(
    `handshake CPU the default limits allow: one peer ${l.createRatePerPeer}/s = ${(100 * budget.onePeerCoreShare).toFixed(1)}% of a core; ` +
      `all peers ${l.createRateGlobal}/s = ${(100 * budget.allPeersCoreShare).toFixed(1)}% of a core`,
  );
}
