/**
 * npm run fuzz [-- --count 10000 --seed 1]
 *
 * Random updates through bot.handleUpdate against a real database with a seeded school (issue 12):
 * texts and commands, the bot's own callback data formats (src/bot/callbacks) with random and real
 * ids, documents, photos, edited messages, inline callbacks without a message, updates without a
 * chat, non-string text, huge strings, forged shapes. Prints the unhandled errors (target 0), the
 * data changed by strangers (target 0: phase 1 sends only from unbound accounts) and the heap
 * before and after. The generator is shared with test/bot/faults/fuzz.test.ts.
 */
import { readdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { Types } from 'mongoose';
import type { Db } from '../src/db/index.js';

/** mulberry32: a small seeded generator, so a failing run can be repeated. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzPool {
  /** Telegram ids of bound people (teachers, parents, students, admins). */
  bound: number[];
  /** Telegram ids nobody is bound to. */
  strangers: number[];
  /** Real ids from the database (persons, lessons, classes, subjects, marks...). */
  ids: string[];
}

const COMMANDS = [
  '/start', '/help', '/language', '/invite', '/journal', '/periodmarks', '/calendar', '/history', '/announce',
  '/outcomes', '/newyear', '/absences', '/grant', '/today', '/plan', '/acks', '/write', '/inbox', '/officehours',
  '/children', '/diary', '/absent', '/notifications', '/pe', '/cancel', '/start abc', '/start inv_000000', '/unknown',
];

