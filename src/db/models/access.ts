import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { ROLES } from '../../domain/shared/vocabulary.js';

/**
 * An invite (R2): a single-use code bound to one person (or, for the first admin, to a role),
 * stored only as a SHA-256 hash; expires, can be revoked.
 */
const inviteSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    codeHash: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true },
    personId: { type: Schema.Types.ObjectId },
    createdBy: { type: Schema.Types.ObjectId },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date },
    usedByTelegramId: { type: Number },
    revokedAt: { type: Date },
    revokedBy: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'invites' },
);
inviteSchema.index({ codeHash: 1 }, { unique: true });
inviteSchema.index({ schoolId: 1, personId: 1 });
inviteSchema.index({ expiresAt: 1 });

export type InviteDoc = InferSchemaType<typeof inviteSchema> & { _id: Types.ObjectId };
export const inviteModel = (conn: Connection) => conn.model('Invite', inviteSchema);

/** Brute-force guard for invite codes, per Telegram account. */
const inviteThrottleSchema = new Schema(
  {
    telegramId: { type: Number, required: true },
    windowStart: { type: Date, required: true },
    failures: { type: Number, default: 0 },
    blockedUntil: { type: Date },
  },
  { collection: 'invite_throttle', versionKey: false },
);
inviteThrottleSchema.index({ telegramId: 1 }, { unique: true });
export const inviteThrottleModel = (conn: Connection) => conn.model('InviteThrottle', inviteThrottleSchema);

/**
 * The audit trail (R31): who changed what, when, before/after, and why. Append-only: the
 * repository exposes `append` and reads, never update or delete.
 */
const auditEntrySchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    at: { type: Date, required: true },
    actorId: { type: Schema.Types.ObjectId },
    actorRole: { type: String },
    /** 'system' for jobs and the CLI. */
    via: { type: String, enum: ['bot', 'cli', 'job', 'import'], required: true },
    action: { type: String, required: true },
    entity: { type: { type: String, required: true }, id: { type: Schema.Types.ObjectId } },
    /** The lesson and student the change is about, so history by lesson or by student is one query. */
    lessonId: { type: Schema.Types.ObjectId },
    studentId: { type: Schema.Types.ObjectId },
    before: { type: Schema.Types.Mixed },
    after: { type: Schema.Types.Mixed },
    reason: { type: String },
  },
  { collection: 'audit_trail', versionKey: false },
);
auditEntrySchema.index({ schoolId: 1, at: -1 });
auditEntrySchema.index({ lessonId: 1, at: 1 });
auditEntrySchema.index({ studentId: 1, at: 1 });

export type AuditEntryDoc = InferSchemaType<typeof auditEntrySchema> & { _id: Types.ObjectId };
export const auditEntryModel = (conn: Connection) => conn.model('AuditEntry', auditEntrySchema);
