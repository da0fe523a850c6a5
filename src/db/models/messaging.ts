import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { THREAD_MESSAGE_KINDS } from '../../domain/shared/vocabulary.js';

/**
 * Private teacher–family messaging (R3, R24). One thread per (family member, teacher, child):
 * `parentId` is the family side — a parent, or the student themself (then parentId = studentId).
 * Messages are stored here; delivery goes through the outbox (kind 'message', payload.threadId),
 * whose `chatId` + `messageId` map a delivered Telegram message back to its thread for replies.
 */

const messageThreadSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    parentId: { type: Schema.Types.ObjectId, required: true },
    teacherId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    lastAt: { type: Date, required: true },
    /** Messages not yet read by each side. */
    unread: {
      family: { type: Number, default: 0 },
      teacher: { type: Number, default: 0 },
    },
    /** The teacher stopped notifications of this thread (messages are still stored). */
    mutedByTeacher: { type: Boolean, default: false },
    /** The family was told (once after each mute) that its messages are not delivered. */
    mutedToldAt: { type: Date },
    /** The family's local date when it was last told its message waits for office hours (once a day). */
    officeHoursToldOn: { type: String },
  },
  { timestamps: true, collection: 'message_threads' },
);
messageThreadSchema.index({ schoolId: 1, parentId: 1, teacherId: 1, studentId: 1 }, { unique: true });
messageThreadSchema.index({ parentId: 1, lastAt: -1 });
messageThreadSchema.index({ teacherId: 1, lastAt: -1 });

export type MessageThreadDoc = InferSchemaType<typeof messageThreadSchema> & { _id: Types.ObjectId };
export const messageThreadModel = (conn: Connection) => conn.model('MessageThread', messageThreadSchema);

const threadMessageSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    threadId: { type: Schema.Types.ObjectId, required: true },
    fromPersonId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: THREAD_MESSAGE_KINDS, required: true },
    /** The text, or the caption of a file. Never logged. */
    text: { type: String },
    /** Telegram file_id of a photo, document or voice message. */
    fileId: { type: String },
    sentAt: { type: Date, required: true },
    recalledAt: { type: Date },
    /** Telegram message id of the copy delivered to the other side (first recipient), once known. */
    deliveredMessageId: { type: Number },
    /** One message a teacher wrote to several family members at once (one per thread): recalled together. */
    batchId: { type: Schema.Types.ObjectId },
  },
  { timestamps: false, collection: 'thread_messages' },
);
threadMessageSchema.index({ threadId: 1, sentAt: -1 });
threadMessageSchema.index({ fromPersonId: 1, sentAt: -1 });
threadMessageSchema.index({ batchId: 1 }, { sparse: true });

export type ThreadMessageDoc = InferSchemaType<typeof threadMessageSchema> & { _id: Types.ObjectId };
export const threadMessageModel = (conn: Connection) => conn.model('ThreadMessage', threadMessageSchema);

/**
 * A teacher's office hours (optional): messages from families that arrive outside them wait in the
 * outbox until they begin. Weekdays 1 = Monday … 7 = Sunday; times 'HH:MM' in the school's zone.
 */
const officeHoursSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    teacherId: { type: Schema.Types.ObjectId, required: true },
    weekdays: { type: [Number], required: true },
    from: { type: String, required: true },
    to: { type: String, required: true },
  },
  { timestamps: true, collection: 'office_hours' },
);
officeHoursSchema.index({ teacherId: 1 }, { unique: true });

export type OfficeHoursDoc = InferSchemaType<typeof officeHoursSchema> & { _id: Types.ObjectId };
export const officeHoursModel = (conn: Connection) => conn.model('OfficeHours', officeHoursSchema);

/**
 * The per-sender rate limit (R3: 20 messages a minute): the send times of the sender's last
 * messages, at most the limit. A slot is taken by one conditional update — atomic, so two
 * messages sent at once cannot both take the last slot.
 */
const sendRateSchema = new Schema(
  {
    _id: { type: String, required: true },
    times: { type: [Date], default: [] },
    /** The last send: the maintenance job removes rows nobody wrote to for an hour. */
    lastAt: { type: Date },
  },
  { collection: 'send_rates', versionKey: false },
);

export const sendRateModel = (conn: Connection) => conn.model('SendRate', sendRateSchema);
