/**
 * Attendance as a month calendar: days with absences coloured by code (R19: Н unexcused, Б ill,
 * У excused; a day with several codes takes the most serious, Н), the month's totals, and the
 * lessons missed on a tapped day.
 */
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { capitalize, dateFormat, formatDate, t } from '../i18n.js';
import type { AttendanceDay, ChildAttendance } from '../types.js';
import { html } from '../ui.js';
import { useApi, whenReady } from './load.js';

const SEVERITY = ['Н', 'Б', 'У'];

function iso(d: Date) {
  return d.toISOString().slice(0, 10);
}

/** The first and last day of the month `offset` months from today's. */
export function monthRange(offset: number, today = new Date()) {
  const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + offset, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0));
  return { first, last, from: iso(first), to: iso(last) };
}

export function dayCode(day: AttendanceDay): string {
  const codes = new Set(day.absences.map((a) => a.code));
  return SEVERITY.find((c) => codes.has(c as never)) ?? day.absences[0]?.code ?? '';
}

export function AttendanceCalendar(props: { childId: string }) {
  const [offset, setOffset] = useState(0);
  const [picked, setPicked] = useState<string | null>(null);
  const range = monthRange(offset);
  const load = useApi<ChildAttendance>(
    `/children/${encodeURIComponent(props.childId)}/attendance${query({ from: range.from, to: range.to })}`,
  );
  const title = capitalize(dateFormat({ month: 'long', year: 'numeric' }).format(range.first));
  return html`<section class="card calendar" data-testid="attendance">
    <div class="month-nav">
      <button type="button" class="icon-btn" aria-label=${t('family.prevMonth')} onClick=${() => setOffset(offset - 1)}>‹</button>
      <strong class="month-title">${title}</strong>
      <button type="button" class="icon-btn" aria-label=${t('family.nextMonth')} disabled=${offset >= 0} onClick=${() => setOffset(offset + 1)}>›</button>
    </div>
    ${whenReady(load, (data) => {
      const byDate = new Map(data.days.map((d) => [d.date, d]));
      const lead = (range.first.getUTCDay() + 6) % 7; // Monday first
      const cells: Array<string | null> = [...Array.from({ length: lead }, () => null)];
      for (let d = 1; d <= range.last.getUTCDate(); d++) cells.push(`${range.from.slice(0, 8)}${String(d).padStart(2, '0')}`);
      const weekdays = Array.from({ length: 7 }, (_, i) =>
        dateFormat({ weekday: 'short' }).format(new Date(Date.UTC(2024, 0, 1 + i))),
      );
      const chosen = picked ? byDate.get(picked) : undefined;
      return html`<div class="cal-grid" role="grid">
          ${weekdays.map((w) => html`<div class="cal-wd">${w}</div>`)}
          ${cells.map((date) => {
            if (!date) return html`<div class="cal-day empty"></div>`;
            const day = byDate.get(date);
            const code = day ? dayCode(day) : '';
            return html`<button type="button" class=${`cal-day${code ? ` code-${SEVERITY.indexOf(code)}` : ''}${picked === date ? ' picked' : ''}`}
              data-date=${date} data-code=${code} disabled=${!day} onClick=${() => setPicked(date)}>
              <span>${Number(date.slice(8))}</span>${code ? html`<small>${code}</small>` : null}
            </button>`;
          })}
        </div>
        <ul class="cal-legend">
          ${SEVERITY.map(
            (code, i) => html`<li><span class=${`dot code-${i}`}></span>${t(`family.code.${i}`)}: <strong>${data.totals[code as 'Н'] ?? 0}</strong></li>`,
          )}
        </ul>
        ${chosen
          ? html`<div class="cal-detail"><strong>${formatDate(chosen.date, { weekday: 'long', day: 'numeric', month: 'long' })}</strong>
              <ul>${chosen.absences.map((a) => html`<li>${a.subject} — ${a.code}</li>`)}</ul></div>`
          : data.days.length === 0
            ? html`<p class="muted">${t('family.noAbsences')}</p>`
            : null}`;
    })}
  </section>`;
}
