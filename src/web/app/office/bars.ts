/**
 * Grouped bars (uPlot, the chart library the family's chart already ships): one group per class or
 * subject, one bar per series (success, quality), 0–100 %. Names under the bars are cut to fit a phone;
 * the table under the chart has them whole. The legend is ours (coloured swatches).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../ui.js';

export interface BarSeries {
  label: string;
  color: string;
  values: Array<number | null>;
}

/** "Математика" → "Матем." when the slot is narrow. */
export function shortLabel(name: string, chars: number) {
  return name.length <= chars ? name : `${name.slice(0, Math.max(1, chars - 1))}.`;
}

function options(labels: string[], series: BarSeries[], width: number): uPlot.Options {
  const css = getComputedStyle(document.documentElement);
  const text = css.getPropertyValue('--text').trim() || '#222';
  const grid = css.getPropertyValue('--hairline').trim() || '#ddd';
  const n = series.length;
  const slot = (width - 40) / Math.max(1, labels.length);
  const chars = Math.max(3, Math.floor(slot / 7.5));
  const group = 0.7;
  return {
    width,
    height: 220,
    legend: { show: false },
    cursor: { show: false },
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: [0, 100] } },
    axes: [
      {
        stroke: text,
        grid: { show: false },
        ticks: { show: false },
        size: 30,
        splits: () => labels.map((_, i) => i),
        values: (_u, splits) => splits.map((i) => shortLabel(labels[i] ?? '', chars)),
      },
      { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 44, splits: () => [0, 25, 50, 75, 100], values: (_u, s) => s.map((v) => `${v}%`) },
    ],
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color,
        fill: s.color,
        width: 0,
        points: { show: false },
        // Two series side by side around each name: the first ends at it, the second starts there.
        paths: uPlot.paths.bars?.({ size: [group / n, 28], align: n === 2 ? (i === 0 ? -1 : 1) : 0 }),
      })),
    ],
  };
}

export function BarsChart(props: { labels: string[]; series: BarSeries[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data = [props.labels.map((_, i) => i), ...props.series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(options(props.labels, props.series, Math.max(280, el.clientWidth)), data, el);
    const resize = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (Math.abs(plot.width - w) > 2) plot.setSize({ width: w, height: plot.height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.labels, props.series]);
  return html`<div class="chart-wrap">
    <div class="chart" ref=${box} data-testid="bars-chart" data-bars=${props.labels.length} role="img" aria-label=${props.series.map((s) => s.label).join(', ')}></div>
    <p class="bar-legend">${props.series.map((s) => html`<span><i class="swatch" style=${`background:${s.color}`}></i>${s.label}</span>`)}</p>
  </div>`;
}
