import type { Db } from '../../../db/index.js';
import { weightedAverage } from '../../journal/averages.js';
import type { Actor } from '../../school/actor.js';
import { fullName, toObjectId } from '../../school/people.js';
import { DomainError } from '../../shared/errors.js';
import { pairVisible } from '../access.js';
import { classSubjects, type SheetHead, sheetHead, sheetScope } from './common.js';

/**
 * The student's report card for a period (табель): per subject the weighted average of the
 * period's current marks (R12, R17), the period mark as set, and the lessons missed by reason
 * (Н, Б, У, R19); the totals of absences below. For the family (their own child, R4, R32), the
 * class teacher, the deputy and the admin; a subject teacher sees their own subjects only.
 */
export interface AbsenceCounts {
  Н: number;
  Б: number;
  У: number;
}

export interface ReportCard {
  head: SheetHead;
  student: { studentId: string; name: string };
  rows: Array<{ subjectId: string; subject: string; average?: number; marks: number; periodMark: string; absences: AbsenceCounts }>;
  absences: AbsenceCounts;
}

const zero = (): AbsenceCounts => ({ Н: 0, Б: 0, У: 0 });

export async function studentReportCard(db: Db, actor: Actor, studentId: string, opts: { periodCode?: string; yearId?: string } = {}, now = new Date()): Promise<ReportCard> {
  const scope = await sheetScope(db, actor, { kind: 'student', studentId, ...opts }, now);
  const cls = scope.classes[0];
  if (!cls || !scope.studentId) throw new DomainError('reports.noYear');
  const schoolId = toObjectId(scope.schoolId);
  const id = toObjectId(scope.studentId);
  const range = { $gte: scope.from, $lte: scope.to };
  const [head, person, subjectsAll, marks, absences, periodMarks] = await Promise.all([
    sheetHead(db, scope, cls.classId, now),
    db.models.Person.findById(id, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
    classSubjects(db, schoolId, toObjectId(cls.classId), scope, [id]),
    db.models.Mark.find({ studentId: id, date: range, deletedAt: null }, { subjectId: 1, value: 1, weight: 1 }).lean(),
    db.models.Absence.find({ studentId: id, date: range }, { lessonId: 1, code: 1 }).lean(),
    scope.period
      ? db.models.PeriodMark.find({ schoolId, studentId: id, yearId: toObjectId(scope.yearId), periodCode: scope.period.code }, { subjectId: 1, value: 1 }).lean()
      : [],
  ]);
  const lessons = await db.models.Lesson.find({ _id: { $in: absences.map((a) => a.lessonId) } }, { subjectId: 1 }).lean();
  const subjectOfLesson = new Map(lessons.map((l) => [String(l._id), String(l.subjectId)]));
  const subjects = subjectsAll.filter((s) => pairVisible(scope, cls.classId, s.id));
  const pm = new Map(periodMarks.map((p) => [String(p.subjectId), p.value]));
  const missed = new Map<string, AbsenceCounts>();
  const total = zero();
  for (const a of absences) {
    const subject = subjectOfLesson.get(String(a.lessonId));
    if (!subject || !pairVisible(scope, cls.classId, subject)) continue;
    const code = (a.code ?? 'Н') as keyof AbsenceCounts;
    const counts = missed.get(subject) ?? zero();
    counts[code]++;
    total[code]++;
    missed.set(subject, counts);
  }
  return {
    head,
    student: { studentId: scope.studentId, name: person ? fullName(person) : '' },
    rows: subjects.map((s) => {
      const own = marks.filter((m) => String(m.subjectId) === s.id);
      const average = weightedAverage(own);
      return {
        subjectId: s.id,
        subject: s.name,
        ...(average !== undefined ? { average } : {}),
        marks: own.length,
        periodMark: pm.get(s.id) ?? '',
        absences: missed.get(s.id) ?? zero(),
      };
    }),
    absences: total,
  };
}
