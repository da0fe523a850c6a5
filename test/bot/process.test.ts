import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestDatabase, testMongoUri } from '../support/db.js';
import { FakeBotApi } from '../support/fake-bot-api.js';
import { TEST_TOKEN } from '../support/harness.js';

const ROOT = new URL('../..', import.meta.url).pathname;

function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    // A clean environment: nothing from the developer's shell or a .env decides the outcome.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the bot process', () => {
  it('stops with a clear message naming BOT_TOKEN when it is missing', { timeout: 90_000 }, async () => {
    const p = startProcess({ DATA_DIR: '/nonexistent-never-used' });
    const code = await p.exit;
    expect(code).toBe(2);
    expect(p.output()).toContain('BOT_TOKEN: required');
    expect(p.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  describe('with a token and a local fake Bot API', () => {
    const fake = new FakeBotApi();
    let apiRoot = '';
    const mongoUri = testMongoUri();
    beforeAll(async () => {
      apiRoot = await fake.listen();
    });
    afterAll(async () => {
      await fake.close();
      await dropTestDatabase(mongoUri);
    });

    it('starts, answers /start by long polling, and shuts down cleanly on SIGTERM', async () => {
      const p = startProcess({
        BOT_TOKEN: TEST_TOKEN,
        TELEGRAM_API_ROOT: apiRoot,
        MONGODB_URI: mongoUri,
        LOG_LEVEL: 'info',
        JOBS_PROCESS_EVERY_MS: '200',
      });
      try {
        await waitFor(() => p.output().includes('School Journal Bot is running'), 60_000, 'start-up');
        const user = { id: 777001, is_bot: false, first_name: 'Test', language_code: 'en' };
        const message = fake.userSends(user, { text: '/start' });
        fake.pushUpdate({ message } as Parameters<typeof fake.pushUpdate>[0]);
        await waitFor(() => fake.botMessages(user.id).length > 0, 15_000, 'the answer to /start');
        expect(fake.botMessages(user.id)[0]?.text).toContain('How to join');
        expect(fake.callsOf('deleteWebhook').length).toBe(1);

        p.child.kill('SIGTERM');
        p.child.kill('SIGTERM'); // twice: must be safe
        expect(await p.exit).toBe(0);
        expect(p.output()).toContain('Stopped');
        // The user's first name never reaches the info-level log.
        expect(p.output()).not.toContain('"Test"');
      } finally {
        p.child.kill('SIGKILL');
      }
    }, 90_000);
  });
});
