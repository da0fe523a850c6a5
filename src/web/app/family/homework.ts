/** The week's homework, day by day, with a step to the previous and next week. */
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { formatDate, t } from '../i18n.js';
import type { ChildHomework } from '../types.js';
import { html } from '../ui.js';
import { useApi, whenReady } from './load.js';

/** The date `days` days after the local date `iso` (the server takes any date of the week it shows). */
export function shiftDate(iso: string, days: number) {
  return new Date(Date.parse(`${iso}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export function HomeworkList(props: { childId: string }) {
  // First the school's current week (the server's today, not the phone's), then a step back or forward from it.
  const [week, setWeek] = useState<string | null>(null);
  const load = useApi<ChildHomework>(`/children/${encodeURIComponent(props.childId)}/homework${query({ week })}`);
  return html`<section class="card homework" data-testid="homework">
    ${whenReady(load, (data) => {
      const days = [...new Set(data.items.map((i) => i.date))].sort();
      return html`<div class="month-nav">
          <button type="button" class="icon-btn" aria-label=${t('family.prevWeek')} onClick=${() => setWeek(shiftDate(data.week.from, -7))}>‹</button>
          <strong>${formatDate(data.week.from)} – ${formatDate(data.week.to)}</strong>
          <button type="button" class="icon-btn" aria-label=${t('family.nextWeek')} onClick=${() => setWeek(shiftDate(data.week.from, 7))}>›</button>
        </div>
        ${days.length === 0 ? html`<p class="muted">${t('family.noHomework')}</p>` : null}
        ${days.map(
          (day) => html`<div class="hw-day">
            <h3>${formatDate(day, { weekday: 'long', day: 'numeric', month: 'long' })}</h3>
            <ul>
              ${data.items
                .filter((i) => i.date === day)
                .map(
                  (i) => html`<li><strong>${i.subject}</strong><div class="hw-text">${i.text}</div>
                    ${i.files > 0 ? html`<div class="muted small">${t('family.files', { count: i.files })}</div>` : null}</li>`,
                )}
            </ul>
          </div>`,
      )}`;
    })}
  </section>`;
}
