import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { ABSENCE_CODES, MARK_VALUES, PERIOD_MARK_VALUES } from '../../domain/shared/vocabulary.js';

/**
 * The journal. A Lesson is one concrete lesson on a date, made from a timetable slot (or added by
 * hand); it is created lazily (upsert on slotId+date) when someone opens that day. Dates are the
 * school's local calendar dates, 'YYYY-MM-DD'.
 */
const attachmentSchema = new Schema(
  {
    kind: { type: String, enum: ['photo', 'document', 'voice', 'video'], required: true },
    fileId: { type: String, required: true },
    fileUniqueId: { type: String },
    name: { type: String },
    mimeType: { type: String },
  },
  { _id: false },
);

const lessonSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    date: { type: String, required: true },
    slotId: { type: Schema.Types.ObjectId, default: null },
    classId: { type: Schema.Types.ObjectId, required: true },
    groupId: { type: Schema.Types.ObjectId, default: null },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    /** The teacher of the slot; a substitution changes who may fill it, not this. */
    teacherId: { type: Schema.Types.ObjectId, required: true },
    substituteId: { type: Schema.Types.ObjectId, default: null },
    lessonNo: { type: Number },
    room: { type: String },
    /** 'cancelled': the lesson did not take place (R7, by the deputy). */
    status: { type: String, enum: ['scheduled', 'cancelled'], default: 'scheduled' },
    cancelReason: { type: String },
    topic: { type: String }, // R10
    planItemId: { type: Schema.Types.ObjectId },
    homework: {
      text: { type: String },
      attachments: { type: [attachmentSchema], default: undefined },
      /** The date of the lesson it is due at (the next lesson of the subject), fixed when it is set: the teacher and the family see this one date. */
      dueOn: { type: String },
      updatedAt: { type: Date },
    }, // R22
    attendanceTakenAt: { type: Date }, // R19
    /**
     * Per editor (person id → the `rev` of the attendance draft they saved last): that draft is
     * spent. Save marks it here, in the write it makes to the lesson anyway, instead of deleting
     * the draft (one round trip fewer, issue 12); journal:cleanup-drafts removes it later.
     */
    attendanceSaved: { type: Schema.Types.Mixed, default: undefined },
    /**
     * Notice intents that rode on a write to this lesson (attendance's save: the families of the
     * students marked or cleared, domain/notices/intents.ts). Pulled once fanned out; one left
     * here (its process died) is taken by a sweep once `dueAt` has passed.
     */
    noticeIntents: {
      type: [
        new Schema(
          { at: { type: Date, required: true }, events: { type: [Schema.Types.Mixed], required: true }, dueAt: { type: Date, required: true } },
          { _id: true },
        ),
      ],
      default: undefined,
    },
    /** Set by the lock job R14; only the admin edits a locked lesson, with a reason. */
    lockedAt: { type: Date },
  },
  { timestamps: true, collection: 'lessons' },
);
lessonSchema.index({ slotId: 1, date: 1 }, { unique: true });
lessonSchema.index({ schoolId: 1, date: 1 });
lessonSchema.index({ teacherId: 1, date: 1 });
lessonSchema.index({ substituteId: 1, date: 1 });
lessonSchema.index({ classId: 1, date: 1 });
lessonSchema.index({ schoolId: 1, lockedAt: 1, date: 1 });
lessonSchema.index({ 'noticeIntents.dueAt': 1 }, { sparse: true });

export type LessonDoc = InferSchemaType<typeof lessonSchema> & { _id: Types.ObjectId };
export const lessonModel = (conn: Connection) => conn.model('Lesson', lessonSchema);


/** An absence in one lesson. Presence is the absence of a document (a class of 30 has few rows). */
const absenceSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    lessonId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    date: { type: String, required: true },
    code: { type: String, enum: ABSENCE_CODES, default: 'Н' },
    markedBy: { type: Schema.Types.ObjectId },
    /** Who set the reason (class teacher R20, or a confirmed parent report). */
    reasonBy: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'absences' },
);
absenceSchema.index({ lessonId: 1, studentId: 1 }, { unique: true });
absenceSchema.index({ classId: 1, date: 1 });
absenceSchema.index({ studentId: 1, date: 1 });

