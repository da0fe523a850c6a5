import { notAssessedFrom } from '../journal/assessment.js';
import { groupBy, lessonConcerns, type ReportData, studentsByClass } from './data.js';
import type { AttendanceFigures, AttendanceTotals, ReasonCounts, StudentAttendance } from './types.js';

/**
 * Attendance (R19, R20, R27): lessons and days missed by reason Н (unexcused), Б (ill), У (excused).
 * A student's lessons are the held (not cancelled) lessons of their class and of the groups they
 * are in, up to today, that the scope may see. A day counts as missed when every such lesson of it
 * was missed; its reason is the one most of its lessons had, a tie favouring the student
 * (Б, then У, then Н: journal/assessment.ts notAssessedFrom, the same rule as a period's Н/Б/У).
 */

const zero = (): ReasonCounts => ({ Н: 0, Б: 0, У: 0, total: 0 });
const add = (into: ReasonCounts, from: ReasonCounts) => {
  into.Н += from.Н;
  into.Б += from.Б;
  into.У += from.У;
  into.total += from.total;
};

function totalsOf(id: string, name: string, rows: readonly StudentAttendance[]): AttendanceTotals {
  const missedLessons = zero();
  const missedDays = zero();
  let lessons = 0;
  for (const r of rows) {
    lessons += r.lessons;
    add(missedLessons, r.missedLessons);
    add(missedDays, r.missedDays);
  }
  const missedPct = lessons > 0 ? Math.round((missedLessons.total / lessons) * 1000) / 10 : null;
  return { id, name, students: rows.length, lessons, missedLessons, missedDays, missedPct };
}

export function attendanceFigures(data: ReportData): AttendanceFigures {
  const held = data.lessons.filter((l) => !l.cancelled);
  const heldIds = new Set(held.map((l) => l.id));
  const absent = groupBy(
    data.absences.filter((a) => heldIds.has(a.lessonId)),
    (a) => a.studentId,
  );
  const lessonsByClass = groupBy(held, (l) => l.classId);
  const rows: StudentAttendance[] = [];
  for (const [classId, students] of studentsByClass(data.students)) {
    const classLessons = lessonsByClass.get(classId) ?? [];
    for (const s of students) {
      const mine = classLessons.filter((l) => lessonConcerns(data, l, s));
      const ids = new Set(mine.map((l) => l.id));
      const perDay = new Map<string, number>();
      for (const l of mine) perDay.set(l.date, (perDay.get(l.date) ?? 0) + 1);
      const missedLessons = zero();
      const byDay = new Map<string, { Н: number; Б: number; У: number; n: number }>();
      for (const a of absent.get(s.studentId) ?? []) {
        if (!ids.has(a.lessonId)) continue;
        missedLessons[a.code] += 1;
        missedLessons.total += 1;
        const d = byDay.get(a.date) ?? { Н: 0, Б: 0, У: 0, n: 0 };
        d[a.code] += 1;
        d.n += 1;
        byDay.set(a.date, d);
      }
      const missedDays = zero();
      for (const [date, d] of byDay) {
        if (d.n < (perDay.get(date) ?? 0)) continue;
        missedDays[notAssessedFrom(d)] += 1;
        missedDays.total += 1;
      }
      rows.push({ studentId: s.studentId, name: s.name, classId, lessons: mine.length, missedLessons, missedDays });
    }
  }
  const rowsByClass = groupBy(rows, (r) => r.classId);
  const classes = data.scope.classes.map((c) => totalsOf(c.classId, c.name, rowsByClass.get(c.classId) ?? []));
  const detailed = data.scope.kind === 'student' || data.scope.kind === 'class';
  return { total: totalsOf('total', '', rows), classes, students: detailed ? rows : [] };
}
