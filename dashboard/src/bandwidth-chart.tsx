// The bandwidth graph: uPlot, created once, fed new data on every sample, resized with its box.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { BandwidthSeries } from './bandwidth.ts';
import { bytes } from './format.ts';

export function BandwidthChart(props: { series: BandwidthSeries; version: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const axisValues = (_u: uPlot, ticks: number[]) => ticks.map((v) => `${bytes(v)}/s`);
    const p = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1024, max * 1.1)] } },
        axes: [
          // Samples are a second apart: whole seconds and up, shown as wall-clock time.
          { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600], values: timeValues, space: 70 },
          { values: axisValues, size: 80 },
        ],
        series: [
          {},
          { label: 'in', stroke: '#2b7bb9', fill: 'rgba(43,123,185,0.12)', value: (_u, v) => rate(v) },
          { label: 'out', stroke: '#d9822b', fill: 'rgba(217,130,43,0.12)', value: (_u, v) => rate(v) },
        ],
      },
      [[], [], []],
      el,
    );
    plot.current = p;
    const resize = new ResizeObserver(() => p.setSize({ width: Math.max(200, el.clientWidth), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      p.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    const s = props.series;
    plot.current?.setData([s.t, s.inBps, s.outBps]);
  }, [props.version]);

  return <div class="chart" ref={box} data-testid="bandwidth-chart" />;
}

function timeValues(_u: uPlot, ticks: number[]): string[] {
  return ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour12: false }));
}

function rate(v: number | null): string {
  return v === null ? '—' : `${bytes(v)}/s`;
}
