/**
 * Simulated Telegram users for end-to-end tests that drive the bot through
 * `bot.handleUpdate` (or any other `dispatch`) against a FakeBotApi.
 *
 *   const world = createTelegramWorld(fake, (u) => bot.handleUpdate(u));
 *   const parent = world.user({ firstName: 'Anna' });
 *   await parent.send('/start');
 *   expect(parent.lastText()).toContain('Welcome');
 *   await parent.press('Grades');
 *
 * Every action awaits `dispatch`, so once it resolves the bot's replies are in the fake.
 */
import type { InlineKeyboardButton, KeyboardButton, Message, Update, User } from 'grammy/types';
import type { CallbackAnswer, ChatMessage, FakeBotApi, SentFile } from './fake-bot-api.js';

export interface TestUserOptions {
  id?: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
  isPremium?: boolean;
}

export interface PressOptions {
  /** Only look for the button in this message. */
  messageId?: number;
  /** Do not throw when the bot leaves the callback query unanswered (default: throw). */
  allowUnanswered?: boolean;
}

export interface TelegramWorld {
  readonly fake: FakeBotApi;
  user(opts?: TestUserOptions): TestUser;
  /** Dispatches a raw update (update_id is assigned when missing) after recording it in the fake. */
  dispatch(update: Update | Omit<Update, 'update_id'>): Promise<Update>;
}

/** The PNG a user "sends" when no bytes are given (1×1 px). */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/** A few bytes with an OGG header; enough for a fake voice note. */
const TINY_OGG = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60, 1)]);

let nextAutoUserId = 500_000_001;

export function createTelegramWorld(
  fake: FakeBotApi,
  dispatch: (update: Update) => Promise<void> | Promise<unknown>,
): TelegramWorld {
  const usedIds = new Set<number>();
  const world: TelegramWorld = {
    fake,
    user(opts: TestUserOptions = {}): TestUser {
      let id = opts.id;
      if (id === undefined) {
        do id = nextAutoUserId++;
        while (usedIds.has(id));
      }
      usedIds.add(id);
      const info: User = { id, is_bot: false, first_name: opts.firstName ?? `Test${id % 1000}` };
      if (opts.lastName !== undefined) info.last_name = opts.lastName;
      if (opts.username !== undefined) info.username = opts.username;
      info.language_code = opts.languageCode ?? 'ru';
      if (opts.isPremium) info.is_premium = true;
      fake.registerUser(info);
      return new TestUser(world, info);
    },
    async dispatch(update) {
      const u = { ...update } as Update;
      if (typeof u.update_id !== 'number') u.update_id = fake.nextUpdateId();
      fake.observeUpdate(u);
      await dispatch(u);
      return u;
    },
  };
  return world;
}

export interface ButtonRef {
  messageId: number;
  row: number;
  column: number;
  button: InlineKeyboardButton;
}

function labelMatches(label: string | RegExp, text: string): boolean {
  return typeof label === 'string' ? text === label || text.trim() === label.trim() : label.test(text);
}

function describeLabel(label: string | RegExp): string {
  return typeof label === 'string' ? JSON.stringify(label) : String(label);
}

export class TestUser {
  readonly id: number;
  readonly chatId: number;
  readonly info: User;
  private mark: number;
  private queryCounter = 0;

  constructor(
    private readonly world: TelegramWorld,
    info: User,
  ) {
    this.info = info;
    this.id = info.id;
    this.chatId = info.id;
    this.mark = world.fake.seq;
  }

  private get fake(): FakeBotApi {
    return this.world.fake;
  }

  private async act(build: () => Omit<Update, 'update_id'>): Promise<Update> {
    this.mark = this.fake.seq;
    return this.world.dispatch(build());
  }

  private async sendInput(input: Parameters<FakeBotApi['userSends']>[1]): Promise<Message> {
    this.mark = this.fake.seq;
    const message = this.fake.userSends(this.info, input);
    // userSends already advanced seq for the user's own message; bot output comes after it
    this.mark = this.fake.seq;
    await this.world.dispatch({ message: message as Update['message'] });
    return message;
  }

  // ─────────────── actions ───────────────

  /** Sends a text message; commands (`/start abc`) get a bot_command entity like in Telegram. */
  send(text: string): Promise<Message> {
    return this.sendInput({ text });
  }

  replyTo(messageId: number, text: string): Promise<Message> {
    return this.sendInput({ text, replyTo: messageId });
  }

  sendPhoto(data: Buffer = TINY_PNG, caption?: string): Promise<Message> {
    return this.sendInput({ photo: data, caption });
  }

