import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { activeYears, type AcademicYear, periodsOf } from '../school/academic-year.js';
import { isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { fullName, toObjectId as toId } from '../school/people.js';
import { addDays } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';

/**
 * The archive of a school year (R30), as plain data: the journal of every class (or group) ×
 * subject — students down, lesson dates across, marks and absences in the cells, then the period
 * and year marks — and a dump of the year's documents that `restoreYear` (restore.ts) loads into a
 * new database for reading. src/documents/year-archive.ts writes them as files with checksums.
 */
type Id = Types.ObjectId;

export interface JournalSheet {
  className: string;
  groupName?: string;
  subjectName: string;
  teacherNames: string[];
  dates: Array<{ date: string; lessonNo?: number; topic?: string; homework?: string; cancelled: boolean }>;
  periods: string[];
  students: Array<{ name: string; cells: string[]; periodMarks: string[] }>;
}

export interface YearJournals {
  schoolName: string;
  year: { id: string; name: string; startsOn: string; endsOn: string; status: string };
  sheets: JournalSheet[];
}

/** The collections of one year's dump, each with the filter that selects the year's documents. */
export const DUMP_COLLECTIONS = [
  'schools',
  'academic_years',
  'classes',
  'subjects',
  'groups',
  'teaching_load',
  'timetable_slots',
  'persons',
  'guardianships',
  'lessons',
  'marks',
  'absences',
  'period_marks',
  'plan_items',
  'student_outcomes',
  'year_closings',
  'pe_exemptions',
  'student_movements',
  'audit_entries',
] as const;

export type YearDump = {
  format: 'sjb-year-archive';
  version: 1;
  school: { id: string; name: string };
  year: { id: string; name: string; startsOn: string; endsOn: string };
  collections: Record<(typeof DUMP_COLLECTIONS)[number], unknown[]>;
};

export async function archivedYear(db: Db, actor: Actor, name: string): Promise<AcademicYear> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const year = (await activeYears(db, actor.schoolId, { archived: true })).find((y) => y.name === name);
  if (!year) throw new DomainError('yearEnd.noYear');
  return year;
}

