import { type Conversation, type ConversationFlavor, conversations, createConversation } from '@grammyjs/conversations';
import { Api, Bot, type Context, GrammyError, HttpError, InlineKeyboard, InputFile, Keyboard } from 'grammy';
import type { Message, Update } from 'grammy/types';
import { afterEach, describe, expect, it } from 'vitest';
import { DESCRIPTIONS, FakeBotApi, formatText } from './fake-bot-api.js';
import { createTelegramWorld, TINY_PNG } from './users.js';

const TOKEN = '123456789:TEST-token_for_the_fake';
const ROOT = 'http://fake.local';
const USER = 424242;

const fakes: FakeBotApi[] = [];
function newFake(...args: ConstructorParameters<typeof FakeBotApi>): FakeBotApi {
  const fake = new FakeBotApi(...args);
  fakes.push(fake);
  return fake;
}
function apiFor(fake: FakeBotApi): Api {
  return new Api(TOKEN, { fetch: fake.fetch, apiRoot: ROOT });
}
async function grammyError(promise: Promise<unknown>): Promise<GrammyError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof GrammyError) return e;
    throw e;
  }
  throw new Error('expected the call to fail with a GrammyError');
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

describe('FakeBotApi over fetch', () => {
  it('sendMessage returns a real-shaped Message with per-chat ids, entities and keyboard', async () => {
    const fake = newFake({ now: () => 1_700_000_000_000 });
    fake.registerUser({ id: USER, is_bot: false, first_name: 'Anna', username: 'anna' });
    const api = apiFor(fake);
    const kb = new InlineKeyboard().text('Yes', 'answer:yes').url('Site', 'https://example.com');
    const m1 = await api.sendMessage(USER, '<b>Hello</b> &amp; welcome, see /help', {
      parse_mode: 'HTML',
      reply_markup: kb,
    });
    expect(m1).toEqual({
      message_id: 1,
      from: {
        id: fake.botInfo.id,
        is_bot: true,
        first_name: fake.botInfo.first_name,
        username: 'school_journal_test_bot',
      },
      chat: { id: USER, type: 'private', first_name: 'Anna', username: 'anna' },
      date: 1_700_000_000,
      text: 'Hello & welcome, see /help',
      entities: [
        { type: 'bold', offset: 0, length: 5 },
        { type: 'bot_command', offset: 21, length: 5 },
      ],
      reply_markup: {
        inline_keyboard: [
          [
            { text: 'Yes', callback_data: 'answer:yes' },
            { text: 'Site', url: 'https://example.com' },
          ],
        ],
      },
    });
    const m2 = await api.sendMessage(USER, 'second');
    expect(m2.message_id).toBe(2);
    expect(m2.reply_markup).toBeUndefined();
    const other = await api.sendMessage(USER + 1, 'other chat');
    expect(other.message_id).toBe(1);
    expect(fake.chat(USER).map((m) => m.content)).toEqual(['Hello & welcome, see /help', 'second']);
    expect(fake.callsOf('sendMessage')).toHaveLength(3);
    expect(fake.callsOf('sendMessage')[0]?.params).toMatchObject({ chat_id: USER, parse_mode: 'HTML' });
  });

  it('validates text like Telegram: bad HTML, too long, empty, callback_data size', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const unescaped = await grammyError(api.sendMessage(USER, 'grade a < b', { parse_mode: 'HTML' }));
    expect(unescaped.error_code).toBe(400);
    expect(unescaped.description).toBe(
      'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 8',
    );
    const unknownTag = await grammyError(api.sendMessage(USER, 'Оценка <5>', { parse_mode: 'HTML' }));
    expect(unknownTag.description).toBe(
      'Bad Request: can\'t parse entities: Unsupported start tag "5" at byte offset 13',
    );
    const unclosed = await grammyError(api.sendMessage(USER, '<b>bold', { parse_mode: 'HTML' }));
    expect(unclosed.description).toBe(
      'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "b"',
    );
    expect((await grammyError(api.sendMessage(USER, 'x'.repeat(4097)))).description).toBe(DESCRIPTIONS.tooLong);
    expect((await api.sendMessage(USER, 'x'.repeat(4096))).text).toHaveLength(4096);
    expect((await grammyError(api.sendMessage(USER, ''))).description).toBe(DESCRIPTIONS.empty);
    expect((await grammyError(api.sendMessage(USER, '  \n '))).description).toBe(DESCRIPTIONS.empty);
    expect((await grammyError(api.sendMessage(USER, '<i></i>', { parse_mode: 'HTML' }))).description).toBe(
      DESCRIPTIONS.empty,
    );
    const longData = await grammyError(
      api.sendMessage(USER, 'pick', { reply_markup: new InlineKeyboard().text('A', 'x'.repeat(65)) }),
    );
    expect(longData.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    // 64 bytes is fine, but 33 two-byte characters are not
    await api.sendMessage(USER, 'pick', { reply_markup: new InlineKeyboard().text('A', 'x'.repeat(64)) });
    const cyrillic = await grammyError(
      api.sendMessage(USER, 'pick', { reply_markup: new InlineKeyboard().text('A', 'ж'.repeat(33)) }),
    );
    expect(cyrillic.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    const mdv2 = await grammyError(api.sendMessage(USER, 'Итог: 5.0', { parse_mode: 'MarkdownV2' }));
    expect(mdv2.description).toBe(
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    );
  });

  it('parses HTML and MarkdownV2 into plain text and entities', () => {
    expect(formatText('<b>a<i>b</i></b> <a href="https://x.org">link</a> <code>c</code>', 'HTML')).toEqual({
      text: 'ab link c',
      entities: [
        { type: 'bold', offset: 0, length: 1 },
        { type: 'bold', offset: 1, length: 1 },
        { type: 'italic', offset: 1, length: 1 },
        { type: 'text_link', offset: 3, length: 4, url: 'https://x.org/' },
        { type: 'code', offset: 8, length: 1 },
      ],
    });
    expect(formatText('*bold* _it_ `x\\`` 5\\.0', 'MarkdownV2')).toEqual({
      text: 'bold it x` 5.0',
      entities: [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'italic', offset: 5, length: 2 },
        { type: 'code', offset: 8, length: 2 },
      ],
    });
  });

  it('edit without reply_markup removes the inline keyboard; identical edit fails', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const kb = new InlineKeyboard().text('Go', 'go');
    const sent = await api.sendMessage(USER, 'Choose', { reply_markup: kb });
    const edited = await api.editMessageText(USER, sent.message_id, 'Chosen');
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'Chosen' });
    expect(typeof edited === 'object' && edited.edit_date).toBeTypeOf('number');
    expect(typeof edited === 'object' && edited.reply_markup).toBeUndefined();
    expect(fake.chat(USER)).toHaveLength(1);
    expect(fake.chat(USER)[0]).toMatchObject({ content: 'Chosen', buttons: [], edited: true });

    const same = await grammyError(api.editMessageText(USER, sent.message_id, 'Chosen'));
    expect(same.error_code).toBe(400);
    expect(same.description).toContain('message is not modified');
    expect(same.description).toBe(DESCRIPTIONS.notModified);

    // markup-only edits obey the same rule
    await api.editMessageReplyMarkup(USER, sent.message_id, { reply_markup: kb });
    expect(fake.chat(USER)[0]?.buttons).toEqual([['Go']]);
    const sameMarkup = await grammyError(api.editMessageReplyMarkup(USER, sent.message_id, { reply_markup: kb }));
    expect(sameMarkup.description).toBe(DESCRIPTIONS.notModified);

    const missing = await grammyError(api.editMessageText(USER, 999, 'x'));
    expect(missing.description).toBe('Bad Request: message to edit not found');
  });

  it('deleting a missing message fails; deleting removes it from the chat', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const sent = await api.sendMessage(USER, 'bye');
    const missing = await grammyError(api.deleteMessage(USER, sent.message_id + 5));
    expect(missing.error_code).toBe(400);
    expect(missing.description).toBe('Bad Request: message to delete not found');
    expect(await api.deleteMessage(USER, sent.message_id)).toBe(true);
    expect(fake.chat(USER)).toEqual([]);
    const again = await grammyError(api.deleteMessage(USER, sent.message_id));
    expect(again.description).toBe('Bad Request: message to delete not found');
  });

  it('answering the same callback query twice (or an unknown one) fails', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    fake.registerCallbackQuery('q-1');
    expect(await api.answerCallbackQuery('q-1', { text: 'Saved', show_alert: true })).toBe(true);
    expect(fake.callbackAnswer('q-1')).toEqual({ text: 'Saved', show_alert: true });
    const twice = await grammyError(api.answerCallbackQuery('q-1'));
    expect(twice.description).toBe(
      'Bad Request: query is too old and response timeout expired or query ID is invalid',
    );
    const unknown = await grammyError(api.answerCallbackQuery('nope'));
    expect(unknown.error_code).toBe(400);
  });

  it('an unknown method fails loudly with 404 and is recorded', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const raw = api.raw as unknown as Record<string, (p: object) => Promise<unknown>>;
    const err = await grammyError(raw.sendTelepathicMessage!({ chat_id: USER }));
    expect(err.error_code).toBe(404);
    expect(err.description).toBe('Not Found: method not found');
    expect(fake.unknownCalls.map((c) => c.method)).toEqual(['sendTelepathicMessage']);
    // method names are case-insensitive in the Bot API
    await raw.SENDMESSAGE!({ chat_id: USER, text: 'hi' });
    expect(fake.unknownCalls).toHaveLength(1);
  });

  it('sendDocument with InputFile(Buffer): exact bytes and filename, getFile + download', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    const msg = await api.sendDocument(USER, new InputFile(bytes, 'Табель 5А.pdf'), {
      caption: '<b>Отчёт</b>',
      parse_mode: 'HTML',
      reply_markup: new InlineKeyboard().text('OK', 'ok'),
    });
    expect(msg.document).toMatchObject({
      file_name: 'Табель 5А.pdf',
      mime_type: 'application/pdf',
      file_size: bytes.length,
    });
    expect(msg.caption).toBe('Отчёт');
    expect(msg.caption_entities).toEqual([{ type: 'bold', offset: 0, length: 5 }]);
    const [doc] = fake.sentFiles({ kind: 'document' });
    expect(doc?.filename).toBe('Табель 5А.pdf');
    expect(doc?.mimeType).toBe('application/pdf');
    expect(doc?.caption).toBe('Отчёт');
    expect(doc?.data.equals(bytes)).toBe(true);
    expect(fake.calls.at(-1)?.files).toEqual([expect.objectContaining({ filename: 'Табель 5А.pdf', size: 70_000 })]);

    const file = await api.getFile(msg.document!.file_id);
    expect(file.file_path).toMatch(/^documents\/file_\d+\.pdf$/);
    const res = await fake.fetch(`${ROOT}/file/bot${TOKEN}/${file.file_path}`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fake.fetch(`${ROOT}/file/bot${TOKEN}/documents/nope.pdf`)).status).toBe(404);

    // re-sending by file_id works, an unknown file_id does not
    const again = await api.sendDocument(USER + 1, msg.document!.file_id);
    expect(again.document?.file_unique_id).toBe(msg.document!.file_unique_id);
    const wrong = await grammyError(api.sendDocument(USER, 'BQACnotAFileId'));
    expect(wrong.description).toBe('Bad Request: wrong file identifier/HTTP URL specified');
    const empty = await grammyError(api.sendDocument(USER, new InputFile(Buffer.alloc(0), 'e.txt')));
    expect(empty.description).toBe('Bad Request: file must be non-empty');
  });

  it('sendPhoto stores the picture, returns photo sizes and rejects non-images', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const msg = await api.sendPhoto(USER, new InputFile(TINY_PNG), { caption: 'QR' });
    expect(msg.photo?.at(-1)).toMatchObject({ width: 1, height: 1, file_size: TINY_PNG.length });
    const [photo] = fake.sentFiles({ kind: 'photo' });
    expect(photo?.data.equals(TINY_PNG)).toBe(true);
    expect(photo?.mimeType).toBe('image/png');
    const notImage = await grammyError(api.sendPhoto(USER, new InputFile(Buffer.from('not a picture'))));
    expect(notImage.description).toBe('Bad Request: IMAGE_PROCESS_FAILED');
  });

  it('answers 429 with retry_after when rate limits are enforced (injectable clock)', async () => {
    let t = 1_000_000;
    const fake = newFake({ now: () => t });
    fake.enforceRateLimits({ perSecond: 30, perChatPerSecond: 1 });
    const api = apiFor(fake);
    await api.sendMessage(USER, 'one');
    const limited = await grammyError(api.sendMessage(USER, 'two'));
    expect(limited.error_code).toBe(429);
    expect(limited.description).toBe('Too Many Requests: retry after 1');
    expect(limited.parameters.retry_after).toBe(1);
    expect(fake.stats).toMatchObject({ delivered: 1, tooManyRequests: 1 });
    t += 1000;
    await api.sendMessage(USER, 'two');
    // the global limit: 30 different chats in one second, the 31st is refused
    for (let i = 1; i < 30; i++) await api.sendMessage(USER + i, 'broadcast');
    const global = await grammyError(api.sendMessage(USER + 100, 'broadcast'));
    expect(global.error_code).toBe(429);
    expect(fake.stats.delivered).toBe(31);
    fake.enforceRateLimits({ perChatPerSecond: 1, retryAfter: 7 });
    await api.sendMessage(USER + 200, 'a');
    expect((await grammyError(api.sendMessage(USER + 200, 'b'))).parameters.retry_after).toBe(7);
  });

  it('answers 403 when the user blocked the bot, and failNext injects one-off failures', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    fake.blockBy(USER);
    const blocked = await grammyError(api.sendMessage(USER, 'hello?'));
    expect(blocked.error_code).toBe(403);
    expect(blocked.description).toBe('Forbidden: bot was blocked by the user');
    fake.unblockBy(USER);
    await api.sendMessage(USER, 'hello again');

    fake.failNext('sendMessage', { code: 502 });
    const gateway = await grammyError(api.sendMessage(USER, 'x'));
    expect(gateway.error_code).toBe(502);
    fake.failNext('sendMessage', { network: true });
    await expect(api.sendMessage(USER, 'x')).rejects.toBeInstanceOf(HttpError);
    await api.sendMessage(USER, 'works again');
    expect(fake.botMessages(USER).map((m) => m.content)).toEqual(['hello again', 'works again']);
  });

  it('getUpdates long-polls: waits, returns a pushed update, confirms by offset', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    const started = Date.now();
    const empty = await api.getUpdates({ timeout: 1 });
    expect(empty).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const polling = api.getUpdates({ timeout: 10 });
    await new Promise((r) => setTimeout(r, 50));
    const pushed = fake.pushUpdate({
      message: {
        message_id: 1,
        date: 1,
        chat: { id: USER, type: 'private', first_name: 'A' },
        from: { id: USER, is_bot: false, first_name: 'A' },
        text: 'ping',
      },
    });
    const updates = await polling;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(updates).toEqual([pushed]);
    // not confirmed yet → delivered again; confirmed by offset → gone
    expect(await api.getUpdates({ timeout: 0 })).toHaveLength(1);
    const confirmed = fake.waitForConfirmation(pushed.update_id);
    expect(await api.getUpdates({ offset: pushed.update_id + 1, timeout: 0 })).toEqual([]);
    await confirmed;
    // the user's message is part of the chat, and bot replies continue the id sequence
    expect((await api.sendMessage(USER, 'pong')).message_id).toBe(2);
  });

  it('stores commands per scope and language, menu button, and implements the other chat methods', async () => {
    const fake = newFake();
    const api = apiFor(fake);
    await api.setMyCommands([{ command: 'start', description: 'Начать' }]);
    await api.setMyCommands([{ command: 'grades', description: 'Оценки' }], {
      scope: { type: 'chat', chat_id: USER },
      language_code: 'ru',
    });
    expect(fake.commands()).toEqual([{ command: 'start', description: 'Начать' }]);
    expect(fake.commands({ type: 'chat', chat_id: USER }, 'ru')).toEqual([{ command: 'grades', description: 'Оценки' }]);
    expect(fake.commands({ type: 'chat', chat_id: USER })).toEqual([]);
    expect(await api.getMyCommands({ scope: { type: 'chat', chat_id: USER }, language_code: 'ru' })).toHaveLength(1);
    expect(fake.allCommands()).toHaveLength(2);
    await api.deleteMyCommands({ scope: { type: 'chat', chat_id: USER }, language_code: 'ru' });
    expect(fake.allCommands()).toHaveLength(1);
    const badCommand = await grammyError(api.setMyCommands([{ command: 'Bad-Command', description: 'x' }]));
    expect(badCommand.description).toBe('Bad Request: BOT_COMMAND_INVALID');
    await api.setChatMenuButton({ menu_button: { type: 'commands' } });
    expect(fake.menuButton()).toEqual({ type: 'commands' });

    const original = await api.sendMessage(USER, 'original');
    const copy = await api.copyMessage(USER + 1, USER, original.message_id);
    expect(fake.message(USER + 1, copy.message_id)?.content).toBe('original');
    const fwd = await api.forwardMessage(USER + 1, USER, original.message_id);
    expect(fwd.forward_origin).toMatchObject({ type: 'user', sender_user: { id: fake.botInfo.id } });
    expect((await grammyError(api.copyMessage(USER + 1, USER, 999))).description).toBe(
      'Bad Request: message to copy not found',
    );
    const album: Message[] = await api.sendMediaGroup(USER, [
      { type: 'photo', media: new InputFile(TINY_PNG), caption: 'first' },
      { type: 'photo', media: new InputFile(TINY_PNG, 'second.png') },
    ]);
    expect(album).toHaveLength(2);
    expect(album[0]?.media_group_id).toBeTypeOf('string');
    expect(album[0]?.media_group_id).toBe(album[1]?.media_group_id);
    expect(album.map((m) => m.caption)).toEqual(['first', undefined]);
    expect(fake.sentFiles({ chatId: USER }).map((f) => f.filename)).toEqual(['photo.jpg', 'second.png']);
    expect(await api.sendChatAction(USER, 'typing')).toBe(true);
    expect(fake.chatActions(USER)).toEqual(['typing']);
    expect(await api.pinChatMessage(USER, original.message_id)).toBe(true);
    expect(fake.pinnedMessages(USER)).toEqual([original.message_id]);
    expect(await api.setMessageReaction(USER, original.message_id, [{ type: 'emoji', emoji: '👍' }])).toBe(true);
    const reply = await api.sendMessage(USER, 'reply', { reply_parameters: { message_id: original.message_id } });
    expect(reply.reply_to_message?.text).toBe('original');
    const noTarget = await grammyError(api.sendMessage(USER, 'x', { reply_parameters: { message_id: 999 } }));
    expect(noTarget.description).toBe('Bad Request: message to be replied not found');
    await api.sendMessage(USER, 'kb', { reply_markup: new Keyboard().text('A').text('B').resized() });
    expect(fake.replyKeyboard(USER)?.keyboard).toEqual([[{ text: 'A' }, { text: 'B' }]]);
    await api.sendMessage(USER, 'no kb', { reply_markup: { remove_keyboard: true } });
    expect(fake.replyKeyboard(USER)).toBeUndefined();
    expect(fake.unknownCalls).toEqual([]);
  });

  it('serves a polling bot over fetch; bot.stop() aborts the long poll', async () => {
    const fake = newFake();
    const bot = new Bot(TOKEN, { client: { fetch: fake.fetch, apiRoot: ROOT } });
    bot.on('message:text', (ctx) => ctx.reply(ctx.message.text.toUpperCase()));
    const running = bot.start({ timeout: 30 });
    const ids: number[] = [];
    for (const text of ['one', 'two']) {
      const update = fake.pushUpdate({
        message: {
          message_id: fake.allocateMessageId(USER),
          date: 1,
          chat: { id: USER, type: 'private', first_name: 'A' },
          from: { id: USER, is_bot: false, first_name: 'A' },
          text,
        },
      });
      ids.push(update.update_id);
    }
    await fake.waitForConfirmation(ids[1]!);
    const stopped = Date.now();
    await bot.stop();
    await running;
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect(fake.chat(USER).map((m) => `${m.from}:${m.content}`)).toEqual(['user:one', 'user:two', 'bot:ONE', 'bot:TWO']);
    expect(ids[1]).toBe(ids[0]! + 1);
  });
});

