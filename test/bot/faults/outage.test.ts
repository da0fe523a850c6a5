import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateNotHandledError } from '../../../src/bot/middleware/outage.js';
import { type FamilyWorld, familyWorld, received } from '../../notify/world.js';
import { waitFor } from '../../support/wait.js';
import type { TestUser } from '../../support/users.js';
import { createFaultApp, type FaultApp } from './app.js';
import { ControlledDatabase } from './database.js';

/**
 * Issue 12: a frozen or stopped database. Every person hears back within 5 s — the result or a
 * localized "⏳ temporarily unavailable, not saved" (ru by default, en from Telegram's
 * language_code: the database is not asked) — and a handler that ran out of time writes nothing
 * afterwards. Before: answered only when the database came back (29 s for a 30 s freeze), and the
 * mark was saved after the person had been told nothing.
 */
const RU = '⏳ Журнал временно недоступен; ваше действие не сохранено';
const EN = '⏳ The journal is temporarily unavailable; your action was not saved';

let dbServer: ControlledDatabase;
let t: FaultApp;
let w: FamilyWorld;
const db = () => t.app.db;

beforeAll(async () => {
  dbServer = await ControlledDatabase.start();
  t = await createFaultApp({ mongoUri: dbServer.uri('faults_outage') });
  w = await familyWorld(t);
}, 120_000);
afterAll(async () => {
  dbServer?.thaw();
  await t?.close();
  await dbServer?.destroy();
}, 60_000);

/** Opens the marks screen of today's lesson 2 in 5А and picks the first student (values shown). */
async function openMarkValues(teacher: TestUser): Promise<void> {
  await teacher.send('/today');
  await teacher.press(/^2 · 5А/);
  await teacher.press('✏️ Оценки');
  await teacher.press(/Иванов/);
}

/** Runs `act` and returns how long until `answered` holds (polled every 50 ms). */
async function timed(act: () => Promise<unknown>, answered: () => boolean): Promise<number> {
  const started = Date.now();
  void act();
  await waitFor(() => (answered() ? true : undefined), 20_000, 'an answer');
  return Date.now() - started;
}

const textsOf = (u: TestUser) => u.messages().map((m) => m.content ?? '');

describe('a frozen database (SIGSTOP)', () => {
  it('a mark tap, /start and /diary are answered within 5 s in the person’s language; nothing is saved later', { timeout: 90_000 }, async () => {
    await openMarkValues(w.mathTeacher);
    await w.motherA.send('/diary'); // her account is current: a late /diary would only read
    const diaryBefore = textsOf(w.motherA).length;
    const marksBefore = await db().models.Mark.countDocuments({});
    const ruNewcomer = t.world.user({ firstName: 'Новичок', languageCode: 'ru' });
    const enNewcomer = t.world.user({ firstName: 'Newcomer', languageCode: 'en' });
    const enParent = w.motherB;
    await db().models.Account.updateOne({ telegramId: enParent.id }, { $unset: { locale: 1 } });
    enParent.info.language_code = 'en';

    let tapAnswer: { text?: string } | undefined;
    dbServer.freeze();
    try {
      const times = await Promise.all([
        timed(
          async () => {
            tapAnswer = await w.mathTeacher.press('5');
          },
          () => tapAnswer !== undefined,
        ),
        timed(() => ruNewcomer.send('/start'), () => textsOf(ruNewcomer).length > 0),
        timed(() => enNewcomer.send('/start'), () => textsOf(enNewcomer).length > 0),
        timed(() => w.motherA.send('/diary'), () => textsOf(w.motherA).some((x) => x.startsWith('⏳'))),
        timed(() => enParent.send('/diary'), () => textsOf(enParent).some((x) => x.startsWith('⏳'))),
      ]);
      for (const ms of times) expect(ms).toBeLessThan(5_000);
      expect(tapAnswer?.text).toContain(RU);
      expect(textsOf(ruNewcomer)[0]).toContain(RU);
      expect(textsOf(enNewcomer)[0]).toContain(EN);
      expect(textsOf(enParent).at(-1)).toContain(EN);
      // Held frozen a while longer, as a real stall would be.
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      dbServer.thaw();
    }
    // The handlers that waited on the frozen socket go on now: none of them may save the mark.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await db().models.Mark.countDocuments({})).toBe(marksBefore);
    // Nor do they speak after the person was told: no late diary under "not saved, try again".
    expect(textsOf(w.motherA)).toHaveLength(diaryBefore + 1);
    expect(textsOf(ruNewcomer)).toHaveLength(1);
    for (const err of t.failures.values()) expect(err).toBeInstanceOf(UpdateNotHandledError);
    expect(t.failures.size).toBe(5);

    // Back: the same tap works and is saved.
    t.failures.clear();
    await openMarkValues(w.mathTeacher);
    await w.mathTeacher.press('5');
    expect(await db().models.Mark.countDocuments({})).toBe(marksBefore + 1);
    expect(t.failures.size).toBe(0);
  });
});

describe('a stopped database', () => {
  it('answers within 5 s; after a restart the bot works again and an acknowledged mark’s notice is delivered', { timeout: 120_000 }, async () => {
    // Acknowledged before the outage: stored, its family notice still queued.
    await openMarkValues(w.mathTeacher);
    await w.mathTeacher.press('4');
    const markCount = await db().models.Mark.countDocuments({});
    const before = received(w.motherA).length;

    await dbServer.down();
    try {
      const en = t.world.user({ firstName: 'Down', languageCode: 'en' });
      const ms = await timed(() => en.send('/start'), () => textsOf(en).length > 0);
      expect(ms).toBeLessThan(5_000);
      expect(textsOf(en)[0]).toContain(EN);
      expect([...t.failures.values()].at(-1)).toBeInstanceOf(UpdateNotHandledError);
    } finally {
      await dbServer.up();
    }
    // The driver reconnects by itself; the acknowledged mark is there and its notice goes out.
    await waitFor(async () => ((await db().models.Mark.countDocuments({}).catch(() => -1)) === markCount ? true : undefined), 30_000);
    await t.app.delivery.runUntilIdle(20_000);
    expect(received(w.motherA).length).toBeGreaterThan(before);
    const again = t.world.user({ firstName: 'Again', languageCode: 'en' });
    await again.send('/start');
    expect(textsOf(again)[0]).not.toContain('⏳');
  });
});
