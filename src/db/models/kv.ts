import { type Connection, Schema } from 'mongoose';

/** Durable state of grammY conversations (and other small per-chat state), keyed by string. */
const conversationStateSchema = new Schema(
  {
    _id: { type: String, required: true },
    value: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'conversation_state', versionKey: false },
);

/** Webhook de-duplication: Telegram re-sends an update it thinks was not answered. */
const processedUpdateSchema = new Schema(
  {
    _id: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'processed_updates', versionKey: false },
);
// No TTL index (the stand-in has none): a clean-up job deletes old rows.
processedUpdateSchema.index({ at: 1 });

export const conversationStateModel = (conn: Connection) => conn.model('ConversationState', conversationStateSchema);
export const processedUpdateModel = (conn: Connection) => conn.model('ProcessedUpdate', processedUpdateSchema);