describe('FakeBotApi over HTTP', () => {
  it('works with grammY Api pointed at listen() and with a polling bot', async () => {
    const fake = newFake();
    const root = await fake.listen();
    expect(root).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const api = new Api(TOKEN, { apiRoot: root });
    expect((await api.getMe()).username).toBe('school_journal_test_bot');
    const msg = await api.sendMessage(USER, '<i>over http</i>', { parse_mode: 'HTML' });
    expect(msg.entities).toEqual([{ type: 'italic', offset: 0, length: 9 }]);
    const bytes = Buffer.from('col1;col2\n1;2\n');
    await api.sendDocument(USER, new InputFile(bytes, 'grades.csv'));
    expect(fake.sentFiles()[0]).toMatchObject({ filename: 'grades.csv', mimeType: 'text/csv' });
    expect(fake.sentFiles()[0]?.data.equals(bytes)).toBe(true);
    const err = await grammyError(api.editMessageText(USER, 99, 'x'));
    expect(err.description).toBe('Bad Request: message to edit not found');

    const bot = new Bot(TOKEN, { client: { apiRoot: root } });
    bot.command('start', (ctx) => ctx.reply(`hi ${ctx.match}`));
    const running = bot.start({ timeout: 30 });
    const update = fake.pushUpdate({
      message: {
        message_id: 10,
        date: 1,
        chat: { id: USER, type: 'private', first_name: 'A' },
        from: { id: USER, is_bot: false, first_name: 'A' },
        text: '/start abc',
        entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      },
    });
    await fake.waitForConfirmation(update.update_id);
    await bot.stop();
    await running;
    expect(fake.botMessages(USER).at(-1)?.content).toBe('hi abc');
    expect(fake.callsOf('deleteWebhook')).toHaveLength(1);
    expect(fake.unknownCalls).toEqual([]);
  });
});

