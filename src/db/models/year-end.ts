import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { STUDENT_OUTCOMES, YEAR_CLOSING_STEPS } from '../../domain/shared/vocabulary.js';

/**
 * The end of a school year (R5, R30). StudentOutcome: what the secretary decided for one student
 * (переведён, условно переведён, оставлен на повторное обучение, отчислен, выпущен); the class the
 * student was in that year is kept with it, so last year's roster survives the move up.
 */
const studentOutcomeSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    yearId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    /** The student's class during that year. */
    classId: { type: Schema.Types.ObjectId },
    outcome: { type: String, enum: STUDENT_OUTCOMES, required: true },
    /** Conditional promotion: the subjects to retake (академическая задолженность). */
    retakeSubjectIds: { type: [Schema.Types.ObjectId], default: [] },
    setBy: { type: Schema.Types.ObjectId, default: null },
    /** The default the year's closing wrote for a student nobody decided about. */
    byDefault: { type: Boolean, default: false },
    note: { type: String },
  },
  { timestamps: true, collection: 'student_outcomes' },
);
studentOutcomeSchema.index({ yearId: 1, studentId: 1 }, { unique: true });
studentOutcomeSchema.index({ schoolId: 1, yearId: 1, classId: 1 });

export type StudentOutcomeDoc = InferSchemaType<typeof studentOutcomeSchema> & { _id: Types.ObjectId };
export const studentOutcomeModel = (conn: Connection) => conn.model('StudentOutcome', studentOutcomeSchema);

/**
 * One run of "close the year": which steps are done. There are no transactions on every server the
 * app supports, so each step is idempotent on its own and this document says where to resume.
 */
const yearClosingSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    yearId: { type: Schema.Types.ObjectId, required: true },
    nextYearId: { type: Schema.Types.ObjectId },
    steps: {
      type: [new Schema({ name: { type: String, enum: YEAR_CLOSING_STEPS, required: true }, doneAt: { type: Date, required: true } }, { _id: false })],
      default: [],
    },
    /** The classes as they were when the classes step began: only these move up (a resumed run skips the ones it created). */
    classIds: { type: [Schema.Types.ObjectId], default: undefined },
    startedAt: { type: Date, required: true },
    startedBy: { type: Schema.Types.ObjectId },
    finishedAt: { type: Date },
    /** Deputy confirmed the carried-over timetable (drafts no longer). */
    timetableConfirmedAt: { type: Date },
  },
  { timestamps: true, collection: 'year_closings' },
);
yearClosingSchema.index({ schoolId: 1, yearId: 1 }, { unique: true });

export type YearClosingDoc = InferSchemaType<typeof yearClosingSchema> & { _id: Types.ObjectId };
export const yearClosingModel = (conn: Connection) => conn.model('YearClosing', yearClosingSchema);

/** R21: a student exempt from PE between two dates (the class teacher records it). */
const peExemptionSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    from: { type: String, required: true },
    to: { type: String, required: true },
    note: { type: String },
    setBy: { type: Schema.Types.ObjectId },
    revokedAt: { type: Date },
    revokedBy: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'pe_exemptions' },
);
peExemptionSchema.index({ schoolId: 1, studentId: 1, to: 1 });

export type PeExemptionDoc = InferSchemaType<typeof peExemptionSchema> & { _id: Types.ObjectId };
export const peExemptionModel = (conn: Connection) => conn.model('PeExemption', peExemptionSchema);
