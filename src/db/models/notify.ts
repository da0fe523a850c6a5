import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { NOTICE_KINDS, OUTBOX_STATUSES, PRIORITIES, NOTIFY_MODES } from '../../domain/shared/vocabulary.js';

/**
 * Notifications to families (R23–R25): the outbox and what goes with it. See src/notify/ for the
 * life of an outbox document:
 *
 *   pending ──claim (lease)──► claimed ──render, write `sending`──► sending ──Telegram ok──► sent
 *      ▲                          │                                   │
 *      ├──── lease expired ───────┘   429: back to `claimed` while it waits (nothing was sent)
 *      └──── lease expired, 5xx, network: the fate is unknown → pending again as a marked possible repeat
 *                                            (at-least-once; see src/notify/delivery.ts)
 *   cancelled: nothing new to say at send time; dropped: the chat blocked us; failed: gave up.
 */



const outboxSchema = new Schema(
  {
    /** Idempotency: one document per (event, recipient). Publishing the same event twice adds nothing. */
    key: { type: String, required: true },
    /**
     * The thing the message is about, for one recipient (`mark:<markId>:<personId>`). Messages
     * about the same thing collapse: while one is pending, `pendingKey` holds this value under a
     * unique index, so a correction finds it and adds nothing (the grace window, R23).
     */
    collapseKey: { type: String },
    pendingKey: { type: String },
    /** Set (to the id) exactly while the message may be claimed: the claim is one indexed compare-and-set. */
    claimKey: { type: String },
    /** Set (token:id) exactly while a worker holds the message (claimed, sending): its fencing token. */
    leaseKey: { type: String },
    /** Which bot token delivers it (a deployment may serve several; see School.botKey). */
    botKey: { type: String, required: true, default: 'default' },
    schoolId: { type: Schema.Types.ObjectId, required: true },
    /** Private chat id = the recipient's Telegram user id. */
    chatId: { type: Number, required: true },
    recipientId: { type: Schema.Types.ObjectId },
    studentId: { type: Schema.Types.ObjectId },
    kind: { type: String, enum: NOTICE_KINDS, required: true },
    /** What the message is about; the text is rendered at send time from the current state. */
    ref: {
      markId: { type: Schema.Types.ObjectId },
      lessonId: { type: Schema.Types.ObjectId },
      periodMarkId: { type: Schema.Types.ObjectId },
      reportId: { type: Schema.Types.ObjectId },
    },
    /** Kind-specific data (digest range, message text, …). Never logged. */
    payload: { type: Schema.Types.Mixed },
    events: { type: [String], default: undefined },
    priority: { type: String, enum: PRIORITIES, default: 'normal' },
    rank: { type: Number, default: 1 },
    notBefore: { type: Date, required: true },
    status: { type: String, enum: OUTBOX_STATUSES, default: 'pending' },
    lockedBy: { type: String },
    lockedUntil: { type: Date },
    /** One Telegram message = one token, shared by the documents joined into it; the ack button carries it. */
    sendToken: { type: String },
    attempts: { type: Number, default: 0 },
    attemptedAt: { type: Date },
    /** What the message said about the thing (value, code), written before sending: see NoticeState. */
    rendered: { type: Schema.Types.Mixed },
    sentAt: { type: Date },
    messageId: { type: Number },
    /**
     * An attempt's fate is unknown (a crash while `sending`, a 5xx or network error): it is sent
     * again with a line marking it as a possible repeat, under the same `sendToken` (at-least-once).
     */
    repeat: { type: Boolean },
    /**
     * Its sender recalled it (a private message, R3) while a worker held it: whoever records it as
     * sent afterwards deletes the copy from the chat (src/notify/delivery.ts).
     */
    recallRequested: { type: Boolean },
    lastError: { type: String },
  },
  { timestamps: true, collection: 'outbox' },
);
outboxSchema.index({ key: 1 }, { unique: true });
outboxSchema.index({ pendingKey: 1 }, { unique: true, sparse: true });
outboxSchema.index({ claimKey: 1 }, { unique: true, sparse: true });
outboxSchema.index({ leaseKey: 1 }, { unique: true, sparse: true });
// The worker's queries: due messages per bot and school in priority order; leases to recover.
// `_id` last: the worker's order breaks ties by insertion (an announcement's files before its text).
outboxSchema.index({ botKey: 1, status: 1, schoolId: 1, rank: 1, notBefore: 1, _id: 1 });
outboxSchema.index({ status: 1, lockedUntil: 1 });
outboxSchema.index({ sendToken: 1 }, { sparse: true });
outboxSchema.index({ chatId: 1, status: 1 });
// A reply (reply-to) to a delivered message finds what it answers (messaging threads).
outboxSchema.index({ chatId: 1, messageId: 1 });
outboxSchema.index({ status: 1, updatedAt: 1 });

export type OutboxDoc = InferSchemaType<typeof outboxSchema> & { _id: Types.ObjectId };
export const outboxModel = (conn: Connection) => conn.model('OutboxMessage', outboxSchema);

/**
 * A journal event waiting to be turned into outbox messages (issue 12: "write the notice intent
 * with the record"). The use case writes one document with everything its save told families
 * about, as its last write; the fan-out (src/notify/fan-out.ts) reads the families, writes the
 * outbox messages and deletes the intent — in this process right after the update is answered,
 * or, when this process died first, by the sweep of any process once `dueAt` has passed.
 */
const noticeIntentSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    /** When the events happened (the use case's clock). */
    at: { type: Date, required: true },
    /** The events (domain/notices/intents.ts validates their shape when it reads them back). */
    events: { type: [Schema.Types.Mixed], required: true },
    /** When a sweep may take it: written a little after `at`; each sweep's claim moves it on (a lease). */
    dueAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
  },
  { collection: 'notice_intents', versionKey: false },
);
noticeIntentSchema.index({ dueAt: 1 });
export type NoticeIntentDoc = InferSchemaType<typeof noticeIntentSchema> & { _id: Types.ObjectId };
export const noticeIntentModel = (conn: Connection) => conn.model('NoticeIntent', noticeIntentSchema);

/**
 * What a recipient was last told about a thing (by collapseKey): the value of a mark, the code of
 * an absence. A later message says "changed 3 → 4" or "deleted", or nothing when nothing changed.
 */
const noticeStateSchema = new Schema(
  {
    _id: { type: String, required: true },
    snapshot: { type: Schema.Types.Mixed, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'notice_state', versionKey: false },
);
export const noticeStateModel = (conn: Connection) => conn.model('NoticeState', noticeStateSchema);

/** The single sender per bot token: rate limits are per bot, so one process sends for it at a time. */
const deliveryLeaderSchema = new Schema(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { collection: 'delivery_leaders', versionKey: false },
);
export const deliveryLeaderModel = (conn: Connection) => conn.model('DeliveryLeader', deliveryLeaderSchema);

/**
 * A bot token's budget of 30 messages a second, shared by every process (src/notify/shared-budget.ts):
 * one document per slot (`<botKey>:<idx>`), held by one message from its request until a second
 * after the answer (`freeAt`), fenced by `holder`. `replyAt`: an answer to a person used it lately.
 */
const rateSlotSchema = new Schema(
  {
    _id: { type: String, required: true },
    bot: { type: String, required: true },
    idx: { type: Number, required: true },
    freeAt: { type: Date, required: true },
    holder: { type: String },
    replyAt: { type: Date },
    /** The chat of the message that holds (or last held) the slot: one a second per chat across processes. */
    chat: { type: Number, default: null },
    kind: { type: String, enum: ['reply', 'notice'] },
  },
  { collection: 'rate_slots', versionKey: false },
);
rateSlotSchema.index({ bot: 1, freeAt: 1 });
export const rateSlotModel = (conn: Connection) => conn.model('RateSlot', rateSlotSchema);


/** A family member's choices for one child (a student's for themself): per kind, and the weekly digest. */
const notifyPreferenceSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    modes: {
      mark: { type: String, enum: NOTIFY_MODES },
      absence: { type: String, enum: NOTIFY_MODES },
      homework: { type: String, enum: NOTIFY_MODES },
      periodMark: { type: String, enum: NOTIFY_MODES },
    },
    /** Weekly digest (R25): weekday 1 = Monday … 7 = Sunday, 0 = no digest; local hour. */
    digest: {
      weekday: { type: Number, min: 0, max: 7 },
      hour: { type: Number, min: 0, max: 23 },
    },
    /** R25: the family wants the weekly letter on paper too (the class teacher prints it on Fridays). */
    paper: { type: Boolean },
  },
  { timestamps: true, collection: 'notify_preferences' },
);
notifyPreferenceSchema.index({ personId: 1, studentId: 1 }, { unique: true });
notifyPreferenceSchema.index({ schoolId: 1, studentId: 1 });

export type NotifyPreferenceDoc = InferSchemaType<typeof notifyPreferenceSchema> & { _id: Types.ObjectId };
export const notifyPreferenceModel = (conn: Connection) => conn.model('NotifyPreference', notifyPreferenceSchema);

/**
 * "Acknowledged" under a mark or absence message: the parent's signature in a paper diary.
 * One per person and thing (`mark:<id>` / `absence:<lessonId>:<studentId>`).
 */
const acknowledgementSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    refKey: { type: String, required: true },
    kind: { type: String, enum: ['mark', 'absence'], required: true },
    markId: { type: Schema.Types.ObjectId },
    lessonId: { type: Schema.Types.ObjectId },
    at: { type: Date, required: true },
  },
  { collection: 'acknowledgements', versionKey: false },
);
acknowledgementSchema.index({ personId: 1, refKey: 1 }, { unique: true });
acknowledgementSchema.index({ lessonId: 1 });
acknowledgementSchema.index({ markId: 1 });

export type AcknowledgementDoc = InferSchemaType<typeof acknowledgementSchema> & { _id: Types.ObjectId };
export const acknowledgementModel = (conn: Connection) => conn.model('Acknowledgement', acknowledgementSchema);

/** A parent tells the school in advance that the child will be absent (R20: the class teacher decides the reason). */
const absenceReportSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    classId: { type: Schema.Types.ObjectId },
    parentId: { type: Schema.Types.ObjectId, required: true },
    from: { type: String, required: true },
    to: { type: String, required: true },
    /** What the parent says: illness or family reasons; the class teacher sets Б or У. */
    reason: { type: String, enum: ['illness', 'family'], required: true },
    photoFileId: { type: String },
    /** What the parent typed instead of (or with) the photo (at most ABSENCE_NOTE_MAX). */
    note: { type: String },
    status: { type: String, enum: ['pending', 'confirmed', 'rejected'], default: 'pending' },
    code: { type: String, enum: ['Б', 'У'] },
    decidedBy: { type: Schema.Types.ObjectId },
    decidedAt: { type: Date },
    /** Absences whose reason was set when confirmed. */
    applied: { type: Number },
  },
  { timestamps: true, collection: 'absence_reports' },
);
absenceReportSchema.index({ studentId: 1, from: 1 });
absenceReportSchema.index({ classId: 1, status: 1 });

export type AbsenceReportDoc = InferSchemaType<typeof absenceReportSchema> & { _id: Types.ObjectId };
export const absenceReportModel = (conn: Connection) => conn.model('AbsenceReport', absenceReportSchema);
