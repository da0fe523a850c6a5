import type { Db } from '../../../db/index.js';
import { type DiaryHomework, homeworkOf } from '../../diary/diary.js';
import { type Names, openStudent, type Opened, subjectNames } from '../../diary/reader.js';
import type { Actor } from '../../school/actor.js';
import { fullName, toObjectId } from '../../school/people.js';
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

type Week = { from: LocalDate; to: LocalDate; friday: LocalDate };

/**
 * The letters of several students of one class, read in bulk: the week's marks and absences with
 * one query each; the homework once per set of groups (R6: students in the same groups share it).
 */
async function lettersOf(db: Db, actor: Actor, students: Array<{ studentId: string; name: string }>, week: Week, now: Date): Promise<WeeklyLetter[]> {
  if (students.length === 0) return [];
  const ids = students.map((s) => toObjectId(s.studentId));
  const range = { $gte: week.from, $lte: week.to };
  const [marks, absences, groups] = await Promise.all([
    db.models.Mark.find({ studentId: { $in: ids }, date: range, deletedAt: null }, { studentId: 1, subjectId: 1, date: 1, value: 1, workKind: 1, createdAt: 1 }).lean(),
    db.models.Absence.find({ studentId: { $in: ids }, date: range }, { studentId: 1, lessonId: 1, date: 1, code: 1 }).lean(),
    db.models.Group.find({ schoolId: actor.schoolId, studentIds: { $in: ids } }, { studentIds: 1 }).lean(),
  ]);
  const lessons = await db.models.Lesson.find({ _id: { $in: absences.map((a) => a.lessonId) } }, { subjectId: 1, lessonNo: 1 }).lean();
  const lessonById = new Map(lessons.map((l) => [String(l._id), l]));
  const groupKey = (studentId: string) =>
    groups
      .filter((g) => g.studentIds.some((id) => String(id) === studentId))
      .map((g) => String(g._id))
      .sort()
      .join(',');
  // The homework the diary shows on the week's Friday for the next seven days (R22, R24), and the
  // school's names of the kinds of work, read through the diary's own opening (access R4, consent R32).
  const opened = new Map<string, Promise<{ o: Opened; homework: DiaryHomework[] }>>();
  const diaryOf = (studentId: string) => {
    const key = groupKey(studentId);
    let hit = opened.get(key);
    if (!hit) {
      hit = openStudent(db, actor, studentId, now).then(async (o) => ({ o, homework: await homeworkOf(db, { ...o, student: { ...o.student, today: week.friday } }, 'week') }));
      opened.set(key, hit);
    }
    return hit;
  };
  const first = await diaryOf(students[0]?.studentId ?? '');
  const names = await subjectNames(db, first.o.schoolId, [...marks.map((m) => String(m.subjectId)), ...lessons.map((l) => String(l.subjectId))]);
  const letters: WeeklyLetter[] = [];
  for (const s of students) {
    const { o, homework } = await diaryOf(s.studentId);
    letters.push({
      studentId: s.studentId,
      name: s.name,
      weekFrom: week.from,
      weekTo: week.to,
      marks: marks
        .filter((m) => String(m.studentId) === s.studentId)
        .sort((a, b) => a.date.localeCompare(b.date) || +(a.createdAt ?? 0) - +(b.createdAt ?? 0))
        .map((m) => ({
          date: m.date,
          subject: names.get(String(m.subjectId)) ?? '—',
          value: m.value,
          workKind: o.workKinds.get(m.workKind)?.name ?? { ru: m.workKind, en: m.workKind },
        })),
      absences: absences
        .filter((a) => String(a.studentId) === s.studentId)
        .map((a) => {
          const l = lessonById.get(String(a.lessonId));
          return { date: a.date, subject: names.get(String(l?.subjectId)) ?? '—', ...(l?.lessonNo != null ? { lessonNo: l.lessonNo } : {}), code: a.code ?? 'Н' };
        })
        .sort((a, b) => a.date.localeCompare(b.date) || (a.lessonNo ?? 0) - (b.lessonNo ?? 0)),
      homework: homework.map((h) => ({ dueOn: h.dueOn, subject: h.subject, text: h.text })),
    });
  }
  return letters;
}

/** One student's letter: for the family (their own child), the class teacher, the deputy and the admin. */
export async function weeklyLetter(db: Db, actor: Actor, studentId: string, opts: { weekOf?: LocalDate } = {}, now = new Date()): Promise<WeeklyLetters> {
  const scope = await sheetScope(db, actor, { kind: 'student', studentId }, now, { allSubjects: true });
  const cls = scope.classes[0];
  if (!cls) throw new DomainError('reports.noYear');
  const head = await sheetHead(db, scope, cls.classId, now);
  const person = await db.models.Person.findById(toObjectId(studentId), { lastName: 1, firstName: 1, middleName: 1 }).lean();
  return { head, letters: await lettersOf(db, actor, [{ studentId, name: person ? fullName(person) : '' }], weekOf(opts.weekOf, head.madeOn), now) };
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
  const selected = students.filter((s) => paper.has(s.studentId)).map((s) => ({ studentId: s.studentId, name: s.name }));
  return { head, letters: await lettersOf(db, actor, selected, weekOf(opts.weekOf, head.madeOn), now) };
}
