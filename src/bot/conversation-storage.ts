import type { VersionedState, VersionedStateStorage } from '@grammyjs/conversations';
import type { Models } from '../db/index.js';

/**
 * Conversations live in MongoDB, so a restart or a second bot process continues them.
 * Values are JSON-safe by the plugin's contract (`conversation.external` returns plain data).
 *
 * The state is usually read together with the account and the actor, in the update's one read
 * (middleware/locale.ts): `prefetchConversation` hands it over, and the plugin's read takes it
 * instead of asking the database again. Updates of one chat run one at a time (sequentialize),
 * and the state is keyed by chat, so a handed-over state belongs to the update being handled;
 * it is taken once (a second read in the same update goes to the database).
 */
export const CONVERSATION_PREFIX = 'conv:';

const prefetched = new WeakMap<Models, Map<string, unknown>>();

/** Hands over the state read for this chat's update (null: none stored); the returned function drops it. */
export function prefetchConversation(models: Models, key: string, value: unknown): () => void {
  let map = prefetched.get(models);
  if (!map) {
    map = new Map();
    prefetched.set(models, map);
  }
  map.set(key, value ?? null);
  const mine = map;
  return () => {
    mine.delete(key);
  };
}

export function mongoConversationStorage<S>(
  models: Models,
  prefix = CONVERSATION_PREFIX,
): VersionedStateStorage<string, S> {
  const Model = models.ConversationState;
  return {
    async read(key) {
      const handed = prefetched.get(models);
      if (handed?.has(prefix + key)) {
        const value = handed.get(prefix + key);
        handed.delete(prefix + key);
        return (value as VersionedState<S> | null) ?? undefined;
      }
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
