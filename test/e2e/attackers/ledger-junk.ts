// Junk consensus messages (hardening issue, class 4): to one victim, for the height it is deciding,
// (1) forged proposals of ~`proposalBytes` "from" the round's real proposer with random signatures,
// (2) real proposals heard from the victim with their body swapped for junk (the header and its valid
// signature kept: only the body hashes can tell), and (3) prevotes "from" every validator with random
// signatures for a marked block hash. An unhardened node re-sent all of it to every peer before checking
// anything (4 MiB proposals went everywhere). A second host, connected to another honest node
// (`listen`), counts what of it arrives there, and the honest proposals and votes (so zero junk is not
// a deaf listener).
//
// Args: { address, listen, chainId, validators: hex[], seconds?: 10, everyMs?: 500,
//         proposalBytes?: 4 MiB }
// Reports: { t, sent, bytes, junkSeen, honestSeen } every second, then the same with done: true.
import { decodeConsensusMessage, encodeConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { attackArgs, createAttackerHost, report, stopAll } from './attacker-host.ts';
import { isJunkHash, junkProposal, junkVote, paddedProposal, proposerOf } from './ledger-junk-msgs.ts';
import { dialRetrying, type LedgerLink, listenLedger, openLedgerLink } from './ledger-link.ts';

interface Args {
  address: string;
  listen: string;
  chainId: string;
  validators: string[];
  seconds?: number;
  everyMs?: number;
  proposalBytes?: number;
}

const args = attackArgs<Args>();
const proposalBytes = args.proposalBytes ?? 4 * 1024 * 1024;
const validators = args.validators.map((h) => new Uint8Array(Buffer.from(h, 'hex')));
const JUNK_SIZE = 512 * 1024;
const PADDED_BYTES = 600 * 1024;
// The clock starts once the victim has told us its height (below); until then nothing is sent.
let started = Date.now();
let end = Number.POSITIVE_INFINITY;

// What the victim tells us: its height (STATUS) and the real proposals it relays, each sent straight
// back padded (while its height is still being decided).
let tip = 0;
let link: LedgerLink | undefined;
const sent = { proposals: 0, padded: 0, votes: 0 };
const host = await createAttackerHost();
await listenLedger(host, (_from, payload) => {
  const m = decodeConsensusMessage(payload);
  if (m.kind !== 'ok') return;
  const v = m.value;
  if (v.kind === 'STATUS') tip = Math.max(tip, v.height);
  if (v.kind === 'COMMITTED') tip = Math.max(tip, v.block.header.height);
  if (v.kind === 'VOTE') tip = Math.max(tip, v.vote.height - 1);
  if (v.kind === 'PROPOSAL' && payload.length < JUNK_SIZE) {
    tip = Math.max(tip, v.proposal.height - 1);
    if (link !== undefined && Date.now() < end) {
      // Small enough to arrive while its height is still open, large enough to be told from honest ones.
      sent.padded++;
      const padded = paddedProposal(v.proposal, PADDED_BYTES);
      link.send(encodeConsensusMessage({ kind: 'PROPOSAL', proposal: padded })).catch(() => {});
    }
  }
});

// The listener elsewhere: junk is > JUNK_SIZE (a proposal) or votes for the marked hash.
const junkSeen = { proposals: 0, votes: 0 };
const honestSeen = { proposals: 0, votes: 0 };
const listener = await createAttackerHost();
await listenLedger(listener, (_from, payload) => {
  const m = decodeConsensusMessage(payload);
  if (m.kind !== 'ok') return;
  if (m.value.kind === 'PROPOSAL') {
    if (payload.length >= JUNK_SIZE) junkSeen.proposals++;
    else honestSeen.proposals++;
  } else if (m.value.kind === 'VOTE') {
    if (isJunkHash(m.value.vote.blockHash)) junkSeen.votes++;
    else honestSeen.votes++;
  }
});
await dialRetrying(listener, args.listen);
link = await openLedgerLink(host, args.address);
const out = link;
const waitUntil = Date.now() + 90_000;
while (tip === 0 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
started = Date.now();
end = started + (args.seconds ?? 10) * 1000;
let lastReport = started;
const line = () => ({
  t: (Date.now() - started) / 1000,
  sent,
  bytes: out.sent(),
  junkSeen,
  honestSeen,
});
while (Date.now() < end) {
  // The two heights an unhardened node relayed: the one it is deciding and the next.
  // Votes first (small, they arrive while their height is open), then the large proposals.
  const heights = tip > 0 ? [tip + 1, tip + 2] : [];
  for (const h of heights) {
    for (const v of validators) {
      await out.send(encodeConsensusMessage({ kind: 'VOTE', vote: junkVote(args.chainId, h, 0, v) }));
      sent.votes++;
    }
  }
  for (const h of heights) {
    const proposal = junkProposal(args.chainId, h, 0, proposerOf(validators, h, 0), proposalBytes);
    await out.send(encodeConsensusMessage({ kind: 'PROPOSAL', proposal }));
    sent.proposals++;
  }
  if (Date.now() - lastReport >= 1000) {
    lastReport = Date.now();
    report(line());
  }
  await new Promise((r) => setTimeout(r, args.everyMs ?? 500));
}
// What was relayed has a moment to arrive.
await new Promise((r) => setTimeout(r, 1500));
report({ done: true, ...line() });
await stopAll([host, listener]);
