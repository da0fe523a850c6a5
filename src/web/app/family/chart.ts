/**
 * Marks by subject over time (uPlot, ~23 KB gzipped: a canvas, fast on a phone): one line per subject
 * with its marks as points, and a dashed flat line at the subject's weighted average for the period.
 * The legend is ours (chips under the chart): tapping a subject shows or hides its two lines.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatDate, formatNumber, t } from '../i18n.js';
import type { ChildMarks } from '../types.js';
import { html } from '../ui.js';

const PALETTE = ['#2e7dd7', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#e03131', '#5c7cfa', '#66a80f', '#a61e4d'];

type Subjects = ChildMarks['subjects'];

export function colorOf(index: number) {
  return PALETTE[index % PALETTE.length]!;
}

/** uPlot's columns: x = every mark's date (a second mark of a day a few hours later), then per subject its marks and its average. */
export function chartData(subjects: Subjects): uPlot.AlignedData {
  const xsBySubject = subjects.map((s) => {
    const seen = new Map<number, number>();
    return s.points.map((p) => {
      const day = Date.parse(`${p.date}T00:00:00Z`) / 1000;
      const k = seen.get(day) ?? 0;
      seen.set(day, k + 1);
      return day + 6 * 3600 + k * 4 * 3600;
    });
  });
  const xs = [...new Set(xsBySubject.flat())].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const columns: Array<Array<number | null>> = [];
  subjects.forEach((s, si) => {
    const marks: Array<number | null> = xs.map(() => null);
    s.points.forEach((p, pi) => {
      marks[at.get(xsBySubject[si]![pi]!)!] = p.value;
    });
    columns.push(marks, xs.map(() => s.average));
  });
  return [xs, ...columns] as uPlot.AlignedData;
}

function options(subjects: Subjects, width: number, period: ChildMarks['period'], xs: number[]): uPlot.Options {
  const css = getComputedStyle(document.documentElement);
  const text = css.getPropertyValue('--text').trim() || '#222';
  const grid = css.getPropertyValue('--hairline').trim() || '#ddd';
  const series: uPlot.Series[] = [{}];
  subjects.forEach((s, i) => {
    const stroke = colorOf(i);
    series.push(
      { label: s.name, stroke, width: 1.5, spanGaps: true, points: { show: true, size: 7, fill: stroke } },
      { label: `${s.name} ⌀`, stroke, width: 1.5, dash: [6, 5], points: { show: false } },
    );
  });
  // From the period's start to its last mark (not its end: the rest of a running quarter is empty space).
  const from = period ? Date.parse(`${period.from}T00:00:00Z`) / 1000 : undefined;
  const to = xs.length > 0 ? xs[xs.length - 1]! + 2 * 86_400 : undefined;
  return {
    width,
    height: Math.round(Math.min(320, Math.max(220, width * 0.62))),
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, ...(from && to ? { range: (_u, min, max) => [Math.min(from, min ?? from), Math.max(to, max ?? to)] } : {}) },
      y: { range: [1.5, 5.5] },
    },
    axes: [
      {
        stroke: text,
        grid: { stroke: grid, width: 1 },
        ticks: { show: false },
        space: 76,
        size: 34,
        values: (_u, splits) => splits.map((s) => formatDate(new Date(s * 1000).toISOString())),
      },
      { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 28, splits: () => [2, 3, 4, 5] },
    ],
    series,
  };
}

export function MarksChart(props: { subjects: Subjects; period: ChildMarks['period'] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [hidden, setHidden] = useState<Set<number>>(new Set());

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, el.clientWidth);
    const data = chartData(props.subjects);
    plot.current = new uPlot(options(props.subjects, width, props.period, data[0] as number[]), data, el);
    const resize = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (plot.current && Math.abs(plot.current.width - w) > 2) plot.current.setSize({ width: w, height: plot.current.height });
    });
    resize.observe(el);
    setHidden(new Set());
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [props.subjects, props.period]);

  const toggle = (i: number) => {
    const next = new Set(hidden);
    if (next.has(i)) next.delete(i);
    else next.add(i);
    setHidden(next);
    plot.current?.setSeries(1 + i * 2, { show: !next.has(i) });
    plot.current?.setSeries(2 + i * 2, { show: !next.has(i) });
  };

  return html`<div class="chart-wrap">
    <div class="chart" ref=${box} data-testid="marks-chart" data-series=${props.subjects.length} role="img" aria-label=${t('family.chartLabel')}></div>
    <p class="muted small">${t('family.chartHint')}</p>
    <ul class="chips">
      ${props.subjects.map(
        (s, i) => html`<li>
          <button type="button" class=${`chip${hidden.has(i) ? ' off' : ''}`} aria-pressed=${!hidden.has(i)} data-subject=${s.subjectId} onClick=${() => toggle(i)}>
            <span class="swatch" style=${`background:${colorOf(i)}`}></span>
            <span class="chip-name">${s.name}</span>
            <strong class="chip-avg">${s.average == null ? '—' : formatNumber(s.average)}</strong>
          </button>
        </li>`,
      )}
    </ul>
  </div>`;
}
