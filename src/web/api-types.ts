/**
 * The Mini App's API contract (issue 15): request and response shapes of `/app/api/*`.
 * Type-only: the browser bundle (src/web/app/) imports this file, so it must never import
 * anything at run time. Ids are strings, dates are 'YYYY-MM-DD' (the school's local date).
 *
 * Every request carries `Authorization: tma <initData>` (Telegram's init data, checked on the
 * server). Errors: `ApiError` with status 400 (bad request), 401 (no/forged/expired init data),
 * 403 (unknown person or no access), 404, 409 (a rule refused it, e.g. R14's lock), 503.
 */

export type ApiLocale = 'ru' | 'en';
export type ApiAbsenceCode = 'Н' | 'Б' | 'У';
export type ApiRole = 'admin' | 'secretary' | 'deputy' | 'teacher' | 'parent' | 'student';

/** Any 4xx/5xx answer. `message` is already in the person's language. */
export interface ApiError {
  error: 'unauthorized' | 'forbidden' | 'not_found' | 'bad_request' | 'refused' | 'unavailable' | 'internal';
  message: string;
  /** The i18n key behind `message` when it came from a use case (e.g. 'errors.forbidden'). */
  key?: string;
}

// ---- GET /app/api/me ----

/** One class or group × subject the teacher may open in the grid. */
export interface TeachingItem {
  classId: string;
  groupId: string | null;
  subjectId: string;
  /** e.g. "7Б · Алгебра" or "7Б (гр. 1) · Английский язык". */
  label: string;
}

export interface ChildItem {
  id: string;
  name: string;
  className: string;
}

export interface MeResponse {
  person: { id: string; name: string };
  roles: ApiRole[];
  locale: ApiLocale;
  school: { id: string; name: string };
  teaching: TeachingItem[];
  children: ChildItem[];
  /** Admin, deputy or secretary: the office's screens. */
  isOffice: boolean;
  /** The classes this person leads as class teacher (R26: their class's figures in the office tab). */
  classTeacherOf: string[];
}

// ---- GET /app/api/grid?classId=&subjectId=&groupId=&period= ----

export interface GridQuery {
  classId: string;
  subjectId: string;
  groupId?: string;
  /** A period code of the school year (e.g. 'q2'); default: the current period. */
  period?: string;
}

export interface GridPeriod {
  code: string;
  name: string;
  from: string;
  to: string;
  /** The period-mark entry window is open (R15): the suggested mark is worth showing. */
  windowOpen: boolean;
}

export interface GridStudent {
  id: string;
  name: string;
}

export interface GridLesson {
  id: string;
  date: string;
  /** The lesson number in the day (several lessons of a subject on one day). */
  lessonNo: number | null;
  topic: string | null;
  /** R14: closed for edits (the lock). */
  locked: boolean;
  /** This person may add/change/delete marks here now (R11–R14). */
  canEdit: boolean;
}

export interface GridMark {
  id: string;
  value: number;
  workKind: string;
  weight: number;
  comment: string | null;
}

export interface GridCell {
  marks: GridMark[];
  absence?: ApiAbsenceCode;
}

export interface GridPeriodCell {
  average: number | null;
  suggested: string | null;
  periodMark: string | null;
}

export interface WorkKindItem {
  code: string;
  name: string;
  weight: number;
}

export interface GridResponse {
  title: string;
  period: GridPeriod;
  /** Every period of the year for this class, to switch between them. */
  periods: Array<{ code: string; name: string }>;
  students: GridStudent[];
  lessons: GridLesson[];
  /** cells[studentId][lessonId]; a cell without marks or absence is absent from the map. */
  cells: Record<string, Record<string, GridCell>>;
  periodColumn: Record<string, GridPeriodCell>;
  /** False for a substitute for single lessons (R7): no period column (its figures are the subject teacher's). */
  periodFigures: boolean;
  workKinds: WorkKindItem[];
  markValues: number[];
}

// ---- POST /app/api/marks, PATCH/DELETE /app/api/marks/:id ----

export interface MarkCreateRequest {
  lessonId: string;
  studentId: string;
  value: number;
  workKind: string;
  comment?: string;
  /** A fresh random key per intended mark (8–64 of A-Z a-z 0-9 _ -): a retried POST records the mark once (200, not 201). */
  clientKey: string;
  /** R14: the admin changing a locked lesson must give a reason (kept in the audit). */
  reason?: string;
}

export interface MarkUpdateRequest {
  value?: number;
  workKind?: string;
  comment?: string | null;
  /** R14: the admin's reason for a locked lesson. DELETE takes it as `?reason=`. */
  reason?: string;
}

/** The answer of POST and PATCH. */
export interface MarkResponse extends GridMark {
  lessonId: string;
  studentId: string;
}

/** The answer of DELETE. */
export interface DeletedResponse {
  ok: true;
}

// ---- GET /app/api/children/:studentId/marks?period= ----

export interface ChartPoint {
  date: string;
  value: number;
  weight: number;
}

export interface ChildSubjectMarks {
  subjectId: string;
  name: string;
  points: ChartPoint[];
  average: number | null;
}

export interface ChildPeriodItem {
  code: string;
  name: string;
  from: string;
  to: string;
  current: boolean;
}

export interface ChildMarksResponse {
  student: { id: string; name: string; className: string };
  period: ChildPeriodItem | null;
  subjects: ChildSubjectMarks[];
  periods: ChildPeriodItem[];
}

// ---- GET /app/api/children/:studentId/attendance?from=&to= ----

export interface AttendanceDay {
  date: string;
  /** One entry per missed lesson. */
  absences: Array<{ subject: string; code: ApiAbsenceCode }>;
}

export interface ChildAttendanceResponse {
  from: string;
  to: string;
  /** Only days with at least one absence, in date order. */
  days: AttendanceDay[];
  totals: Record<ApiAbsenceCode, number>;
}

// ---- GET /app/api/children/:studentId/homework?week=YYYY-MM-DD ----

export interface HomeworkItem {
  date: string;
  subject: string;
  text: string;
  /** How many files are attached (they are sent in the bot's chat). */
  files: number;
}

export interface ChildHomeworkResponse {
  /** Monday and Sunday of the week asked for (any date in it may be passed). */
  week: { from: string; to: string };
  items: HomeworkItem[];
}

// ---- the school office (issue 15): /app/api/office/* and /app/api/reports/* (its own file, type-only too) ----

export type * from './api-types-office.js';
