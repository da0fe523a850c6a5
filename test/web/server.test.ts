/**
 * The web server's start and stop with the app (issue 15): in polling mode a busy port leaves the
 * bot running without the Mini App (logged); in webhook mode it stops the start, since Telegram
 * could not reach the bot. app.stop() closes the port.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { testMongoUri } from '../support/db.js';
import { FakeBotApi } from '../support/fake-bot-api.js';
import { TEST_BOT_INFO, TEST_TOKEN } from '../support/harness.js';

async function appOn(port: number, env: Record<string, string> = {}): Promise<App> {
  const fake = new FakeBotApi({ botInfo: TEST_BOT_INFO });
  return createApp(loadConfig({ BOT_TOKEN: TEST_TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env }), {
    mongoUri: testMongoUri(),
    logger: createLogger('silent'),
    client: { fetch: fake.fetch, apiRoot: 'http://fake-bot-api.local' },
    botInfo: TEST_BOT_INFO,
    runtime: false,
    jobs: false,
    web: { host: '127.0.0.1', port },
  });
}

describe('the web server with the app', () => {
  const busy = net.createServer();
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    port = (busy.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => busy.close(r));
  });

  it('polling mode: a busy port leaves the bot running without the Mini App', async () => {
    const app = await appOn(port);
    try {
      await app.start();
      expect(app.web).toBeUndefined();
    } finally {
      await app.stop();
    }
  });

  it('webhook mode: a busy port stops the start', async () => {
    const app = await appOn(port, { BOT_MODE: 'webhook', WEBHOOK_URL: 'https://x.example.org/hook', WEBHOOK_SECRET: 'secret-0123456789abc' });
    try {
      await expect(app.start()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await app.stop();
    }
  });

  it('a free port: the Mini App answers, and app.stop() closes it', async () => {
    const app = await appOn(0);
    await app.start();
    const url = app.web?.url as string;
    expect((await fetch(`${url}/app/api/me`)).status).toBe(401);
    await app.stop();
    await expect(fetch(`${url}/app/api/me`)).rejects.toThrow();
  });
});
