import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { AbsenceCode } from '../shared/vocabulary.js';
import { enqueue, signalOutbox } from '../notices/outbox.js';
import { addDays, localDate } from '../shared/calendar.js';
import { readsWholeSchool } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { telegramLength } from '../shared/text-limits.js';
import { assertConsent, toObjectId } from '../school/people.js';
import { setAbsenceCode } from '../journal/absence-reason.js';

/**
 * A parent tells the school in advance that the child will be absent (dates, reason, optionally a
 * photo of a note). The class teacher confirms (R20: the class teacher sets the reason of every
 * absence): the absences of those days get Б (illness) or У (excused); or rejects the report.
 */
type Id = Types.ObjectId;

export const MAX_REPORT_DAYS = 14;

export interface ReportInput {
  studentId: string;
  from: string;
  to: string;
  reason: 'illness' | 'family';
  photoFileId?: string;
  /** The parent's own words (typed instead of a photo, or its caption). */
  note?: string;
  now: Date;
}

/** A note stays short enough for the class teacher's message, a photo's caption included (≤ 1024). */
export const ABSENCE_NOTE_MAX = 500;

export interface ReportResult {
  reportId: string;
  /** The class teacher has the bot and was told; otherwise the parent should tell them directly. */
  teacherNotified: boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export async function reportAbsence(db: Db, actor: Actor, input: ReportInput): Promise<ReportResult> {
  const studentId = toObjectId(input.studentId);
  const note = input.note?.trim() || undefined;
  if (note && telegramLength(note) > ABSENCE_NOTE_MAX) {
    throw new DomainError('absenceReport.noteTooLong', { max: ABSENCE_NOTE_MAX, length: telegramLength(note) });
  }
  if (!actor.personId || !actor.childIds.has(String(studentId))) throw new AccessDenied();
  await assertConsent(db, actor);
  const { Person, School, SchoolClass, AbsenceReport, Account } = db.models;
  const [student, school] = await Promise.all([
    Person.findOne({ _id: studentId, schoolId: actor.schoolId, roles: 'student' }, { student: 1 }).lean(),
    School.findById(actor.schoolId, { timezone: 1, botKey: 1 }).lean(),
  ]);
  if (!student || !school) throw new AccessDenied();
  const today = localDate(input.now, school.timezone);
  if (!DATE.test(input.from) || !DATE.test(input.to) || input.from > input.to) throw new DomainError('absenceReport.badDates');
  if (input.from < addDays(today, -7) || input.to > addDays(input.from, MAX_REPORT_DAYS - 1)) {
    throw new DomainError('absenceReport.badDates');
  }
  const classId = student.student?.classId ?? undefined;
  const report = await AbsenceReport.create({
    schoolId: actor.schoolId,
    studentId,
    classId,
    parentId: actor.personId,
    from: input.from,
    to: input.to,
    reason: input.reason,
    photoFileId: input.photoFileId,
    note,
  });
  let teacherNotified = false;
  const cls = classId ? await SchoolClass.findOne({ _id: classId, schoolId: actor.schoolId }, { classTeacherId: 1 }).lean() : null;
  const teacher = cls?.classTeacherId
    ? await Person.findOne(
        { _id: cls.classTeacherId, schoolId: actor.schoolId, telegramId: { $ne: null }, active: { $ne: false } },
        { telegramId: 1 },
      ).lean()
    : null;
  if (typeof teacher?.telegramId === 'number') {
    const account = await Account.findOne({ telegramId: teacher.telegramId }, { chatStatus: 1 }).lean();
    if (account?.chatStatus !== 'blocked') {
      await enqueue(db, {
        key: `abr:${report._id}`,
        schoolId: actor.schoolId,
        botKey: school.botKey,
        chatId: teacher.telegramId,
        recipientId: teacher._id,
        studentId,
        kind: 'absenceReport',
        ref: { reportId: report._id },
        priority: 'normal',
        notBefore: input.now,
      });
      signalOutbox(db);
      teacherNotified = true;
    }
  }
  return { reportId: String(report._id), teacherNotified };
}

export type Decision = 'Б' | 'У' | 'reject';

export interface DecisionResult {
  status: 'confirmed' | 'rejected';
  /** Absences whose reason was set now. */
  applied: number;
  /** Absences in the range on lessons locked by R14 (only the admin changes those). */
  locked: number;
}

/**
 * The class teacher (or the administration) decides. Atomic: of two presses, one decides.
 * Confirming sets the reason of the student's absences on those days (unless locked, R14),
 * records it in the audit trail (R31), and tells the family.
 */
export async function decideAbsenceReport(
  db: Db,
  actor: Actor,
  reportId: string,
  decision: Decision,
  now: Date,
): Promise<DecisionResult> {
  const { AbsenceReport, Absence, Lesson, Person, School } = db.models;
  const id = toObjectId(reportId);
  const report = await AbsenceReport.findOne({ _id: id, schoolId: actor.schoolId }).lean();
  if (!report) throw new AccessDenied();
  const mayDecide = readsWholeSchool(actor) || (report.classId && actor.classTeacherOf.has(String(report.classId)));
  if (!mayDecide || !actor.personId) throw new AccessDenied();
  const status = decision === 'reject' ? 'rejected' : 'confirmed';
  const decided = await AbsenceReport.findOneAndUpdate(
    { _id: id, status: 'pending' },
    {
      $set: {
        status,
        code: decision === 'reject' ? undefined : decision,
        decidedBy: actor.personId,
        decidedAt: now,
      },
    },
    { returnDocument: 'after' },
  ).lean();
  if (!decided) throw new DomainError('absenceReport.alreadyDecided');

  let applied = 0;
  let locked = 0;
  if (decision !== 'reject') {
    const absences = await Absence.find(
      { schoolId: actor.schoolId, studentId: report.studentId, date: { $gte: report.from, $lte: report.to } },
      { lessonId: 1, code: 1, studentId: 1 },
    ).lean();
    const lessons = absences.length
      ? await Lesson.find({ _id: { $in: absences.map((a) => a.lessonId) } }, { lockedAt: 1 }).lean()
      : [];
    const lockedIds = new Set(lessons.filter((l) => l.lockedAt).map((l) => String(l._id)));
    for (const a of absences) {
      if (a.code === decision) continue;
      if (lockedIds.has(String(a.lessonId))) {
        locked++;
        continue;
      }
      if (await setAbsenceCode(db, actor, now, a, decision as AbsenceCode, `absence report ${String(report._id)}`)) applied++;
    }
    await AbsenceReport.updateOne({ _id: id }, { $set: { applied } });
  }

  // The family hears the decision (the reporting parent; the other parent sees the absences' reasons).
  const parent = await Person.findOne({ _id: report.parentId, telegramId: { $ne: null } }, { telegramId: 1 }).lean();
  if (typeof parent?.telegramId === 'number') {
    const school = await School.findById(actor.schoolId, { botKey: 1 }).lean();
    await enqueue(db, {
      key: `abrd:${report._id}`,
      schoolId: actor.schoolId,
      botKey: school?.botKey,
      chatId: parent.telegramId,
      recipientId: parent._id,
      studentId: report.studentId,
      kind: 'absenceReportDecision',
      ref: { reportId: report._id },
      priority: 'normal',
      notBefore: now,
    });
    signalOutbox(db);
  }
  return { status, applied, locked };
}

/**
 * The reason a confirmed report gives for a student's absence on a date, if any: the journal's
 * attendance use case can pre-set Б/У for absences marked after the report was confirmed.
 */
export async function reportedReason(db: Db, studentId: Id, date: string): Promise<'Б' | 'У' | undefined> {
  const report = await db.models.AbsenceReport.findOne(
    { studentId, status: 'confirmed', from: { $lte: date }, to: { $gte: date } },
    { code: 1 },
  ).lean();
  return (report?.code as 'Б' | 'У' | undefined) ?? undefined;
}
