import type { LocalDate } from '../shared/calendar.js';

/**
 * The report figures of issue 14 (R26–R28), as plain JSON-friendly data: the documents (sheets/),
 * the bot, the CLI (`--format json`) and the jobs all read these and compute nothing themselves.
 * Definitions and formulas: docs/reports.md. Ids are strings, dates 'YYYY-MM-DD' (school local).
 */

export type ReportScopeKind = 'student' | 'class' | 'grade' | 'school';

/** What a face asks for: whom, and a period of the year (by code) or a date range. */
export interface ReportRequest {
  kind: ReportScopeKind;
  studentId?: string;
  classId?: string;
  /** The grade level (parallel), 1–11. */
  grade?: number;
  /** q1..q4, h1..h2, t1..t3, year; with neither this nor from/to: the period the school is in today. */
  periodCode?: string;
  from?: LocalDate;
  to?: LocalDate;
  /** Default: the school's current year (academic-year.ts currentYear). */
  yearId?: string;
}

/** A class × subject the actor may see (`classId|subjectId`); see `ReportScope.pairs`. */
export type PairKey = string;

/** A request checked against the actor's rights (access.ts) and resolved to ids and dates. */
export interface ReportScope {
  kind: ReportScopeKind;
  schoolId: string;
  yearId: string;
  yearName: string;
  /** Set when the report is for a period of the year (figures from period marks). */
  period?: { code: string; kind: string; startsOn: LocalDate; endsOn: LocalDate };
  /** The span the figures cover (the period's dates, or the requested range). */
  from: LocalDate;
  to: LocalDate;
  /** The year's dates and holidays (school days for coverage, the documents' calendars). */
  yearStartsOn: LocalDate;
  yearEndsOn: LocalDate;
  holidays: Array<{ startsOn: LocalDate; endsOn: LocalDate }>;
  /** The school's local date when the scope was resolved: lessons after it are not "held" yet. */
  today: LocalDate;
  /** The classes in scope, sorted by grade and letter. */
  classes: Array<{ classId: string; name: string; grade: number }>;
  /** A student scope: that one student (in `classes[0]`). */
  studentId?: string;
  grade?: number;
  /**
   * The class × subject pairs the actor may see; undefined: every subject of the classes in scope
   * (class teacher R26, deputy, admin, the family for its own child).
   */
  pairs?: PairKey[];
}

/** Counts of period (or range) marks; `na` is Н/Б/У (not assessed), `passed` is К (pass/fail subjects). */
export interface MarkCounts {
  '5': number;
  '4': number;
  '3': number;
  '2': number;
  na: number;
  passed: number;
}

/** Success, quality, СОУ and the average over one set of marks (a subject, or overall). */
export interface ProgressCell {
  /** Students counted: on the roster at the end of the span, not exempt (subject) / in any subject (overall). */
  students: number;
  /** Exempt from the subject in the span (not in its denominators). Overall: 0. */
  exempt: number;
  /** Students with a mark (2–5, Н/Б/У, К): the denominator of success and quality. */
  assessed: number;
  /** Students counted but without any mark yet (the period not marked): in no denominator. */
  missing: number;
  counts: MarkCounts;
  /** % of assessed with 3, 4, 5 (or К) in every subject; null when nobody is assessed. One decimal. */
  successPct: number | null;
  /** % of assessed with only 4 and 5 (К allowed, at least one 4 or 5). One decimal. */
  qualityPct: number | null;
  /** СОУ (Симонов): (5×100 + 4×64 + 3×36 + 2×16 + Н×7) ÷ marks 2–5 and Н; null without any. One decimal. */
  sou: number | null;
  /** The mean of the numeric marks 2–5, two decimals; null without any. */
  averageMark: number | null;
}

export interface SubjectProgress extends ProgressCell {
  subjectId: string;
  subjectName: string;
  assessment: 'marks' | 'passfail';
}

