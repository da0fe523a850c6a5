/**
 * The Mini App's API contract for the school office's screens (issue 15): `/app/api/office/*` and
 * `/app/api/reports/*`, re-exported by api-types.ts. Type-only like it: the browser bundle imports it.
 */
export interface OfficeMarkWindow {
  opensOn: string;
  closesOn: string;
  /** Where it comes from: the rule (the period's last days), the admin's change for the school, or for a class. */
  source: 'default' | 'school' | 'class';
  state: 'before' | 'open' | 'closed';
}

export interface OfficePeriodItem {
  code: string;
  /** "2-я четверть" */
  name: string;
  kind: string;
  startsOn: string;
  endsOn: string;
  grades: number[];
  window: OfficeMarkWindow;
}

export interface OfficeSettings {
  lockAfterDays: number;
  classWorkDueDays: number;
  writtenWorkDueDays: number;
  finalMarkWindowDays: number;
  markGraceMinutes: number;
  quietHours: { from: string; to: string };
  inviteTtlDays?: number;
  assessment: { roundFrom: number; minMarks: number };
}

export interface OfficeWorkKind {
  code: string;
  name: { ru: string; en: string };
  weight: number;
  /** Written work (tests, control work): the longer R13 deadline. */
  written: boolean;
}

/** GET /app/api/office: what the office's screens open on. 403 for anyone but the admin, deputy, secretary. */
export interface OfficeResponse {
  today: string;
  settings: OfficeSettings;
  year: {
    id: string;
    name: string;
    startsOn: string;
    endsOn: string;
    periods: OfficePeriodItem[];
    holidays: Array<{ name: string; startsOn: string; endsOn: string }>;
  } | null;
  classes: Array<{ id: string; name: string }>;
  teachers: Array<{ id: string; name: string }>;
  /** To limit a grant to one subject. */
  subjects: Array<{ id: string; name: string }>;
  workKinds: OfficeWorkKind[];
  /** What this person may change (the server checks again). */
  can: { settings: boolean; calendar: boolean; substitutions: boolean; grants: boolean; moves: boolean; workKinds: boolean };
}

/** PATCH /app/api/office/settings: any part of OfficeSettings (admin). Answers the settings as they now are. */
export type OfficeSettingsPatch = Partial<OfficeSettings>;
export interface OfficeSettingsResponse {
  settings: OfficeSettings;
  changed: string[];
}

/** PUT /app/api/office/work-kinds: the whole list (admin). */
export interface OfficeWorkKindsResponse {
  workKinds: OfficeWorkKind[];
  changed: string[];
}

/** POST /app/api/office/calendar: one change of the current year (admin); answers a fresh OfficeResponse['year']. */
export type OfficeCalendarChange =
  | { op: 'period'; code: string; startsOn: string; endsOn: string; grades?: number[] }
  | { op: 'holiday'; name: string; startsOn: string; endsOn: string }
  | { op: 'removeHoliday'; startsOn: string };

/** POST /app/api/office/windows: open, extend or close a period-mark window (R15, admin). */
export interface OfficeWindowRequest {
  periodCode: string;
  classId?: string;
  change: { action: 'open'; from?: string; until?: string } | { action: 'extend'; until: string } | { action: 'close' } | { action: 'reset' };
}

// /app/api/office/substitutions (R7: deputy, admin)

/** GET /app/api/office/slots?date=: the day's timetable to pick a lesson from. */
export interface OfficeSlot {
  slotId: string;
  lessonNo: number;
  className: string;
  groupName?: string;
  subjectName: string;
  teacherId: string;
  teacherName: string;
  substitution?: { id: string; substituteId: string; substituteName: string; reason?: string };
}

export interface OfficeSubstitution {
  id: string;
  date: string;
  slotId: string;
  lessonNo: number;
  className: string;
  groupName?: string;
  subjectName: string;
  teacherName: string;
  substituteId: string;
  substituteName: string;
  reason?: string;
}

/** POST /app/api/office/substitutions → 201 OfficeSubstitution; DELETE /app/api/office/substitutions/:id → DeletedResponse. */
export interface OfficeSubstitutionRequest {
  slotId: string;
  date: string;
  substituteId: string;
  reason?: string;
}

// /app/api/office/grants (R7: deputy, admin)

export interface OfficeGrant {
  grantId: string;
  teacherName: string;
  className: string;
  subjectName?: string;
  from: string;
  to: string;
}

/** POST /app/api/office/grants → 201 { grantId }; DELETE /app/api/office/grants/:id → DeletedResponse. */
export interface OfficeGrantRequest {
  teacherId: string;
  classId: string;
  subjectId?: string;
  from: string;
  to: string;
}

// /app/api/office/students (R5: secretary, deputy, admin)

export interface OfficeStudent {
  id: string;
  name: string;
  classId: string;
  className: string;
  studying: boolean;
  /** Parents linked to the student: they follow the student through every move. */
  parents: number;
}

/** POST /app/api/office/moves: one move. A new student's arrival gives names; a returning one, studentId. */
export type OfficeMoveRequest =
  | { kind: 'arrival'; classId: string; date: string; lastName: string; firstName: string; middleName?: string; birthDate?: string; note?: string }
  | { kind: 'arrival'; studentId: string; classId: string; date: string; note?: string }
  | { kind: 'transfer'; studentId: string; toClassId: string; date: string; note?: string }
  | { kind: 'withdrawal'; studentId: string; date: string; note?: string };

export interface OfficeMoveResponse {
  studentId: string;
  name: string;
  kind: 'arrival' | 'transfer' | 'withdrawal';
  date: string;
  fromClass?: string;
  toClass?: string;
}

// ---- GET /app/api/reports/options and /app/api/reports?kind=class&classId=|kind=school&period= ----

/** What this person may open: the school (deputy, admin) and the classes (all, or the ones they lead). */
export interface ReportOptionsResponse {
  school: boolean;
  classes: Array<{ id: string; name: string }>;
}

export interface ReportFigureRow {
  id: string;
  name: string;
  /** % (one decimal) or null when nobody is assessed. */
  successPct: number | null;
  qualityPct: number | null;
  sou: number | null;
  averageMark: number | null;
}

export interface ReportFillingRow {
  name: string;
  held: number;
  /** Shares of the lessons held (%), one decimal; null without lessons. */
  attendancePct: number | null;
  topicPct: number | null;
  homeworkPct: number | null;
  marks: number;
  /** Marks entered by the R13 deadline, % of marks. */
  onTimePct: number | null;
}

export interface ReportResponse {
  title: string;
  period: { code: string; name: string } | null;
  periods: Array<{ code: string; name: string }>;
  from: string;
  to: string;
  /** 'periodMarks' (period marks as set) or 'currentMarks' (suggested from current marks). */
  source: 'periodMarks' | 'currentMarks';
  overall: ReportFigureRow;
  /** The classes of a school report, or the subjects of a class report. */
  rows: ReportFigureRow[];
  attendance: { lessons: number; missed: number; missedPct: number | null; byReason: { Н: number; Б: number; У: number } };
  /** Per class (school) or per class's student (class): missed lessons %. */
  attendanceRows: Array<{ id: string; name: string; missedPct: number | null; missed: number }>;
  filling: ReportFillingRow;
  /** Per teacher. */
  fillingRows: ReportFillingRow[];
}