/** Every journal of the year: class (or group) × subject, as the year's lessons show them. */
export async function yearJournals(db: Db, actor: Actor, year: AcademicYear): Promise<YearJournals> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const schoolId = actor.schoolId;
  const range = { $gte: year.startsOn, $lte: year.endsOn };
  const { Lesson, Mark, Absence, PeriodMark, StudentOutcome, SchoolClass, Subject, Group, Person, School } = db.models;
  const [school, lessons, marks, absences, periodMarks, outcomes, classes, subjects, groups] = await Promise.all([
    School.findById(schoolId, { name: 1 }).lean(),
    Lesson.find({ schoolId, date: range }).lean(),
    Mark.find({ schoolId, date: range, deletedAt: null }, { lessonId: 1, studentId: 1, value: 1 }).lean(),
    Absence.find({ schoolId, date: range }, { lessonId: 1, studentId: 1, code: 1 }).lean(),
    PeriodMark.find({ schoolId, yearId: year.id }, { studentId: 1, subjectId: 1, periodCode: 1, value: 1 }).lean(),
    StudentOutcome.find({ yearId: year.id }, { studentId: 1, classId: 1 }).lean(),
    SchoolClass.find({ schoolId }, { name: 1, grade: 1, history: 1 }).lean(),
    Subject.find({ schoolId }, { name: 1 }).lean(),
    Group.find({ schoolId }, { name: 1, studentIds: 1 }).lean(),
  ]);
  // The roster of a class that year: its students' outcomes; before the closing, who is in it now.
  const rosterOf = new Map<string, string[]>();
  const add = (classId: unknown, studentId: unknown) => rosterOf.set(String(classId), [...(rosterOf.get(String(classId)) ?? []), String(studentId)]);
  if (outcomes.length) for (const o of outcomes) add(o.classId, o.studentId);
  else for (const p of await Person.find({ schoolId, roles: 'student' }, { student: 1 }).lean()) add(p.student?.classId, p._id);
  const studentIds = new Set([...rosterOf.values()].flat());
  const [people, teachers] = await Promise.all([
    Person.find({ _id: { $in: [...studentIds] } }, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
    Person.find({ _id: { $in: [...new Set(lessons.map((l) => String(l.teacherId)))] } }, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
  ]);
  const nameOf = new Map([...people, ...teachers].map((p) => [String(p._id), fullName(p)]));
  const cell = new Map<string, string[]>();
  const put = (lessonId: Id, studentId: Id, text: string) => {
    const key = `${lessonId}|${studentId}`;
    cell.set(key, [...(cell.get(key) ?? []), text]);
  };
  for (const a of absences) put(a.lessonId, a.studentId, a.code ?? 'Н');
  for (const m of marks) put(m.lessonId, m.studentId, String(m.value));
  const pm = new Map(periodMarks.map((p) => [`${p.studentId}|${p.subjectId}|${p.periodCode}`, p.value]));
  const byKey = new Map<string, typeof lessons>();
  for (const l of lessons) {
    const key = `${l.classId}|${l.groupId ?? ''}|${l.subjectId}`;
    byKey.set(key, [...(byKey.get(key) ?? []), l]);
  }
  const classById = new Map(classes.map((k) => [String(k._id), k]));
  const groupById = new Map(groups.map((g) => [String(g._id), g]));
  const subjectName = new Map(subjects.map((s) => [String(s._id), s.name]));
  const sheets: JournalSheet[] = [];
  for (const [key, list] of byKey) {
    const [classId = '', groupId = '', subjectId = ''] = key.split('|');
    const k = classById.get(classId);
    if (!k) continue;
    const then = k.history?.find((h) => String(h.yearId) === year.id);
    const group = groupId ? groupById.get(groupId) : undefined;
    const inGroup = group ? new Set(group.studentIds.map(String)) : undefined;
    const roster = (rosterOf.get(classId) ?? []).filter((id) => !inGroup || inGroup.has(id)).sort((a, b) => (nameOf.get(a) ?? '').localeCompare(nameOf.get(b) ?? '', 'ru'));
    const sorted = [...list].sort((a, b) => a.date.localeCompare(b.date) || (a.lessonNo ?? 0) - (b.lessonNo ?? 0));
    const periods = [...periodsOf(year, then?.grade ?? k.grade).map((p) => p.code), 'year'];
    sheets.push({
      className: then?.name ?? k.name,
      groupName: group?.name,
      subjectName: subjectName.get(subjectId) ?? '?',
      teacherNames: [...new Set(sorted.map((l) => nameOf.get(String(l.teacherId)) ?? '?'))],
      dates: sorted.map((l) => ({ date: l.date, lessonNo: l.lessonNo ?? undefined, topic: l.topic ?? undefined, homework: l.homework?.text ?? undefined, cancelled: l.status === 'cancelled' })),
      periods,
      students: roster.map((id) => ({
        name: nameOf.get(id) ?? '?',
        cells: sorted.map((l) => (cell.get(`${l._id}|${id}`) ?? []).join(' ')),
        periodMarks: periods.map((p) => pm.get(`${id}|${subjectId}|${p}`) ?? ''),
      })),
    });
  }
  sheets.sort((a, b) => a.className.localeCompare(b.className, 'ru') || a.subjectName.localeCompare(b.subjectName, 'ru') || (a.groupName ?? '').localeCompare(b.groupName ?? '', 'ru'));
  return {
    schoolName: school?.name ?? '',
    year: { id: year.id, name: year.name, startsOn: year.startsOn, endsOn: year.endsOn, status: year.status },
    sheets,
  };
}

/** The year's documents, raw (ids and dates kept), for a restore that reads as the app did. */
export async function yearDump(db: Db, actor: Actor, year: AcademicYear): Promise<YearDump> {
  if (!isAdmin(actor)) throw new AccessDenied();
  const schoolId = actor.schoolId;
  const range = { $gte: year.startsOn, $lte: year.endsOn };
  const raw = (name: string) => db.conn.collection(name);
  const all = (name: string, filter: Record<string, unknown> = { schoolId }) => raw(name).find(filter).toArray();
  const lessons = await all('lessons', { schoolId, date: range });
  const collections = {
    schools: await all('schools', { _id: schoolId }),
    academic_years: await all('academic_years', { schoolId, _id: toId(year.id) }),
    classes: await all('classes'),
    subjects: await all('subjects'),
    groups: await all('groups'),
    teaching_load: await all('teaching_load'),
    timetable_slots: await all('timetable_slots', { schoolId, validFrom: { $lte: year.endsOn }, $or: [{ validTo: null }, { validTo: { $gte: year.startsOn } }] }),
    persons: await all('persons'),
    guardianships: await all('guardianships'),
    lessons,
    marks: await all('marks', { schoolId, date: range }),
    absences: await all('absences', { schoolId, date: range }),
    period_marks: await all('period_marks', { schoolId, yearId: toId(year.id) }),
    plan_items: await all('plan_items'),
    student_outcomes: await all('student_outcomes', { yearId: toId(year.id) }),
    year_closings: await all('year_closings', { schoolId, yearId: toId(year.id) }),
    pe_exemptions: await all('pe_exemptions', { schoolId, from: { $lte: year.endsOn }, to: { $gte: year.startsOn } }),
    student_movements: await all('student_movements', { schoolId, date: range }),
    // R31: who changed what in that year, up to the next year's first day.
    audit_entries: await all('audit_entries', { schoolId, at: { $gte: new Date(`${year.startsOn}T00:00:00Z`), $lt: new Date(`${addDays(year.endsOn, 92)}T00:00:00Z`) } }),
  };
  return {
    format: 'sjb-year-archive',
    version: 1,
    school: { id: String(schoolId), name: String((collections.schools[0] as { name?: string } | undefined)?.name ?? '') },
    year: { id: year.id, name: year.name, startsOn: year.startsOn, endsOn: year.endsOn },
    collections,
  };
}
