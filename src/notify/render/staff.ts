import { dayCb, lessonCb, pmListCb } from '../../bot/callbacks/journal.js';
import type { OutboxDoc } from '../../db/models/notify.js';
import type { StaffReminder } from '../../domain/notices/staff.js';
import { compactDate, fullDate } from '../../domain/shared/calendar.js';
import { oneButton, periodName, type RenderedMessage } from './common.js';
import type { Translate } from '../../i18n.js';

/**
 * The journal's reminders to staff (R19, queued by src/jobs/journal.ts): a lesson without
 * attendance, with a button that opens it; the end-of-day list, with a button that opens the day.
 */
export function renderStaffReminder(t: Translate, doc: OutboxDoc, base: RenderedMessage): RenderedMessage {
  const reminder = { kind: doc.kind, payload: doc.payload ?? {} } as StaffReminder;
  if (reminder.kind === 'attendanceReminder') {
    const p = reminder.payload;
    return {
      ...base,
      text: t('attendance.reminder', {
        no: p.lessonNo ?? '',
        time: p.start && p.end ? `${p.start}–${p.end}` : '',
        className: p.className,
        subject: p.subject,
      }),
      replyMarkup: oneButton(t('attendance.reminderOpen'), lessonCb.pack({ l: p.lessonId })),
    };
  }
  if (reminder.kind === 'periodMarksReminder') {
    const lines = reminder.payload.items.map((i) =>
      t('periodMarks.reminderLine', {
        className: i.groupName ? `${i.className} (${i.groupName})` : i.className,
        subject: i.subject,
        period: periodName(t, i.periodCode),
        missing: i.missing,
        until: fullDate(i.closesOn),
      }),
    );
    return {
      ...base,
      text: [t('periodMarks.reminderTitle'), ...lines].join('\n'),
      replyMarkup: oneButton(t('periodMarks.reminderOpen'), pmListCb.pack({})),
    };
  }
  const p = reminder.payload;
  const lines = p.lessons.map((l) =>
    t('today.eodLine', {
      no: l.lessonNo ?? '',
      className: l.className,
      subject: l.subject,
      missing: l.missing.map((m) => t(`today.missing.${m}`)).join(', '),
    }),
  );
  return {
    ...base,
    text: [t('today.eodTitle'), ...lines].join('\n'),
    replyMarkup: oneButton(t('today.open'), dayCb.pack({ d: compactDate(p.date) })),
  };
}
