import { cbField, defineCallback } from './index.js';

/**
 * The button formats of the year's end (R5, R7) and PE exemptions (R21). Ids only; the domain
 * re-checks the presser's rights on every press. Prefixes and field order are frozen.
 */
const oid = cbField.objectId;

/** /outcomes: a class picked, a student's outcome tapped, a subject to retake toggled (by its index in the class's subjects). */
export const outcomeClassCb = defineCallback('yoc', { c: oid() });
export const outcomeTapCb = defineCallback('yot', { c: oid(), s: oid() });
export const outcomeRetakeCb = defineCallback('yor', { c: oid(), s: oid(), i: cbField.int(0, 99) });

/** /pe: a student of the class picked; an exemption for a span from today; one revoked. */
export const PE_SPANS = ['2w', '1m', '3m', 'y'] as const;
export const peStudentCb = defineCallback('pes', { s: oid() });
export const peAddCb = defineCallback('pea', { s: oid(), d: cbField.enumOf(PE_SPANS) });
export const peRevokeCb = defineCallback('per', { e: oid() });

/** /newyear: the deputy confirms the carried-over timetable. */
export const timetableConfirmCb = defineCallback('ttok', {});
