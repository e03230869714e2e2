// A hand-written SVG of a simulation: credits minted per epoch and burned in total, over epochs, for
// every scenario, and the credits paid per relay per epoch to each class in the scenario with the most
// dishonest relays.
import { RELAY_CLASSES, type RelayClass } from './population.ts';
import type { SimResult } from './simulation.ts';

const PANEL_W = 340;
const PANEL_H = 260;
const TOP = 50;
const GAP = 110;
const LEFT = 80;
const W = LEFT + 3 * PANEL_W + 2 * GAP + 30;
const LEGEND_TOP = TOP + PANEL_H + 50;
const H = LEGEND_TOP + 6 * 16 + 10;
const SCENARIO_COLOURS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e'];
const CLASS_COLOURS: Record<RelayClass, string> = {
  honest: '#1b9e77',
  lazy: '#66a61e',
  'liar:fake-leaf': '#d95f02',
  'liar:fake-sum': '#e6ab02',
  'liar:duplicate': '#e7298a',
  colluder: '#7570b3',
};

interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly number[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round step for about `n` ticks over [0, max]. */
function tickStep(max: number, n: number): number {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
}

function short(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(1)}`;
}

/** Mean over a window of `w` epochs ending at each epoch. */
function smooth(values: readonly number[], w: number): number[] {
  let sum = 0;
  return values.map((v, i) => {
    sum += v - (i >= w ? (values[i - w] as number) : 0);
    return sum / Math.min(i + 1, w);
  });
}

function panel(x0: number, title: string, yLabel: string, series: readonly Series[], epochs: number): string {
  const max = Math.max(1, ...series.flatMap((s) => s.points));
  const step = tickStep(max, 5);
  const top = Math.ceil(max / step) * step;
  const xStep = tickStep(epochs, 5);
  const x = (e: number) => x0 + (e / Math.max(1, epochs - 1)) * PANEL_W;
  const y = (v: number) => TOP + PANEL_H - (v / top) * PANEL_H;
  const out: string[] = [
    `<text x="${x0 + PANEL_W / 2}" y="${TOP - 20}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x0}" y="${TOP}" width="${PANEL_W}" height="${PANEL_H}" fill="none" stroke="#888"/>`,
  ];
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end">${short(v)}</text>`);
  }
  for (let e = 0; e < epochs; e += xStep) {
    out.push(`<text x="${x(e)}" y="${TOP + PANEL_H + 16}" text-anchor="middle">${e}</text>`);
  }
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${TOP + PANEL_H + 34}" text-anchor="middle">epoch</text>`);
  out.push(
    `<text x="${x0 - 58}" y="${TOP + PANEL_H / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 ${x0 - 58} ${TOP + PANEL_H / 2})">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const stride = Math.max(1, Math.floor(s.points.length / 500));
    const pts: string[] = [];
    for (let e = 0; e < s.points.length; e += stride)
      pts.push(`${x(e).toFixed(1)},${y(s.points[e] as number).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    // The legend goes under the panel, where it hides no line.
    const ly = LEGEND_TOP + i * 16;
    out.push(
      `<line x1="${x0}" x2="${x0 + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"/>`,
    );
    out.push(`<text x="${x0 + 24}" y="${ly}">${esc(s.label)}</text>`);
  });
  return out.join('\n');
}

export function renderSvg(results: readonly SimResult[]): string {
  const epochs = Math.max(0, ...results.map((r) => r.supply.length));
  const scenario = (r: SimResult) => `${Math.round(r.options.dishonestShare * 100)}% dishonest`;
  const colour = (i: number) => SCENARIO_COLOURS[i % SCENARIO_COLOURS.length] as string;
  const minting: Series[] = results.map((r, i) => ({
    label: scenario(r),
    colour: colour(i),
    points: r.supply.map((s, e) => Number(s.minted - (e === 0 ? 0n : (r.supply[e - 1]?.minted ?? 0n)))),
  }));
  const burned: Series[] = results.map((r, i) => ({
    label: scenario(r),
    colour: colour(i),
    points: r.supply.map((s) => Number(s.burned)),
  }));
  const worst = [...results].sort((a, b) => b.options.dishonestShare - a.options.dishonestShare)[0];
  const earnings: Series[] =
    worst === undefined
      ? []
      : RELAY_CLASSES.filter((c) => worst.classes[c].relayEpochs > 0).map((c) => ({
          label: c,
          colour: CLASS_COLOURS[c],
          points: smooth(
            worst.supply.map((s) => s.paidPerRelay[c]),
            20,
          ),
        }));
  const x = (i: number) => LEFT + i * (PANEL_W + GAP);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      'font-family="sans-serif" font-size="11">',
    `<rect width="${W}" height="${H}" fill="white"/>`,
    panel(x(0), 'Credits minted per epoch (supply growth)', 'credits', minting, epochs),
    panel(x(1), 'Credits burned (penalised bonds), total', 'credits', burned, epochs),
    panel(
      x(2),
      `Paid per relay per epoch (${worst === undefined ? '' : scenario(worst)}, 20-epoch mean)`,
      'credits',
      earnings,
      epochs,
    ),
    '</svg>',
    '',
  ].join('\n');
}
