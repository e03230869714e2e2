// Abrupt ends: a second attacker host opens streams on every protocol, leaves each mid-message (half
// a cell, half a frame, half a DHT message, a descriptor request never read) and then stops without
// closing anything, so the victim sees the whole connection vanish under its half-read streams.

import { CIRCUIT_PROTOCOL } from '../../../../src/circuit/protocol.ts';
import type { Prng } from '../../../sim/prng.ts';
import { createAttackerHost, openProtocol } from '../attacker-host.ts';
import type { FuzzContext } from './context.ts';
import { Conversation, sleep } from './conversation.ts';
import { DESCRIPTOR_PROTOCOL } from './descriptor.ts';
import { DHT_PROTOCOL } from './dht.ts';
import { LEDGER_PROTOCOL } from './ledger.ts';

const TAG = 'abrupt';

export async function abrupt(p: Prng, ctx: FuzzContext): Promise<void> {
  const host = await createAttackerHost();
  try {
    const protocols = [CIRCUIT_PROTOCOL, LEDGER_PROTOCOL, DESCRIPTOR_PROTOCOL, DHT_PROTOCOL];
    const opened = await Promise.all(
      protocols.map((proto) =>
        openProtocol(host, ctx.address, proto).then(
          (s) => new Conversation(s),
          () => undefined,
        ),
      ),
    );
    for (const c of opened) {
      if (c === undefined) continue;
      ctx.stats.inc(`${TAG}.streams`);
      // Half of something: a cell, a frame header that promises more, a varint that never ends.
      c.send(p.bytes(p.int(1, 2047)));
    }
    await sleep(p.int(0, 300));
  } finally {
    await Promise.resolve(host.stop()).catch(() => {});
    ctx.stats.inc(`${TAG}.hostsStopped`);
  }
}
