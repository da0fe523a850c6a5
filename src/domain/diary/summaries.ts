import type { Db } from '../../db/index.js';
import type { Actor } from '../school/actor.js';
import { addDays } from '../shared/calendar.js';
import { type DiaryAbsence, type DiaryHomework, diaryAttendance, homeworkOf, marksOf } from './diary.js';
import { type DiaryStudent, openStudent, type Period } from './reader.js';

/**
 * Summaries of a child's diary, for notices: the weekly digest (R25) and what a parent joining
 * mid-year gets once.
 */
export interface WeekSummary {
  student: DiaryStudent;
  from: string;
  to: string;
  /** Marks given in the week, by subject, with the period average now and before the week. */
  subjects: Array<{ subject: string; marks: number[]; average?: number; previousAverage?: number }>;
  absences: DiaryAbsence[];
  homework: DiaryHomework[];
}

/**
 * The weekly digest of one child (R25: the same on paper for families without internet):
 * marks of the last seven days, averages and their change, absences, homework due.
 */
export async function weekSummary(db: Db, actor: Actor, studentId: string, now: Date): Promise<WeekSummary> {
  const o = await openStudent(db, actor, studentId, now);
  const to = o.student.today;
  const from = addDays(to, -6);
  const [current, before, attendance, homework] = await Promise.all([
    marksOf(db, o),
    marksOf(db, o, addDays(from, -1)),
    diaryAttendance(db, actor, studentId, now),
    homeworkOf(db, o, 'week'),
  ]);
  const previous = new Map(before.subjects.map((s) => [s.subjectId, s.average]));
  const subjects = current.subjects
    .map((s) => ({
      subject: s.subject,
      marks: s.marks.filter((m) => m.date >= from && m.date <= to).map((m) => m.value),
      average: s.average,
      previousAverage: previous.get(s.subjectId),
    }))
    .filter((s) => s.marks.length > 0 || s.average !== undefined);
  return {
    student: o.student,
    from,
    to,
    subjects,
    absences: attendance.absences.filter((a) => a.date >= from && a.date <= to),
    homework,
  };
}

export interface PeriodSummary {
  student: DiaryStudent;
  period?: Period;
  subjects: Array<{ subject: string; count: number; average?: number }>;
  absences: Record<string, number>;
}

/** The current period so far: what a parent joining mid-year gets once, instead of every old event. */
export async function periodSummary(db: Db, actor: Actor, studentId: string, now: Date): Promise<PeriodSummary> {
  const o = await openStudent(db, actor, studentId, now);
  const [marks, attendance] = await Promise.all([marksOf(db, o), diaryAttendance(db, actor, studentId, now)]);
  return {
    student: o.student,
    period: marks.period,
    subjects: marks.subjects.map((s) => ({ subject: s.subject, count: s.marks.length, average: s.average })),
    absences: attendance.counts,
  };
}
