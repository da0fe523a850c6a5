import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.js';

const SECRET = 'test-secret-0123456789abcdef';

describe('webhook mode', () => {
  let t: TestApp;
  let hookUrl: string;
  beforeAll(async () => {
    // The webhook is a route of the app's one web server (src/web/server.ts, src/web/webhook.ts).
    t = await createTestApp({
      env: { BOT_MODE: 'webhook', WEBHOOK_URL: 'https://bot.example.org/tg/hook', WEBHOOK_SECRET: SECRET },
      runtime: true,
      web: true,
    });
    hookUrl = `${t.app.web?.url}/tg/hook`;
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown, secret = SECRET) =>
    fetch(hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  function startUpdate(updateId: number, userId: number) {
    const user = { id: userId, is_bot: false, first_name: 'Web', language_code: 'en' };
    return { update_id: updateId, message: t.fake.userSends(user, { text: '/start' }) };
  }

  it('registers the webhook with the secret at start', () => {
    const call = t.fake.callsOf('setWebhook')[0];
    expect(call?.params.url).toBe('https://bot.example.org/tg/hook');
    expect(call?.params.secret_token).toBe(SECRET);
  });

  it('handles an update and answers it', async () => {
    const res = await post(startUpdate(5001, 9001));
    expect(res.status).toBe(200);
    expect(t.fake.botMessages(9001)).toHaveLength(1);
  });

  it('handles a re-sent update_id only once', async () => {
    const update = startUpdate(5002, 9002);
    expect((await post(update)).status).toBe(200);
    expect((await post(update)).status).toBe(200);
    expect(t.fake.botMessages(9002)).toHaveLength(1);
  });

  it('refuses a request without the right secret, and malformed bodies', async () => {
    expect((await post(startUpdate(5003, 9003), 'wrong-secret-value-xxxx')).status).toBe(401);
    expect(t.fake.botMessages(9003)).toHaveLength(0);
    expect((await post('{not json')).status).toBe(400);
    expect((await post({ hello: 1 })).status).toBe(400);
  });

  it('answers 404 on another path, and the Mini App on the same server', async () => {
    expect((await fetch(`${t.app.web?.url}/tg/other`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${t.app.web?.url}/app/api/me`)).status).toBe(401);
  });

  it('stop is safe to call twice and closes the port', async () => {
    await t.app.web?.stop();
    await t.app.web?.stop();
    await expect(post(startUpdate(5004, 9004))).rejects.toThrow();
  });
});
