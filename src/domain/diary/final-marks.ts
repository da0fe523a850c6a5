import type { Db } from '../../db/index.js';
import { activeYears, periodsOf } from '../school/academic-year.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied } from '../shared/errors.js';
import { type DiaryStudent, openStudent, subjectNames } from './reader.js';

/**
 * Period and year marks in the diary (R24, R16): one row per subject with the mark of each
 * period of the year (quarters, halves or trimesters for the child's grade) and the year mark.
 * Last year's marks stay readable after the year is closed (R30): the family picks the year.
 */
export interface FinalMarksView {
  student: DiaryStudent;
  year?: { id: string; name: string; status: 'active' | 'archived' };
  /** Other years with marks of this child, newest first. */
  otherYears: Array<{ id: string; name: string }>;
  /** The period codes shown as columns, the year's own last. */
  periods: string[];
  rows: Array<{ subjectId: string; subject: string; values: Record<string, string> }>;
}

export async function diaryFinalMarks(db: Db, actor: Actor, studentId: string, now: Date, opts: { yearId?: string } = {}): Promise<FinalMarksView> {
  const o = await openStudent(db, actor, studentId, now);
  const today = o.student.today;
  const [years, marks] = await Promise.all([
    activeYears(db, o.schoolId, { archived: true }),
    db.models.PeriodMark.find({ schoolId: o.schoolId, studentId: o.id }, { yearId: 1, periodCode: 1, subjectId: 1, value: 1 }).lean(),
  ]);
  const withMarks = new Set(marks.map((m) => String(m.yearId)));
  const current = years.find((y) => y.startsOn <= today && today <= y.endsOn) ?? years.find((y) => y.startsOn <= today) ?? years[0];
  if (opts.yearId && !withMarks.has(opts.yearId) && opts.yearId !== current?.id) throw new AccessDenied();
  const year = years.find((y) => y.id === (opts.yearId ?? current?.id));
  const otherYears = years.filter((y) => y.id !== year?.id && withMarks.has(y.id)).map((y) => ({ id: y.id, name: y.name }));
  if (!year) return { student: o.student, otherYears, periods: [], rows: [] };
  const mine = marks.filter((m) => String(m.yearId) === year.id);
  // This year: the periods of the child's grade; a past year: those the marks were given in.
  const used = new Set(mine.map((m) => m.periodCode));
  const terms = (year.status === 'active' ? periodsOf(year, o.student.grade) : periodsOf(year).filter((p) => used.has(p.code))).map((p) => p.code);
  const periods = [...terms, 'year'];
  const names = await subjectNames(db, o.schoolId, mine.map((m) => String(m.subjectId)));
  const bySubject = new Map<string, Record<string, string>>();
  for (const m of mine) {
    const key = String(m.subjectId);
    bySubject.set(key, { ...(bySubject.get(key) ?? {}), [m.periodCode]: m.value });
  }
  const rows = [...bySubject.entries()]
    .map(([subjectId, values]) => ({ subjectId, subject: names.get(subjectId) ?? '—', values }))
    .sort((a, b) => a.subject.localeCompare(b.subject, 'ru'));
  return { student: o.student, year: { id: year.id, name: year.name, status: year.status }, otherYears, periods, rows };
}
