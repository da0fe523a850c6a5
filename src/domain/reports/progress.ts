import { type AbsenceCounts, suggestPeriodMark } from '../journal/assessment.js';
import { weightedAverage } from '../journal/averages.js';
import { groupBy, lessonConcerns, type ReportData, type RosterStudent, studentsByClass } from './data.js';
import type { MarkCounts, ProgressCell, ProgressFigures, StudentProgress, SubjectProgress, UnitProgress } from './types.js';

/**
 * Success, quality, СОУ and the average mark (R27, R28; definitions in docs/reports.md).
 * A period: from the period marks as set. A date range: each student × subject gets the mark the
 * school's assessment rule suggests (R17, journal/assessment.ts) from the range's current marks
 * (weighted average, `minMarks`, `roundFrom`) and absences.
 */

/** Симонов's weights of a mark in the СОУ (степень обученности учащихся). */
export const SOU_WEIGHTS = { '5': 100, '4': 64, '3': 36, '2': 16, na: 7 } as const;

const NA = new Set(['Н', 'Б', 'У']);
const round1 = (x: number) => Math.round(x * 10) / 10;
const pct = (part: number, whole: number) => (whole > 0 ? round1((part / whole) * 100) : null);
const emptyCounts = (): MarkCounts => ({ '5': 0, '4': 0, '3': 0, '2': 0, na: 0, passed: 0 });

/** One student × subject mark as the figures read it. */
interface Entry {
  studentId: string;
  subjectId: string;
  value: string;
}

function tally(counts: MarkCounts, value: string): void {
  if (value === 'К') counts.passed += 1;
  else if (NA.has(value)) counts.na += 1;
  else if (value === '5' || value === '4' || value === '3' || value === '2') counts[value] += 1;
}

/** СОУ and the average from counts of a marked subject (К is no number; Н/Б/У weigh 7 in the СОУ, nothing in the average). */
function souAndAverage(c: MarkCounts): Pick<ProgressCell, 'sou' | 'averageMark'> {
  const numeric = c['5'] + c['4'] + c['3'] + c['2'];
  const withNa = numeric + c.na;
  const w = SOU_WEIGHTS;
  const sou = withNa > 0 ? round1((c['5'] * w['5'] + c['4'] * w['4'] + c['3'] * w['3'] + c['2'] * w['2'] + c.na * w.na) / withNa) : null;
  const averageMark = numeric > 0 ? Math.round(((5 * c['5'] + 4 * c['4'] + 3 * c['3'] + 2 * c['2']) / numeric) * 100) / 100 : null;
  return { sou, averageMark };
}

function subjectCell(students: number, exempt: number, counts: MarkCounts, passfail: boolean): ProgressCell {
  const assessed = counts['5'] + counts['4'] + counts['3'] + counts['2'] + counts.na + counts.passed;
  const good = counts['5'] + counts['4'];
  return {
    students,
    exempt,
    assessed,
    missing: Math.max(0, students - assessed),
    counts,
    successPct: pct(good + counts['3'] + counts.passed, assessed),
    qualityPct: passfail ? null : pct(good, assessed),
    ...(passfail ? { sou: null, averageMark: null } : souAndAverage(counts)),
  };
}

/** Overall over a set of students: success and quality per student across every subject; СОУ and average over the marked subjects' marks. */
function overallCell(studentIds: readonly string[], entries: readonly Entry[], data: ReportData): ProgressCell {
  const mine = new Set(studentIds);
  const byStudent = new Map<string, string[]>();
  const counts = emptyCounts();
  const marked = emptyCounts();
  for (const e of entries) {
    if (!mine.has(e.studentId)) continue;
    byStudent.set(e.studentId, [...(byStudent.get(e.studentId) ?? []), e.value]);
    tally(counts, e.value);
    if (data.subjects.get(e.subjectId)?.assessment !== 'passfail') tally(marked, e.value);
  }
  let success = 0;
  let quality = 0;
  for (const values of byStudent.values()) {
    const ok = values.every((v) => v === '3' || v === '4' || v === '5' || v === 'К');
    if (ok) success += 1;
    if (ok && !values.includes('3') && values.some((v) => v === '4' || v === '5')) quality += 1;
  }
  const assessed = byStudent.size;
  return {
    students: mine.size,
    exempt: 0,
    assessed,
    missing: mine.size - assessed,
    counts,
    successPct: pct(success, assessed),
    qualityPct: pct(quality, assessed),
    ...souAndAverage(marked),
  };
}

