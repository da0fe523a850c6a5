import { cbField, defineCallback } from './index.js';

/**
 * The button formats of messaging and announcements, each under 64 bytes (those under delivered
 * notices, made by src/notify, are in src/bot/callbacks/notices.ts). A handler passes what it
 * unpacks to a domain use case, which checks the actor's rights again (a forged button is refused there).
 */

// ───────────────────────────── teacher–family messaging ─────────────────────────────

export const writeChildCb = defineCallback('msgc', { s: cbField.objectId() });
export const writeTeacherCb = defineCallback('msgt', { s: cbField.objectId(), t: cbField.objectId() });
export const threadOpenCb = defineCallback('msgo', { t: cbField.objectId(), p: cbField.int(0, 10_000) });
export const composeDoneCb = defineCallback('msgx', {});
/** Under the sender's confirmation: take the message back (10 minutes). */
export const recallCb = defineCallback('msgk', { m: cbField.objectId() });
export const muteCb = defineCallback('msgm', { t: cbField.objectId(), on: cbField.int(0, 1) });
export const reportCb = defineCallback('msgp', { t: cbField.objectId() });
/** A teacher's /write: class → student → parent. */
export const teacherClassCb = defineCallback('msgwc', { c: cbField.objectId() });
export const teacherStudentCb = defineCallback('msgws', { s: cbField.objectId() });
export const teacherParentCb = defineCallback('msgwp', { s: cbField.objectId(), p: cbField.objectId() });
/** From the student's card: one message to every parent of the student who is in the bot. */
export const teacherAllParentsCb = defineCallback('msgwa', { s: cbField.objectId() });

// ───────────────────────────── announcements ─────────────────────────────

export const annClassCb = defineCallback('anc', { c: cbField.objectId() });
/** The deputy's and the admin's first choice: a class, a grade level, the whole school. */
export const annScopeCb = defineCallback('ansc', { k: cbField.enumOf(['class', 'grade', 'school'] as const) });
export const annGradeCb = defineCallback('ang', { g: cbField.int(0, 20) });
export const annWholeCb = defineCallback('anw', { c: cbField.objectId() });
export const annPickCb = defineCallback('anp', { c: cbField.objectId() });
/** A group of a class (an English group): its students' parents. */
export const annGroupCb = defineCallback('angr', { g: cbField.objectId() });
export const annToggleCb = defineCallback('ant', { s: cbField.objectId() });
export const annPickedCb = defineCallback('anpd', {});
export const annSendCb = defineCallback('ans', { u: cbField.bool() });
export const annCancelCb = defineCallback('anx', {});
export const annStatusCb = defineCallback('anst', { a: cbField.objectId() });
export const annRemindCb = defineCallback('anrm', { a: cbField.objectId() });
