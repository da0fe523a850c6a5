import type { Locale } from '../../config.js';
import { periodSummary, weekSummary } from '../../domain/diary/summaries.js';
import { loadActor } from '../../domain/school/actor.js';
import { dayMonth } from '../../domain/shared/calendar.js';
import type { Translate } from '../../i18n.js';
import { clip, MAX_TEXT, periodName, type SingleRenderer } from './common.js';

/**
 * The weekly digest (R25) and the join summary (R23): read from the diary at send time, as the
 * recipient (src/domain/notices/summaries.ts only decides who gets one and when).
 */
export const renderSummary: SingleRenderer = async (input, doc, base, nothing) => {
  const { db, t, now } = input;
  // Read as the recipient (R4): a guardianship removed since then means no message.
  const actor = doc.recipientId ? await loadActor(db, doc.recipientId) : undefined;
  if (!actor || !doc.studentId) return nothing();
  try {
    const text =
      doc.kind === 'digest'
        ? digestText(t, input.locale, await weekSummary(db, actor, String(doc.studentId), now))
        : joinSummaryText(t, input.locale, await periodSummary(db, actor, String(doc.studentId), now));
    return { ...base, text: clip(text, MAX_TEXT) };
  } catch {
    return nothing();
  }
};

const avg = (n: number | undefined, locale: Locale) =>
  n === undefined
    ? '—'
    : n.toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function trend(now: number | undefined, before: number | undefined, locale: Locale): string {
  if (now === undefined || before === undefined) return '';
  const d = Math.round((now - before) * 100) / 100;
  if (d > 0) return ` ↑ +${avg(d, locale)}`;
  if (d < 0) return ` ↓ ${avg(d, locale)}`;
  return ' =';
}

export function digestText(t: Translate, locale: Locale, w: Awaited<ReturnType<typeof weekSummary>>): string {
  const lines = [t('digest.title', { name: w.student.name, from: dayMonth(w.from), to: dayMonth(w.to) })];
  lines.push('', t('digest.marks'));
  if (w.subjects.length === 0) lines.push(t('digest.noMarks'));
  for (const s of w.subjects) {
    lines.push(
      t('digest.subject', {
        subject: s.subject,
        marks: s.marks.length ? s.marks.join(' ') : '—',
        average: avg(s.average, locale),
      }) + trend(s.average, s.previousAverage, locale),
    );
  }
  lines.push('', t('digest.absences', { n: w.absences.length }));
  for (const a of w.absences.slice(0, 20)) {
    lines.push(t('digest.absence', { date: dayMonth(a.date), subject: a.subject, code: a.code }));
  }
  lines.push('', t('digest.homework'));
  if (w.homework.length === 0) lines.push(t('digest.noHomework'));
  for (const h of w.homework.slice(0, 25)) {
    lines.push(t('digest.homeworkLine', { date: dayMonth(h.dueOn), subject: h.subject, text: clip(h.text, 200) }));
  }
  return lines.join('\n');
}

export function joinSummaryText(t: Translate, locale: Locale, s: Awaited<ReturnType<typeof periodSummary>>): string {
  const lines = [
    t('notify.join.title', {
      name: s.student.name,
      period: s.period ? periodName(t, s.period.code) : t('notify.join.recent'),
    }),
  ];
  if (s.subjects.length === 0) lines.push(t('notify.join.noMarks'));
  for (const sub of s.subjects) {
    lines.push(t('notify.join.subject', { subject: sub.subject, n: sub.count, average: avg(sub.average, locale) }));
  }
  lines.push(
    '',
    t('notify.join.absences', { n: s.absences.Н ?? 0, b: s.absences.Б ?? 0, u: s.absences.У ?? 0 }),
    '',
    t('notify.join.next'),
  );
  return lines.join('\n');
}
