import type { Db } from '../../../db/index.js';
import { weightedAverage } from '../../journal/averages.js';
import type { Actor } from '../../school/actor.js';
import { fullName, toObjectId } from '../../school/people.js';
import type { LocalDate } from '../../shared/calendar.js';
import { AccessDenied, DomainError } from '../../shared/errors.js';
import { pairVisible } from '../access.js';
import { groupsOf, roster, type SheetHead, sheetHead, sheetScope } from './common.js';

/**
 * The class journal of a period for one subject, as a document (R29): the lessons that took place
 * (date, topic, homework), the students × lessons grid — absences (Н, Б, У) and marks in a cell —,
 * each student's weighted average of the period's marks (R17) and the period mark.
 */
export interface JournalDocument {
  head: SheetHead;
  subject: { id: string; name: string; short?: string };
  teachers: string[];
  lessons: Array<{ lessonId: string; date: LocalDate; lessonNo?: number; topic: string; homework: string }>;
  students: Array<{
    no: number;
    studentId: string;
    name: string;
    /** One per lesson: 'Н', '5', 'Н 4' (an absence first, then the marks in the order given); '' for none. */
    cells: string[];
    average?: number;
    /** The period mark as set ('' without one; for a date range, always ''). */
    periodMark: string;
  }>;
}

export interface JournalRequest {
  classId: string;
  subjectId: string;
  periodCode?: string;
  from?: LocalDate;
  to?: LocalDate;
  yearId?: string;
}

export async function classJournalDocument(db: Db, actor: Actor, req: JournalRequest, now = new Date()): Promise<JournalDocument> {
  const { classId, subjectId, ...span } = req;
  const scope = await sheetScope(db, actor, { kind: 'class', classId, ...span }, now);
  const cls = scope.classes[0];
  if (!cls) throw new DomainError('reports.noYear');
  // A subject teacher gets the journal of their own subject only (R4); the class teacher, every subject (R26).
  if (!pairVisible(scope, cls.classId, subjectId)) throw new AccessDenied();
  const schoolId = toObjectId(scope.schoolId);
  const subject = await db.models.Subject.findOne({ _id: toObjectId(subjectId), schoolId }, { name: 1, shortName: 1 }).lean();
  if (!subject) throw new AccessDenied();
  const id = toObjectId(cls.classId);
  const [head, students, lessons] = await Promise.all([
    sheetHead(db, scope, cls.classId, now),
    roster(db, schoolId, id),
    db.models.Lesson.find(
      { schoolId, classId: id, subjectId: subject._id, date: { $gte: scope.from, $lte: scope.to }, status: { $ne: 'cancelled' } },
      { date: 1, lessonNo: 1, topic: 1, homework: 1, groupId: 1, teacherId: 1, substituteId: 1 },
    )
      .sort({ date: 1, lessonNo: 1 })
      .lean(),
  ]);
  const ids = students.map((s) => s.id);
  const lessonIds = lessons.map((l) => l._id);
  const [marks, absences, periodMarks, groups, teachers] = await Promise.all([
    db.models.Mark.find({ lessonId: { $in: lessonIds }, deletedAt: null }, { lessonId: 1, studentId: 1, value: 1, weight: 1, createdAt: 1 }).sort({ createdAt: 1 }).lean(),
    db.models.Absence.find({ lessonId: { $in: lessonIds } }, { lessonId: 1, studentId: 1, code: 1 }).lean(),
    scope.period
      ? db.models.PeriodMark.find({ schoolId, yearId: toObjectId(scope.yearId), periodCode: scope.period.code, subjectId: subject._id, studentId: { $in: ids } }, { studentId: 1, value: 1 }).lean()
      : [],
    groupsOf(db, schoolId, ids),
    db.models.Person.find({ _id: { $in: [...new Set(lessons.map((l) => String(l.teacherId)))] } }, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
  ]);
  const cell = new Map<string, { absence?: string; marks: number[] }>();
  const at = (lessonId: unknown, studentId: unknown) => {
    const key = `${lessonId}|${studentId}`;
    const c = cell.get(key) ?? { marks: [] };
    cell.set(key, c);
    return c;
  };
  for (const a of absences) at(a.lessonId, a.studentId).absence = a.code ?? 'Н';
  for (const m of marks) at(m.lessonId, m.studentId).marks.push(m.value);
  const pm = new Map(periodMarks.map((p) => [String(p.studentId), p.value]));
  const inLesson = (l: (typeof lessons)[number], studentId: string) => !l.groupId || Boolean(groups.get(String(l.groupId))?.has(studentId));
  return {
    head,
    subject: { id: String(subject._id), name: subject.name, ...(subject.shortName ? { short: subject.shortName } : {}) },
    teachers: teachers.map((t) => fullName(t)).sort((a, b) => a.localeCompare(b, 'ru')),
    lessons: lessons.map((l) => ({
      lessonId: String(l._id),
      date: l.date,
      ...(l.lessonNo != null ? { lessonNo: l.lessonNo } : {}),
      topic: l.topic ?? '',
      homework: l.homework?.text ?? '',
    })),
    students: students.map((s, i) => {
      const own = marks.filter((m) => String(m.studentId) === s.studentId);
      const average = weightedAverage(own);
      return {
        no: i + 1,
        studentId: s.studentId,
        name: s.name,
        cells: lessons.map((l) => {
          if (!inLesson(l, s.studentId)) return '';
          const c = cell.get(`${l._id}|${s.studentId}`);
          return c ? [c.absence, ...c.marks].filter(Boolean).join(' ') : '';
        }),
        ...(average !== undefined ? { average } : {}),
        periodMark: pm.get(s.studentId) ?? '',
      };
    }),
  };
}
