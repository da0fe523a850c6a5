import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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
  return watch(child);
}

/** The child's output (both streams) as it comes, and its exit code. */
function watch(child: ChildProcess): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
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

/**
 * `npm start` as an operator runs it, on the local database (no MONGODB_URI), beside the CLI
 * (issue 11, items 2 and 3): SIGTERM to npm stops the whole app; the stand-in never outlives the
 * node process that started it, even after SIGKILL; the CLI uses the running bot's database.
 */
describe('npm start on the local database', () => {
  const fake = new FakeBotApi();
  let apiRoot = '';
  let dataDir = '';
  beforeAll(async () => {
    apiRoot = await fake.listen();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'sjb-process-'));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}),
    npm_config_update_notifier: 'false',
    BOT_TOKEN: TEST_TOKEN,
    TELEGRAM_API_ROOT: apiRoot,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    LANG: 'en_US.UTF-8',
  });

  /** `npm <args>` in its own session (as a shell or a process manager starts it). */
  function npm(args: string[]) {
    return watch(spawn('npm', args, { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  }

  /** Every process in the session npm leads (its pid is the session id). */
  const sessionProcesses = (sid: number): Array<{ pid: number; ppid: number; args: string }> =>
    execFileSync('ps', ['-e', '-o', 'pid=,ppid=,sid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null && Number(m[3]) === sid)
      .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[4] ?? '' }));

  const portOpen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  const shareFile = () => path.join(dataDir, 'mongo.uri');

  async function startBot() {
    const p = npm(['start']);
    await waitFor(() => p.output().includes('School Journal Bot is running'), 90_000, `start-up:\n${p.output()}`);
    const share = JSON.parse(readFileSync(shareFile(), 'utf8')) as { uri: string; pid: number };
    const port = Number(new URL(share.uri).port);
    return { ...p, sid: p.child.pid as number, share, port };
  }

  function cli(args: string[]) {
    const p = npm(['run', '--silent', 'cli', '--', ...args, '--lang', 'en']);
    return p.exit.then((code) => ({ code, output: p.output() }));
  }

  it('the CLI works beside the running bot on its database; a second bot refuses, naming the first', async () => {
    const bot = await startBot();
    try {
      expect(bot.share.pid).toBe(sessionProcesses(bot.sid).find((x) => x.ppid === bot.sid)?.pid);
      const created = await cli(['school', 'create', '--name', 'Shared School', '--timezone', 'Europe/Moscow']);
      expect(created.output).not.toContain('locked');
      expect(created.code).toBe(0);
      expect(created.output).toContain(`running bot (pid ${bot.share.pid})`);
      const listed = await cli(['school', 'list']);
      expect(listed.code).toBe(0);
      expect(listed.output).toContain('Shared School');
      // The bot's server is still there for the bot after the CLI ended.
      expect(await portOpen(bot.port)).toBe(true);

      const second = npm(['start']);
      expect(await second.exit).toBe(3);
      expect(second.output()).toContain(`in use by the bot running as pid ${bot.share.pid}`);
      expect(second.output()).not.toMatch(/install Java|MONGODB_ALLOW_DOWNLOAD|\n\s+at /);
    } finally {
      process.kill(-bot.sid, 'SIGTERM');
      await bot.exit;
    }
  }, 240_000);

  it('SIGTERM to the npm process stops every process of the app and closes the database port', async () => {
    const bot = await startBot();
    expect(sessionProcesses(bot.sid).some((x) => x.args.includes('mongo-standin'))).toBe(true);
    process.kill(bot.sid, 'SIGTERM'); // npm only, as a container stop or a process manager does
    try {
      await waitFor(() => sessionProcesses(bot.sid).length === 0, 30_000, 'every process of npm start to exit');
    } finally {
      const left = sessionProcesses(bot.sid);
      for (const x of left) process.kill(x.pid, 'SIGKILL');
      expect(left.map((x) => x.args)).toEqual([]);
    }
    expect(bot.output()).toContain('Stopped');
    expect(await portOpen(bot.port)).toBe(false);
    expect(existsSync(shareFile())).toBe(false);
  }, 180_000);

  it('the stand-in exits within seconds of a SIGKILL of the node process that started it', async () => {
    const bot = await startBot();
    const standin = sessionProcesses(bot.sid).find((x) => x.args.includes('mongo-standin'));
    expect(standin).toBeDefined();
    process.kill(bot.share.pid, 'SIGKILL');
    try {
      await waitFor(() => !sessionProcesses(bot.sid).some((x) => x.pid === standin?.pid), 10_000, 'the stand-in to exit');
    } finally {
      for (const x of sessionProcesses(bot.sid)) process.kill(x.pid, 'SIGKILL');
    }
    expect(await portOpen(bot.port)).toBe(false);
    // The share file the killed bot left names a dead pid: the CLI starts its own server.
    const listed = await cli(['school', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.output).toContain('Shared School');
    expect(existsSync(shareFile())).toBe(false);
  }, 180_000);
});
