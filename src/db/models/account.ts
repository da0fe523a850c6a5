import { type Connection, type InferSchemaType, Schema } from 'mongoose';
import { LOCALES } from '../../config.js';

/**
 * A Telegram account as the bot knows it: preferences and whether we can still write to it.
 * The school's people (Person) point at an account by `telegramId`; one account may be a teacher
 * in one school and a parent in another.
 */
const accountSchema = new Schema(
  {
    telegramId: { type: Number, required: true },
    /** Chosen with /language; wins over `telegramLocale`. */
    locale: { type: String, enum: LOCALES },
    /** The language Telegram reports for the user (one of ours), kept so jobs can write in it. */
    telegramLocale: { type: String, enum: LOCALES },
    /** 'blocked' after Telegram answered 403: we stop sending until the user writes again. */
    chatStatus: { type: String, enum: ['active', 'blocked'], default: 'active' },
    blockedAt: { type: Date },
    lastSeenAt: { type: Date },
    /** Which of the account's persons the bot acts as (a teacher who is also a parent switches). */
    currentPersonId: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'accounts' },
);
accountSchema.index({ telegramId: 1 }, { unique: true });

export type AccountDoc = InferSchemaType<typeof accountSchema>;
export const accountModel = (conn: Connection) => conn.model('Account', accountSchema);
