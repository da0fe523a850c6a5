/**
 * The words of the school domain: roles, statuses, mark values, absence codes, notice kinds.
 * Defined here, used by the domain, the faces and the database schemas (which import them; not the reverse).
 */
export const STAFF_ROLES = ['admin', 'secretary', 'deputy', 'teacher'] as const;

export const ROLES = [...STAFF_ROLES, 'parent', 'student'] as const; // R1

export type StaffRole = (typeof STAFF_ROLES)[number];

export type Role = (typeof ROLES)[number];

/** 'graduated': left after the last grade when the year was closed (R5). */
export const STUDENT_STATUSES = ['studying', 'withdrawn', 'transferred', 'graduated'] as const;

/** `student.status` of a student still at the school (missing counts as studying): one filter everywhere. */
export const STUDYING_STATUS = {
  $nin: ['withdrawn', 'transferred', 'graduated'] as Array<'withdrawn' | 'transferred' | 'graduated'>,
};

/** R5: what becomes of a student at the end of the year; promoted by default (graduated in the last grade). */
export const STUDENT_OUTCOMES = ['promoted', 'conditional', 'repeating', 'expelled', 'graduated'] as const;

export type StudentOutcomeKind = (typeof STUDENT_OUTCOMES)[number];

/** The steps of closing a year, in order (domain/year/close.ts). */
export const YEAR_CLOSING_STEPS = ['readOnly', 'nextYear', 'classes', 'carryOver'] as const;

export type YearClosingStep = (typeof YEAR_CLOSING_STEPS)[number];

export const EDUCATION_FORMS = ['regular', 'home', 'hospital'] as const; // R18

export const ABSENCE_CODES = ['Н', 'Б', 'У'] as const; // R19: unexcused, ill, excused

export type AbsenceCode = (typeof ABSENCE_CODES)[number];

export const MARK_VALUES = [2, 3, 4, 5] as const; // R11

export const PERIOD_MARK_VALUES = ['2', '3', '4', '5', 'Н', 'Б', 'У', 'К'] as const; // R16

export const NOTICE_KINDS = [
  'mark',
  'absence',
  'homework',
  'periodMark',
  'digest',
  'joinSummary',
  'familyBlocked',
  // A connected person is being moved to another Telegram account: the old account is told (issue 11).
  'accountRebind',
  'absenceReport',
  'absenceReportDecision',
  'message',
  // To staff from the journal's jobs (R19): a lesson without attendance, the end-of-day list.
  'attendanceReminder',
  'endOfDay',
  // R15: period marks missing while the entry window is open.
  'periodMarksReminder',
] as const;

export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const OUTBOX_STATUSES = ['pending', 'claimed', 'sending', 'sent', 'cancelled', 'dropped', 'failed'] as const;

export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** urgent: goes through quiet hours; low: sent silently (disable_notification). */
export const PRIORITIES = ['urgent', 'normal', 'low'] as const;

export type Priority = (typeof PRIORITIES)[number];

export const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, normal: 1, low: 2 };

export const NOTIFY_MODES = ['instant', 'digest', 'off'] as const;

export type NotifyMode = (typeof NOTIFY_MODES)[number];

export const PREF_KINDS = ['mark', 'absence', 'homework', 'periodMark'] as const;

export type PrefKind = (typeof PREF_KINDS)[number];

export const THREAD_MESSAGE_KINDS = ['text', 'photo', 'document', 'voice'] as const;

export type ThreadMessageKind = (typeof THREAD_MESSAGE_KINDS)[number];

export const ANNOUNCEMENT_RECEIPT_STATUSES = ['pending', 'delivered', 'failed'] as const;

export type AnnouncementReceiptStatus = (typeof ANNOUNCEMENT_RECEIPT_STATUSES)[number];

export const PENDING_IMPORT_STATUSES = ['pending', 'running', 'done', 'rejected', 'cancelled', 'failed'] as const;
