import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';

/** A class: grade 1–11 and a letter ("5Б"), with its class teacher (классный руководитель). */
const schoolClassSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    externalId: { type: String, required: true },
    grade: { type: Number, required: true, min: 1, max: 11 },
    letter: { type: String, required: true },
    name: { type: String, required: true },
    classTeacherId: { type: Schema.Types.ObjectId },
    /**
     * Past years of this class (R5): a class keeps its id when it moves up (5А → 6А), so last
     * year's views name it as it was then.
     */
    history: {
      type: [
        new Schema(
          { yearId: { type: Schema.Types.ObjectId, required: true }, name: String, grade: Number, classTeacherId: Schema.Types.ObjectId, endsOn: String },
          { _id: false },
        ),
      ],
      default: [],
    },
    /** The class graduated (its name freed for the class that moves up into it). */
    closedAt: { type: Date },
  },
  { timestamps: true, collection: 'classes' },
);
schoolClassSchema.index({ schoolId: 1, externalId: 1 }, { unique: true });
schoolClassSchema.index({ schoolId: 1, name: 1 }, { unique: true });
schoolClassSchema.index({ classTeacherId: 1 });

export type SchoolClassDoc = InferSchemaType<typeof schoolClassSchema> & { _id: Types.ObjectId };
export const schoolClassModel = (conn: Connection) => conn.model('SchoolClass', schoolClassSchema);

/** A subject: marked 2–5, or pass/fail ("К", R16). */
const subjectSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    externalId: { type: String, required: true },
    name: { type: String, required: true },
    shortName: { type: String },
    assessment: { type: String, enum: ['marks', 'passfail'], default: 'marks' },
    /** Physical education: exempt students (R21) are no absence in it. */
    pe: { type: Boolean, default: false },
  },
  { timestamps: true, collection: 'subjects' },
);
subjectSchema.index({ schoolId: 1, externalId: 1 }, { unique: true });

export type SubjectDoc = InferSchemaType<typeof subjectSchema> & { _id: Types.ObjectId };
export const subjectModel = (conn: Connection) => conn.model('Subject', subjectSchema);

/** A group inside a class for one subject (two English groups, R6). */
const groupSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    externalId: { type: String, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    studentIds: { type: [Schema.Types.ObjectId], default: [] },
  },
  { timestamps: true, collection: 'groups' },
);
groupSchema.index({ schoolId: 1, externalId: 1 }, { unique: true });
groupSchema.index({ schoolId: 1, classId: 1, subjectId: 1 });
groupSchema.index({ studentIds: 1 });

export type GroupDoc = InferSchemaType<typeof groupSchema> & { _id: Types.ObjectId };
export const groupModel = (conn: Connection) => conn.model('Group', groupSchema);

/** Teaching load (R7, R9): class or group × subject × teacher × hours per year. */
const teachingLoadSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    groupId: { type: Schema.Types.ObjectId, default: null },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    teacherId: { type: Schema.Types.ObjectId, required: true },
    hoursPerYear: { type: Number, required: true, min: 0 },
  },
  { timestamps: true, collection: 'teaching_load' },
);
teachingLoadSchema.index({ schoolId: 1, classId: 1, groupId: 1, subjectId: 1, teacherId: 1 }, { unique: true });
teachingLoadSchema.index({ teacherId: 1 });

export type TeachingLoadDoc = InferSchemaType<typeof teachingLoadSchema> & { _id: Types.ObjectId };
export const teachingLoadModel = (conn: Connection) => conn.model('TeachingLoad', teachingLoadSchema);

/**
 * A weekly timetable slot: weekday (1 = Monday … 6 = Saturday) and lesson number (bell times are in
 * the school's settings), valid between two dates so that a new timetable does not rewrite the past.
 */
const timetableSlotSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId, required: true },
    groupId: { type: Schema.Types.ObjectId, default: null },
    subjectId: { type: Schema.Types.ObjectId, required: true },
    teacherId: { type: Schema.Types.ObjectId, required: true },
    weekday: { type: Number, required: true, min: 1, max: 7 },
    lessonNo: { type: Number, required: true, min: 0, max: 12 },
    room: { type: String },
    validFrom: { type: String, required: true },
    validTo: { type: String, default: null },
    /** Carried over into a new year and not yet confirmed by the deputy: no lessons are made from it. */
    draft: { type: Boolean, default: false },
  },
  { timestamps: true, collection: 'timetable_slots' },
);
timetableSlotSchema.index(
  { schoolId: 1, classId: 1, groupId: 1, weekday: 1, lessonNo: 1, validFrom: 1 },
  { unique: true },
);
timetableSlotSchema.index({ teacherId: 1, weekday: 1 });

export type TimetableSlotDoc = InferSchemaType<typeof timetableSlotSchema> & { _id: Types.ObjectId };
export const timetableSlotModel = (conn: Connection) => conn.model('TimetableSlot', timetableSlotSchema);

/** A substitution: on `date`, `substituteId` takes the lesson of `slotId` (R7). */
const substitutionSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    slotId: { type: Schema.Types.ObjectId, required: true },
    date: { type: String, required: true },
    substituteId: { type: Schema.Types.ObjectId, required: true },
    reason: { type: String },
    createdBy: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'substitutions' },
);
substitutionSchema.index({ slotId: 1, date: 1 }, { unique: true });
substitutionSchema.index({ substituteId: 1, date: 1 });

export type SubstitutionDoc = InferSchemaType<typeof substitutionSchema> & { _id: Types.ObjectId };
export const substitutionModel = (conn: Connection) => conn.model('Substitution', substitutionSchema);