/** The subjects each student is counted in: the class's load (a group subject: the group's students), plus any subject they have a mark in. */
function subjectsOfStudents(data: ReportData, entries: readonly Entry[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (studentId: string, subjectId: string) => out.set(studentId, (out.get(studentId) ?? new Set()).add(subjectId));
  const loadOf = groupBy(data.load, (l) => l.classId);
  for (const s of data.students) {
    for (const l of loadOf.get(s.classId) ?? []) {
      if (!l.groupId || data.groups.get(l.groupId)?.studentIds.has(s.studentId)) add(s.studentId, l.subjectId);
    }
  }
  const counted = new Set(data.students.map((s) => s.studentId));
  for (const e of entries) if (counted.has(e.studentId)) add(e.studentId, e.subjectId);
  return out;
}

/** Students exempt from a PE subject in the span (R21: `data.peExempt`) with no 2–5 or К in it: `studentId|subjectId`. */
function exemptPairs(data: ReportData, entries: readonly Entry[]): Set<string> {
  const pe = [...data.subjects].filter(([, s]) => s.pe).map(([id]) => id);
  const assessed = new Set(entries.filter((e) => !NA.has(e.value)).map((e) => `${e.studentId}|${e.subjectId}`));
  const out = new Set<string>();
  for (const studentId of data.peExempt) for (const subjectId of pe) if (!assessed.has(`${studentId}|${subjectId}`)) out.add(`${studentId}|${subjectId}`);
  return out;
}

/** A date range: the mark the assessment rule suggests from the range's current marks and absences (R17). */
function rangeEntries(data: ReportData): { entries: Entry[]; averages: Map<string, number> } {
  const key = (studentId: string, subjectId: string) => `${studentId}|${subjectId}`;
  const marks = groupBy(data.marks, (m) => key(m.studentId, m.subjectId));
  const lessonById = new Map(data.lessons.map((l) => [l.id, l]));
  const absences = new Map<string, AbsenceCounts>();
  for (const a of data.absences) {
    const l = lessonById.get(a.lessonId);
    if (!l || l.cancelled) continue;
    const k = key(a.studentId, l.subjectId);
    const c = absences.get(k) ?? { Н: 0, Б: 0, У: 0 };
    c[a.code] += 1;
    absences.set(k, c);
  }
  const lessons = new Map<string, number>();
  const byStudent = new Map(data.students.map((s) => [s.studentId, s]));
  const byClass = studentsByClass(data.students);
  for (const l of data.lessons) {
    if (l.cancelled) continue;
    for (const s of byClass.get(l.classId) ?? []) if (lessonConcerns(data, l, s)) lessons.set(key(s.studentId, l.subjectId), (lessons.get(key(s.studentId, l.subjectId)) ?? 0) + 1);
  }
  const entries: Entry[] = [];
  const averages = new Map<string, number>();
  for (const k of new Set([...marks.keys(), ...absences.keys(), ...lessons.keys()])) {
    const [studentId, subjectId] = k.split('|') as [string, string];
    if (!byStudent.has(studentId)) continue;
    const own = marks.get(k) ?? [];
    const average = weightedAverage(own);
    const assessment = data.subjects.get(subjectId)?.assessment ?? 'marks';
    const value = suggestPeriodMark({ assessment, average, marks: own.length, absences: absences.get(k) ?? { Н: 0, Б: 0, У: 0 }, lessons: lessons.get(k) ?? 0 }, data.rule);
    if (average !== undefined) averages.set(k, average);
    if (value) entries.push({ studentId, subjectId, value });
  }
  return { entries, averages };
}

function unitOf(id: string, name: string, students: RosterStudent[], entries: Map<string, Entry[]>, data: ReportData, subjectsOf: Map<string, Set<string>>, exempt: Set<string>): UnitProgress {
  const ids = students.map((s) => s.studentId);
  const mine = ids.flatMap((s) => (entries.get(s) ?? []).filter((e) => !exempt.has(`${s}|${e.subjectId}`)));
  const bySubject = groupBy(mine, (e) => e.subjectId);
  const subjectIds = new Set<string>();
  for (const s of ids) for (const subj of subjectsOf.get(s) ?? []) subjectIds.add(subj);
  const subjects: SubjectProgress[] = [...subjectIds]
    .map((subjectId) => {
      const info = data.subjects.get(subjectId) ?? { name: '—', assessment: 'marks' as const, pe: false };
      const roster = ids.filter((s) => subjectsOf.get(s)?.has(subjectId));
      const ex = roster.filter((s) => exempt.has(`${s}|${subjectId}`)).length;
      const counts = emptyCounts();
      for (const e of bySubject.get(subjectId) ?? []) tally(counts, e.value);
      const cell = subjectCell(roster.length - ex, ex, counts, info.assessment === 'passfail');
      return { subjectId, subjectName: info.name, assessment: info.assessment, ...cell };
    })
    .sort((a, b) => a.subjectName.localeCompare(b.subjectName, 'ru'));
  const withSubjects = ids.filter((s) => (subjectsOf.get(s)?.size ?? 0) > 0);
  return { id, name, overall: overallCell(withSubjects, mine, data), subjects };
}

export function progressFigures(data: ReportData): ProgressFigures {
  const { scope } = data;
  const range = scope.period ? undefined : rangeEntries(data);
  const entries = range ? range.entries : data.periodMarks;
  const subjectsOf = subjectsOfStudents(data, entries);
  const exempt = exemptPairs(data, entries);
  const byStudent = groupBy(entries, (e) => e.studentId);
  const all = unitOf('school', '', data.students, byStudent, data, subjectsOf, exempt);
  const classes = scope.classes.map((c) =>
    unitOf(c.classId, c.name, data.students.filter((s) => s.classId === c.classId), byStudent, data, subjectsOf, exempt),
  );
  const gradeLevels = [...new Set(scope.classes.map((c) => c.grade))];
  const grades =
    scope.kind === 'grade' || scope.kind === 'school'
      ? gradeLevels.map((g) => {
          const inGrade = new Set(scope.classes.filter((c) => c.grade === g).map((c) => c.classId));
          return unitOf(String(g), String(g), data.students.filter((s) => inGrade.has(s.classId)), byStudent, data, subjectsOf, exempt);
        })
      : [];
  const students: StudentProgress[] =
    scope.kind === 'student' || scope.kind === 'class'
      ? data.students.map((s) => {
          const marks: Record<string, string> = {};
          const averages: Record<string, number> = {};
          for (const subj of subjectsOf.get(s.studentId) ?? []) if (exempt.has(`${s.studentId}|${subj}`)) marks[subj] = 'exempt';
          for (const e of byStudent.get(s.studentId) ?? []) if (!exempt.has(`${s.studentId}|${e.subjectId}`)) marks[e.subjectId] = e.value;
          for (const [k, v] of range?.averages ?? []) if (k.startsWith(`${s.studentId}|`)) averages[k.slice(s.studentId.length + 1)] = v;
          const values = Object.values(marks).filter((v) => v !== 'exempt');
          const success = values.length > 0 && values.every((v) => v === '3' || v === '4' || v === '5' || v === 'К');
          const quality = success && !values.includes('3') && values.some((v) => v === '4' || v === '5');
          return { studentId: s.studentId, name: s.name, classId: s.classId, marks, ...(range ? { averages } : {}), success, quality };
        })
      : [];
  return { source: range ? 'currentMarks' : 'periodMarks', overall: all.overall, subjects: all.subjects, classes, grades, students };
}
