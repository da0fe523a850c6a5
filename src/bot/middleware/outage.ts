import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareFn } from 'grammy';
import type { Connection } from 'mongoose';
import { isDatabaseOutage } from '../../db/connection.js';
import { localeFromTelegram, translator } from '../../i18n.js';
import { withoutSharedBudget } from '../shared-rate-limit.js';
import type { BotContext, BotDeps } from '../context.js';

/**
 * Database outages (issue 12): every person hears back within seconds, and nothing the person was
 * told "not saved" is saved afterwards.
 *
 *  - Each update runs under a deadline (DEFAULT_DEADLINE_MS). When the database is frozen, nothing
 *    in the driver times out for ~30 s (the socket has no timeout; the heartbeat needs
 *    connectTimeoutMS to give up), so the guard does not wait for it: at the deadline the person
 *    gets "⏳ temporarily unavailable" in their language (the one already read for this update, else
 *    Telegram's `language_code`: the database is not asked) and the handler is marked expired.
 *  - An expired handler may still be running (waiting on the frozen socket). Every write it tries
 *    after the deadline is refused before it reaches the driver (`guardWrites`, on mongoose's
 *    operation-start event, which also sees raw `Model.collection` calls), so it cannot complete a
 *    write the person was told was not saved. A write already sent when the deadline passed cannot
 *    be recalled: then the answer says "may not have been saved" instead (honest, and rare: the
 *    database must stall in the middle of that very write).
 *  - Nor does it say anything after the person was told (its Bot API calls are refused): no late
 *    diary or "saved" after "not saved, try again".
 *  - An update that failed this way is not acknowledged as handled: the guard rethrows
 *    `UpdateNotHandledError`, the webhook answers 5xx (Telegram sends it again), polling has
 *    told the person and moves on (bot.catch ignores the error: the runner's offset has moved).
 */
export const DEFAULT_DEADLINE_MS = 3_500;

interface UpdateScope {
  updateId: number;
  expired: boolean;
  /** Writes sent to the driver and not settled yet. */
  writesInFlight: number;
  /** A write failed on the network after it was sent: the database may have applied it. */
  writeUncertain: boolean;
  /** The person has been told: a late handler says nothing more (no diary after "not saved"). */
  silenced: boolean;
}

const scopes = new AsyncLocalStorage<UpdateScope>();

/** The update failed because the database could not be used; the person has been told. */
export class UpdateNotHandledError extends Error {
  constructor(
    readonly updateId: number,
    readonly reason: 'deadline' | 'database',
    options?: { cause?: unknown },
  ) {
    super(`update ${updateId} not handled: ${reason === 'deadline' ? 'the deadline passed' : 'the database is unavailable'}`, options);
    this.name = 'UpdateNotHandledError';
  }
}

/** A write refused because its update's deadline had passed (nothing was sent to the database). */
export class DeadlinePassedError extends Error {
  constructor(method: string, collection: string) {
    super(`refused ${collection}.${method}: the update's deadline has passed`);
    this.name = 'DeadlinePassedError';
  }
}

/** True for an error that means "the database cannot be used now" (see db/connection.ts). */
export const isOutage = isDatabaseOutage;

const READ_METHODS = new Set([
  'find',
  'findOne',
  'aggregate',
  'countDocuments',
  'estimatedDocumentCount',
  'distinct',
  'listIndexes',
  'indexes',
  'indexExists',
  'indexInformation',
  'watch',
]);

const UNCERTAIN_WRITE_ERRORS = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoOperationTimeoutError']);

const guarded = new WeakSet<Connection>();

