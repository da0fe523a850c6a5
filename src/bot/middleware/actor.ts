import type { MiddlewareFn } from 'grammy';
import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { type ActorFacts, actorFromFacts, loadActor } from '../../domain/school/actor.js';
import type { BotContext } from '../context.js';

/**
 * Resolves who is acting: the persons bound to this Telegram account (R3: binding is by invite
 * only), and the current one among them (Account.currentPersonId, else the first). Access checks
 * in the domain use `ctx.actor`; nothing here grants rights by itself.
 */
/** The persons bound to a Telegram account, with what the actor needs. */
export function findBoundPersons(db: Db, telegramId: number) {
  return db.models.Person.find(
    { telegramId, active: { $ne: false } },
    { schoolId: 1, roles: 1, telegramId: 1, active: 1 },
  )
    .lean()
    .exec();
}

/** A bound person; `facts` when it was read with the account (middleware/locale.ts): no further query. */
export type BoundPerson = {
  _id: Types.ObjectId;
  schoolId: Types.ObjectId;
  roles: string[];
  telegramId?: number | null;
  active?: boolean | null;
  facts?: ActorFacts;
};
export type BoundPersons = BoundPerson[];

export function actorMiddleware(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    ctx.profiles = [];
    const from = ctx.from;
    if (from && !from.is_bot) {
      // Read by the locale middleware together with the account (one read per update, not two).
      const persons: BoundPersons = await (ctx.boundPersons ?? findBoundPersons(ctx.deps.db, from.id));
      ctx.boundPersons = undefined;
      ctx.profiles = persons.map((p) => ({ personId: String(p._id), schoolId: String(p.schoolId), roles: p.roles }));
      if (persons.length > 0) {
        const current =
          persons.find((p) => ctx.currentPersonId !== undefined && String(p._id) === ctx.currentPersonId) ??
          persons[0];
        if (current) {
          ctx.actor = current.facts
            ? actorFromFacts(current, current.facts, from.id)
            : await loadActor(ctx.deps.db, current._id, from.id, current);
        }
      }
    }
    await next();
  };
}
