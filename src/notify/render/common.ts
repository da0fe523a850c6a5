import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Types } from 'mongoose';
import type { Locale } from '../../config.js';
import type { Db } from '../../db/index.js';
import type { OutboxDoc } from '../../db/models/notify.js';
import type { Translate } from '../../i18n.js';
import type { RenderCache } from './cache.js';

/** What every part of the renderer shares: the message it builds and small text helpers. */
type Id = Types.ObjectId;

export const MAX_TEXT = 4000; // under Telegram's 4096, with room for the header

export type Snapshot = Record<string, unknown> & { gone?: boolean };

export interface RenderedItem {
  id: Id;
  collapseKey?: string | null;
  snapshot?: Snapshot;
}

export interface RenderedMessage {
  text: string;
  replyMarkup?: InlineKeyboardMarkup;
  disableNotification: boolean;
  /** Send as a photo (by file_id) with the text as its caption. */
  photo?: string;
  /** Send as a document or a voice message (by file_id) with the text as its caption. */
  document?: string;
  voice?: string;
  items: RenderedItem[];
  /** Nothing to say any more: closed without a message. */
  skipped: Id[];
  /** Did not fit into this message: back to the queue. */
  overflow: Id[];
}

export interface RenderInput {
  db: Db;
  t: Translate;
  locale: Locale;
  now: Date;
  token: string;
  docs: OutboxDoc[];
  cache: RenderCache;
}

/**
 * Renders a notice that goes alone: `base` is the message with this document as its one item;
 * `nothing()` closes it without a message (nothing to say any more).
 */
export type SingleRenderer = (
  input: RenderInput,
  doc: OutboxDoc,
  base: RenderedMessage,
  nothing: () => RenderedMessage,
) => Promise<RenderedMessage>;

export const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** One button under a message. */
export const oneButton = (text: string, data: string): InlineKeyboardMarkup => ({
  inline_keyboard: [[{ text, callback_data: data }]],
});

const CODE_KEY: Record<string, string> = { Н: 'n', Б: 'b', У: 'u' };

/** An absence code (Н, Б, У) in words. */
export const codeName = (t: Translate, code: string | null | undefined) => t(`notify.code.${CODE_KEY[code ?? ''] ?? 'n'}`);

/** "1-я четверть", "2-е полугодие", "год"; an unknown code as it is (the bot's screens use it too). */
export function periodName(t: Translate, code: string): string {
  const m = /^([qht])(\d)$/.exec(code);
  if (m) return t(`notify.period.${m[1]}`, { n: m[2] });
  if (code === 'year') return t('notify.period.year');
  return code;
}
