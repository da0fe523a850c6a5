import { NOTIFY_MODES, PREF_KINDS } from '../../domain/shared/vocabulary.js';
import { cbField, defineCallback } from './index.js';

/**
 * The button formats of the family's screens (/children, /diary, /notifications, /absent) and of
 * the teacher's /acks. Buttons carry ids only; every handler passes what it unpacks to a domain use
 * case that refuses a student the presser may not see (R4), so a forged button shows nothing.
 * A leaf: nothing here knows grammY or the domain's use cases. Prefixes and field order are frozen
 * (buttons already sent must keep working).
 */
const oid = cbField.objectId;

/** A family's view of its children (src/bot/features/diary/children.ts). */
export const childCb = defineCallback('child', { s: oid() });

// Diary (R24): a section of one student's diary, page p; a lesson's homework files.
/** f: period and year marks (R24). */
export const DIARY_SECTIONS = ['menu', 'm', 'h', 't', 'a', 'p', 'k', 'g', 'f'] as const;
export const diaryCb = defineCallback('dia', { a: cbField.enumOf(DIARY_SECTIONS), s: oid(), p: cbField.int(0, 999) });
export const fileCb = defineCallback('dfile', { l: oid(), s: oid() });

// Notification settings per child and kind, and the digest's day and hour.
export const prefsChildCb = defineCallback('npc', { s: oid() });
export const prefsModeCb = defineCallback('np', {
  s: oid(),
  k: cbField.enumOf(PREF_KINDS),
  m: cbField.enumOf(NOTIFY_MODES),
});
export const prefsDigestCb = defineCallback('npd', { s: oid(), w: cbField.int(0, 7), h: cbField.int(0, 23) });
/** R25: the weekly letter on paper, p = the state the press sets (a parent of s only). */
export const prefsPaperCb = defineCallback('npp', { s: oid(), p: cbField.bool() });

// "Acknowledged" (the button itself is ackCb in ./notices.ts) and the teacher's /acks.
export const ackDoneCb = defineCallback('ackd', {});
export const lessonAcksCb = defineCallback('acks', { l: oid() });

// /absent: the parent's report. d is an index into ABSENCE_DAY_CHOICES, r into ABSENCE_REASONS;
// both tables are part of the format (a button already sent means the same days and reason).
export const ABSENCE_DAY_CHOICES = [
  { from: 0, days: 1 },
  { from: 1, days: 1 },
  { from: 0, days: 2 },
  { from: 0, days: 3 },
  { from: 0, days: 7 },
] as const;
/** i = illness, f = family reasons. */
export const ABSENCE_REASONS = ['i', 'f'] as const;
const dayChoice = () => cbField.int(0, ABSENCE_DAY_CHOICES.length - 1);
export const reportChildCb = defineCallback('abs1', { s: oid() });
export const reportDaysCb = defineCallback('abs2', { s: oid(), d: dayChoice() });
/** The reason step and the send step carry the same fields: the student, the days, the reason. */
const reasoned = () => ({ s: oid(), d: dayChoice(), r: cbField.enumOf(ABSENCE_REASONS) });
export const reportReasonCb = defineCallback('abs3', reasoned());
export const reportSendCb = defineCallback('abs4', reasoned());
export const reportCancelCb = defineCallback('abs0', {});
