import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Update } from 'grammy/types';
import { waitFor } from '../../support/wait.js';
import { createFaultApp, type FaultApp } from './app.js';
import { ControlledDatabase } from './database.js';

/**
 * Issue 12, polling mode (@grammyjs/runner): the fetch offset moves on, so an update that failed
 * because the database was down is not retried; the person is told instead — within 5 s, in their
 * language — that it was not saved and to try again. It is not handled a second time later.
 */
const EN = '⏳ The journal is temporarily unavailable; your action was not saved — please try again in a minute.';

let dbServer: ControlledDatabase;
let t: FaultApp;

beforeAll(async () => {
  dbServer = await ControlledDatabase.start();
  t = await createFaultApp({ mongoUri: dbServer.uri('faults_polling'), env: { BOT_MODE: 'polling' }, runtime: true });
}, 120_000);
afterAll(async () => {
  dbServer?.thaw();
  await t?.close();
  await dbServer?.destroy();
}, 60_000);

const texts = (chatId: number) => t.fake.botMessages(chatId).map((m) => m.content ?? '');

function start(userId: number): Update {
  const user = { id: userId, is_bot: false, first_name: 'Poll', language_code: 'en' };
  t.fake.registerUser(user);
  return t.fake.pushUpdate({ message: t.fake.userSends(user, { text: '/start' }) } as Omit<Update, 'update_id'>);
}

describe('polling with the database frozen', () => {
  it('tells the person within 5 s; the offset moves on and the update is not handled again', { timeout: 90_000 }, async () => {
    dbServer.freeze();
    let ms: number;
    let update: Update;
    try {
      const started = Date.now();
      update = start(98001);
      await waitFor(() => (texts(98001).length > 0 ? true : undefined), 10_000, 'an answer');
      ms = Date.now() - started;
      await t.fake.waitForConfirmation(update.update_id, 10_000);
    } finally {
      dbServer.thaw();
    }
    expect(ms).toBeLessThan(5_000);
    expect(texts(98001)).toEqual([EN]);
    // Back: the late handler ends without answering again; a new /start works.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(texts(98001)).toEqual([EN]);
    start(98001);
    await waitFor(() => (texts(98001).length > 1 ? true : undefined), 15_000, 'the second answer');
    expect(texts(98001)[1]).not.toContain('⏳');
  });
});
