import type { VersionedState, VersionedStateStorage } from '@grammyjs/conversations';
import type { Models } from '../db/index.js';

/**
 * Conversations live in MongoDB, so a restart or a second bot process continues them.
 * Values are JSON-safe by the plugin's contract (`conversation.external` returns plain data).
 */
export function mongoConversationStorage<S>(
  models: Models,
  prefix = 'conv:',
): VersionedStateStorage<string, S> {
  const Model = models.ConversationState;
  return {
    async read(key) {
      const doc = await Model.findById(prefix + key, { value: 1 }).lean();
      return (doc?.value as VersionedState<S> | undefined) ?? undefined;
    },
    async write(key, state) {
      await Model.updateOne(
        { _id: prefix + key },
        { $set: { value: state, updatedAt: new Date() } },
        { upsert: true },
      );
    },
    async delete(key) {
      await Model.deleteOne({ _id: prefix + key });
    },
  };
}
