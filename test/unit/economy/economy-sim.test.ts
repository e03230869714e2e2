// The economy simulation (bench/economy-sim.ts) run tiny: its invariants hold (conservation after every
// epoch, no honest or colluding claim fails an audit, only liars are penalised), it is deterministic for
// a seed, audits catch large inflations (duplicated receipts too), honest relays out-earn the liars
// audits catch, and the CLI prints JSON and writes its plot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultEconomyParams } from '../../../bench/lib/economy-sim/params.ts';
import { RELAY_CLASSES } from '../../../bench/lib/economy-sim/population.ts';
import { fullReport } from '../../../bench/lib/economy-sim/report.ts';
import { detectionKey, type SimOptions, simulate } from '../../../bench/lib/economy-sim/simulation.ts';
import { renderSvg } from '../../../bench/lib/economy-sim/svg.ts';

const tiny = (over: Partial<SimOptions> = {}): SimOptions => ({
  relays: 60,
  epochs: 40,
  seed: 7,
  dishonestShare: 0.3,
  soundAuditRate: 1,
  receipts: [3, 10],
  ...over,
});

describe('economy simulation', () => {
  const honestOnly = simulate(tiny({ dishonestShare: 0 }));
  const mixed = simulate(tiny());

  it('conserves credits after every epoch and fails no honest or colluding claim', () => {
    for (const r of [honestOnly, mixed]) {
      assert.deepEqual(r.violations, []);
      assert.equal(r.supply.length, 40);
      for (const s of r.supply) assert.equal(s.balances + s.bonds + s.pool + s.burned, s.minted);
      assert.ok(r.honestAudits.audited > 100, 'honest claims were audited');
      assert.equal(r.honestAudits.failed, 0);
    }
    assert.ok(mixed.colluderAudits.audited > 0);
    assert.equal(mixed.colluderAudits.failed, 0);
    assert.equal(honestOnly.supply.at(-1)?.burned, 0n);
  });

  it('penalises only liars, and burns at most one bond per penalised claim', () => {
    let penalised = 0;
    for (const c of RELAY_CLASSES) {
      const n = mixed.classes[c].penalised;
      if (!c.startsWith('liar:')) assert.equal(n, 0, c);
      penalised += n;
    }
    assert.ok(penalised > 0);
    const burned = mixed.supply.at(-1)?.burned ?? 0n;
    assert.ok(burned > 0n && burned <= BigInt(penalised) * defaultEconomyParams.relayBond);
  });

  it('audits catch inflation by fake leaves, fake sums and duplicated receipts of 25% and more', () => {
    for (const method of ['fake-leaf', 'fake-sum', 'duplicate'] as const) {
      for (const q of [0.25, 0.5]) {
        const c = mixed.detection.get(detectionKey(method, q));
        assert.ok(c !== undefined && c.audited >= 10, `${method} ${q}: audited`);
        assert.ok(c.caught / c.audited >= 0.95, `${method} ${q}: ${c.caught}/${c.audited}`);
        assert.ok(c.claimed > c.carried);
      }
    }
  });

  it('honest relays earn more per epoch than the liars audits catch', () => {
    const perEpoch = (c: (typeof RELAY_CLASSES)[number]) =>
      Number(mixed.classes[c].paid) / mixed.classes[c].relayEpochs;
    assert.ok(perEpoch('honest') > 0);
    assert.ok(perEpoch('honest') > 5 * perEpoch('liar:fake-leaf'));
    assert.ok(perEpoch('honest') > 5 * perEpoch('liar:fake-sum'));
    assert.ok(perEpoch('honest') > 5 * perEpoch('liar:duplicate'));
  });

  it('is deterministic for a seed', () => {
    const again = simulate(tiny());
    assert.deepEqual(again.supply, mixed.supply);
    assert.deepEqual([...again.detection], [...mixed.detection]);
    const other = simulate(tiny({ seed: 8 }));
    assert.notDeepEqual(other.supply.at(-1), mixed.supply.at(-1));
  });

  it('reports every table and plots every scenario and class', () => {
    const report = fullReport([honestOnly, mixed], 48);
    for (const h of [
      'share of false claims caught',
      'really has',
      'Claims inflated by 10% or more',
      'Earnings by class',
      'Supply',
    ])
      assert.ok(report.includes(h), h);
    for (const c of RELAY_CLASSES) assert.ok(report.includes(`| ${c} |`), c);
    const svg = renderSvg([honestOnly, mixed]);
    assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
    assert.equal(svg.match(/<polyline/g)?.length, 2 * 2 + RELAY_CLASSES.length);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  });

  it('the CLI prints JSON and writes the plot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'economy-sim-'));
    try {
      const svg = join(dir, 'plot.svg');
      const bench = new URL('../../../bench/economy-sim.ts', import.meta.url).pathname;
      const args = [
        bench,
        '--relays',
        '30',
        '--epochs',
        '15',
        '--shares',
        '0,30',
        '--workers',
        '2',
        '--svg',
        svg,
        '--json',
      ];
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout) as { violations: string[]; results: unknown[] };
      assert.deepEqual(out.violations, []);
      assert.equal(out.results.length, 2);
      assert.ok(readFileSync(svg, 'utf8').startsWith('<svg'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
