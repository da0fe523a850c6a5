import type { Chat, Message, Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_BOT_INFO, type TestApp } from '../support/harness.js';
import type { TestUser } from '../support/users.js';
import { type FamilyWorld, familyWorld } from '../notify/world.js';

/**
 * R32 (152-FZ), R3: personal data is only shown in the person's private chat. A connected parent
 * who types the family commands in a group gets nothing personal there: one notice per chat with a
 * button that opens the private chat, then silence; buttons under a group message do nothing.
 */
let t: TestApp;
let w: FamilyWorld;
const GROUP: Chat = { id: -1001234567, type: 'supergroup', title: '5А родители' };
const OTHER_GROUP: Chat = { id: -4242, type: 'group', title: 'Школьный чат' };
let nextId = 1;

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

async function sendIn(chat: Chat, user: TestUser, text: string): Promise<void> {
  const command = /^\/\S+/.exec(text)?.[0];
  const message = {
    message_id: nextId++,
    from: user.info,
    chat,
    date: Math.floor(t.fake.now() / 1000),
    text,
    ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
  } as Message;
  await t.world.dispatch({ message } as Update);
}

const groupText = (chat: Chat) =>
  t.fake
    .botMessages(chat.id)
    .map((m) => m.content)
    .join('\n');

describe('the bot in group chats', () => {
  it('shows no personal data in a group: one notice with a button to the private chat, then silence', async () => {
    const { familyA } = w.s;
    const mother = w.motherA;
    for (const command of ['/children', '/diary', '/notifications', '/privacy', '/start', '/help', 'привет']) {
      await sendIn(GROUP, mother, command);
    }
    await sendIn(GROUP, mother, `/diary@${TEST_BOT_INFO.username}`);
    const said = t.fake.botMessages(GROUP.id);
    expect(said).toHaveLength(1);
    const text = groupText(GROUP);
    for (const personal of [familyA.childName, familyA.childFirstName, familyA.parentName, 'Иванова', '5А']) {
      expect(text).not.toContain(personal);
    }
    expect(text).toContain('личном чате');
    const button = said[0]?.replyMarkup?.inline_keyboard?.[0]?.[0] as { url?: string } | undefined;
    expect(button?.url).toBe(`https://t.me/${TEST_BOT_INFO.username}`);
    // Remembered in MongoDB: a bot restarted later still does not repeat it.
    expect(await t.app.db.models.ConversationState.countDocuments({ _id: `private-only-notice:${GROUP.id}` })).toBe(1);
  });

  it('the private chat still works for the same parent', async () => {
    await w.motherA.send('/children');
    expect(w.motherA.lastText()).toContain(w.s.familyA.childFirstName);
  });

  it('being added to another group posts the notice once; its messages get nothing more', async () => {
    const bot = { id: TEST_BOT_INFO.id, is_bot: true, first_name: TEST_BOT_INFO.first_name, username: TEST_BOT_INFO.username };
    await t.world.dispatch({
      my_chat_member: {
        chat: OTHER_GROUP,
        from: w.motherA.info,
        date: Math.floor(t.fake.now() / 1000),
        old_chat_member: { status: 'left', user: bot },
        new_chat_member: { status: 'member', user: bot },
      },
    } as Update);
    await sendIn(OTHER_GROUP, w.motherA, '/children');
    expect(t.fake.botMessages(OTHER_GROUP.id)).toHaveLength(1);
    expect(groupText(OTHER_GROUP)).not.toContain(w.s.familyA.childFirstName);
  });

  it('a button pressed under a message in a group opens nothing there', async () => {
    const notice = t.fake.botMessages(GROUP.id)[0];
    if (!notice) throw new Error('no notice');
    const id = `group-cb-${nextId++}`;
    await t.world.dispatch({
      callback_query: {
        id,
        from: w.motherA.info,
        message: notice.message as Message,
        chat_instance: '-77',
        data: `dia:menu:${String(w.s.familyA.studentId)}:0`,
      },
    } as Update);
    expect(t.fake.isCallbackAnswered(id)).toBe(true);
    expect(t.fake.callbackAnswer(id)?.text).toContain('личном чате');
    expect(t.fake.botMessages(GROUP.id)).toHaveLength(1);
    expect(groupText(GROUP)).not.toContain(w.s.familyA.childFirstName);
  });
});
