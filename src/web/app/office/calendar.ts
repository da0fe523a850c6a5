/**
 * The current year's calendar (calendar-edit.ts, mark-windows.ts; R15): the periods with their dates and
 * period-mark window (opened by the rule, or by the admin for the school), the holidays. The admin moves a
 * period's dates, adds or removes a holiday, opens, extends or closes a window; the server validates the
 * whole calendar and audits each change (R31).
 */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { whenReady } from '../family/load.js';
import { capitalize, formatDate, t } from '../i18n.js';
import { html } from '../ui.js';
import { Input, OutcomeNotice, ReadOnlyNote, useAction } from './common.js';
import type { OfficeData, OfficePeriodItem } from './types.js';
import type { OfficeState } from './use-office.js';

const span = (from: string, to: string) => `${formatDate(from)} – ${formatDate(to)}`;

export function CalendarView(props: { office: OfficeState }) {
  return whenReady(props.office.load, (data) => html`<${Calendar} data=${data} office=${props.office} />`);
}

function Calendar(props: { data: OfficeData; office: OfficeState }) {
  const { year, can } = props.data;
  const action = useAction();
  const [editing, setEditing] = useState<string | null>(null);
  if (!year) return html`<p class="muted pad">${t('office.calendar.noYear')}</p>`;
  const post = (path: string, body: unknown, ok: string) =>
    action.run(async () => props.office.set(await api<OfficeData>(path, { method: 'POST', body })), ok, () => setEditing(null));
  return html`<section class="card" data-testid="office-calendar">
    <h2 class="office-h2">${t('office.calendar.title', { name: year.name })} <span class="muted small">${span(year.startsOn, year.endsOn)}</span></h2>
    ${can.calendar ? null : html`<${ReadOnlyNote} />`}
    <${OutcomeNotice} outcome=${action.outcome} />
    <ul class="period-list">
      ${year.periods.map(
        (p) => html`<li data-period=${p.code}>
          <div class="period-row">
            <strong>${capitalize(p.name)}</strong>
            <span class="muted">${span(p.startsOn, p.endsOn)}${p.grades.length ? ` · ${t('office.calendar.grades', { grades: gradesText(p.grades) })}` : ''}</span>
          </div>
          ${p.kind === 'year' ? null : html`<div class=${`window window-${p.window.state}`} data-window=${p.window.state}>
            ${t(`office.calendar.window.${p.window.state}`)}: ${span(p.window.opensOn, p.window.closesOn)}
            ${p.window.source === 'default' ? null : html` <span class="badge">${t('office.calendar.changedBy')}</span>`}
          </div>`}
          ${can.calendar && p.kind !== 'year'
            ? html`<div class="row-actions">
                ${p.window.state === 'open'
                  ? html`<button type="button" class="btn btn-small" data-action="extend" disabled=${action.busy} onClick=${() => post('/office/windows', { periodCode: p.code, change: { action: 'extend', until: addDays(p.window.closesOn, 3) } }, t('office.calendar.extended'))}>${t('office.calendar.extend')}</button>
                      <button type="button" class="btn btn-small btn-danger" data-action="close" disabled=${action.busy} onClick=${() => post('/office/windows', { periodCode: p.code, change: { action: 'close' } }, t('office.calendar.closed'))}>${t('office.calendar.close')}</button>`
                  : html`<button type="button" class="btn btn-small" data-action="open" disabled=${action.busy} onClick=${() => post('/office/windows', { periodCode: p.code, change: { action: 'open' } }, t('office.calendar.opened'))}>${t('office.calendar.open')}</button>`}
                <button type="button" class="btn btn-small" data-action="dates" onClick=${() => setEditing(editing === p.code ? null : p.code)}>${t('office.calendar.dates')}</button>
              </div>`
            : null}
          ${editing === p.code ? html`<${PeriodDates} period=${p} busy=${action.busy} onSave=${(body: unknown) => post('/office/calendar', body, t('office.calendar.saved'))} />` : null}
        </li>`,
      )}
    </ul>
    <h3 class="office-h3">${t('office.calendar.holidays')}</h3>
    <ul class="holiday-list">
      ${year.holidays.length === 0 ? html`<li class="muted">${t('office.calendar.noHolidays')}</li>` : null}
      ${year.holidays.map(
        (h) => html`<li data-holiday=${h.startsOn}><span>${h.name}</span><span class="muted">${span(h.startsOn, h.endsOn)}</span>
          ${can.calendar ? html`<button type="button" class="btn btn-small btn-danger" data-action="remove-holiday" disabled=${action.busy} onClick=${() => post('/office/calendar', { op: 'removeHoliday', startsOn: h.startsOn }, t('office.calendar.saved'))}>${t('office.calendar.remove')}</button>` : null}
        </li>`,
      )}
    </ul>
    ${can.calendar ? html`<${HolidayForm} busy=${action.busy} onSave=${(body: unknown) => post('/office/calendar', body, t('office.calendar.saved'))} />` : null}
  </section>`;
}

function PeriodDates(props: { period: OfficePeriodItem; busy: boolean; onSave: (body: unknown) => void }) {
  const [from, setFrom] = useState(props.period.startsOn);
  const [to, setTo] = useState(props.period.endsOn);
  return html`<div class="inline-form">
    <${Input} type="date" name="startsOn" label=${t('office.calendar.from')} value=${from} onInput=${setFrom} />
    <${Input} type="date" name="endsOn" label=${t('office.calendar.to')} value=${to} onInput=${setTo} />
    <button type="button" class="btn btn-primary" data-action="save-dates" disabled=${props.busy}
      onClick=${() => props.onSave({ op: 'period', code: props.period.code, startsOn: from, endsOn: to })}>${t('office.calendar.saveDates')}</button>
  </div>`;
}

function HolidayForm(props: { busy: boolean; onSave: (body: unknown) => void }) {
  const [name, setName] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  return html`<div class="inline-form" data-testid="holiday-form">
    <${Input} name="holidayName" label=${t('office.calendar.holidayName')} value=${name} onInput=${setName} />
    <${Input} type="date" name="holidayFrom" label=${t('office.calendar.from')} value=${from} onInput=${setFrom} />
    <${Input} type="date" name="holidayTo" label=${t('office.calendar.to')} value=${to} onInput=${setTo} />
    <button type="button" class="btn btn-primary" data-action="add-holiday" disabled=${props.busy || !name.trim() || !from || !to}
      onClick=${() => props.onSave({ op: 'holiday', name: name.trim(), startsOn: from, endsOn: to })}>${t('office.calendar.addHoliday')}</button>
  </div>`;
}

/** "1-9", "10, 11". */
export function gradesText(grades: number[]): string {
  const sorted = [...grades].sort((a, b) => a - b);
  const contiguous = sorted.every((g, i) => i === 0 || g === (sorted[i - 1] ?? 0) + 1);
  return contiguous && sorted.length > 2 ? `${sorted[0]}–${sorted[sorted.length - 1]}` : sorted.join(', ');
}

function addDays(iso: string, days: number): string {
  const d = new Date(`${iso}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
