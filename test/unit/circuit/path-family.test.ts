// Relay families in path selection: two relays that list each other never share a circuit, in any
// position (guard, middle, exit); a one-sided claim changes nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candidates, sameFamily, selectPath } from '../../../src/circuit/path-selection.ts';
import { relay } from '../directory/relay-view-helpers.ts';
import { entry, pathOptions, seeded } from './path-helpers.ts';

const peer = (n: number) => relay(n).peerId;

describe('path selection with relay families', () => {
  it('sameFamily needs both sides to list each other', () => {
    const view = [
      entry(1, { ip: '10.1.0.1', family: [2, 3] }),
      entry(2, { ip: '10.2.0.1', family: [1] }),
      entry(3, { ip: '10.3.0.1' }),
    ];
    const [a, b, c] = candidates(view, pathOptions());
    assert.ok(sameFamily(a!, b!) && sameFamily(b!, a!));
    assert.ok(!sameFamily(a!, c!) && !sameFamily(c!, a!), 'one-sided: 1 lists 3, 3 does not list 1');
  });

  it('never puts two relays of a mutual family on one path', () => {
    // 1 (guard) and 4 (an exit) are one family; 2, 3 are other relays, 5 a second exit.
    const view = [
      entry(1, { ip: '10.1.0.1', family: [4] }),
      entry(2, { ip: '10.2.0.1' }),
      entry(3, { ip: '10.3.0.1' }),
      entry(4, { ip: '10.4.0.1', exit: true, family: [1] }),
      entry(5, { ip: '10.5.0.1', exit: true }),
    ];
    const random = seeded(7);
    let sawExit5 = 0;
    for (let i = 0; i < 300; i++) {
      const ids = selectPath(view, pathOptions({ random }), [peer(1)]).map((h) => h.peerId);
      assert.equal(ids[0], peer(1));
      assert.ok(!ids.includes(peer(4)), `relay 4 is in relay 1's family: ${ids.join(',')}`);
      if (ids[2] === peer(5)) sawExit5++;
    }
    assert.equal(sawExit5, 300);
  });

  it('keeps family members out of the middle position too', () => {
    // Exit 4 and relay 2 are one family: with guard 1, the middle must be 3.
    const view = [
      entry(1, { ip: '10.1.0.1' }),
      entry(2, { ip: '10.2.0.1', family: [4] }),
      entry(3, { ip: '10.3.0.1' }),
      entry(4, { ip: '10.4.0.1', exit: true, family: [2] }),
    ];
    const random = seeded(11);
    for (let i = 0; i < 200; i++) {
      const ids = selectPath(view, pathOptions({ random }), [peer(1)]).map((h) => h.peerId);
      assert.deepEqual(ids, [peer(1), peer(3), peer(4)]);
    }
  });

  it('a one-sided family claim does not exclude anyone', () => {
    // 2 claims 4, 4 does not claim 2: paths through both must still occur.
    const view = [
      entry(1, { ip: '10.1.0.1' }),
      entry(2, { ip: '10.2.0.1', family: [4] }),
      entry(4, { ip: '10.4.0.1', exit: true }),
    ];
    const ids = selectPath(view, pathOptions({ random: seeded(1) }), [peer(1)]).map((h) => h.peerId);
    assert.deepEqual(ids, [peer(1), peer(2), peer(4)]);
  });

  it('answers NO_PATH when families leave too few relays', () => {
    const view = [
      entry(1, { ip: '10.1.0.1', family: [2] }),
      entry(2, { ip: '10.2.0.1', family: [1] }),
      entry(4, { ip: '10.4.0.1', exit: true }),
    ];
    assert.throws(
      () => selectPath(view, pathOptions({ random: seeded(1) }), [peer(1)]),
      (err: Error & { code?: string }) => err.code === 'NO_PATH',
    );
  });
});
