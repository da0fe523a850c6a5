/**
 * Runs fuzzed updates (scripts/fuzz-updates.ts makes them) through the real bot against a real
 * database with a seeded school (test/notify/world.ts familyWorld). Phase 1: only unbound
 * accounts ("strangers"), with a digest of every collection before and after; phase 2: everyone.
 * An "unhandled error" is a handler error that reached the error boundary as a bug (logged as
 * "Unhandled error while handling an update") or a rejected `bot.handleUpdate`.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { isWellFormed } from '../../../src/bot/middleware/update-schema.js';
import { startLocalMongo } from '../../../src/db/local-server.js';
import { callbackPrefixes, changed, fuzzPool, makeUpdates, snapshot } from '../../../scripts/fuzz-updates.js';
import { familyWorld } from '../../notify/world.js';
import { createFaultApp } from './app.js';

export interface FuzzResult {
  updates: number;
  seed: number;
  unhandled: number;
  /** Updates the schema let through to the handlers. */
  wellFormed: number;
  /** Distinct messages of the unhandled errors, with counts. */
  errors: Record<string, number>;
  /** Bot API calls the fake refused (about messages or files the fuzzer invented). */
  botApiErrors: number;
  changedByStrangers: string[];
  heapBeforeMB: number;
  heapAfterMB: number;
  seconds: number;
}

export async function runFuzz(opts: { count: number; seed: number; mongoUri?: string; standalone?: boolean }): Promise<FuzzResult> {
  const local = opts.mongoUri ? undefined : await startLocalMongo({ persistent: false, offline: true, dbName: 'fuzz' });
  const errors: Record<string, number> = {};
  let unhandled = 0;
  let botApiErrors = 0;
  let wellFormed = 0;
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        const entry = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string }; description?: string };
        if (entry.msg === 'Unhandled error while handling an update') {
          unhandled++;
          const key = entry.err?.message?.slice(0, 120) ?? '?';
          errors[key] = (errors[key] ?? 0) + 1;
        } else if (entry.msg === 'Bot API error') botApiErrors++;
      }
      done();
    },
  });
  const t = await createFaultApp({
    mongoUri: opts.mongoUri ?? local?.uri ?? '',
    logger: pino({ level: 'warn' }, sink),
  });
  const started = Date.now();
  try {
    const w = await familyWorld(t);
    const bound = [w.motherA, w.fatherA, w.studentA, w.motherB, w.classTeacherA, w.mathTeacher].map((u) => u.id);
    const pool = { ...(await fuzzPool(t.app.db, bound)), prefixes: await callbackPrefixes() };
    for (const id of pool.strangers) t.fake.registerUser({ id, is_bot: false, first_name: 'Fuzz', language_code: 'en' });
    let updateId = 1_000_000;
    const dispatch = async (updates: object[]) => {
      // A few at a time, as the runner does (sequential within a chat).
      const queue = [...updates];
      const worker = async () => {
        for (let u = queue.shift(); u; u = queue.shift()) {
          const update = { update_id: updateId++, ...u };
          registerQuery(t.fake, update);
          if (isWellFormed(update)) wellFormed++;
          await t.app.bot.handleUpdate(update as never).catch((err: unknown) => {
            unhandled++;
            const key = `rejected: ${String((err as Error).message).slice(0, 100)}`;
            errors[key] = (errors[key] ?? 0) + 1;
          });
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
    };
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const half = Math.floor(opts.count / 2);
    const before = await snapshot(t.app.db);
    await dispatch(makeUpdates(opts.seed, half, pool, 'strangers'));
    const changedByStrangers = changed(before, await snapshot(t.app.db));
    await dispatch(makeUpdates(opts.seed + 1, opts.count - half, pool, 'all'));
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    return {
      updates: opts.count,
      seed: opts.seed,
      unhandled,
      wellFormed,
      errors,
      botApiErrors,
      changedByStrangers,
      heapBeforeMB: Math.round(heapBefore / 1e5) / 10,
      heapAfterMB: Math.round(heapAfter / 1e5) / 10,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await t.close();
    await local?.stop();
  }
}

/** The fake answers callback queries it knows of; a real one always comes from Telegram. */
function registerQuery(fake: { registerCallbackQuery(id: string, chatId: number, messageId: number): void }, update: object): void {
  const q = (update as { callback_query?: { id?: unknown; message?: { chat?: { id?: unknown }; message_id?: unknown } } }).callback_query;
  const chatId = q?.message?.chat?.id;
  if (typeof q?.id === 'string' && typeof chatId === 'number' && typeof q.message?.message_id === 'number') {
    fake.registerCallbackQuery(q.id, chatId, q.message.message_id);
  }
}
