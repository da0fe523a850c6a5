import { clearSchoolCache } from '../school-cache.js';
import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { LOCALES } from '../../config.js';

/** A kind of work a mark is given for (R12), with its weight in the weighted average. */
const workKindSchema = new Schema(
  {
    code: { type: String, required: true },
    name: { ru: { type: String, required: true }, en: { type: String, required: true } },
    weight: { type: Number, required: true, min: 0.1, max: 10 },
    /** Written work (tests, control work) has the longer marking deadline (R13). */
    written: { type: Boolean, default: false },
  },
  { _id: false },
);

const bellSchema = new Schema(
  { lessonNo: { type: Number, required: true }, start: { type: String, required: true }, end: { type: String, required: true } },
  { _id: false },
);

export const DEFAULT_WORK_KINDS = [
  { code: 'classwork', name: { ru: 'Работа на уроке', en: 'Class work' }, weight: 1, written: false },
  { code: 'homework', name: { ru: 'Домашняя работа', en: 'Homework' }, weight: 1, written: false },
  { code: 'oral', name: { ru: 'Устный ответ', en: 'Oral answer' }, weight: 1, written: false },
  { code: 'test', name: { ru: 'Самостоятельная работа', en: 'Test' }, weight: 1.5, written: true },
  { code: 'control', name: { ru: 'Контрольная работа', en: 'Control work' }, weight: 2, written: true },
];

export const DEFAULT_BELLS = [
  { lessonNo: 1, start: '08:30', end: '09:15' },
  { lessonNo: 2, start: '09:25', end: '10:10' },
  { lessonNo: 3, start: '10:30', end: '11:15' },
  { lessonNo: 4, start: '11:35', end: '12:20' },
  { lessonNo: 5, start: '12:30', end: '13:15' },
  { lessonNo: 6, start: '13:25', end: '14:10' },
  { lessonNo: 7, start: '14:20', end: '15:05' },
  { lessonNo: 8, start: '15:15', end: '16:00' },
];

/** Regulation defaults (R13, R14, R15); each school can change them. */
const settingsSchema = new Schema(
  {
    lockAfterDays: { type: Number, default: 7, min: 1, max: 60 }, // R14
    classWorkDueDays: { type: Number, default: 1, min: 0, max: 30 }, // R13
    writtenWorkDueDays: { type: Number, default: 5, min: 0, max: 30 }, // R13 (grades 2–9)
    finalMarkWindowDays: { type: Number, default: 7, min: 1, max: 30 }, // R15: last week of a period
    quietHours: {
      from: { type: String, default: '21:00' },
      to: { type: String, default: '08:00' },
    },
    markGraceMinutes: { type: Number, default: 5, min: 0, max: 60 },
    /** R17: how a period mark is suggested from the average (domain/journal/assessment.ts). */
    assessment: {
      roundFrom: { type: Number, default: 0.5, min: 0.1, max: 0.9 },
      minMarks: { type: Number, default: 3, min: 0, max: 20 },
    },
    inviteTtlDays: { type: Number, min: 1, max: 365 },
    /** The scheduled reports (issue 14, src/jobs/reports.ts); each can be turned off per school. */
    reports: {
      weekly: { type: Boolean, default: true },
      monthly: { type: Boolean, default: true },
      periodEnd: { type: Boolean, default: true },
    },
    workKinds: { type: [workKindSchema], default: () => DEFAULT_WORK_KINDS },
    bells: { type: [bellSchema], default: () => DEFAULT_BELLS },
  },
  { _id: false },
);

const schoolSchema = new Schema(
  {
    name: { type: String, required: true },
    timezone: { type: String, required: true },
    locale: { type: String, enum: LOCALES, default: 'ru' },
    settings: { type: settingsSchema, default: () => ({}) },
    /** For deployments with several bot tokens: which bot serves this school (null: the default one). */
    botKey: { type: String },
  },
  { timestamps: true, collection: 'schools' },
);

// Any write to a school through the model clears this process's short-lived school cache
// (src/db/school-cache.ts); other processes see the change within its TTL.
for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'findOneAndReplace', 'replaceOne', 'deleteOne', 'deleteMany'] as const) {
  schoolSchema.post(op, () => clearSchoolCache());
}
schoolSchema.post('save', () => clearSchoolCache());
schoolSchema.post('insertMany', () => clearSchoolCache());
schoolSchema.post('bulkWrite', () => clearSchoolCache());

export type SchoolDoc = InferSchemaType<typeof schoolSchema> & { _id: Types.ObjectId };
export type SchoolSettings = SchoolDoc['settings'];
export const schoolModel = (conn: Connection) => conn.model('School', schoolSchema);

/**
 * An academic year with its periods (quarters, halves or trimesters, plus the year itself) and holidays.
 * Dates are the school's local calendar dates as 'YYYY-MM-DD' strings: a lesson happens on a day,
 * not at an instant, and string dates compare and sort correctly.
 */
const periodSchema = new Schema(
  {
    code: { type: String, required: true }, // q1..q4, h1..h2, t1..t3, year
    kind: { type: String, enum: ['quarter', 'half', 'trimester', 'year'], required: true },
    startsOn: { type: String, required: true },
    endsOn: { type: String, required: true },
    /** R15: the admin opens the period-mark window; null = the default last week of the period. */
    markWindow: { opensOn: String, closesOn: String },
    /** R15 for one class: the admin opened, extended or closed its window apart from the school's. */
    classWindows: {
      type: [new Schema({ classId: { type: Schema.Types.ObjectId, required: true }, opensOn: String, closesOn: String }, { _id: false })],
      default: [],
    },
    /** The grade levels this period is for (quarters for 1–9, halves for 10–11); empty: every grade. */
    grades: { type: [Number], default: [] },
  },
  { _id: false },
);
const holidaySchema = new Schema(
  { name: String, startsOn: { type: String, required: true }, endsOn: { type: String, required: true } },
  { _id: false },
);
const academicYearSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true }, // "2026/2027"
    startsOn: { type: String, required: true },
    endsOn: { type: String, required: true },
    periods: { type: [periodSchema], default: [] },
    holidays: { type: [holidaySchema], default: [] },
    /** 'archived' after the year-end rollover (R30). */
    status: { type: String, enum: ['active', 'archived'], default: 'active' },
  },
  { timestamps: true, collection: 'academic_years' },
);
academicYearSchema.index({ schoolId: 1, name: 1 }, { unique: true });

export type AcademicYearDoc = InferSchemaType<typeof academicYearSchema> & { _id: Types.ObjectId };
export const academicYearModel = (conn: Connection) => conn.model('AcademicYear', academicYearSchema);
