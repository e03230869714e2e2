// Circuit admission at a relay, on fake time: the global limit, the per-peer and per-address-group
// shares (checked before any rate token is spent), per-peer and global CREATE rates, release, and
// rate state that is forgotten once full again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdmissionTicket, CircuitAdmission } from '../../../src/circuit/admission.ts';
import { defaultAdmissionLimits } from '../../../src/circuit/admission-limits.ts';
import { TokenBucket } from '../../../src/circuit/token-bucket.ts';

const roomy = {
  ...defaultAdmissionLimits,
  maxCircuits: 10,
  maxCircuitsPerPeer: 3,
  maxCircuitsPerIp: 5,
  createRatePerPeer: 1_000,
  createBurstPerPeer: 1_000,
  createRateGlobal: 1_000,
  createBurstGlobal: 1_000,
};

function ticket(r: AdmissionTicket | string): AdmissionTicket {
  assert.equal(typeof r, 'object', `admitted, not ${String(r)}`);
  return r as AdmissionTicket;
}

describe('TokenBucket', () => {
  it('gives a burst, then the rate, never more than the burst saved up', () => {
    const b = new TokenBucket(10, 3, 0);
    assert.ok(b.take(0) && b.take(0) && b.take(0));
    assert.ok(!b.take(0), 'the burst is spent');
    assert.ok(!b.take(99));
    assert.ok(b.take(100), 'one token per 100 ms at 10/s');
    assert.ok(b.full(10_000) && b.take(10_000) && b.take(10_000) && b.take(10_000) && !b.take(10_000));
  });

  it('refills nothing when the clock steps back', () => {
    const b = new TokenBucket(10, 1, 1_000);
    assert.ok(b.take(1_000));
    assert.ok(!b.take(0));
    assert.ok(!b.take(1_050));
    assert.ok(b.take(1_100));
  });
});

describe('CircuitAdmission', () => {
  it('holds one peer to its share and one address group to its share', () => {
    const a = new CircuitAdmission(roomy, 0);
    for (let i = 0; i < 3; i++) ticket(a.admit('p1', 'ip-a', 0));
    assert.equal(a.admit('p1', 'ip-a', 0), 'CIRCUIT_PEER_SHARE');
    // Another identity at the same address: room until the address group's share (5).
    ticket(a.admit('p2', 'ip-a', 0));
    ticket(a.admit('p2', 'ip-a', 0));
    assert.equal(a.admit('p3', 'ip-a', 0), 'CIRCUIT_IP_SHARE', 'a fresh peer id does not help');
    ticket(a.admit('p3', 'ip-b', 0));
    ticket(a.admit('p4', undefined, 0));
    assert.equal(a.total, 7);
    assert.equal(a.heldByPeer('p1'), 3);
    assert.equal(a.heldByIp('ip-a'), 5);
  });

  it('refuses everyone at the global limit, and takes again after a release', () => {
    const a = new CircuitAdmission({ ...roomy, maxCircuitsPerPeer: 100, maxCircuitsPerIp: 100 }, 0);
    const held = Array.from({ length: 10 }, (_, i) => ticket(a.admit(`p${i % 4}`, `ip${i % 2}`, 0)));
    assert.equal(a.admit('fresh', 'fresh-ip', 0), 'CIRCUIT_LIMIT');
    a.release(held[0]!);
    assert.equal(a.heldByPeer('p0'), 2);
    assert.equal(a.heldByIp('ip0'), 4);
    ticket(a.admit('fresh', 'fresh-ip', 0));
    for (const t of held.slice(1)) a.release(t);
    assert.equal(a.total, 1);
    assert.equal(a.heldByPeer('p1'), 0);
  });

  it('rate-limits CREATEs per peer without touching other peers, and refills with time', () => {
    const a = new CircuitAdmission(
      {
        ...roomy,
        maxCircuitsPerPeer: 100,
        maxCircuitsPerIp: 100,
        maxCircuits: 1_000,
        createRatePerPeer: 2,
        createBurstPerPeer: 4,
      },
      0,
    );
    const held: AdmissionTicket[] = [];
    for (let i = 0; i < 4; i++) held.push(ticket(a.admit('flood', 'x', 0)));
    assert.equal(a.admit('flood', 'x', 0), 'CREATE_RATE_PEER');
    assert.equal(a.admit('flood', 'x', 499), 'CREATE_RATE_PEER');
    ticket(a.admit('flood', 'x', 500));
    ticket(a.admit('honest', 'y', 0));
    // A release gives a slot back, not a token.
    for (const t of held) a.release(t);
    assert.equal(a.admit('flood', 'x', 500), 'CREATE_RATE_PEER');
  });

  it('rate-limits all peers together, and spends no peer token on a global refusal', () => {
    const a = new CircuitAdmission(
      {
        ...roomy,
        maxCircuits: 1_000,
        maxCircuitsPerPeer: 1_000,
        maxCircuitsPerIp: 1_000,
        createRatePerPeer: 1,
        createBurstPerPeer: 1,
        createRateGlobal: 10,
        createBurstGlobal: 3,
      },
      0,
    );
    ticket(a.admit('a', undefined, 0));
    ticket(a.admit('b', undefined, 0));
    ticket(a.admit('c', undefined, 0));
    assert.equal(a.admit('d', undefined, 0), 'CREATE_RATE_GLOBAL');
    ticket(a.admit('d', undefined, 100));
  });

  it('checks shares before rates: a refusal at the share spends no token', () => {
    const a = new CircuitAdmission(
      { ...roomy, maxCircuitsPerPeer: 1, createRatePerPeer: 0.001, createBurstPerPeer: 2 },
      0,
    );
    const t = ticket(a.admit('p', undefined, 0));
    for (let i = 0; i < 5; i++) assert.equal(a.admit('p', undefined, 0), 'CIRCUIT_PEER_SHARE');
    a.release(t);
    ticket(a.admit('p', undefined, 0));
  });

  it('forgets the rate state of peers whose bucket is full again', () => {
    const a = new CircuitAdmission({ ...roomy, createRatePerPeer: 10, createBurstPerPeer: 5 }, 0);
    for (let i = 0; i < 3; i++) a.release(ticket(a.admit(`p${i}`, undefined, 0)));
    assert.equal(a.trackedPeers, 3);
    a.prune(50);
    assert.equal(a.trackedPeers, 3, 'buckets still refilling are kept');
    a.prune(100);
    assert.equal(a.trackedPeers, 0);
  });
});
