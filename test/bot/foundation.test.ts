import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.js';

describe('first contact (foundation)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('/start from an unknown user explains the bot and how to join, in Russian', async () => {
    const user = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
    await user.send('/start');
    const text = user.lastText() ?? '';
    expect(text).toContain('Здравствуйте, Анна');
    expect(text).toContain('приглашению');
    expect(text).toContain('/start КОД');
  });

  it('/start answers in English for an English Telegram client', async () => {
    const user = t.world.user({ firstName: 'Ann', languageCode: 'en-GB' });
    await user.send('/start');
    expect(user.lastText()).toContain('How to join');
  });

  it('escapes a hostile first name in HTML mode', async () => {
    const user = t.world.user({ firstName: '<b>Evil & Co</b>', languageCode: 'en' });
    await user.send('/start');
    expect(user.lastText()).toContain('<b>Evil & Co</b>');
    expect(t.fake.unknownCalls).toEqual([]);
  });

  it('/help lists the commands a guest can use', async () => {
    const user = t.world.user({ languageCode: 'en' });
    await user.send('/help');
    const text = user.lastText() ?? '';
    expect(text).toContain('/start');
    expect(text).toContain('/language');
    expect(text).toContain('invite');
  });

  it('/language switches the language and remembers it', async () => {
    const user = t.world.user({ languageCode: 'ru' });
    await user.send('/language');
    expect(user.buttons()).toEqual(['Русский', 'English']);
    await user.press('English');
    expect(user.lastText()).toBe('Language: English.');
    expect(user.buttons()).toEqual([]);
    await user.send('/start');
    expect(user.lastText()).toContain('How to join');
    const account = await t.app.db.models.Account.findOne({ telegramId: user.id }).lean();
    expect(account?.locale).toBe('en');
  });

  it('a forged language button gets a stale-button answer and changes nothing', async () => {
    const user = t.world.user({ languageCode: 'ru' });
    await user.send('/language');
    const answer = await user.pressData('lang:de', user.lastMessage()?.messageId);
    expect(answer?.text).toContain('устарела');
    const account = await t.app.db.models.Account.findOne({ telegramId: user.id }).lean();
    expect(account?.locale).toBeUndefined();
  });

  it('unknown text and unsupported content get a helpful answer, never silence', async () => {
    const user = t.world.user({ languageCode: 'en' });
    await user.send('what is my mark?');
    expect(user.lastText()).toContain('/help');
    await user.sendSticker();
    expect(user.lastText()).toContain('cannot handle');
  });

  it('sets the default command menu in both languages at start-up', () => {
    const ru = t.fake.commands({ type: 'default' }, '');
    const en = t.fake.commands({ type: 'default' }, 'en');
    expect(ru.map((c) => c.command)).toEqual(['start', 'help', 'language']);
    expect(en.find((c) => c.command === 'help')?.description).toBe('what I can do');
    expect(ru.find((c) => c.command === 'help')?.description).toBe('что я умею');
  });
});

describe('error boundary', () => {
  it('a failure inside a handler gets a short apology and is logged with the update id', async () => {
    const t = await createTestApp();
    const user = t.world.user({ languageCode: 'en' });
    await user.send('/start');
    // The database goes away: the next update fails inside the middleware chain. The person is
    // told in their own language (Telegram's, the database cannot be read) and the update is not
    // acknowledged as handled (issue 12: the webhook answers 5xx, see test/bot/faults).
    await t.app.db.conn.close();
    await expect(user.send('/help')).rejects.toThrow(/not handled: the database is unavailable/);
    expect(user.lastText()).toBe('⏳ The journal is temporarily unavailable; your action was not saved — please try again in a minute.');
    await t.app.stop();
  });
});