export interface StudentProgress {
  studentId: string;
  name: string;
  classId: string;
  /** subjectId → the mark ('2'–'5', 'Н', 'Б', 'У', 'К'); a subject without a mark is absent; exempt: 'exempt'. */
  marks: Record<string, string>;
  /** For a date range: subjectId → the weighted average of current marks the mark was rounded from. */
  averages?: Record<string, number>;
  success: boolean;
  quality: boolean;
}

export interface UnitProgress {
  /** A class id, a grade level ("7") or "school". */
  id: string;
  name: string;
  overall: ProgressCell;
  subjects: SubjectProgress[];
}

export interface ProgressFigures {
  /** 'periodMarks': the period marks as set (R17); 'currentMarks': a date range, suggested from current marks. */
  source: 'periodMarks' | 'currentMarks';
  overall: ProgressCell;
  subjects: SubjectProgress[];
  /** Per class (and, for a school scope, per grade level in `grades`). */
  classes: UnitProgress[];
  grades: UnitProgress[];
  /** Student and class scopes only (the report card, the class teacher's sheet). */
  students: StudentProgress[];
}

export interface ReasonCounts {
  Н: number;
  Б: number;
  У: number;
  total: number;
}

export interface StudentAttendance {
  studentId: string;
  name: string;
  classId: string;
  /** Lessons held for the student in the span (their class's and their groups' lessons). */
  lessons: number;
  missedLessons: ReasonCounts;
  /** Days on which every held lesson of the student was missed; the day's reason is its lessons' most common one. */
  missedDays: ReasonCounts;
}

export interface AttendanceTotals {
  id: string;
  name: string;
  students: number;
  lessons: number;
  missedLessons: ReasonCounts;
  missedDays: ReasonCounts;
  /** missedLessons.total ÷ lessons × 100, one decimal; null without lessons. */
  missedPct: number | null;
}

export interface AttendanceFigures {
  total: AttendanceTotals;
  classes: AttendanceTotals[];
  /** Student and class scopes only. */
  students: StudentAttendance[];
}

/** Journal filling of one set of lessons (R26, R27, R13). */
export interface FillingCell {
  /** Lessons that took place (not cancelled) up to today in the span. */
  held: number;
  withAttendance: number;
  withTopic: number;
  withHomework: number;
  marks: number;
  /** Marks entered by the R13 deadline (class work: classWorkDueDays, written work: writtenWorkDueDays). */
  marksOnTime: number;
  marksLate: number;
}

export interface FillingRow extends FillingCell {
  classId: string;
  className: string;
  subjectId: string;
  subjectName: string;
  teacherId: string;
  teacherName: string;
}

export interface FillingFigures {
  total: FillingCell;
  /** Per teacher (who held the lesson: the substitute when there was one). */
  teachers: Array<FillingCell & { teacherId: string; teacherName: string }>;
  /** Per class × subject × teacher. */
  rows: FillingRow[];
}

export interface CoverageRow {
  classId: string;
  className: string;
  groupId?: string;
  groupName?: string;
  subjectId: string;
  subjectName: string;
  teacherId: string;
  teacherName: string;
  /** Lessons that took place (exist in the journal, not cancelled) in the span up to today. */
  held: number;
  /** Lessons the timetable had for the span up to today (school days, holidays excluded). */
  timetabled: number;
  /** The plan's hours for the span (see `planBasis`); null without a plan. */
  planHours: number | null;
  planBasis: 'period' | 'prorated' | 'none';
  /** The load's hours per year, prorated to the span up to today by school days. One decimal. */
  loadHours: number | null;
  /** held − planHours and held − loadHours; negative: behind. */
  diffPlan: number | null;
  diffLoad: number | null;
}

export interface CoverageFigures {
  /** Share of the year's school days in the span up to today (the proration factor), 4 decimals. */
  yearShare: number;
  rows: CoverageRow[];
}

export interface Report {
  scope: ReportScope;
  progress: ProgressFigures;
  attendance: AttendanceFigures;
  filling: FillingFigures;
  coverage: CoverageFigures;
}