  sendDocument(filename: string, data: Buffer, mimeType: string, caption?: string): Promise<Message> {
    return this.sendInput({ document: data, filename, mimeType, caption });
  }

  sendVoice(opts: { duration?: number; data?: Buffer } = {}): Promise<Message> {
    return this.sendInput({ voice: opts.data ?? TINY_OGG, duration: opts.duration ?? 2 });
  }

  sendSticker(emoji = '👍'): Promise<Message> {
    return this.sendInput({ sticker: emoji });
  }

  /** Shares a contact (by default the user's own, as a `request_contact` button does). */
  sendContact(phoneNumber = `+7900${String(this.id).slice(-7).padStart(7, '0')}`, own = true): Promise<Message> {
    const contact: { phone_number: string; first_name: string; last_name?: string; user_id?: number } = {
      phone_number: phoneNumber,
      first_name: this.info.first_name,
    };
    if (this.info.last_name) contact.last_name = this.info.last_name;
    if (own) contact.user_id = this.id;
    return this.sendInput({ contact });
  }

  sendLocation(latitude: number, longitude: number): Promise<Message> {
    return this.sendInput({ location: { latitude, longitude } });
  }

  /** Taps a reply-keyboard button (sends its text, or the contact for `request_contact`). */
  async tapKeyboard(label: string | RegExp): Promise<Message> {
    const kb = this.fake.replyKeyboard(this.chatId);
    const buttons = (kb?.keyboard ?? []).flat();
    const text = (b: KeyboardButton) => (typeof b === 'string' ? b : b.text);
    const found = buttons.find((b) => labelMatches(label, text(b)));
    if (!found) {
      throw new Error(
        `No reply-keyboard button ${describeLabel(label)} for user ${this.id}. Keyboard: ${
          kb ? kb.keyboard.map((r) => r.map((b) => `[${text(b)}]`).join(' ')).join(' / ') : '(none)'
        }`,
      );
    }
    if (typeof found !== 'string' && 'request_contact' in found && found.request_contact) return this.sendContact();
    return this.send(text(found));
  }

