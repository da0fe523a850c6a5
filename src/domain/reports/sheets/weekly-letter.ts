import type { Db } from '../../../db/index.js';
import { homeworkOf } from '../../diary/diary.js';
import { type Names, openStudent, type Opened, subjectNames } from '../../diary/reader.js';
import type { Actor } from '../../school/actor.js';
import { toObjectId } from '../../school/people.js';
import { addDays, isLocalDate, type LocalDate, weekStart } from '../../shared/calendar.js';
import { DomainError } from '../../shared/errors.js';
import { roster, type SheetHead, sheetHead, sheetScope } from './common.js';

/**
 * The weekly letter for a family without internet (R25): one page per student with the week's
 * marks (subject, date, mark, kind of work), absences, and the homework due in the seven days
 * after the week's Friday (the day the class teacher prints it), with the school and the class
 * teacher. `weeklyLettersForClass` picks the families that get paper: no parent has joined the bot
 * (no bound Telegram account), or a parent chose paper (notify preference `paper`).
 */
export interface WeeklyLetter {
  studentId: string;
  name: string;
  /** Monday and Sunday of the week. */
  weekFrom: LocalDate;
  weekTo: LocalDate;
  marks: Array<{ date: LocalDate; subject: string; value: number; workKind: Names }>;
  absences: Array<{ date: LocalDate; subject: string; lessonNo?: number; code: string }>;
  homework: Array<{ dueOn: LocalDate; subject: string; text: string }>;
}

export interface WeeklyLetters {
  head: SheetHead;
  letters: WeeklyLetter[];
}

function weekOf(date: LocalDate | undefined, today: LocalDate): { from: LocalDate; to: LocalDate; friday: LocalDate } {
  const day = date ?? today;
  if (!isLocalDate(day)) throw new DomainError('reports.badRange', { from: String(day).slice(0, 10), to: String(day).slice(0, 10) });
  const from = weekStart(day);
  return { from, to: addDays(from, 6), friday: addDays(from, 4) };
}

async function letterOf(db: Db, o: Opened, week: { from: LocalDate; to: LocalDate; friday: LocalDate }): Promise<WeeklyLetter> {
  const range = { $gte: week.from, $lte: week.to };
  const [marks, absences] = await Promise.all([
    db.models.Mark.find({ studentId: o.id, date: range, deletedAt: null }, { subjectId: 1, date: 1, value: 1, workKind: 1, createdAt: 1 }).lean(),
    db.models.Absence.find({ studentId: o.id, date: range }, { lessonId: 1, date: 1, code: 1 }).lean(),
  ]);
  const lessons = await db.models.Lesson.find({ _id: { $in: absences.map((a) => a.lessonId) } }, { subjectId: 1, lessonNo: 1 }).lean();
  const lessonById = new Map(lessons.map((l) => [String(l._id), l]));
  const names = await subjectNames(db, o.schoolId, [...marks.map((m) => String(m.subjectId)), ...lessons.map((l) => String(l.subjectId))]);
  // The homework the diary shows on the week's Friday for the next seven days (R22, R24).
  const homework = await homeworkOf(db, { ...o, student: { ...o.student, today: week.friday } }, 'week');
  return {
    studentId: o.student.studentId,
    name: o.student.fullName,
    weekFrom: week.from,
    weekTo: week.to,
    marks: marks
      .sort((a, b) => a.date.localeCompare(b.date) || +(a.createdAt ?? 0) - +(b.createdAt ?? 0))
      .map((m) => ({
        date: m.date,
        subject: names.get(String(m.subjectId)) ?? '—',
        value: m.value,
        workKind: o.workKinds.get(m.workKind)?.name ?? { ru: m.workKind, en: m.workKind },
      })),
    absences: absences
      .map((a) => {
        const l = lessonById.get(String(a.lessonId));
        return { date: a.date, subject: names.get(String(l?.subjectId)) ?? '—', ...(l?.lessonNo != null ? { lessonNo: l.lessonNo } : {}), code: a.code ?? 'Н' };
      })
      .sort((a, b) => a.date.localeCompare(b.date) || (a.lessonNo ?? 0) - (b.lessonNo ?? 0)),
    homework: homework.map((h) => ({ dueOn: h.dueOn, subject: h.subject, text: h.text })),
  };
}

/** One student's letter: for the family (their own child), the class teacher, the deputy and the admin. */
export async function weeklyLetter(db: Db, actor: Actor, studentId: string, opts: { weekOf?: LocalDate } = {}, now = new Date()): Promise<WeeklyLetters> {
  const scope = await sheetScope(db, actor, { kind: 'student', studentId }, now, { allSubjects: true });
  const cls = scope.classes[0];
  if (!cls) throw new DomainError('reports.noYear');
  const head = await sheetHead(db, scope, cls.classId, now);
  const o = await openStudent(db, actor, studentId, now);
  return { head, letters: [await letterOf(db, o, weekOf(opts.weekOf, head.madeOn))] };
}

/**
 * The students of a class whose families get the letter on paper (R25): none of their parents has
 * a bound Telegram account, or one of them chose paper.
 */
export async function paperFamilies(db: Db, schoolId: string, studentIds: string[]): Promise<Set<string>> {
  const ids = studentIds.map((id) => toObjectId(id));
  const [links, paper] = await Promise.all([
    db.models.Guardianship.find({ schoolId: toObjectId(schoolId), studentId: { $in: ids } }, { parentId: 1, studentId: 1 }).lean(),
    db.models.NotifyPreference.find({ schoolId: toObjectId(schoolId), studentId: { $in: ids }, paper: true }, { studentId: 1 }).lean(),
  ]);
  const parents = await db.models.Person.find({ _id: { $in: links.map((l) => l.parentId) }, telegramId: { $ne: null } }, { _id: 1 }).lean();
  const bound = new Set(parents.map((p) => String(p._id)));
  const joined = new Set(links.filter((l) => bound.has(String(l.parentId))).map((l) => String(l.studentId)));
  const chosePaper = new Set(paper.map((p) => String(p.studentId)));
  return new Set(studentIds.filter((id) => !joined.has(id) || chosePaper.has(id)));
}

/** The class teacher's Friday letters: one per student whose family gets paper (R25). */
export async function weeklyLettersForClass(db: Db, actor: Actor, classId: string, opts: { weekOf?: LocalDate } = {}, now = new Date()): Promise<WeeklyLetters> {
  const scope = await sheetScope(db, actor, { kind: 'class', classId }, now, { allSubjects: true });
  const cls = scope.classes[0];
  if (!cls) throw new DomainError('reports.noYear');
  const head = await sheetHead(db, scope, cls.classId, now);
  const students = await roster(db, toObjectId(scope.schoolId), toObjectId(cls.classId));
  const paper = await paperFamilies(db, scope.schoolId, students.map((s) => s.studentId));
  const week = weekOf(opts.weekOf, head.madeOn);
  const letters: WeeklyLetter[] = [];
  for (const s of students) {
    if (!paper.has(s.studentId)) continue;
    letters.push(await letterOf(db, await openStudent(db, actor, s.studentId, now), week));
  }
  return { head, letters };
}
