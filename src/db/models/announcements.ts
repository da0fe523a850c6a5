import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { ANNOUNCEMENT_RECEIPT_STATUSES } from '../../domain/shared/vocabulary.js';

/**
 * Class announcements (issue 6, R23, R24): one message from a class teacher (or the deputy, the
 * admin) to the parents of a class or of chosen students. Each parent gets one copy through the
 * outbox; a receipt per parent records the read (the "Read" button). Whether a copy was delivered
 * is the outbox's word (status `sent`), mirrored into the receipt when the status is asked for.
 */

const announcementSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    senderId: { type: Schema.Types.ObjectId, required: true },
    audience: {
      classIds: { type: [Schema.Types.ObjectId], default: [] },
      /** Chosen students (absent: the whole class). */
      studentIds: { type: [Schema.Types.ObjectId], default: undefined },
      /** A group of a class (an English group): classIds is its class, the students its students. */
      groupId: { type: Schema.Types.ObjectId },
      /** A whole grade level (the deputy, the admin): classIds are its classes. */
      grade: { type: Number },
      /** The whole school (the deputy, the admin): classIds are all its classes. */
      wholeSchool: { type: Boolean },
    },
    text: { type: String, required: true },
    /** Telegram file ids: one goes with the text as its caption; several go each as its own message first. */
    attachments: { type: [String], default: [] },
    /** What the (first) attachment is: `photo` or `document`. */
    attachmentKind: { type: String, enum: ['photo', 'document'] },
    /** What each attachment is, in order. */
    attachmentKinds: { type: [String], enum: ['photo', 'document'], default: undefined },
    urgent: { type: Boolean, default: false },
    /** How many times the unread were reminded (each reminder is a new outbox copy). */
    reminders: { type: Number, default: 0 },
    createdAt: { type: Date, required: true },
  },
  { collection: 'announcements' },
);
announcementSchema.index({ schoolId: 1, senderId: 1, createdAt: -1 });

const announcementReceiptSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    announcementId: { type: Schema.Types.ObjectId, required: true },
    parentId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: ANNOUNCEMENT_RECEIPT_STATUSES, default: 'pending' },
    readAt: { type: Date },
  },
  { collection: 'announcement_receipts' },
);
announcementReceiptSchema.index({ announcementId: 1, parentId: 1 }, { unique: true });

export type AnnouncementDoc = InferSchemaType<typeof announcementSchema> & { _id: Types.ObjectId };
export type AnnouncementReceiptDoc = InferSchemaType<typeof announcementReceiptSchema> & { _id: Types.ObjectId };
export const announcementModel = (conn: Connection) => conn.model('Announcement', announcementSchema);
export const announcementReceiptModel = (conn: Connection) => conn.model('AnnouncementReceipt', announcementReceiptSchema);