  /** Finds an inline button by its label (newest bot message first). */
  findButton(label: string | RegExp, opts: { messageId?: number } = {}): ButtonRef | undefined {
    const candidates = this.messages()
      .filter((m) => opts.messageId === undefined || m.messageId === opts.messageId)
      .reverse();
    for (const m of candidates) {
      const rows = m.replyMarkup?.inline_keyboard ?? [];
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r] ?? [];
        for (let c = 0; c < row.length; c++) {
          const button = row[c];
          if (button && labelMatches(label, button.text)) return { messageId: m.messageId, row: r, column: c, button };
        }
      }
    }
    return undefined;
  }

  /**
   * Presses an inline button by its visible label in the latest bot message that has it.
   * Sends the callback_query, awaits the bot, and returns the answerCallbackQuery result
   * (throws if the bot did not answer, unless `allowUnanswered`).
   */
  async press(label: string | RegExp, opts: PressOptions = {}): Promise<CallbackAnswer | undefined> {
    const ref = this.findButton(label, opts);
    if (!ref) {
      const available = this.messages()
        .filter((m) => m.buttons.length > 0)
        .reverse()
        .map((m) => `  message #${m.messageId}: ${m.buttons.map((row) => row.map((b) => `[${b}]`).join(' ')).join(' / ')}`);
      throw new Error(
        `No inline button ${describeLabel(label)}${
          opts.messageId !== undefined ? ` in message #${opts.messageId}` : ''
        } in the chat of user ${this.id}. Available buttons:\n${available.length ? available.join('\n') : '  (none)'}`,
      );
    }
    const button = ref.button as InlineKeyboardButton & { callback_data?: string; url?: string };
    if (button.callback_data === undefined) {
      const kind = Object.keys(button).filter((k) => k !== 'text');
      throw new Error(
        `Inline button ${describeLabel(label)} in message #${ref.messageId} is not a callback button (${kind.join(', ')}${
          button.url ? `: ${button.url}` : ''
        }); it cannot be pressed in a test`,
      );
    }
    const { id, answer } = await this.callback(button.callback_data, ref.messageId);
    if (!opts.allowUnanswered && !this.fake.isCallbackAnswered(id)) {
      throw new Error(
        `The bot did not answer the callback query for button ${describeLabel(label)} (data ${JSON.stringify(
          button.callback_data,
        )}); the user's client would keep showing a loading indicator`,
      );
    }
    return answer;
  }

  /**
   * Sends a callback query with arbitrary (possibly forged or stale) data, as if from a button
   * of `messageId` (default: the latest bot message). Returns the answer, if any.
   */
  async pressData(data: string, messageId?: number): Promise<CallbackAnswer | undefined> {
    const id = messageId ?? this.lastMessage()?.messageId;
    if (id === undefined) throw new Error(`pressData: user ${this.id} has no bot message to attach the query to`);
    return (await this.callback(data, id)).answer;
  }

  private async callback(data: string, messageId: number): Promise<{ id: string; answer?: CallbackAnswer }> {
    const current = this.fake.message(this.chatId, messageId);
    const id = `${this.id}${String(++this.queryCounter).padStart(6, '0')}${Date.now() % 100_000}`;
    const message: Message | { chat: Message['chat']; message_id: number; date: 0 } = current
      ? current.message
      : {
          chat: { id: this.chatId, type: 'private', first_name: this.info.first_name },
          message_id: messageId,
          date: 0,
        };
    this.fake.registerCallbackQuery(id, this.chatId, messageId);
    await this.act(() => ({
      callback_query: {
        id,
        from: this.info,
        message: message as Message,
        chat_instance: `-${(this.chatId * 7919) % 10_000_000_000}`,
        data,
      },
    }));
    return { id, answer: this.fake.callbackAnswer(id) };
  }

  /** The user edits one of their own text messages. */
  async editMessage(messageId: number, text: string): Promise<void> {
    const current = this.fake.message(this.chatId, messageId);
    if (current?.from !== 'user') {
      throw new Error(`editMessage: #${messageId} is not a message of user ${this.id}`);
    }
    const edited: Message = { ...current.message, text, edit_date: Math.floor(this.fake.now() / 1000) };
    await this.act(() => ({ edited_message: edited as Update['edited_message'] }));
  }

  /** The user blocks the bot (my_chat_member update, further sends get 403). */
  async blockBot(): Promise<void> {
    await this.chatMemberChange('member', 'kicked');
  }

  async unblockBot(): Promise<void> {
    await this.chatMemberChange('kicked', 'member');
  }

  private async chatMemberChange(from: 'member' | 'kicked', to: 'member' | 'kicked'): Promise<void> {
    const bot = this.fake.botInfo;
    const botUser: User = { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
    const date = Math.floor(this.fake.now() / 1000);
    const member = (status: 'member' | 'kicked') =>
      status === 'member' ? { status, user: botUser } : { status, user: botUser, until_date: 0 };
    await this.act(() => ({
      my_chat_member: {
        chat: { id: this.chatId, type: 'private', first_name: this.info.first_name },
        from: this.info,
        date,
        old_chat_member: member(from),
        new_chat_member: member(to),
      },
    }));
  }

  // ─────────────── reading ───────────────

  /** Bot messages in this user's chat, current state (edits applied, deletions removed). */
  messages(): ChatMessage[] {
    return this.fake.botMessages(this.chatId);
  }

  /** The whole chat (both sides). */
  chat(): ChatMessage[] {
    return this.fake.chat(this.chatId);
  }

  lastMessage(): ChatMessage | undefined {
    const all = this.messages();
    return all[all.length - 1];
  }

  /** Text (or caption) of the latest bot message. */
  lastText(): string | undefined {
    return this.lastMessage()?.content;
  }

  /** Bot messages sent or edited since this user's last action, oldest first. */
  inbox(): ChatMessage[] {
    return this.messages()
      .filter((m) => m.seq > this.mark)
      .sort((a, b) => a.seq - b.seq);
  }

  inboxTexts(): string[] {
    return this.inbox().map((m) => m.content);
  }

  /** Labels of the inline buttons of the latest bot message, flattened. */
  buttons(): string[] {
    return (this.lastMessage()?.buttons ?? []).flat();
  }

  /** Labels of all inline buttons of the latest bot message, by row. */
  buttonRows(): string[][] {
    return this.lastMessage()?.buttons ?? [];
  }

  /** Labels of the reply keyboard currently shown to the user (undefined when none). */
  replyKeyboard(): string[][] | undefined {
    return this.fake
      .replyKeyboard(this.chatId)
      ?.keyboard.map((row) => row.map((b) => (typeof b === 'string' ? b : b.text)));
  }

  sentDocuments(): SentFile[] {
    return this.fake.sentFiles({ chatId: this.chatId, kind: 'document' });
  }

  sentPhotos(): SentFile[] {
    return this.fake.sentFiles({ chatId: this.chatId, kind: 'photo' });
  }
}
