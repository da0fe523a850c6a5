import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const TOKEN = '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('config', () => {
  it('needs BOT_TOKEN and names it', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(['BOT_TOKEN: required']);
  });

  it('names every bad variable at once, with what is expected', () => {
    const problems = problemsOf({ BOT_TOKEN: 'nope', BOT_MODE: 'hook', LOG_LEVEL: 'loud', WEBHOOK_PORT: '99999' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['BOT_MODE', 'BOT_TOKEN', 'LOG_LEVEL', 'WEBHOOK_PORT']);
    expect(problems.find((p) => p.startsWith('BOT_MODE'))).toContain('polling');
  });

  it('requires the webhook settings in webhook mode, also when other values are bad', () => {
    const problems = problemsOf({ BOT_MODE: 'webhook' });
    expect(problems).toContain('BOT_TOKEN: required');
    expect(problems).toContain('WEBHOOK_URL: required when BOT_MODE=webhook');
    expect(problems).toContain('WEBHOOK_SECRET: required when BOT_MODE=webhook');
  });

  it('requires MONGODB_URI in production', () => {
    expect(problemsOf({ BOT_TOKEN: TOKEN, NODE_ENV: 'production' })).toEqual([
      'MONGODB_URI: required when NODE_ENV=production (no embedded database in production)',
    ]);
  });

  it('rejects a webhook URL that is not https and a short secret', () => {
    const problems = problemsOf({
      BOT_TOKEN: TOKEN,
      BOT_MODE: 'webhook',
      WEBHOOK_URL: 'http://example.org/hook',
      WEBHOOK_SECRET: 'short',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['WEBHOOK_SECRET', 'WEBHOOK_URL']);
  });

  it('applies defaults and treats empty values as unset', () => {
    const config = loadConfig({ BOT_TOKEN: TOKEN, MONGODB_URI: '', TELEGRAM_API_ROOT: '' });
    expect(config.mode).toBe('polling');
    expect(config.mongoUri).toBeUndefined();
    expect(config.telegramApiRoot).toBeUndefined();
    expect(config.defaultLocale).toBe('ru');
    expect(config.inviteTtlDays).toBe(14);
    expect(config.mongoAllowDownload).toBe(false);
  });

  it('documents every variable in .env.example', async () => {
    const { readFileSync } = await import('node:fs');
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
    const names = [...source.matchAll(/^\s{4}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(example, name).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});
