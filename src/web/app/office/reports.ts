/**
 * The report figures (issue 14's definitions, R26–R28) for a class or the school: success, quality, СОУ
 * and the average as headline numbers and a bar chart per class (school) or subject (class), the missed
 * lessons, and the journal's filling per teacher. Who may open what is the server's (resolveReportScope).
 */
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { type Load, useApi, whenReady } from '../family/load.js';
import { formatDate, t } from '../i18n.js';
import { Select, html } from '../ui.js';
import { BarsChart } from './bars.js';
import { number, percent } from './common.js';
import type { ReportData, ReportFillingRow, ReportOptions } from './types.js';

export function ReportsView() {
  const options = useApi<ReportOptions>('/reports/options');
  return whenReady(options, (o) => html`<${ReportPicker} options=${o} />`);
}

function ReportPicker(props: { options: ReportOptions }) {
  const { options } = props;
  const scopes = [...(options.school ? [{ value: 'school', label: t('office.reports.school') }] : []), ...options.classes.map((c) => ({ value: c.id, label: c.name }))];
  const [scope, setScope] = useState(scopes[0]?.value ?? '');
  const [period, setPeriod] = useState('');
  const path = `/reports${query(scope === 'school' ? { kind: 'school', period } : { kind: 'class', classId: scope, period })}`;
  const load = useApi<ReportData>(path);
  const periods = load.kind === 'ready' ? load.data.periods : [];
  return html`<section class="office-reports" data-testid="office-reports">
    <div class="toolbar">
      ${scopes.length > 1 ? html`<${Select} name="scope" label=${t('office.reports.scope')} value=${scope} options=${scopes} onChange=${(v: string) => { setScope(v); setPeriod(''); }} />` : null}
      ${periods.length > 0
        ? html`<${Select} name="period" label=${t('office.reports.period')} value=${period || (load.kind === 'ready' ? (load.data.period?.code ?? '') : '')}
            options=${periods.map((p) => ({ value: p.code, label: p.name }))} onChange=${setPeriod} />`
        : null}
    </div>
    ${report(load, scope === 'school')}
  </section>`;
}

function report(load: Load<ReportData>, school: boolean) {
  return whenReady(load, (r) => {
    const rowsLabel = school ? t('office.reports.byClass') : t('office.reports.bySubject');
    return html`<div data-testid="report" data-title=${r.title}>
      <h2 class="office-h2">${r.title}
        <span class="muted small">${formatDate(r.from)} – ${formatDate(r.to)}${r.source === 'currentMarks' ? ` · ${t('office.reports.fromCurrent')}` : ''}</span></h2>
      <div class="kpis">
        <${Kpi} label=${t('office.reports.success')} value=${percent(r.overall.successPct)} />
        <${Kpi} label=${t('office.reports.quality')} value=${percent(r.overall.qualityPct)} />
        <${Kpi} label=${t('office.reports.sou')} value=${percent(r.overall.sou)} />
        <${Kpi} label=${t('office.reports.average')} value=${number(r.overall.averageMark)} />
      </div>
      ${r.rows.length > 0
        ? html`<section class="card">
            <h3 class="office-h3">${rowsLabel}</h3>
            <${BarsChart}
              labels=${r.rows.map((x) => x.name)}
              series=${[
                { label: t('office.reports.success'), color: '#2f9e44', values: r.rows.map((x) => x.successPct) },
                { label: t('office.reports.quality'), color: '#1c7ed6', values: r.rows.map((x) => x.qualityPct) },
              ]}
            />
            <table class="office-table">
              <thead><tr><th></th><th>${t('office.reports.successShort')}</th><th>${t('office.reports.qualityShort')}</th><th>${t('office.reports.souShort')}</th><th>${t('office.reports.averageShort')}</th></tr></thead>
              <tbody>
                ${r.rows.map((x) => html`<tr><th>${x.name}</th><td>${percent(x.successPct)}</td><td>${percent(x.qualityPct)}</td><td>${percent(x.sou)}</td><td>${number(x.averageMark)}</td></tr>`)}
              </tbody>
            </table>
          </section>`
        : html`<p class="muted pad">${t('office.reports.noMarks')}</p>`}
      <section class="card">
        <h3 class="office-h3">${t('office.reports.attendance')}</h3>
        ${r.attendance.lessons === 0
          ? html`<p class="muted">${t('office.reports.noLessons')}</p>`
          : html`<p>${t('office.reports.missed', { missed: r.attendance.missed, lessons: r.attendance.lessons })} · <strong>${percent(r.attendance.missedPct)}</strong></p>`}
        <p class="muted small">Н ${r.attendance.byReason.Н} · Б ${r.attendance.byReason.Б} · У ${r.attendance.byReason.У}</p>
        ${r.attendanceRows.filter((x) => x.missed > 0).slice(0, 8).map((x) => html`<${Meter} label=${x.name} value=${x.missedPct} max=${Math.max(10, ...r.attendanceRows.map((y) => y.missedPct ?? 0))} tone="warn" />`)}
      </section>
      <section class="card" data-testid="filling">
        <h3 class="office-h3">${t('office.reports.filling')}</h3>
        <${Filling} row=${r.filling} />
        ${r.fillingRows.length > 1
          ? html`<table class="office-table">
              <thead><tr><th>${t('office.reports.teacher')}</th><th>${t('office.reports.held')}</th><th>${t('office.reports.attendanceShort')}</th><th>${t('office.reports.topicShort')}</th><th>${t('office.reports.onTimeShort')}</th></tr></thead>
              <tbody>${r.fillingRows.map((x) => html`<tr><th>${x.name}</th><td>${x.held}</td><td>${percent(x.attendancePct)}</td><td>${percent(x.topicPct)}</td><td>${percent(x.onTimePct)}</td></tr>`)}</tbody>
            </table>`
          : null}
      </section>
    </div>`;
  });
}

function Kpi(props: { label: string; value: string }) {
  return html`<div class="kpi"><strong>${props.value}</strong><span>${props.label}</span></div>`;
}

function Meter(props: { label: string; value: number | null; max?: number; tone?: 'ok' | 'warn' }) {
  const max = props.max ?? 100;
  const width = props.value == null ? 0 : Math.min(100, (props.value / max) * 100);
  return html`<div class="meter">
    <span class="meter-label">${props.label}</span>
    <span class="meter-bar"><span class=${`meter-fill ${props.tone ?? 'ok'}`} style=${`width:${width}%`}></span></span>
    <span class="meter-value">${percent(props.value)}</span>
  </div>`;
}

function Filling(props: { row: ReportFillingRow }) {
  const r = props.row;
  return html`<div>
    <p class="muted small">${t('office.reports.heldMarks', { held: r.held, marks: r.marks })}</p>
    <${Meter} label=${t('office.reports.attendanceTaken')} value=${r.attendancePct} />
    <${Meter} label=${t('office.reports.topics')} value=${r.topicPct} />
    <${Meter} label=${t('office.reports.homework')} value=${r.homeworkPct} />
    <${Meter} label=${t('office.reports.onTime')} value=${r.onTimePct} />
  </div>`;
}