describe('createTelegramWorld', () => {
  it('drives a small grammY bot through handleUpdate', async () => {
    const fake = newFake();
    const bot = new Bot(TOKEN, { botInfo: fake.botInfo, client: { fetch: fake.fetch, apiRoot: ROOT } });
    bot.command('start', (ctx) =>
      ctx.reply(`hi${ctx.match ? ` ${ctx.match}` : ''}`, {
        reply_markup: new InlineKeyboard().text('Next ▶', 'next').row().text('Silent', 'silent'),
      }),
    );
    bot.callbackQuery('next', async (ctx) => {
      await ctx.editMessageText('second page');
      await ctx.answerCallbackQuery({ text: 'turned' });
    });
    bot.command('menu', (ctx) => ctx.reply('menu', { reply_markup: new Keyboard().text('Grades').requestContact('Share phone') }));
    bot.on('message:contact', (ctx) => ctx.reply(`phone ${ctx.message.contact.phone_number}`));
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    bot.on('message:document', async (ctx) => {
      const file = await ctx.getFile();
      const res = await fake.fetch(`${ROOT}/file/bot${TOKEN}/${file.file_path}`);
      await ctx.reply(`got ${ctx.message.document.file_name}: ${await res.text()}`);
    });

    const dispatched: Update[] = [];
    const world = createTelegramWorld(fake, (u) => {
      dispatched.push(u);
      return bot.handleUpdate(u);
    });
    const anna = world.user({ firstName: 'Anna', username: 'anna' });
    const boris = world.user({ firstName: 'Boris' });
    expect(anna.id).not.toBe(boris.id);

    const sent = await anna.send('/start abc');
    expect(sent.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
    expect(anna.lastText()).toBe('hi abc');
    expect(anna.buttons()).toEqual(['Next ▶', 'Silent']);
    expect(anna.inboxTexts()).toEqual(['hi abc']);
    expect(boris.messages()).toEqual([]);

    const answer = await anna.press('Next ▶');
    expect(answer).toEqual({ text: 'turned' });
    expect(anna.lastText()).toBe('second page');
    expect(anna.buttons()).toEqual([]);
    expect(anna.messages()).toHaveLength(1);
    expect(anna.inbox().map((m) => m.content)).toEqual(['second page']);

    await expect(anna.press('Next ▶')).rejects.toThrow(/No inline button "Next ▶".*\n\s+\(none\)/);
    await anna.send('/start');
    await expect(anna.press('Silent')).rejects.toThrow(/did not answer the callback query/);
    await expect(anna.press(/nope/)).rejects.toThrow(/\[Next ▶\] \/ \[Silent\]/);
    expect(await anna.pressData('forged', anna.lastMessage()?.messageId)).toBeUndefined();

    await anna.send('/menu');
    expect(anna.replyKeyboard()).toEqual([['Grades', 'Share phone']]);
    await anna.tapKeyboard('Share phone');
    expect(anna.lastText()).toMatch(/^phone \+7900\d{7}$/);

    await anna.sendDocument('notes.txt', Buffer.from('hello file'), 'text/plain');
    expect(anna.lastText()).toBe('got notes.txt: hello file');

    const ids = dispatched.map((u) => u.update_id);
    expect(ids.length).toBeGreaterThanOrEqual(8);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    expect(fake.unknownCalls).toEqual([]);
  });

  it('conversations v2 reach the fake (two-step conversation)', async () => {
    type Ctx = ConversationFlavor<Context>;
    const fake = newFake();
    const bot = new Bot<Ctx>(TOKEN, { botInfo: fake.botInfo, client: { fetch: fake.fetch, apiRoot: ROOT } });
    bot.use(conversations());
    async function askName(conversation: Conversation<Ctx, Context>, ctx: Context) {
      await ctx.reply('What is your name?', { reply_markup: new InlineKeyboard().text('Cancel', 'cancel') });
      const answer = await conversation.waitFor('message:text');
      await ctx.reply(`Nice to meet you, <b>${answer.message.text}</b>!`, { parse_mode: 'HTML' });
    }
    bot.use(createConversation(askName, 'ask-name'));
    bot.command('name', (ctx) => ctx.conversation.enter('ask-name'));

    const world = createTelegramWorld(fake, (u) => bot.handleUpdate(u));
    const user = world.user({ firstName: 'Vera' });
    await user.send('/name');
    expect(user.lastText()).toBe('What is your name?');
    expect(user.buttons()).toEqual(['Cancel']);
    await user.send('Vera');
    expect(user.inboxTexts()).toEqual(['Nice to meet you, Vera!']);
    expect(user.lastMessage()?.entities).toEqual([{ type: 'bold', offset: 18, length: 4 }]);
    expect(user.chat().map((m) => `${m.from}: ${m.content}`)).toEqual([
      'user: /name',
      'bot: What is your name?',
      'user: Vera',
      'bot: Nice to meet you, Vera!',
    ]);
    expect(fake.unknownCalls).toEqual([]);
  });
});
