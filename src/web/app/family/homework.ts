/** The week's homework, day by day, with a step to the previous and next week. */
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { formatDate, t } from '../i18n.js';
import type { ChildHomework } from '../types.js';
import { html } from '../ui.js';
import { useApi, whenReady } from './load.js';

/** A date `weeks` weeks from today (the server takes any date of the week it shows). */
export function weekDate(weeks: number, today = new Date()) {
  return new Date(today.getTime() + weeks * 7 * 86_400_000).toISOString().slice(0, 10);
}

export function HomeworkList(props: { childId: string }) {
  const [weeks, setWeeks] = useState(0);
  const load = useApi<ChildHomework>(`/children/${encodeURIComponent(props.childId)}/homework${query({ week: weekDate(weeks) })}`);
  return html`<section class="card homework" data-testid="homework">
    ${whenReady(load, (data) => {
      const days = [...new Set(data.items.map((i) => i.date))].sort();
      return html`<div class="month-nav">
          <button type="button" class="icon-btn" aria-label=${t('family.prevWeek')} onClick=${() => setWeeks(weeks - 1)}>‹</button>
          <strong>${formatDate(data.week.from)} – ${formatDate(data.week.to)}</strong>
          <button type="button" class="icon-btn" aria-label=${t('family.nextWeek')} onClick=${() => setWeeks(weeks + 1)}>›</button>
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
