import { z } from 'zod';
import { PERIOD_MARK_VALUES } from '../../domain/shared/vocabulary.js';
import { cbField, defineCallback } from './index.js';

/**
 * Callback data of the journal's screens, all under 64 bytes: ids are 24 hex characters; students
 * travel as an index into the roster frozen in the draft or screen plus the roster's 8-character
 * version (so 40 students fit, and a button from an older roster is detected, never misapplied).
 * Every handler passes what it unpacks to a domain use case that checks the actor's rights again.
 */
const oid = cbField.objectId;
const ver = () => z.string().regex(/^[0-9a-f]{8}$/);
const day = () => z.string().regex(/^\d{8}$/);
const idx = () => cbField.int(0, 99);
/** A mark value as pressed; the domain (not the parser) refuses anything but 2–5 (R11). */
const rawValue = () => z.string().regex(/^[^:]{1,3}$/);
const token = () => z.string().regex(/^[A-Za-z0-9_-]{6,12}$/);

// Days and lessons
export const dayCb = defineCallback('jd', { d: day() });
export const classDayCb = defineCallback('jcd', { c: oid(), d: day() });
/** Date picker of the last weeks; c: '-' for the teacher's own lessons, else a class id. */
export const pickDateCb = defineCallback('jpk', { c: z.string().regex(/^(-|[0-9a-f]{24})$/) });
export const lessonCb = defineCallback('ls', { l: oid() });
/** Class picker; m: j = journal of a day, a = absences (R20), h = history (R31). */
export const classesCb = defineCallback('jcl', { m: cbField.enumOf(['j', 'a', 'h'] as const), p: cbField.int(0, 20) });

// Attendance
export const attOpenCb = defineCallback('ao', { l: oid() });
export const attToggleCb = defineCallback('at', { l: oid(), v: ver(), i: idx() });
export const attAllCb = defineCallback('aa', { l: oid(), v: ver() });
export const attSaveCb = defineCallback('as', { l: oid(), v: ver() });

// Marks
export const marksCb = defineCallback('mr', { l: oid(), k: cbField.int(0, 30) });
export const markStudentCb = defineCallback('ms', { l: oid(), v: ver(), i: idx(), k: cbField.int(0, 30) });
export const markValueCb = defineCallback('mv', { l: oid(), v: ver(), i: idx(), m: rawValue(), k: cbField.int(0, 30), t: token() });
export const markEditCb = defineCallback('me', { m: oid() });
export const markChangeCb = defineCallback('mc', { m: oid(), x: rawValue() });
export const markKindCb = defineCallback('mk', { m: oid(), k: cbField.int(0, 30) });
export const markDeleteCb = defineCallback('md', { m: oid() });
export const markCommentCb = defineCallback('mn', { m: oid() });
export const bulkStartCb = defineCallback('mb', { l: oid(), k: cbField.int(0, 30) });
/** Inside the bulk-marks conversation: v = value, s = skip, a = absent, x = stop. */
export const bulkCb = defineCallback('bk', { a: cbField.enumOf(['v', 's', 'a', 'x'] as const), m: rawValue(), i: idx() });
/** Pickers inside the grant conversation: c = class, t = teacher, r = range in days. */
export const grantPickCb = defineCallback('gp', { s: cbField.enumOf(['c', 't', 'r'] as const), i: cbField.int(0, 500) });

// Topic, plan, homework
export const topicCb = defineCallback('tp', { l: oid() });
export const topicAcceptCb = defineCallback('ta', { l: oid(), p: oid() });
export const topicTextCb = defineCallback('tt', { l: oid() });
export const planPickCb = defineCallback('pl', { i: cbField.int(0, 200) });
export const planUploadCb = defineCallback('pu', { i: cbField.int(0, 200) });
export const homeworkCb = defineCallback('hw', { l: oid() });
export const homeworkEnterCb = defineCallback('hn', { l: oid(), n: cbField.bool() });
export const homeworkFilesCb = defineCallback('hf', { l: oid() });

// The grants in force (R7): the list, "revoke?" and its "yes" (src/bot/features/journal/grants.ts).
export const grantsCb = defineCallback('grl', {});
export const grantRevokeAskCb = defineCallback('grq', { g: oid() });
export const grantRevokeCb = defineCallback('grx', { g: oid() });

// /arrivals (R18): student, year and subject travel in full as cbField.shortObjectId (shortId), p is
// an index into the year's periods.
const arrivalPeriod = () => cbField.int(0, 30);
const arrivalSid = cbField.shortObjectId;
export const arrivalsListCb = defineCallback('tml', {});
export const arrivalStudentCb = defineCallback('tms', { s: arrivalSid() });
export const arrivalPeriodCb = defineCallback('tmp', { s: arrivalSid(), y: arrivalSid(), p: arrivalPeriod() });
export const arrivalSubjectCb = defineCallback('tmj', { s: arrivalSid(), y: arrivalSid(), p: arrivalPeriod(), j: arrivalSid() });
export const arrivalValueCb = defineCallback('tmv', {
  s: arrivalSid(),
  y: arrivalSid(),
  p: arrivalPeriod(),
  j: arrivalSid(),
  v: cbField.enumOf(PERIOD_MARK_VALUES),
});

// Deputy and admin
export const cancelLessonCb = defineCallback('lx', { l: oid() });
export const lessonHistoryCb = defineCallback('hl', { l: oid(), p: cbField.int(0, 10_000) });
export const historyClassCb = defineCallback('hc', { c: oid() });
export const studentHistoryCb = defineCallback('hs', { s: oid(), p: cbField.int(0, 10_000) });
export const absencesCb = defineCallback('ab', { c: oid(), d: day() });
export const absenceReasonCb = defineCallback('ar', {
  a: oid(),
  c: cbField.enumOf(['Н', 'Б', 'У'] as const),
  w: cbField.bool(),
});
export const absencePickCb = defineCallback('ap', { a: oid() });

/** Cancel button of the journal's text prompts (conversations). */
export const promptCancelCb = defineCallback('jx', {});
/** Done button of the homework conversation. */
export const promptDoneCb = defineCallback('jy', {});

// Period and year marks (R15–R17): a class or group and a subject as 16 characters of base64url
// (24 hex would not fit 64 bytes), the period code, and a student as an index into the sheet's
// roster with the roster's own 6-character hash.
const sid = cbField.shortObjectId;
const periodCode = () => z.string().regex(/^(q[1-4]|h[12]|t[1-3]|year)$/);
const rosterHash = () => z.string().regex(/^[A-Za-z0-9_-]{6}$/);
const pmRef = { g: cbField.bool(), o: sid(), j: sid(), p: periodCode() };
export const pmListCb = defineCallback('pml', {});
export const pmClassCb = defineCallback('pmc', { c: sid() });
export const pmSheetCb = defineCallback('pms', pmRef);
export const pmAcceptCb = defineCallback('pma', pmRef);
export const pmStudentCb = defineCallback('pmt', { ...pmRef, i: cbField.int(0, 99), h: rosterHash() });
export const pmValueCb = defineCallback('pmv', { ...pmRef, i: cbField.int(0, 99), h: rosterHash(), v: cbField.enumOf(PERIOD_MARK_VALUES) });
export const pmWindowCb = defineCallback('pmw', { ...pmRef, a: cbField.enumOf(['open', 'week', 'close'] as const) });
