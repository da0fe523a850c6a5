import type { Types } from 'mongoose';
import { reportDecisionCb } from '../../bot/callbacks/notices.js';
import type { Db } from '../../db/index.js';
import { shortName } from '../../domain/school/people.js';
import { dayMonth } from '../../domain/shared/calendar.js';
import { codeName, type SingleRenderer } from './common.js';

/**
 * Between a family and its class teacher: a parent's absence report (with the decision buttons),
 * the decision back to the parent, and "this family no longer receives messages" (R25).
 */
type Id = Types.ObjectId;

/** The student and the name of their class. */
async function studentAndClass(db: Db, studentId: Id | null | undefined) {
  const student = await db.models.Person.findById(studentId, { firstName: 1, lastName: 1, student: 1 }).lean();
  const cls = student?.student?.classId ? await db.models.SchoolClass.findById(student.student.classId, { name: 1 }).lean() : null;
  return { student, className: cls?.name ?? '—' };
}

export const renderFamilyBlocked: SingleRenderer = async (input, doc, base, nothing) => {
  const { db, t } = input;
  const payload = (doc.payload ?? {}) as Record<string, unknown>;
  const [{ student, className }, parent] = await Promise.all([
    studentAndClass(db, doc.studentId),
    db.models.Person.findById(payload.parentId, { firstName: 1, lastName: 1, middleName: 1 }).lean(),
  ]);
  if (!student) return nothing();
  return {
    ...base,
    text: t('notify.familyBlocked', { parent: parent ? shortName(parent) : '—', student: shortName(student), className }),
  };
};

export const renderReport: SingleRenderer = async (input, doc, base, nothing) => {
  const { db, t } = input;
  const report = await db.models.AbsenceReport.findById(doc.ref?.reportId).lean();
  if (!report) return nothing();
  const [{ student, className }, parent] = await Promise.all([
    studentAndClass(db, report.studentId),
    db.models.Person.findById(report.parentId, { firstName: 1, lastName: 1 }).lean(),
  ]);
  const dates = report.from === report.to ? dayMonth(report.from) : `${dayMonth(report.from)}–${dayMonth(report.to)}`;
  const vars = {
    student: student ? shortName(student) : '—',
    className,
    parent: parent ? shortName(parent) : '—',
    dates,
    reason: t(`absenceReport.reasons.${report.reason}`),
  };
  if (doc.kind === 'absenceReport') {
    if (report.status !== 'pending') return nothing();
    const r = String(report._id);
    // The parent's note, escaped (user text); short enough for a caption (ABSENCE_NOTE_MAX).
    const note = report.note ? `\n${t('absenceReport.noteLine', { note: report.note })}` : '';
    return {
      ...base,
      text: t('absenceReport.toTeacher', vars) + note,
      photo: report.photoFileId ?? undefined,
      replyMarkup: {
        inline_keyboard: [
          [
            { text: t('absenceReport.confirmB'), callback_data: reportDecisionCb.pack({ r, d: 'b' }) },
            { text: t('absenceReport.confirmU'), callback_data: reportDecisionCb.pack({ r, d: 'u' }) },
          ],
          [{ text: t('absenceReport.reject'), callback_data: reportDecisionCb.pack({ r, d: 'x' }) }],
        ],
      },
    };
  }
  if (report.status === 'pending') return nothing();
  const key = report.status === 'rejected' ? 'absenceReport.rejectedToParent' : 'absenceReport.confirmedToParent';
  return { ...base, text: t(key, { ...vars, code: report.code ?? '', codeName: codeName(t, report.code) }) };
};