/** Refuses writes of expired updates and counts writes in flight (once per connection). */
export function guardWrites(conn: Connection): void {
  if (guarded.has(conn)) return;
  guarded.add(conn);
  const started = new Set<unknown>();
  conn.on('operation-start', (op: { _id: unknown; method: string; collectionName: string }) => {
    const scope = scopes.getStore();
    if (!scope || READ_METHODS.has(op.method)) return;
    // Thrown synchronously from mongoose's collection wrapper, before the driver is called.
    if (scope.expired) throw new DeadlinePassedError(op.method, op.collectionName);
    scope.writesInFlight++;
    started.add(op._id);
  });
  conn.on('operation-end', (op: { _id: unknown; error?: unknown }) => {
    if (!started.delete(op._id)) return;
    const scope = scopes.getStore();
    if (!scope) return;
    scope.writesInFlight--;
    // Not selecting a server means it was never sent; a network error or timeout means it may have been applied.
    if (op.error instanceof Error && UNCERTAIN_WRITE_ERRORS.has(op.error.name)) scope.writeUncertain = true;
  });
}

export interface OutageGuardOptions {
  deadlineMs?: number;
}

/**
 * First in the chain after the update schema, outside `sequentialize`: an update queued behind a
 * stalled one of the same chat is answered by its own deadline too.
 */
export function outageGuard(deps: BotDeps, opts: OutageGuardOptions = {}): MiddlewareFn<BotContext> {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  return async (ctx, next) => {
    const scope: UpdateScope = { updateId: ctx.update.update_id, expired: false, writesInFlight: 0, writeUncertain: false, silenced: false };
    ctx.api.config.use((prev, method, payload, signal) => {
      if (scope.silenced) return Promise.reject(new DeadlinePassedError(method, 'bot-api'));
      return prev(method, payload, signal);
    });
    const work = scopes.run(scope, () => next());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    let reason: 'deadline' | 'database';
    let cause: unknown;
    try {
      if ((await Promise.race([work.then(() => 'done' as const), late])) === 'done') return;
      reason = 'deadline';
      // It may still finish (reads) or fail (a refused write): either way, only logged.
      work.catch((err: unknown) =>
        deps.logger.debug({ updateId: scope.updateId, err: (err as Error).message }, 'A late handler ended'),
      );
    } catch (err) {
      if (!isOutage(err)) throw err;
      reason = 'database';
      cause = err;
    } finally {
      clearTimeout(timer);
    }
    // From now on this update writes nothing (guardWrites); a write already sent is reported honestly.
    scope.expired = true;
    const mayHaveSaved = scope.writesInFlight > 0 || scope.writeUncertain;
    deps.logger.warn({ updateId: scope.updateId, reason, mayHaveSaved }, 'Update not handled: the database is unavailable');
    await tellUnavailable(ctx, deps, mayHaveSaved);
    scope.silenced = true;
    throw new UpdateNotHandledError(scope.updateId, reason, { cause });
  };
}

/** The localized "⏳ temporarily unavailable" answer, without touching the database. */
async function tellUnavailable(ctx: BotContext, deps: BotDeps, mayHaveSaved: boolean): Promise<void> {
  const locale = ctx.locale ?? localeFromTelegram(ctx.from?.language_code) ?? deps.config.defaultLocale;
  const t = translator(deps.i18n, locale);
  // Webhook: the update is answered 5xx and Telegram sends it again, so it is not "lost" either.
  const key = mayHaveSaved
    ? 'common.unavailable.maybeSaved'
    : deps.config.mode === 'webhook'
      ? 'common.unavailable.willRetry'
      : 'common.unavailable.notSaved';
  try {
    // With this process's own rate slot: the token's shared budget lives in the database that is down.
    const chatId = ctx.chat?.type === 'private' ? ctx.chat.id : undefined;
    if (ctx.callbackQuery) await withoutSharedBudget(() => ctx.answerCallbackQuery({ text: t(key), show_alert: true }));
    else if (chatId !== undefined) await withoutSharedBudget(() => ctx.api.sendMessage(chatId, t(key)));
  } catch (err) {
    deps.logger.warn({ updateId: ctx.update.update_id, err: (err as Error).message }, 'Could not tell about the outage');
  }
}
