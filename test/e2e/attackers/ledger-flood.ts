// Mempool flood (hardening issue, class 2): transactions from many fresh keys, each with future nonces
// (mode "future": the attack, 80 keys x 64 nonces filled every 5000-slot mempool for free), or
// valid claims of starting credits from fresh keys (mode "claims": each costs a proof-of-work),
// sent as TX frames to one victim over /anonnet/ledger/1.0.0, in waves until `seconds` have passed.
// A second host, connected to another honest node (`listen`), counts how many of the flood's
// transactions that node relays: what the network admitted.
//
// Args: { address, listen?, mode?: "future" | "claims", keys?: 80, perKey?: 64, fee?: 1,
//         powDifficulty?: 8, seconds?: 0 (one wave), waveMs?: 1000, victimDataDir? }
// Reports: one line per wave { wave, sent, bytes }, then { done: true, sent, bytes, relayed, waves,
// victim? }: `relayed` is what the other honest node admitted and passed on; with `victimDataDir` (a
// benchmark's view, not an attacker's) `victim` is the victim's own count of what its mempool holds,
// admitted, refused and evicted, from its status file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { solvePow } from '../../../src/crypto/pow.ts';
import { decodeConsensusMessage, encodeConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { decodeTx, signTx } from '../../../src/wire/ledger-tx.ts';
import { attackArgs, createAttackerHost, report, stopAll } from './attacker-host.ts';
import { dialRetrying, listenLedger, openLedgerLink } from './ledger-link.ts';

interface Args {
  address: string;
  listen?: string;
  mode?: 'future' | 'claims';
  keys?: number;
  perKey?: number;
  fee?: number;
  powDifficulty?: number;
  seconds?: number;
  waveMs?: number;
  victimDataDir?: string;
}

const args = attackArgs<Args>();
const mode = args.mode ?? 'future';
const keys = args.keys ?? 80;
const perKey = args.perKey ?? 64;
const fee = BigInt(args.fee ?? 1);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const ours = new Set<string>();
let relayed = 0;
let listener: Awaited<ReturnType<typeof createAttackerHost>> | undefined;
if (args.listen !== undefined) {
  listener = await createAttackerHost();
  await listenLedger(listener, (_from, payload) => {
    const m = decodeConsensusMessage(payload);
    if (m.kind !== 'ok' || m.value.kind !== 'TX') return;
    const t = decodeTx(m.value.tx);
    if (t.kind === 'ok' && ours.has(hex(t.value.tx.sender))) relayed++;
  });
  await dialRetrying(listener, args.listen);
}

const host = await createAttackerHost();
const link = await openLedgerLink(host, args.address);
const payee = generateIdentity().publicKey;

/** The victim's mempool figures from its status file (newer versions count refusals and evictions). */
function victimView(): { victim?: unknown } {
  if (args.victimDataDir === undefined) return {};
  try {
    const status = JSON.parse(readFileSync(join(args.victimDataDir, 'status.json'), 'utf8')) as {
      ledger?: { mempool?: number; guard?: { mempool?: unknown } };
    };
    return { victim: status.ledger?.guard?.mempool ?? { txs: status.ledger?.mempool } };
  } catch {
    return {};
  }
}

/** One wave: fresh keys, each sending its transactions. */
async function wave(): Promise<number> {
  let sent = 0;
  for (let k = 0; k < keys; k++) {
    const id = generateIdentity();
    ours.add(hex(id.publicKey));
    const txs =
      mode === 'claims'
        ? [
            signTx(
              {
                kind: 'CLAIM_GENESIS',
                sender: id.publicKey,
                nonce: 1n,
                fee,
                powNonce: solvePow(id.publicKey, args.powDifficulty ?? 8) ?? 0n,
              },
              (m) => id.sign(m),
            ),
          ]
        : Array.from({ length: perKey }, (_, i) =>
            // Nonces 2..perKey+1: never the next one, so never checked in full.
            signTx(
              { kind: 'TRANSFER', sender: id.publicKey, nonce: BigInt(i + 2), fee, to: payee, amount: 1n },
              (m) => id.sign(m),
            ),
          );
    for (const t of txs) {
      await link.send(encodeConsensusMessage({ kind: 'TX', tx: t.bytes }));
      sent++;
    }
  }
  return sent;
}

const end = Date.now() + (args.seconds ?? 0) * 1000;
let sent = 0;
let waves = 0;
do {
  const started = Date.now();
  sent += await wave();
  waves++;
  report({ wave: waves, sent, bytes: link.sent() });
  const rest = (args.waveMs ?? 1000) - (Date.now() - started);
  if (Date.now() < end && rest > 0) await new Promise((r) => setTimeout(r, rest));
} while (Date.now() < end);
// Everything sent reaches the victim (a loaded one reads slowly), then the network has a moment to
// relay what it admitted.
await link.flush();
await new Promise((r) => setTimeout(r, 3000));
report({ done: true, sent, bytes: link.sent(), relayed, waves, ...victimView() });
await stopAll(listener === undefined ? [host] : [host, listener]);
