import type { Db } from '../../db/index.js';
import { markDeadline, workKindOf } from '../school/rules.js';
import { addDays, instantOf, type LocalDate } from '../shared/calendar.js';
import { groupBy, type ReportData, teacherNames } from './data.js';
import type { FillingCell, FillingFigures, FillingRow } from './types.js';

/**
 * Journal filling (R26, R27): of the lessons held (not cancelled) in the span up to today, how many
 * have attendance saved (R19), a topic (R10), homework (R22); of the marks given in them, how many
 * were entered by the R13 deadline: the day the mark was entered (school time) is at most
 * `classWorkDueDays` (class work) or `writtenWorkDueDays` (written work) after the lesson.
 * Per teacher — the one who held the lesson, the substitute when there was one — and per
 * class × subject × teacher.
 */

const emptyCell = (): FillingCell => ({ held: 0, withAttendance: 0, withTopic: 0, withHomework: 0, marks: 0, marksOnTime: 0, marksLate: 0 });

const CELL_KEYS = Object.keys(emptyCell()) as Array<keyof FillingCell>;

function addCell(into: FillingCell, from: FillingCell): void {
  for (const k of CELL_KEYS) into[k] += from[k];
}

export async function fillingFigures(db: Db, data: ReportData): Promise<FillingFigures> {
  const held = data.lessons.filter((l) => !l.cancelled);
  const marksByLesson = groupBy(data.marks, (m) => m.lessonId);
  // R13 in the school's time: on time when entered before the midnight that ends the deadline's day (memoized per day).
  const ends = new Map<string, number>();
  const deadlineEnd = (day: LocalDate) => {
    let end = ends.get(day);
    if (end === undefined) {
      end = instantOf(addDays(day, 1), 0, data.rules.timezone).getTime();
      ends.set(day, end);
    }
    return end;
  };
  const cells = new Map<string, FillingCell>();
  for (const l of held) {
    const key = `${l.classId}|${l.subjectId}|${l.heldBy}`;
    const cell = cells.get(key) ?? emptyCell();
    cell.held += 1;
    if (l.attendance) cell.withAttendance += 1;
    if (l.topic) cell.withTopic += 1;
    if (l.homework) cell.withHomework += 1;
    for (const m of marksByLesson.get(l.id) ?? []) {
      const kind = workKindOf(data.rules, m.workKind) ?? { written: false };
      const onTime = m.createdAt.getTime() < deadlineEnd(markDeadline(l.date, kind, data.rules));
      cell.marks += 1;
      if (onTime) cell.marksOnTime += 1;
      else cell.marksLate += 1;
    }
    cells.set(key, cell);
  }
  const names = await teacherNames(db, data);
  const rows: FillingRow[] = [...cells].map(([key, cell]) => {
    const [classId = '', subjectId = '', teacherId = ''] = key.split('|');
    return {
      classId,
      className: data.classes.get(classId)?.name ?? '—',
      subjectId,
      subjectName: data.subjects.get(subjectId)?.name ?? '—',
      teacherId,
      teacherName: names.get(teacherId) ?? '—',
      ...cell,
    };
  });
  rows.sort((a, b) => a.className.localeCompare(b.className, 'ru') || a.subjectName.localeCompare(b.subjectName, 'ru') || a.teacherName.localeCompare(b.teacherName, 'ru'));
  const total = emptyCell();
  const teachers = new Map<string, FillingCell & { teacherId: string; teacherName: string }>();
  for (const r of rows) {
    const { classId: _c, className: _cn, subjectId: _s, subjectName: _sn, teacherId, teacherName, ...cell } = r;
    addCell(total, cell);
    const t = teachers.get(teacherId) ?? { teacherId, teacherName, ...emptyCell() };
    addCell(t, cell);
    teachers.set(teacherId, t);
  }
  return { total, teachers: [...teachers.values()].sort((a, b) => a.teacherName.localeCompare(b.teacherName, 'ru')), rows };
}