/** Every callback prefix the bot defines (objects with `prefix` and `unpack` exported by src/bot/callbacks). */
export async function callbackPrefixes(): Promise<string[]> {
  const dir = new URL('../src/bot/callbacks/', import.meta.url);
  const out = new Set<string>();
  for (const file of await readdir(dir)) {
    if (!file.endsWith('.ts')) continue;
    const mod = (await import(new URL(file.replace(/\.ts$/, '.js'), dir).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (value && typeof value === 'object' && 'prefix' in value && 'unpack' in value) out.add(String(value.prefix));
    }
  }
  return [...out];
}

export async function fuzzPool(db: Db, bound: number[]): Promise<FuzzPool> {
  const m = db.models;
  const ids: string[] = [];
  for (const model of [m.Person, m.Lesson, m.SchoolClass, m.Subject, m.Mark, m.School, m.TimetableSlot]) {
    const docs = (await (model as typeof m.Person).find({}, { _id: 1 }).limit(50).lean()) as Array<{ _id: unknown }>;
    ids.push(...docs.map((d) => String(d._id)));
  }
  const strangers = Array.from({ length: 20 }, (_, i) => 990_000_000 + i);
  return { bound, strangers, ids };
}

/** Builds `count` random updates (without update_id). `from` picks the sender pool. */
export function makeUpdates(seed: number, count: number, pool: FuzzPool & { prefixes: string[] }, from: 'strangers' | 'all'): object[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const prefixes = pool.prefixes;
  const senders = from === 'strangers' ? pool.strangers : [...pool.bound, ...pool.strangers];
  let messageId = 1;
  const id = () =>
    pick([
      () => pick(pool.ids),
      () => new Types.ObjectId().toHexString(),
      () => String(Math.floor(r() * 100)),
      () => '2026-11-23',
      () => pick(['0', '1', '-1', '', 'x'.repeat(30), '9'.repeat(20), '💥']),
    ])();
  const text = (): unknown =>
    pick([
      () => pick(COMMANDS),
      () => `${pick(COMMANDS)} ${id()}`,
      () => pick(['5', '4+', 'н', 'Н', 'да', 'yes', 'отмена', '❌', '✅ Готово', '2 · 5А Математика', '']),
      () => 'Привет '.repeat(1 + Math.floor(r() * 5)),
      () => 'ж'.repeat(5_000 + Math.floor(r() * 60_000)),
      () => Math.floor(r() * 1000),
      () => pick([null, {}, [], true, { text: 'nested' }]),
    ])();
  const user = (uid: number): Record<string, unknown> =>
    pick([
      ...Array.from({ length: 8 }, () => () => ({ id: uid, is_bot: false, first_name: 'Fuzz', language_code: pick(['ru', 'en', 'de', undefined]) })),
      () => ({ id: uid, is_bot: false, first_name: 'Fuzz', language_code: 42 }),
      () => ({ id: String(uid), is_bot: false, first_name: 'Fuzz' }),
      () => ({ id: uid, is_bot: true, first_name: 'Robot' }),
    ])();
  const chat = (uid: number): unknown =>
    pick([
      ...Array.from({ length: 8 }, () => () => ({ id: uid, type: 'private', first_name: 'Fuzz' })),
      () => ({ id: -1_000_000_000_000 - uid, type: 'supergroup', title: 'Class chat' }),
      () => undefined,
      () => ({ id: 'x', type: 'private' }),
    ])();
  const message = (uid: number): Record<string, unknown> => {
    const msg: Record<string, unknown> = { message_id: messageId++, date: 1_795_000_000, chat: chat(uid), from: user(uid) };
    const kind = r();
    if (kind < 0.55) {
      const t = text();
      msg.text = t;
      if (typeof t === 'string' && t.startsWith('/')) {
        msg.entities = [{ type: 'bot_command', offset: 0, length: t.split(' ')[0]?.length ?? 1 }];
      }
    } else if (kind < 0.7) {
      msg.document = pick([
        { file_id: `doc-${id()}`, file_name: pick(['staff.csv', 'marks.xlsx', 'a.pdf', 'x']), mime_type: 'text/csv', file_size: 120 },
        { file_id: 42 },
        { file_name: 'no-id.csv' },
      ]);
      if (r() < 0.5) msg.caption = text();
    } else if (kind < 0.8) {
      msg.photo = pick([[{ file_id: `ph-${id()}`, file_unique_id: 'u', width: 10, height: 10 }], 'not-an-array', [{}]]);
      if (r() < 0.5) msg.caption = text();
    } else if (kind < 0.85) {
      msg.voice = { file_id: `v-${id()}`, duration: 3 };
    } else if (kind < 0.9) {
      msg.sticker = { file_id: 's', type: 'regular' };
    } else {
      msg.text = text();
      msg.reply_to_message = { message_id: Math.max(1, messageId - 3), date: 1_795_000_000, chat: chat(uid), text: text() };
    }
    return msg;
  };
  const callback = (uid: number): Record<string, unknown> => {
    const parts = Array.from({ length: Math.floor(r() * 7) }, id);
    const data = pick([
      () => [pick(prefixes), ...parts].join(':'),
      () => [pick(prefixes), ...parts].join(':'),
      () => pick(prefixes),
      () => 'z'.repeat(300),
      () => 12345,
      () => undefined,
    ])();
    const query: Record<string, unknown> = { id: `${uid}${messageId++}`, from: user(uid), chat_instance: '-1', data };
    const where = r();
    if (where < 0.75) query.message = { message_id: Math.floor(r() * 50) + 1, date: 1_795_000_000, chat: chat(uid), text: 'x' };
    else if (where < 0.9) query.inline_message_id = 'inline-1';
    else query.message = { message_id: 3, date: 0, chat: chat(uid) };
    return query;
  };
  const updates: object[] = [];
  for (let i = 0; i < count; i++) {
    const uid = pick(senders);
    const k = r();
    if (k < 0.5) updates.push({ message: message(uid) });
    else if (k < 0.8) updates.push({ callback_query: callback(uid) });
    else if (k < 0.88) updates.push({ edited_message: { ...message(uid), edit_date: 1_795_000_100 } });
    else if (k < 0.93) {
      const status = pick(['kicked', 'member', 'left', 'administrator']);
      const member = { user: { id: 1, is_bot: true, first_name: 'Bot' }, status };
      updates.push({ my_chat_member: { chat: chat(uid), from: user(uid), date: 1_795_000_000, old_chat_member: member, new_chat_member: member } });
    } else if (k < 0.96) updates.push({ inline_query: { id: 'iq', from: user(uid), query: 'x', offset: '' } });
    else updates.push(pick([{}, { message: null }, { message: 'text' }, { callback_query: { id: 'c' } }, { edited_message: {} }]));
  }
  return updates;
}

/** Counts and a cheap digest per collection: what strangers may not change (Account etc. excluded). */
export async function snapshot(db: Db): Promise<Map<string, string>> {
  const skip = new Set(['Account', 'ConversationState', 'ProcessedUpdate', 'InviteThrottle', 'AuditEntry', 'SendRate']);
  const out = new Map<string, string>();
  for (const [name, model] of Object.entries(db.models)) {
    if (skip.has(name)) continue;
    const docs = await (model as Db['models']['Person']).find({}).sort({ _id: 1 }).lean();
    out.set(name, `${docs.length}:${hash(JSON.stringify(docs))}`);
  }
  return out;
}

function hash(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return (h >>> 0).toString(16);
}

export function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()].filter((k) => before.get(k) !== after.get(k));
}

async function main(): Promise<void> {
  const { runFuzz } = await import('../test/bot/faults/fuzz-run.js');
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
    return Number.isFinite(v) ? v : def;
  };
  const result = await runFuzz({ count: arg('count', 10_000), seed: arg('seed', 1), standalone: true });
  console.log(JSON.stringify(result, null, 2));
  process.exit(result.unhandled === 0 && result.changedByStrangers.length === 0 ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
