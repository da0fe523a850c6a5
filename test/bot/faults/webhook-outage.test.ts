import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait.js';
import { createFaultApp, type FaultApp } from './app.js';
import { ControlledDatabase } from './database.js';

/**
 * Issue 12, webhook mode: with the database down an update was answered 200, never handled and
 * never re-sent (its de-duplication record was written first... or failed). Now: the person hears
 * back within 5 s in their language, the webhook answers 503 so Telegram sends it again, no
 * de-duplication record is written, and the re-sent update is handled once the database is back —
 * once, however often it is re-sent.
 */
const SECRET = 'test-secret-0123456789abcdef';
const EN = '⏳ The journal is temporarily unavailable; your action has not been saved yet';

let dbServer: ControlledDatabase;
let t: FaultApp;
let hookUrl: string;

beforeAll(async () => {
  dbServer = await ControlledDatabase.start();
  t = await createFaultApp({
    mongoUri: dbServer.uri('faults_webhook'),
    env: { BOT_MODE: 'webhook', WEBHOOK_URL: 'https://bot.example.org/tg/hook', WEBHOOK_SECRET: SECRET },
    runtime: true,
    web: { host: '127.0.0.1', port: 0 },
  });
  hookUrl = `${t.app.web?.url}/tg/hook`;
}, 120_000);
afterAll(async () => {
  dbServer?.thaw();
  await t?.close();
  await dbServer?.destroy();
}, 60_000);

const post = (body: unknown) =>
  fetch(hookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(body),
  });

function startUpdate(updateId: number, userId: number) {
  const user = { id: userId, is_bot: false, first_name: 'Web', language_code: 'en' };
  t.fake.registerUser(user);
  return { update_id: updateId, message: t.fake.userSends(user, { text: '/start' }) };
}

const texts = (chatId: number) => t.fake.botMessages(chatId).map((m) => m.content ?? '');
const recorded = async (id: number) => (await t.app.db.models.ProcessedUpdate.exists({ _id: id })) !== null;

describe('webhook mode with the database stopped, then restarted', () => {
  it('503 within 5 s with the localized answer, no record; the re-sent update is handled once', { timeout: 120_000 }, async () => {
    const update = startUpdate(7001, 97001);
    await dbServer.down();
    let status: number;
    let ms: number;
    try {
      const started = Date.now();
      status = (await post(update)).status;
      ms = Date.now() - started;
    } finally {
      await dbServer.up();
    }
    expect(status).toBe(503);
    expect(ms).toBeLessThan(5_000);
    expect(texts(97001)).toHaveLength(1);
    expect(texts(97001)[0]).toContain(EN);
    await waitFor(async () => ((await t.app.db.models.ProcessedUpdate.countDocuments({}).catch(() => -1)) >= 0 ? true : undefined), 30_000);
    expect(await recorded(7001)).toBe(false);

    // Telegram sends it again: handled now, and only once however often it comes.
    expect((await post(update)).status).toBe(200);
    expect(texts(97001)).toHaveLength(2);
    expect(texts(97001)[1]).not.toContain('⏳');
    await waitFor(async () => ((await recorded(7001)) ? true : undefined), 5_000, 'the record');
    expect((await post(update)).status).toBe(200);
    expect(texts(97001)).toHaveLength(2);
  });

  it('a frozen database: 503 within 5 s, and the update is handled when re-sent after it thaws', { timeout: 120_000 }, async () => {
    const update = startUpdate(7002, 97002);
    dbServer.freeze();
    let status: number;
    let ms: number;
    try {
      const started = Date.now();
      status = (await post(update)).status;
      ms = Date.now() - started;
    } finally {
      dbServer.thaw();
    }
    expect(status).toBe(503);
    expect(ms).toBeLessThan(5_000);
    expect(texts(97002)[0]).toContain(EN);
    await waitFor(async () => ((await t.app.db.models.ProcessedUpdate.countDocuments({}).catch(() => -1)) >= 0 ? true : undefined), 30_000);
    expect(await recorded(7002)).toBe(false);
    expect((await post(update)).status).toBe(200);
    expect(texts(97002).at(-1)).not.toContain('⏳');
  });
});
