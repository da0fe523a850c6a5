import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';
import { PENDING_IMPORT_STATUSES } from '../../domain/shared/vocabulary.js';

/**
 * A file sent to the bot for import, between its preview (a dry run) and the Confirm button.
 * Kept in the database so that Confirm works after a restart and in another bot process, and so
 * that a twice-pressed Confirm imports once: the press that moves `pending` → `running` wins.
 * The file itself stays with Telegram (`fileId` is permanent for this bot); nothing personal is kept here.
 */

const pendingImportSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId, required: true },
    chatId: { type: Number, required: true },
    fileId: { type: String, required: true },
    filename: { type: String, required: true },
    /** One of the import kinds (domain/imports/kinds.ts); validated there. */
    kind: { type: String, required: true },
    status: { type: String, enum: PENDING_IMPORT_STATUSES, default: 'pending' },
    /** Entity counts of the finished import (numbers only). */
    counts: { type: Schema.Types.Mixed },
    errorCount: { type: Number },
    finishedAt: { type: Date },
  },
  { timestamps: true, collection: 'pending_imports' },
);
pendingImportSchema.index({ schoolId: 1, personId: 1, createdAt: -1 });
pendingImportSchema.index({ status: 1, createdAt: 1 });

export type PendingImportDoc = InferSchemaType<typeof pendingImportSchema> & { _id: Types.ObjectId };
export const pendingImportModel = (conn: Connection) => conn.model('PendingImport', pendingImportSchema);
