import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { ROLES, STUDENT_STATUSES, EDUCATION_FORMS } from '../../domain/shared/vocabulary.js';



/**
 * A person of one school: a staff member, a parent or a student, keyed by the school's own code
 * (externalId), so re-imports update in place. A Telegram account binds to a person by an invite
 * (R2, R3); one account may be bound to several persons (a teacher who is also a parent, or
 * people in two schools) — hence `telegramId` is indexed but not unique.
 */
const personSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    externalId: { type: String, required: true },
    lastName: { type: String, required: true },
    firstName: { type: String, required: true },
    middleName: { type: String },
    roles: { type: [String], enum: ROLES, required: true },
    phone: { type: String },
    email: { type: String },
    /** Staff: working or gone (R5 staff movement). */
    active: { type: Boolean, default: true },
    student: {
      classId: { type: Schema.Types.ObjectId },
      status: { type: String, enum: STUDENT_STATUSES },
      form: { type: String, enum: EDUCATION_FORMS },
      peExempt: { type: Boolean }, // R21
      birthDate: { type: String },
      enrolledOn: { type: String },
    },
    telegramId: { type: Number },
    boundAt: { type: Date },
    /** 152-FZ consent (R32): parents accept what is kept before they see anything. */
    consent: { acceptedAt: Date, version: Number },
  },
  { timestamps: true, collection: 'persons' },
);
personSchema.index({ schoolId: 1, externalId: 1 }, { unique: true });
personSchema.index({ telegramId: 1 });
personSchema.index({ schoolId: 1, 'student.classId': 1 });
personSchema.index({ schoolId: 1, roles: 1 });

export type PersonDoc = InferSchemaType<typeof personSchema> & { _id: Types.ObjectId };
export const personModel = (conn: Connection) => conn.model('Person', personSchema);

/** Parent ↔ student, many-to-many (a child has two parents; a parent has several children). */
const guardianshipSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    parentId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    relation: { type: String, enum: ['mother', 'father', 'guardian'], default: 'guardian' },
  },
  { timestamps: true, collection: 'guardianships' },
);
guardianshipSchema.index({ parentId: 1, studentId: 1 }, { unique: true });
guardianshipSchema.index({ schoolId: 1, studentId: 1 });

export type GuardianshipDoc = InferSchemaType<typeof guardianshipSchema> & { _id: Types.ObjectId };
export const guardianshipModel = (conn: Connection) => conn.model('Guardianship', guardianshipSchema);

/**
 * Student movement (R5): arrival, withdrawal, transfer between classes. Append-only history;
 * marks stay with the student (they reference the student, not the class).
 */
const studentMovementSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: ['arrival', 'withdrawal', 'transfer'], required: true },
    fromClassId: { type: Schema.Types.ObjectId },
    toClassId: { type: Schema.Types.ObjectId },
    date: { type: String, required: true },
    note: { type: String },
    byPersonId: { type: Schema.Types.ObjectId },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'student_movements' },
);
studentMovementSchema.index({ schoolId: 1, studentId: 1, date: 1 });

export const studentMovementModel = (conn: Connection) => conn.model('StudentMovement', studentMovementSchema);
