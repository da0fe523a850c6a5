/**
 * `npm run cli -- webapp-link`: a link that opens the Mini App in a browser as a Telegram account
 * (issue 15, the demo and development). The link's init data is accepted by the real server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/index.js';
import type { MeResponse } from '../../src/web/api-types.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/harness.js';
import { bindTelegram, buildJournalSchool } from '../support/journal-fixtures.js';

async function cli(args: string[], env: Record<string, string>) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env });
  return { code, out, err };
}

describe('webapp-link', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ web: true });
    const f = await buildJournalSchool(t.app.db);
    await bindTelegram(t.app.db, f.teacherId, 8_501);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('prints <base>/app/#tgWebAppData=… signed with BOT_TOKEN; the server takes it', async () => {
    const base = t.app.web?.url as string;
    const { code, out } = await cli(['webapp-link', '--telegram-id', '8501', '--base', base], { BOT_TOKEN: TEST_TOKEN });
    expect(code).toBe(0);
    const url = new URL(out.trim());
    expect(`${url.origin}${url.pathname}`).toBe(`${base}/app/`);
    const hash = new URLSearchParams(url.hash.slice(1));
    expect(hash.get('tgWebAppVersion')).toBe('8.0');
    expect(hash.get('tgWebAppPlatform')).toBe('web');
    const initData = hash.get('tgWebAppData') as string;
    const me = await fetch(`${base}/app/api/me`, { headers: { authorization: `tma ${initData}` } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as MeResponse).person.name).toBe('Учителева Анна Ивановна');
    // Signed with another token, the server refuses it.
    const other = await cli(['webapp-link', '--telegram-id', '8501', '--json'], { BOT_TOKEN: '42:ZYXWVUTSRQPONMLKJIHGFEDCBA', WEB_PORT: '9999' });
    const parsed = JSON.parse(other.out) as { url: string; initData: string };
    expect(parsed.url.startsWith('http://127.0.0.1:9999/app/#tgWebAppData=')).toBe(true);
    expect((await fetch(`${base}/app/api/me`, { headers: { authorization: `tma ${parsed.initData}` } })).status).toBe(401);
  });

  it('refuses a missing id or token with a usage error', async () => {
    expect((await cli(['webapp-link'], { BOT_TOKEN: TEST_TOKEN })).code).toBe(2);
    const noToken = await cli(['webapp-link', '--telegram-id', '1', '--lang', 'en'], {});
    expect(noToken.code).toBe(2);
    expect(noToken.err).toContain('BOT_TOKEN');
  });
});
