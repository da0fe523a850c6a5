import type { BotContext } from './context.js';

/**
 * Drafts a user fills in over several updates, kept in MongoDB (`ConversationState`,
 * `<prefix><telegramId>`) so any bot process can take the next update. Every kind of draft is
 * listed here: the hourly clean-up (src/jobs/maintenance.ts) removes old ones of each kind from
 * this one list, so a new kind cannot be forgotten there. Like callbacks/, a leaf (type imports
 * only) that jobs may import.
 */
export const DRAFT_PREFIXES = {
  /** A private message being composed (messaging). */
  message: 'msg:',
  /** An announcement being composed. */
  announcement: 'ann:',
  /** An absence report waiting for the photo of a note (/absent). */
  absenceReport: 'abr:',
} as const;

export type DraftKind = keyof typeof DRAFT_PREFIXES;

/** Who started a draft and when it was last touched. */
export interface DraftStamp {
  personId: string;
  at: number;
}

export interface PendingDraft<T extends DraftStamp> {
  save(ctx: BotContext, draft: Omit<T, keyof DraftStamp>): Promise<void>;
  load(ctx: BotContext): Promise<T | undefined>;
  drop(ctx: BotContext): Promise<unknown>;
}

/**
 * A draft of one kind. It belongs to the person who saved it and lapses `ttlMs` after the last
 * save; `isDraft` tells a draft of this shape from anything else stored under the key.
 */
export function pendingDraft<T extends DraftStamp>(kind: DraftKind, ttlMs: number, isDraft: (value: T) => boolean): PendingDraft<T> {
  const idOf = (telegramId: number) => `${DRAFT_PREFIXES[kind]}${telegramId}`;
  return {
    async save(ctx, draft) {
      if (!ctx.from || !ctx.actor?.personId) return;
      const value = { ...draft, personId: String(ctx.actor.personId), at: ctx.deps.now().getTime() };
      await ctx.deps.db.models.ConversationState.updateOne(
        { _id: idOf(ctx.from.id) },
        { $set: { value, updatedAt: ctx.deps.now() } },
        { upsert: true },
      );
    },
    async load(ctx) {
      if (!ctx.from || !ctx.actor?.personId) return undefined;
      const doc = await ctx.deps.db.models.ConversationState.findById(idOf(ctx.from.id), { value: 1 }).lean();
      const value = doc?.value as T | undefined;
      if (!value || !isDraft(value) || value.personId !== String(ctx.actor.personId)) return undefined;
      if (ctx.deps.now().getTime() - (value.at ?? 0) > ttlMs) return undefined;
      return value;
    },
    drop: (ctx) => (ctx.from ? ctx.deps.db.models.ConversationState.deleteOne({ _id: idOf(ctx.from.id) }) : Promise.resolve()),
  };
}