export type AbsenceDoc = InferSchemaType<typeof absenceSchema> & { _id: Types.ObjectId };
export const absenceModel = (conn: Connection) => conn.model('Absence', absenceSchema);


/** A current mark (R11, R12). Several per student per lesson are allowed; deletion is soft. */
const markSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    lessonId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    date: { type: String, required: true },
    value: { type: Number, enum: MARK_VALUES, required: true },
    workKind: { type: String, required: true },
    weight: { type: Number, required: true },
    comment: { type: String },
    teacherId: { type: Schema.Types.ObjectId, required: true },
    /** Idempotency for double-pressed buttons and replayed conversation steps. */
    clientKey: { type: String },
    deletedAt: { type: Date },
  },
  { timestamps: true, collection: 'marks' },
);
markSchema.index({ lessonId: 1, studentId: 1 });
markSchema.index({ studentId: 1, subjectId: 1, date: 1 });
// Sparse only works on a single field (a compound sparse index still holds every doc with schoolId).
// Keys embed the lesson id, so they are unique across schools.
markSchema.index({ clientKey: 1 }, { unique: true, sparse: true });

export type MarkDoc = InferSchemaType<typeof markSchema> & { _id: Types.ObjectId };
export const markModel = (conn: Connection) => conn.model('Mark', markSchema);


/** A period (quarter, half, year) mark: R15–R18. */
const periodMarkSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    yearId: { type: Schema.Types.ObjectId, required: true },
    periodCode: { type: String, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    value: { type: String, enum: PERIOD_MARK_VALUES, required: true },
    /** The system's average at the time (R17), kept for the record. */
    average: { type: Number },
    /** 'transfer': from the previous school's report (R18). */
    source: { type: String, enum: ['teacher', 'deputy', 'admin', 'transfer', 'hospital'], default: 'teacher' },
    setBy: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'period_marks' },
);
periodMarkSchema.index({ studentId: 1, subjectId: 1, yearId: 1, periodCode: 1 }, { unique: true });
periodMarkSchema.index({ schoolId: 1, yearId: 1, periodCode: 1 });

export type PeriodMarkDoc = InferSchemaType<typeof periodMarkSchema> & { _id: Types.ObjectId };
export const periodMarkModel = (conn: Connection) => conn.model('PeriodMark', periodMarkSchema);

/** The calendar-thematic plan (КТП, R8–R10): ordered topics with hours, per class/group and subject. */
const planItemSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    groupId: { type: Schema.Types.ObjectId, default: null },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    order: { type: Number, required: true },
    topic: { type: String, required: true },
    hours: { type: Number, required: true, min: 0.5 },
    periodCode: { type: String },
  },
  { timestamps: true, collection: 'plan_items' },
);
planItemSchema.index({ schoolId: 1, classId: 1, groupId: 1, subjectId: 1, order: 1 }, { unique: true });

export type PlanItemDoc = InferSchemaType<typeof planItemSchema> & { _id: Types.ObjectId };
export const planItemModel = (conn: Connection) => conn.model('PlanItem', planItemSchema);

/** The deputy grants a substitute access to a class's lessons for a date range (R7). */
const accessGrantSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    teacherId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    subjectId: { type: Schema.Types.ObjectId, default: null },
    from: { type: String, required: true },
    to: { type: String, required: true },
    grantedBy: { type: Schema.Types.ObjectId, required: true },
    revokedAt: { type: Date },
  },
  { timestamps: true, collection: 'access_grants' },
);
accessGrantSchema.index({ teacherId: 1, from: 1, to: 1 });

export const accessGrantModel = (conn: Connection) => conn.model('AccessGrant', accessGrantSchema);
