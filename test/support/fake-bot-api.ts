/**
 * A faithful, in-memory fake of the Telegram Bot API for tests.
 *
 * It speaks the Bot API wire protocol (URL `${apiRoot}/bot${token}/${method}`,
 * JSON / urlencoded / multipart bodies, `{ ok, result }` envelopes with the
 * real error codes and descriptions) and can be used in two ways:
 *
 * - in-process: pass `fake.fetch` as grammY's `client.fetch` (with any
 *   `apiRoot`, e.g. `http://fake.local`); no socket is opened;
 * - over HTTP: `await fake.listen()` serves the same on 127.0.0.1 and returns
 *   the apiRoot to hand to a real bot process (TELEGRAM_API_ROOT).
 *
 * It has no dependency on the application. Never talks to any other host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  BotCommand,
  BotCommandScope,
  Chat,
  InlineKeyboardMarkup,
  MenuButton,
  Message,
  MessageEntity,
  PhotoSize,
  ReplyKeyboardMarkup,
  Update,
  User,
  UserFromGetMe,
} from 'grammy/types';

// ───────────────────────────── public types ─────────────────────────────

export type Params = Record<string, unknown>;

export interface ResponseParameters {
  retry_after?: number;
  migrate_to_chat_id?: number;
}

export type ApiResponse =
  | { ok: true; result: unknown }
  | { ok: false; error_code: number; description: string; parameters?: ResponseParameters };

export interface UploadInfo {
  field: string;
  filename: string;
  size: number;
}

export interface ApiCall {
  /** Method name exactly as requested (Telegram matches it case-insensitively). */
  method: string;
  params: Params;
  /** `now()` in ms when the request arrived. */
  at: number;
  /** Files that came as multipart parts with this request. */
  files: UploadInfo[];
  /** The response the fake gave (undefined while a long poll is pending). */
  response?: ApiResponse;
}

export type FileKind = 'photo' | 'document' | 'voice' | 'audio' | 'video' | 'animation' | 'sticker' | 'video_note';

export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  kind: FileKind;
  filename: string;
  mimeType: string;
  data: Buffer;
  size: number;
  /** Path under which `/file/bot<token>/<filePath>` serves the bytes. */
  filePath: string;
  width?: number;
  height?: number;
  origin: 'bot' | 'user';
  /** Set when the bot sent the file by HTTP URL (the fake never fetches it; data is empty). */
  url?: string;
}

export interface SentFile extends StoredFile {
  chatId: number;
  messageId: number;
  caption?: string;
}

export type MessageKind =
  | 'text'
  | 'photo'
  | 'document'
  | 'voice'
  | 'audio'
  | 'video'
  | 'animation'
  | 'sticker'
  | 'video_note'
  | 'contact'
  | 'location'
  | 'other';

/** A message as the user sees it in the chat right now. */
export interface ChatMessage {
  chatId: number;
  messageId: number;
  from: 'bot' | 'user';
  kind: MessageKind;
  date: number;
  text?: string;
  caption?: string;
  /** `text ?? caption ?? ''` */
  content: string;
  entities: MessageEntity[];
  replyMarkup?: InlineKeyboardMarkup;
  /** Inline button labels, row by row (empty when there is no inline keyboard). */
  buttons: string[][];
  file?: StoredFile;
  edited: boolean;
  /** Global change counter value at the last send/edit of this message. */
  seq: number;
  /** Deep copy of the current Bot API Message object. */
  message: Message;
}

export interface CallbackAnswer {
  text?: string;
  show_alert?: boolean;
  url?: string;
  cache_time?: number;
}

export interface RateLimitOptions {
  /** Max successful sends per rolling second over all chats (Telegram: ~30). */
  perSecond?: number;
  /** Max sends per rolling second into one chat (Telegram: ~1 in private chats). */
  perChatPerSecond?: number;
  /** Max sends per rolling minute into one group (chat id < 0) (Telegram: 20). */
  perGroupPerMinute?: number;
  /** Fixed retry_after to report; default: seconds until the window frees up (min 1). */
  retryAfter?: number;
  /** Clock override just for the limiter (defaults to the fake's `now`). */
  now?: () => number;
}

export type FailureSpec = { code: number; description?: string; retryAfter?: number } | { network: true };

export type FakeEvent =
  | { type: 'message'; chatId: number; message: ChatMessage }
  | { type: 'edit'; chatId: number; message: ChatMessage }
  | { type: 'delete'; chatId: number; messageId: number }
  | { type: 'user_message'; chatId: number; message: ChatMessage }
  | { type: 'callback_answer'; queryId: string; answer: CallbackAnswer }
  | { type: 'chat_action'; chatId: number; action: string }
  | { type: 'update'; update: Update }
  | { type: 'call'; call: ApiCall };

export interface FakeBotApiOptions {
  /** Full getMe result; overrides botId / botUsername / botFirstName. */
  botInfo?: UserFromGetMe;
  botId?: number;
  /** Default `school_journal_test_bot`. */
  botUsername?: string;
  botFirstName?: string;
  /** If set, any other token gets 401 Unauthorized. By default every well-formed token is accepted. */
  token?: string;
  /** Clock in ms for message dates, call timestamps and rate limiting. Default `Date.now`. */
  now?: () => number;
  /** First update_id handed out by `nextUpdateId()`. Default 1. */
  firstUpdateId?: number;
  /**
   * What to do with a chat id the fake has never seen: `create` (default) makes a private chat
   * on the fly; `not-found` answers 400 "Bad Request: chat not found" like Telegram does for
   * users that never talked to the bot.
   */
  unknownChats?: 'create' | 'not-found';
}

/** Input for `userSends`: what a human can put into a private chat. */
export type UserInput =
  | { text: string; replyTo?: number }
  | { photo: Buffer; caption?: string; replyTo?: number }
  | { document: Buffer; filename: string; mimeType: string; caption?: string; replyTo?: number }
  | { voice: Buffer; duration?: number; replyTo?: number }
  | { sticker: string; replyTo?: number }
  | { contact: { phone_number: string; first_name: string; last_name?: string; user_id?: number } }
  | { location: { latitude: number; longitude: number } };

// ───────────────────────────── errors & helpers ─────────────────────────────

/** An error the fake answers with (`{ ok: false, error_code, description }`). */
export class TelegramApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
  }
}

const bad = (description: string) => new TelegramApiError(400, `Bad Request: ${description}`);

export const DESCRIPTIONS = {
  notModified:
    'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  queryInvalid: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
  blocked: 'Forbidden: bot was blocked by the user',
  methodNotFound: 'Not Found: method not found',
  editNotFound: 'Bad Request: message to edit not found',
  deleteNotFound: 'Bad Request: message to delete not found',
  tooLong: 'Bad Request: message is too long',
  empty: 'Bad Request: message text is empty',
  buttonData: 'Bad Request: BUTTON_DATA_INVALID',
} as const;

const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
const MAX_CALLBACK_DATA = 64;
const MAX_UPLOAD = 50 * 1024 * 1024;
const MAX_PHOTO = 10 * 1024 * 1024;
const MAX_DOWNLOAD = 20 * 1024 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isRecord(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined && v[k] !== null)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const utf8len = (s: string) => Buffer.byteLength(s, 'utf8');

function optInt(p: Params, key: string): number | undefined {
  const v = p[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw bad(`wrong parameter "${key}" specified`);
}

function optBool(p: Params, key: string): boolean {
  const v = p[key];
  return v === true || v === 'true' || v === 1 || v === '1';
}

function optStr(p: Params, key: string): string | undefined {
  const v = p[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/** JSON-typed fields may arrive as JSON strings (multipart / urlencoded / query). */
function jsonField(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Fields whose multipart/urlencoded string value must never be JSON-decoded. */
const STRING_FIELDS = new Set([
  'text',
  'caption',
  'parse_mode',
  'title',
  'performer',
  'emoji',
  'filename',
  'business_connection_id',
  'message_effect_id',
  'action',
  'callback_query_id',
  'url',
  'secret_token',
  'inline_message_id',
  'file_id',
  'description',
  'short_description',
  'name',
  'language_code',
  'first_name',
  'last_name',
  'phone_number',
  'vcard',
  'ip_address',
  'question',
  'address',
  'sticker',
]);

function coerceField(key: string, value: string): unknown {
  if (STRING_FIELDS.has(key)) return value;
  const parsed = jsonField(value);
  if (typeof parsed === 'string') return value;
  return parsed;
}

const MIME_BY_EXT: Record<string, string> = {
  pdf: 'application/pdf',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xls: 'application/vnd.ms-excel',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  doc: 'application/msword',
  csv: 'text/csv',
  txt: 'text/plain',
  json: 'application/json',
  html: 'text/html',
  xml: 'application/xml',
  zip: 'application/zip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
};

function extOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot >= 0 ? filename.slice(dot + 1).toLowerCase() : '';
}

function mimeFor(filename: string, given?: string): string {
  if (given && given !== 'application/octet-stream') return given;
  return MIME_BY_EXT[extOf(filename)] ?? 'application/octet-stream';
}

interface ImageInfo {
  width: number;
  height: number;
  mime: string;
  ext: string;
}

/** Reads the dimensions of PNG / JPEG / GIF / WEBP / BMP images from their headers. */
export function sniffImage(data: Buffer): ImageInfo | undefined {
  if (data.length >= 24 && data.readUInt32BE(0) === 0x89504e47) {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), mime: 'image/png', ext: 'png' };
  }
  if (data.length >= 10 && data.toString('ascii', 0, 3) === 'GIF') {
    return { width: data.readUInt16LE(6), height: data.readUInt16LE(8), mime: 'image/gif', ext: 'gif' };
  }
  if (data.length >= 4 && data[0] === 0xff && data[1] === 0xd8) {
    let o = 2;
    while (o + 9 < data.length) {
      if (data[o] !== 0xff) {
        o++;
        continue;
      }
      const marker = data[o + 1] ?? 0;
      if (marker === 0xff) {
        o++;
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        o += 2;
        continue;
      }
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: data.readUInt16BE(o + 5), width: data.readUInt16BE(o + 7), mime: 'image/jpeg', ext: 'jpg' };
      }
      o += 2 + data.readUInt16BE(o + 2);
    }
    return undefined;
  }
  if (data.length >= 30 && data.toString('ascii', 0, 4) === 'RIFF' && data.toString('ascii', 8, 12) === 'WEBP') {
    const chunk = data.toString('ascii', 12, 16);
    if (chunk === 'VP8 ') {
      return {
        width: data.readUInt16LE(26) & 0x3fff,
        height: data.readUInt16LE(28) & 0x3fff,
        mime: 'image/webp',
        ext: 'webp',
      };
    }
    if (chunk === 'VP8L') {
      const b = data.readUInt32LE(21);
      return { width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1, mime: 'image/webp', ext: 'webp' };
    }
    if (chunk === 'VP8X') {
      return { width: 1 + data.readUIntLE(24, 3), height: 1 + data.readUIntLE(27, 3), mime: 'image/webp', ext: 'webp' };
    }
  }
  if (data.length >= 26 && data.toString('ascii', 0, 2) === 'BM') {
    return {
      width: data.readInt32LE(18),
      height: Math.abs(data.readInt32LE(22)),
      mime: 'image/bmp',
      ext: 'bmp',
    };
  }
  return undefined;
}

// ───────────────────────────── text formatting ─────────────────────────────

export interface FormattedText {
  text: string;
  entities: MessageEntity[];
}

class MarkupError extends Error {}

const ENTITY_PRIORITY: Record<string, number> = {
  mention: 50,
  hashtag: 50,
  cashtag: 50,
  bot_command: 50,
  url: 50,
  email: 50,
  phone_number: 50,
  bold: 90,
  italic: 91,
  underline: 92,
  strikethrough: 93,
  spoiler: 94,
  custom_emoji: 99,
  code: 20,
  pre: 10,
  text_link: 49,
  text_mention: 49,
  blockquote: 0,
  expandable_blockquote: 0,
};

const SPLITTABLE = ['bold', 'italic', 'underline', 'strikethrough', 'spoiler'] as const;

function sortEntities(entities: MessageEntity[]): MessageEntity[] {
  return [...entities].sort(
    (a, b) =>
      a.offset - b.offset ||
      b.length - a.length ||
      (ENTITY_PRIORITY[a.type] ?? 50) - (ENTITY_PRIORITY[b.type] ?? 50),
  );
}

/**
 * Like tdlib, cut the splittable style entities (bold, italic, …) at every boundary of
 * another splittable entity so that they never partially overlap.
 */
function splitStyles(entities: MessageEntity[]): MessageEntity[] {
  const styles = entities.filter((e) => (SPLITTABLE as readonly string[]).includes(e.type));
  const others = entities.filter((e) => !(SPLITTABLE as readonly string[]).includes(e.type));
  if (styles.length < 2) return sortEntities(entities);
  const points = [...new Set(styles.flatMap((e) => [e.offset, e.offset + e.length]))].sort((a, b) => a - b);
  const out: MessageEntity[] = [...others];
  for (const type of SPLITTABLE) {
    const ofType = styles.filter((e) => e.type === type);
    if (ofType.length === 0) continue;
    for (let k = 0; k + 1 < points.length; k++) {
      const from = points[k]!;
      const to = points[k + 1]!;
      if (ofType.some((e) => e.offset <= from && e.offset + e.length >= to)) {
        out.push({ type, offset: from, length: to - from });
      }
    }
  }
  return sortEntities(out);
}

const isSpace = (c: string) => c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f' || c === '\v';

function decodeHtmlEntity(src: string, i: number): { value: string; end: number } | undefined {
  let j = i + 1;
  if (src.charAt(j) === '#') {
    j++;
    let code = 0;
    let digits = 0;
    if (src.charAt(j) === 'x' || src.charAt(j) === 'X') {
      j++;
      while (/[0-9a-fA-F]/.test(src.charAt(j)) && digits < 8) {
        code = code * 16 + Number.parseInt(src.charAt(j), 16);
        j++;
        digits++;
      }
    } else {
      while (/[0-9]/.test(src.charAt(j)) && digits < 8) {
        code = code * 10 + Number(src.charAt(j));
        j++;
        digits++;
      }
    }
    if (digits === 0 || code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    if (src.charAt(j) === ';') j++;
    return { value: String.fromCodePoint(code), end: j };
  }
  const m = /^[A-Za-z]+/.exec(src.slice(j, j + 10));
  if (!m) return undefined;
  const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };
  const value = named[m[0]];
  if (value === undefined) return undefined;
  j += m[0].length;
  if (src.charAt(j) === ';') j++;
  return { value, end: j };
}

function normalizeUrl(raw: string): string | undefined {
  let u = raw.trim();
  if (!u) return undefined;
  if (/^tg:\/\//i.test(u)) return u;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) u = `http://${u}`;
  try {
    const parsed = new URL(u);
    if (!['http:', 'https:', 'ftp:', 'tonsite:'].includes(parsed.protocol)) return undefined;
    return parsed.href;
  } catch {
    return undefined;
  }
}

const HTML_TAGS = new Set([
  'a',
  'b',
  'strong',
  'i',
  'em',
  's',
  'strike',
  'del',
  'u',
  'ins',
  'tg-spoiler',
  'tg-emoji',
  'span',
  'pre',
  'code',
  'blockquote',
]);

/** Telegram's HTML parse mode (a port of tdlib's parse_html rules, with its error strings). */
export function parseHtml(src: string): FormattedText {
  const bo = (idx: number) => utf8len(src.slice(0, idx));
  const n = src.length;
  let out = '';
  const entities: MessageEntity[] = [];
  const stack: Array<{ tag: string; arg: string; offset: number; begin: number; language?: string }> = [];
  let i = 0;
  while (i < n) {
    const c = src.charAt(i);
    if (c === '&') {
      const d = decodeHtmlEntity(src, i);
      if (d) {
        out += d.value;
        i = d.end;
        continue;
      }
    }
    if (c !== '<') {
      out += c;
      i++;
      continue;
    }
    const begin = i;
    i++;
    if (src.charAt(i) !== '/') {
      const nameStart = i;
      while (i < n && !isSpace(src.charAt(i)) && src.charAt(i) !== '>') i++;
      if (i >= n) throw new MarkupError(`Unclosed start tag at byte offset ${bo(begin)}`);
      const tag = src.slice(nameStart, i).toLowerCase();
      if (!HTML_TAGS.has(tag)) throw new MarkupError(`Unsupported start tag "${tag}" at byte offset ${bo(begin)}`);
      let arg = '';
      while (src.charAt(i) !== '>') {
        while (i < n && isSpace(src.charAt(i))) i++;
        if (i >= n) throw new MarkupError(`Unclosed start tag "${tag}" at byte offset ${bo(begin)}`);
        if (src.charAt(i) === '>') break;
        const attrStart = i;
        while (i < n && !isSpace(src.charAt(i)) && !'=>/"\''.includes(src.charAt(i))) i++;
        const attr = src.slice(attrStart, i).toLowerCase();
        if (!attr) throw new MarkupError(`Empty attribute name in the tag "${tag}" at byte offset ${bo(begin)}`);
        while (i < n && isSpace(src.charAt(i))) i++;
        if (i >= n) throw new MarkupError(`Unclosed start tag "${tag}" at byte offset ${bo(begin)}`);
        if (src.charAt(i) !== '=') {
          if (tag === 'blockquote' && attr === 'expandable') arg = 'expandable';
          continue;
        }
        i++;
        while (i < n && isSpace(src.charAt(i))) i++;
        if (i >= n) throw new MarkupError(`Unclosed start tag "${tag}" at byte offset ${bo(begin)}`);
        let value = '';
        const q = src.charAt(i);
        if (q !== '"' && q !== "'") {
          const vs = i;
          while (i < n && /[A-Za-z0-9.-]/.test(src.charAt(i))) i++;
          value = src.slice(vs, i).toLowerCase();
          if (i < n && !isSpace(src.charAt(i)) && src.charAt(i) !== '>') {
            throw new MarkupError(`Unexpected end of name token at byte offset ${bo(vs)}`);
          }
        } else {
          i++;
          while (i < n && src.charAt(i) !== q) {
            if (src.charAt(i) === '&') {
              const d = decodeHtmlEntity(src, i);
              if (d) {
                value += d.value;
                i = d.end;
                continue;
              }
            }
            value += src.charAt(i);
            i++;
          }
          if (src.charAt(i) === q) i++;
        }
        if (i >= n) throw new MarkupError(`Unclosed start tag at byte offset ${bo(begin)}`);
        if (tag === 'a' && attr === 'href') arg = value;
        else if (tag === 'code' && attr === 'class' && value.startsWith('language-')) arg = value.slice(9);
        else if (tag === 'span' && attr === 'class' && value.startsWith('tg-')) arg = value.slice(3);
        else if (tag === 'tg-emoji' && attr === 'emoji-id') arg = value;
      }
      if (tag === 'span' && arg !== 'spoiler') {
        throw new MarkupError(`Tag "span" must have class "tg-spoiler" at byte offset ${bo(begin)}`);
      }
      stack.push({ tag, arg, offset: out.length, begin });
      i++;
      continue;
    }
    // end tag
    if (stack.length === 0) throw new MarkupError(`Unexpected end tag at byte offset ${bo(begin)}`);
    i++;
    const nameStart = i;
    while (i < n && !isSpace(src.charAt(i)) && src.charAt(i) !== '>') i++;
    const endName = src.slice(nameStart, i).toLowerCase();
    while (i < n && isSpace(src.charAt(i))) i++;
    if (src.charAt(i) !== '>') throw new MarkupError(`Unclosed end tag at byte offset ${bo(begin)}`);
    const top = stack[stack.length - 1]!;
    if (endName && endName !== top.tag) {
      throw new MarkupError(
        `Unmatched end tag at byte offset ${bo(begin)}, expected "</${top.tag}>", found "</${endName}>"`,
      );
    }
    i++;
    stack.pop();
    const offset = top.offset;
    const length = out.length - offset;
    const parent = stack[stack.length - 1];
    if (top.tag === 'code' && parent?.tag === 'pre' && parent.offset === offset) {
      // <pre><code class="language-x">…</code></pre> is one pre entity with a language
      if (top.arg) parent.language = top.arg;
      continue;
    }
    if (length <= 0) continue;
    switch (top.tag) {
      case 'b':
      case 'strong':
        entities.push({ type: 'bold', offset, length });
        break;
      case 'i':
      case 'em':
        entities.push({ type: 'italic', offset, length });
        break;
      case 'u':
      case 'ins':
        entities.push({ type: 'underline', offset, length });
        break;
      case 's':
      case 'strike':
      case 'del':
        entities.push({ type: 'strikethrough', offset, length });
        break;
      case 'tg-spoiler':
      case 'span':
        entities.push({ type: 'spoiler', offset, length });
        break;
      case 'code':
        entities.push({ type: 'code', offset, length });
        break;
      case 'pre':
        entities.push(
          top.language ? { type: 'pre', offset, length, language: top.language } : { type: 'pre', offset, length },
        );
        break;
      case 'blockquote':
        entities.push({ type: top.arg === 'expandable' ? 'expandable_blockquote' : 'blockquote', offset, length });
        break;
      case 'tg-emoji': {
        if (!/^\d+$/.test(top.arg)) throw new MarkupError('Invalid custom emoji identifier specified');
        entities.push({ type: 'custom_emoji', offset, length, custom_emoji_id: top.arg });
        break;
      }
      case 'a': {
        const url = normalizeUrl(top.arg || out.slice(offset));
        if (url) entities.push({ type: 'text_link', offset, length, url });
        break;
      }
    }
  }
  if (stack.length > 0) {
    throw new MarkupError(`Can't find end tag corresponding to start tag "${stack[stack.length - 1]!.tag}"`);
  }
  return { text: out, entities };
}

const MDV2_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  text_link: 'TextUrl',
  code: 'Code',
  pre: 'Pre',
  custom_emoji: 'CustomEmoji',
};

/** Telegram's MarkdownV2 parse mode (tdlib rules and error strings; blockquotes simplified). */
export function parseMarkdownV2(src: string): FormattedText {
  const bo = (idx: number) => utf8len(src.slice(0, idx));
  const reserved = '_*[]()~`>#+-=|{}.!';
  const reservedError = (c: string) =>
    new MarkupError(`Character '${c}' is reserved and must be escaped with the preceding '\\'`);
  const n = src.length;
  let out = '';
  const entities: MessageEntity[] = [];
  const stack: Array<{ type: string; offset: number; begin: number; language?: string }> = [];
  let quote: number | undefined;
  let lineStart = true;
  let i = 0;
  while (i < n) {
    const c = src.charAt(i);
    const next = src.charAt(i + 1);
    if (c === '\\' && next !== '' && next.charCodeAt(0) > 0 && next.charCodeAt(0) <= 126) {
      out += next;
      i += 2;
      lineStart = false;
      continue;
    }
    const top = stack[stack.length - 1];
    const inCode = top?.type === 'code' || top?.type === 'pre';
    if (c === '\n' && !inCode) {
      if (quote !== undefined && src.charAt(i + 1) !== '>') {
        if (out.length > quote) entities.push({ type: 'blockquote', offset: quote, length: out.length - quote });
        quote = undefined;
      }
      out += c;
      i++;
      lineStart = true;
      continue;
    }
    if (inCode ? c !== '`' : !reserved.includes(c)) {
      out += c;
      i++;
      lineStart = false;
      continue;
    }
    if (c === '>' && lineStart && !inCode) {
      if (quote === undefined) quote = out.length;
      i++;
      lineStart = false;
      continue;
    }
    lineStart = false;
    // closing the innermost entity?
    if (top) {
      let closeLen = 0;
      if (top.type === 'bold' && c === '*') closeLen = 1;
      else if (top.type === 'italic' && c === '_' && next !== '_') closeLen = 1;
      else if (top.type === 'underline' && c === '_' && next === '_') closeLen = 2;
      else if (top.type === 'strikethrough' && c === '~') closeLen = 1;
      else if (top.type === 'spoiler' && c === '|' && next === '|') closeLen = 2;
      else if (top.type === 'code' && c === '`') closeLen = 1;
      else if (top.type === 'pre' && c === '`' && next === '`' && src.charAt(i + 2) === '`') closeLen = 3;
      else if ((top.type === 'text_link' || top.type === 'custom_emoji') && c === ']') closeLen = 1;
      if (closeLen > 0) {
        stack.pop();
        i += closeLen;
        const offset = top.offset;
        const length = out.length - offset;
        if (top.type === 'text_link' || top.type === 'custom_emoji') {
          let url = '';
          if (src.charAt(i) === '(') {
            i++;
            while (i < n && src.charAt(i) !== ')') {
              if (src.charAt(i) === '\\' && i + 1 < n) i++;
              url += src.charAt(i);
              i++;
            }
            if (src.charAt(i) !== ')') throw new MarkupError(`Can't find end of a URL at byte offset ${bo(i)}`);
            i++;
          } else {
            url = out.slice(offset);
          }
          if (top.type === 'custom_emoji') {
            const m = /^tg:\/\/emoji\?id=(\d+)$/.exec(url);
            if (!m) throw new MarkupError('Custom emoji entity must contain a tg://emoji URL');
            if (length > 0) entities.push({ type: 'custom_emoji', offset, length, custom_emoji_id: m[1]! });
          } else {
            const normalized = normalizeUrl(url);
            if (normalized && length > 0) entities.push({ type: 'text_link', offset, length, url: normalized });
          }
        } else if (length > 0) {
          if (top.type === 'pre') {
            entities.push(
              top.language ? { type: 'pre', offset, length, language: top.language } : { type: 'pre', offset, length },
            );
          } else {
            entities.push({ type: top.type as 'bold', offset, length });
          }
        }
        continue;
      }
    }
    if (inCode) throw reservedError(c);
    const begin = i;
    switch (c) {
      case '_':
        if (next === '_') {
          stack.push({ type: 'underline', offset: out.length, begin });
          i += 2;
        } else {
          stack.push({ type: 'italic', offset: out.length, begin });
          i++;
        }
        break;
      case '*':
        stack.push({ type: 'bold', offset: out.length, begin });
        i++;
        break;
      case '~':
        stack.push({ type: 'strikethrough', offset: out.length, begin });
        i++;
        break;
      case '|':
        if (next !== '|') throw reservedError('|');
        stack.push({ type: 'spoiler', offset: out.length, begin });
        i += 2;
        break;
      case '[':
        stack.push({ type: 'text_link', offset: out.length, begin });
        i++;
        break;
      case '!':
        if (next !== '[') throw reservedError('!');
        stack.push({ type: 'custom_emoji', offset: out.length, begin });
        i += 2;
        break;
      case '`':
        if (next === '`' && src.charAt(i + 2) === '`') {
          i += 3;
          const nl = src.indexOf('\n', i);
          const candidate = nl >= 0 ? src.slice(i, nl) : '';
          let language: string | undefined;
          if (nl >= 0 && candidate.length > 0 && !/[\s`]/.test(candidate)) {
            language = candidate;
            i = nl + 1;
          } else if (src.charAt(i) === '\n') {
            i++;
          }
          stack.push(
            language ? { type: 'pre', offset: out.length, begin, language } : { type: 'pre', offset: out.length, begin },
          );
        } else {
          stack.push({ type: 'code', offset: out.length, begin });
          i++;
        }
        break;
      default:
        throw reservedError(c);
    }
  }
  if (quote !== undefined && out.length > quote) {
    entities.push({ type: 'blockquote', offset: quote, length: out.length - quote });
  }
  if (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const name = top.type === 'pre' && top.language ? 'PreCode' : (MDV2_NAMES[top.type] ?? top.type);
    throw new MarkupError(`Can't find end of ${name} entity at byte offset ${bo(top.begin)}`);
  }
  return { text: out, entities };
}

/** Telegram's legacy Markdown parse mode. */
export function parseMarkdown(src: string): FormattedText {
  const bo = (idx: number) => utf8len(src.slice(0, idx));
  const n = src.length;
  let out = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  while (i < n) {
    const c = src.charAt(i);
    const next = src.charAt(i + 1);
    if (c === '\\' && '_*`['.includes(next) && next !== '') {
      out += next;
      i += 2;
      continue;
    }
    if (!'_*`['.includes(c)) {
      out += c;
      i++;
      continue;
    }
    const begin = i;
    const notFound = () => new MarkupError(`Can't find end of the entity starting at byte offset ${bo(begin)}`);
    if (c === '`' && next === '`' && src.charAt(i + 2) === '`') {
      i += 3;
      let language: string | undefined;
      const nl = src.indexOf('\n', i);
      const end = src.indexOf('```', i);
      if (end < 0) throw notFound();
      if (nl >= 0 && nl < end) {
        const candidate = src.slice(i, nl);
        if (candidate && !/\s/.test(candidate)) {
          language = candidate;
          i = nl + 1;
        }
      }
      const offset = out.length;
      out += src.slice(i, end);
      i = end + 3;
      const length = out.length - offset;
      if (length > 0) entities.push(language ? { type: 'pre', offset, length, language } : { type: 'pre', offset, length });
      continue;
    }
    const endChar = c === '[' ? ']' : c;
    const end = src.indexOf(endChar, i + 1);
    if (end < 0) throw notFound();
    const offset = out.length;
    out += src.slice(i + 1, end);
    i = end + 1;
    const length = out.length - offset;
    if (c === '[') {
      let url = '';
      if (src.charAt(i) === '(') {
        const close = src.indexOf(')', i);
        if (close < 0) throw notFound();
        url = src.slice(i + 1, close);
        i = close + 1;
      }
      const normalized = normalizeUrl(url);
      if (normalized && length > 0) entities.push({ type: 'text_link', offset, length, url: normalized });
      continue;
    }
    if (length > 0) {
      entities.push({ type: c === '*' ? 'bold' : c === '_' ? 'italic' : 'code', offset, length });
    }
  }
  return { text: out, entities };
}

/**
 * Entities Telegram detects by itself in every text: bot commands, URLs, e-mails, mentions,
 * hashtags. Ranges already covered by code/pre/links are skipped.
 */
export function detectEntities(text: string, existing: MessageEntity[] = []): MessageEntity[] {
  const taken: Array<[number, number]> = existing
    .filter((e) => ['code', 'pre', 'text_link', 'text_mention', 'custom_emoji'].includes(e.type))
    .map((e) => [e.offset, e.offset + e.length]);
  const found: MessageEntity[] = [];
  const tryPush = (type: 'url' | 'email' | 'mention' | 'hashtag' | 'bot_command', offset: number, length: number) => {
    const end = offset + length;
    if (taken.some(([a, b]) => offset < b && end > a)) return;
    taken.push([offset, end]);
    found.push({ type, offset, length });
  };
  for (const m of text.matchAll(/\b(?:https?|ftp|tg):\/\/[^\s<>"]+/gi)) {
    const raw = m[0].replace(/[.,;:!?'")\]]+$/, '');
    tryPush('url', m.index, raw.length);
  }
  for (const m of text.matchAll(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g)) {
    tryPush('email', m.index, m[0].length);
  }
  for (const m of text.matchAll(/(^|[^A-Za-z0-9_/])(\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)(?![A-Za-z0-9_/@])/g)) {
    const cmd = m[2] ?? '';
    tryPush('bot_command', m.index + (m[1] ?? '').length, cmd.length);
  }
  for (const m of text.matchAll(/(^|[^A-Za-z0-9_@])(@[A-Za-z0-9_]{4,32})(?![A-Za-z0-9_])/g)) {
    const mention = m[2] ?? '';
    tryPush('mention', m.index + (m[1] ?? '').length, mention.length);
  }
  for (const m of text.matchAll(/(^|[^\p{L}\p{N}_#&])(#[\p{L}\p{N}_]*[\p{L}_][\p{L}\p{N}_]*)/gu)) {
    const tag = m[2] ?? '';
    tryPush('hashtag', m.index + (m[1] ?? '').length, tag.length);
  }
  return found;
}

/** Applies a parse mode the way the Bot API does; throws TelegramApiError on bad markup. */
export function formatText(text: string, parseMode?: unknown, explicitEntities?: unknown): FormattedText {
  let parsed: FormattedText;
  const entitiesParam = jsonField(explicitEntities);
  if (Array.isArray(entitiesParam)) {
    parsed = { text, entities: entitiesParam.filter(isRecord) as unknown as MessageEntity[] };
  } else if (parseMode === undefined || parseMode === null || parseMode === '') {
    parsed = { text, entities: [] };
  } else {
    const mode = String(parseMode).toLowerCase();
    try {
      if (mode === 'html') parsed = parseHtml(text);
      else if (mode === 'markdownv2') parsed = parseMarkdownV2(text);
      else if (mode === 'markdown') parsed = parseMarkdown(text);
      else throw bad('unsupported parse_mode');
    } catch (e) {
      if (e instanceof MarkupError) throw bad(`can't parse entities: ${e.message}`);
      throw e;
    }
  }
  // Leading and trailing whitespace is trimmed, entities are clipped accordingly.
  const lead = /^[ \t\r\n]*/.exec(parsed.text)?.[0].length ?? 0;
  const trimmedEnd = parsed.text.replace(/[ \t\r\n]+$/, '').length;
  const out = parsed.text.slice(lead, Math.max(lead, trimmedEnd));
  const clipped: MessageEntity[] = [];
  for (const e of parsed.entities) {
    const start = Math.max(0, e.offset - lead);
    const end = Math.min(out.length, e.offset + e.length - lead);
    if (end > start) clipped.push({ ...e, offset: start, length: end - start });
  }
  const all = [...clipped, ...detectEntities(out, clipped)];
  return { text: out, entities: splitStyles(all) };
}

// ───────────────────────────── multipart ─────────────────────────────

export interface Upload {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

function parseDisposition(header: string): { name?: string; filename?: string } {
  const name = /(?:^|;)\s*name="([^"]*)"/i.exec(header)?.[1] ?? /(?:^|;)\s*name=([^;]*)/i.exec(header)?.[1]?.trim();
  let filename: string | undefined;
  const star = /(?:^|;)\s*filename\*=(?:UTF-8'')?([^;]*)/i.exec(header)?.[1];
  if (star !== undefined) {
    filename = decodeURIComponent(star.trim());
  } else {
    const quoted = /(?:^|;)\s*filename="([^"]*)"/i.exec(header)?.[1];
    // grammY writes `filename=<raw name>` unquoted as the last attribute.
    filename = quoted ?? /(?:^|;)\s*filename=(.*)$/i.exec(header)?.[1]?.trim();
  }
  return { name, filename };
}

export function parseMultipart(body: Buffer, contentType: string): { fields: Params; uploads: Map<string, Upload> } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2]?.trim();
  if (!b) throw bad('multipart boundary is not specified');
  const delim = Buffer.from(`--${b}`);
  const sep = Buffer.from(`\r\n--${b}`);
  const fields: Params = {};
  const uploads = new Map<string, Upload>();
  let pos = body.indexOf(delim);
  if (pos < 0) return { fields, uploads };
  pos += delim.length;
  while (pos < body.length) {
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing `--`
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const next = body.indexOf(sep, pos);
    if (next < 0) break;
    const part = body.subarray(pos, next);
    pos = next + sep.length;
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = new Map<string, string>();
    for (const line of part.subarray(0, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const data = part.subarray(headerEnd + 4);
    const { name, filename } = parseDisposition(headers.get('content-disposition') ?? '');
    if (!name) continue;
    if (filename !== undefined) {
      uploads.set(name, {
        field: name,
        filename,
        contentType: headers.get('content-type') ?? 'application/octet-stream',
        data: Buffer.from(data),
      });
    } else {
      fields[name] = coerceField(name, data.toString('utf8'));
    }
  }
  return { fields, uploads };
}

// ───────────────────────────── the fake ─────────────────────────────

type ReplyTarget = NonNullable<Message['reply_to_message']>;

interface StoredMessage {
  message: Message;
  sender: 'bot' | 'user';
  seq: number;
  edited: boolean;
  file?: StoredFile;
}

interface ChatState {
  chat: Chat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  pinned: number[];
  replyKeyboard?: ReplyKeyboardMarkup;
  blocked: boolean;
  actions: Array<{ action: string; at: number }>;
}

interface CallbackState {
  answered: boolean;
  answer?: CallbackAnswer;
  chatId?: number;
  messageId?: number;
}

interface CallContext {
  uploads: Map<string, Upload>;
  signal: AbortSignal | undefined;
}

type Handler = (p: Params, ctx: CallContext) => unknown;

interface RawRequest {
  httpMethod: string;
  url: URL;
  contentType: string | undefined;
  body: Buffer | undefined;
  signal: AbortSignal | undefined;
}

type RawResponse =
  | { kind: 'response'; status: number; contentType: string; body: string | Buffer }
  | { kind: 'network-error' };

type Markup =
  | { kind: 'inline'; markup: InlineKeyboardMarkup }
  | { kind: 'keyboard'; markup: ReplyKeyboardMarkup }
  | { kind: 'remove' }
  | { kind: 'force_reply' };

interface Poller {
  limit: number;
  wake: () => void;
  end: () => void;
  fail: (e: unknown) => void;
}

const DEFAULT_EXCLUDED_UPDATES = ['chat_member', 'message_reaction', 'message_reaction_count'];

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** Methods that deliver (or change) a message and therefore count towards flood limits. */
function isSendingMethod(lower: string): boolean {
  return (
    (lower.startsWith('send') && lower !== 'sendchataction') ||
    lower === 'copymessage' ||
    lower === 'forwardmessage' ||
    lower === 'copymessages' ||
    lower === 'forwardmessages' ||
    lower.startsWith('editmessage')
  );
}

const FILE_DIRS: Record<FileKind, string> = {
  photo: 'photos',
  document: 'documents',
  voice: 'voice',
  audio: 'music',
  video: 'videos',
  animation: 'animations',
  sticker: 'stickers',
  video_note: 'video_notes',
};

function messageKind(m: Message): MessageKind {
  if (m.text !== undefined) return 'text';
  if (m.photo) return 'photo';
  if (m.animation) return 'animation';
  if (m.document) return 'document';
  if (m.voice) return 'voice';
  if (m.audio) return 'audio';
  if (m.video) return 'video';
  if (m.video_note) return 'video_note';
  if (m.sticker) return 'sticker';
  if (m.contact) return 'contact';
  if (m.location) return 'location';
  return 'other';
}

const CONTENT_KEYS = [
  'text',
  'entities',
  'photo',
  'document',
  'animation',
  'voice',
  'audio',
  'video',
  'video_note',
  'sticker',
  'caption',
  'caption_entities',
  'contact',
  'location',
  'venue',
  'poll',
  'dice',
  'has_media_spoiler',
] as const;

function abortError(): Error {
  const e = new Error('The operation was aborted.');
  e.name = 'AbortError';
  return e;
}

export class FakeBotApi {
  readonly botInfo: UserFromGetMe;
  /** Every API request, in arrival order. */
  readonly calls: ApiCall[] = [];
  /** Requests for methods the fake does not implement (each also got a 404). */
  readonly unknownCalls: ApiCall[] = [];
  readonly stats = { calls: 0, delivered: 0, tooManyRequests: 0, errors: 0 };
  /** Use as grammY's `client.fetch`. */
  readonly fetch: typeof fetch;
  /** The clock (ms). Replace it for deterministic dates and rate limiting. */
  now: () => number;
  /** Global change counter: increases on every message sent / edited / deleted. */
  seq = 0;

  private readonly options: FakeBotApiOptions;
  private readonly handlers = new Map<string, Handler>();
  private readonly chats = new Map<number, ChatState>();
  private readonly users = new Map<number, User>();
  private readonly files = new Map<string, StoredFile>();
  private readonly filesByPath = new Map<string, StoredFile>();
  private readonly sent: Array<{ file: StoredFile; chatId: number; messageId: number }> = [];
  private readonly callbackQueries = new Map<string, CallbackState>();
  private readonly commandSets = new Map<string, { scope: BotCommandScope; languageCode: string; commands: BotCommand[] }>();
  private readonly menuButtons = new Map<string, MenuButton>();
  private readonly botTexts = new Map<string, string>();
  private readonly failures = new Map<string, FailureSpec[]>();
  private readonly holds = new Map<string, Array<{ chatId?: number; reached: (call: ApiCall) => void; gate: Promise<void> }>>();
  private readonly listeners = new Set<(e: FakeEvent) => void>();
  private readonly confirmWaiters = new Set<{ updateId: number; resolve: () => void }>();
  private queue: Update[] = [];
  private lastUpdateId: number;
  private confirmedOffset = 0;
  private allowedUpdates: string[] | undefined;
  private poller: Poller | undefined;
  private webhook: { url: string; allowedUpdates?: string[]; maxConnections?: number; secretToken?: string } = {
    url: '',
  };
  private rateLimits: RateLimitOptions | undefined;
  private sendLog: Array<{ at: number; chatId: number | undefined }> = [];
  private fileCounter = 0;
  private server: Server | undefined;
  private closed = false;

  constructor(options: FakeBotApiOptions = {}) {
    this.options = options;
    this.now = options.now ?? (() => Date.now());
    this.lastUpdateId = (options.firstUpdateId ?? 1) - 1;
    this.botInfo = options.botInfo ? structuredClone(options.botInfo) : ({
      id: options.botId ?? 7_000_000_001,
      is_bot: true,
      first_name: options.botFirstName ?? 'School Journal (test)',
      username: options.botUsername ?? 'school_journal_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
      has_topics_enabled: false,
    } as UserFromGetMe);
    this.fetch = ((input: string | URL | Request, init?: RequestInit) =>
      this.handleFetch(input, init)) as typeof fetch;
    this.registerHandlers();
  }

  // ─────────────── inspection helpers ───────────────

  callsOf(method: string): ApiCall[] {
    const lower = method.toLowerCase();
    return this.calls.filter((c) => c.method.toLowerCase() === lower);
  }

  clearCalls(): void {
    this.calls.length = 0;
    this.unknownCalls.length = 0;
  }

  /** Messages currently in the chat (both sides), ordered by message_id, edits applied, deletions removed. */
  chat(chatId: number): ChatMessage[] {
    const state = this.chats.get(chatId);
    if (!state) return [];
    return [...state.messages.values()]
      .sort((a, b) => a.message.message_id - b.message.message_id)
      .map((s) => this.view(chatId, s));
  }

  /** Bot messages currently in the chat. */
  botMessages(chatId: number): ChatMessage[] {
    return this.chat(chatId).filter((m) => m.from === 'bot');
  }

  message(chatId: number, messageId: number): ChatMessage | undefined {
    const s = this.chats.get(chatId)?.messages.get(messageId);
    return s ? this.view(chatId, s) : undefined;
  }

  /** The reply keyboard the user currently has in that chat (set by a ReplyKeyboardMarkup). */
  replyKeyboard(chatId: number): ReplyKeyboardMarkup | undefined {
    const kb = this.chats.get(chatId)?.replyKeyboard;
    return kb ? structuredClone(kb) : undefined;
  }

  pinnedMessages(chatId: number): number[] {
    return [...(this.chats.get(chatId)?.pinned ?? [])];
  }

  chatActions(chatId: number): string[] {
    return (this.chats.get(chatId)?.actions ?? []).map((a) => a.action);
  }

  /** Files the bot sent (documents, photos, …), oldest first. Photos are listed once (largest size). */
  sentFiles(filter: { chatId?: number; kind?: FileKind } = {}): SentFile[] {
    return this.sent
      .filter((s) => (filter.chatId === undefined || s.chatId === filter.chatId) && (!filter.kind || s.file.kind === filter.kind))
      .map((s) => {
        const caption = this.chats.get(s.chatId)?.messages.get(s.messageId)?.message.caption;
        return { ...s.file, chatId: s.chatId, messageId: s.messageId, caption };
      });
  }

  file(fileId: string): StoredFile | undefined {
    return this.files.get(fileId);
  }

  callbackAnswer(queryId: string): CallbackAnswer | undefined {
    return this.callbackQueries.get(queryId)?.answer;
  }

  isCallbackAnswered(queryId: string): boolean {
    return this.callbackQueries.get(queryId)?.answered ?? false;
  }

  /** Commands set for a scope (+ language), exactly as getMyCommands would return them. */
  commands(scope: BotCommandScope = { type: 'default' }, languageCode = ''): BotCommand[] {
    return structuredClone(this.commandSets.get(this.scopeKey(scope, languageCode))?.commands ?? []);
  }

  allCommands(): Array<{ scope: BotCommandScope; languageCode: string; commands: BotCommand[] }> {
    return structuredClone([...this.commandSets.values()]);
  }

  menuButton(chatId?: number): MenuButton | undefined {
    return this.menuButtons.get(chatId === undefined ? 'default' : String(chatId));
  }

  webhookInfo(): { url: string; allowedUpdates?: string[] } {
    return { ...this.webhook };
  }

  pendingUpdates(): Update[] {
    return [...this.queue];
  }

  on(listener: (e: FakeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ─────────────── behaviour switches ───────────────

  enforceRateLimits(options: RateLimitOptions = { perSecond: 30, perChatPerSecond: 1 }): void {
    this.rateLimits = options;
    this.sendLog = [];
  }

  disableRateLimits(): void {
    this.rateLimits = undefined;
  }

  /** Sends into this chat now fail with 403 "Forbidden: bot was blocked by the user". */
  blockBy(chatId: number): void {
    this.chatState(chatId, true).blocked = true;
  }

  unblockBy(chatId: number): void {
    this.chatState(chatId, true).blocked = false;
  }

  isBlocked(chatId: number): boolean {
    return this.chats.get(chatId)?.blocked ?? false;
  }

  /** Make the next `times` calls of `method` fail with the given error (or a network failure). */
  failNext(method: string, failure: FailureSpec = { code: 500 }, times = 1): void {
    const key = method.toLowerCase();
    const list = this.failures.get(key) ?? [];
    for (let k = 0; k < times; k++) list.push(failure);
    this.failures.set(key, list);
  }

  /**
   * The next call of `method` is carried out (a sent message is in the chat) but its answer waits
   * until `release()` — a slow Telegram, to test what happens while a request is in flight.
   * With `chatId`, only a call to that chat is held.
   */
  holdNext(method: string, opts: { chatId?: number } = {}): { reached: Promise<ApiCall>; release: () => void } {
    let reached!: (call: ApiCall) => void;
    let release!: () => void;
    const reachedP = new Promise<ApiCall>((r) => {
      reached = r;
    });
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const key = method.toLowerCase();
    const list = this.holds.get(key) ?? [];
    list.push({ chatId: opts.chatId, reached, gate });
    this.holds.set(key, list);
    return { reached: reachedP, release };
  }

  // ─────────────── users, updates ───────────────

  /** Registers a user (creates the private chat with their names). */
  registerUser(user: User): void {
    this.users.set(user.id, user);
    const chat: Chat = { id: user.id, type: 'private', first_name: user.first_name };
    if (user.last_name) chat.last_name = user.last_name;
    if (user.username) chat.username = user.username;
    const existing = this.chats.get(user.id);
    if (existing) existing.chat = chat;
    else this.chats.set(user.id, this.newChatState(chat));
  }

  nextUpdateId(): number {
    this.lastUpdateId += 1;
    return this.lastUpdateId;
  }

  /** Allocates the next message_id in a chat (ids are shared by both sides of a private chat). */
  allocateMessageId(chatId: number): number {
    const state = this.chatState(chatId, true);
    const id = state.nextMessageId;
    state.nextMessageId += 1;
    return id;
  }

  /** Creates (and stores) a message the user sends in their private chat. Returns the Message for the update. */
  userSends(user: User, input: UserInput): Message {
    if (!this.users.has(user.id)) this.registerUser(user);
    const state = this.chatState(user.id, true);
    const base: Message = {
      message_id: 0,
      from: user,
      chat: state.chat,
      date: this.unixNow(),
    };
    let file: StoredFile | undefined;
    let content: Partial<Message>;
    if ('text' in input) {
      const entities = sortEntities(detectEntities(input.text));
      content = entities.length ? { text: input.text, entities } : { text: input.text };
    } else if ('photo' in input) {
      file = this.storeFile('photo', input.photo, 'photo.jpg', undefined, 'user');
      content = { photo: this.photoSizes(file), ...this.captionContent(input.caption) };
    } else if ('document' in input) {
      file = this.storeFile('document', input.document, input.filename, input.mimeType, 'user');
      content = { document: this.documentObject(file), ...this.captionContent(input.caption) };
    } else if ('voice' in input) {
      file = this.storeFile('voice', input.voice, 'voice.ogg', 'audio/ogg', 'user');
      content = {
        voice: {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          duration: input.duration ?? 1,
          mime_type: 'audio/ogg',
          file_size: file.size,
        },
      };
    } else if ('sticker' in input) {
      file = this.storeFile('sticker', Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'sticker.webp', 'image/webp', 'user');
      content = {
        sticker: {
          file_id: file.fileId,
          file_unique_id: file.fileUniqueId,
          type: 'regular',
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
          emoji: input.sticker,
          set_name: 'TestStickers',
          file_size: file.size,
        },
      };
    } else if ('contact' in input) {
      content = { contact: { ...input.contact } };
    } else {
      content = { location: { ...input.location } };
    }
    const replyTo = 'replyTo' in input ? input.replyTo : undefined;
    if (replyTo !== undefined) {
      const target = state.messages.get(replyTo);
      if (!target) throw new Error(`userSends: message ${replyTo} does not exist in chat ${user.id}`);
      base.reply_to_message = this.asReplyTarget(target.message);
    }
    base.message_id = this.allocateMessageId(user.id);
    const message: Message = { ...base, ...content };
    const stored = this.store(state, 'user', message, file);
    this.emit(() => ({ type: 'user_message', chatId: user.id, message: this.view(user.id, stored) }));
    return structuredClone(message);
  }

  /** Registers a callback query id so that the bot may answer it (once). */
  registerCallbackQuery(id: string, chatId?: number, messageId?: number): void {
    if (!this.callbackQueries.has(id)) this.callbackQueries.set(id, { answered: false, chatId, messageId });
  }

  /**
   * Records what an update means for the fake's state (user messages, callback query ids,
   * block/unblock) without queueing it. Used when updates are dispatched via handleUpdate.
   */
  observeUpdate(update: Update): void {
    const msg = update.message;
    if (msg) {
      if (msg.from && !msg.from.is_bot && !this.users.has(msg.from.id)) this.registerUser(msg.from);
      const state = this.chatState(msg.chat.id, true, msg.chat);
      if (!state.messages.has(msg.message_id)) {
        const stored = this.store(state, 'user', structuredClone(msg));
        state.nextMessageId = Math.max(state.nextMessageId, msg.message_id + 1);
        this.emit(() => ({ type: 'user_message', chatId: msg.chat.id, message: this.view(msg.chat.id, stored) }));
      }
    }
    const edited = update.edited_message;
    if (edited) {
      const stored = this.chats.get(edited.chat.id)?.messages.get(edited.message_id);
      if (stored) {
        stored.message = structuredClone(edited);
        stored.edited = true;
        stored.seq = ++this.seq;
      }
    }
    const cq = update.callback_query;
    if (cq) {
      if (cq.from && !this.users.has(cq.from.id)) this.registerUser(cq.from);
      this.registerCallbackQuery(cq.id, cq.message?.chat.id, cq.message?.message_id);
    }
    const mcm = update.my_chat_member;
    if (mcm) {
      const state = this.chatState(mcm.chat.id, true, mcm.chat);
      if (mcm.new_chat_member.status === 'kicked') state.blocked = true;
      else if (mcm.new_chat_member.status === 'member') state.blocked = false;
    }
  }

  /** Queues an update for getUpdates (assigning update_id if missing) and wakes a waiting long poll. */
  pushUpdate(update: Update | Omit<Update, 'update_id'>): Update {
    const u = { ...update } as Update;
    if (typeof u.update_id !== 'number') {
      u.update_id = this.nextUpdateId();
    } else if (u.update_id > this.lastUpdateId) {
      this.lastUpdateId = u.update_id;
    }
    this.observeUpdate(u);
    this.queue.push(u);
    this.emit({ type: 'update', update: u });
    this.poller?.wake();
    return u;
  }

  /**
   * Resolves once getUpdates has been called with an offset above `updateId`, i.e. the bot
   * confirmed (with grammY's sequential polling: finished handling) that update.
   */
  waitForConfirmation(updateId: number, timeoutMs = 10_000): Promise<void> {
    if (this.confirmedOffset > updateId) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        updateId,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.confirmWaiters.delete(waiter);
        reject(new Error(`update ${updateId} was not confirmed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.confirmWaiters.add(waiter);
    });
  }

  // ─────────────── HTTP server mode ───────────────

  /** Serves the fake over HTTP on 127.0.0.1; returns the apiRoot (`http://127.0.0.1:PORT`). */
  async listen(port = 0): Promise<string> {
    if (this.server) throw new Error('FakeBotApi is already listening');
    const server = createServer((req, res) => {
      void this.handleHttp(req, res);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /**
   * Stops the HTTP server (if any) and ends a pending long poll with an empty result. Afterwards
   * the fake behaves like a server that is down: every request fails at the network level.
   */
  async close(): Promise<void> {
    this.closed = true;
    const poller = this.poller;
    this.poller = undefined;
    poller?.end();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  /** Node http handler; usable inside another server (see scripts/fake-telegram.ts). */
  async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let out: RawResponse;
    try {
      out = await this.handleRaw({
        httpMethod: req.method ?? 'GET',
        url,
        contentType: req.headers['content-type'],
        body: chunks.length ? Buffer.concat(chunks) : undefined,
        signal: controller.signal,
      });
    } catch (e) {
      if (controller.signal.aborted) return;
      out = {
        kind: 'response',
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ ok: false, error_code: 500, description: `Internal Server Error: ${String(e)}` }),
      };
    }
    if (out.kind === 'network-error') {
      req.socket.destroy();
      return;
    }
    if (res.destroyed) return;
    res.writeHead(out.status, { 'content-type': out.contentType, 'content-length': Buffer.byteLength(out.body) });
    res.end(out.body);
  }

  // ─────────────── transport ───────────────

  private async handleFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const isRequest = typeof input === 'object' && !(input instanceof URL) && 'url' in input;
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const headers = new Headers((init?.headers ?? (isRequest ? (input as Request).headers : undefined)) as ConstructorParameters<typeof Headers>[0]);
    let contentType = headers.get('content-type') ?? undefined;
    let body: Buffer | undefined;
    const rawBody: unknown = init?.body ?? undefined;
    if (rawBody !== undefined && rawBody !== null) {
      const read = await readBody(rawBody);
      body = read.data;
      contentType ??= read.contentType;
    } else if (isRequest && (input as Request).body) {
      body = Buffer.from(await (input as Request).arrayBuffer());
    }
    // Only getUpdates waits; it listens to the signal itself, so no per-request race is needed.
    const signal = (init?.signal ?? undefined) as AbortSignal | undefined;
    if (signal?.aborted) throw abortError();
    const out = await this.handleRaw({
      httpMethod: init?.method ?? (isRequest ? (input as Request).method : 'GET'),
      url,
      contentType,
      body,
      signal,
    });
    if (out.kind === 'network-error') throw new TypeError('fetch failed');
    return new Response(out.body, { status: out.status, headers: { 'content-type': out.contentType } });
  }

  private async handleRaw(req: RawRequest): Promise<RawResponse> {
    const json = (status: number, value: unknown): RawResponse => ({
      kind: 'response',
      status,
      contentType: 'application/json',
      body: JSON.stringify(value),
    });
    if (this.closed) return { kind: 'network-error' };
    const path = req.url.pathname;
    const fileMatch = /\/file\/bot([^/]+)\/(.+)$/.exec(path);
    if (fileMatch) {
      const token = decodeURIComponent(fileMatch[1] ?? '');
      if (!this.tokenOk(token)) return json(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const file = this.filesByPath.get(decodeURIComponent(fileMatch[2] ?? ''));
      if (!file) return json(404, { ok: false, error_code: 404, description: 'Not Found' });
      return { kind: 'response', status: 200, contentType: 'application/octet-stream', body: file.data };
    }
    const m = /\/bot([^/]*)\/(?:test\/)?([^/]+)\/?$/.exec(path);
    if (!m) return json(404, { ok: false, error_code: 404, description: 'Not Found' });
    const token = decodeURIComponent(m[1] ?? '');
    const method = decodeURIComponent(m[2] ?? '');
    if (!/^\d+:[\w-]+$/.test(token)) return json(404, { ok: false, error_code: 404, description: 'Not Found' });
    if (!this.tokenOk(token)) return json(401, { ok: false, error_code: 401, description: 'Unauthorized' });

    const params: Params = {};
    for (const [k, v] of req.url.searchParams) params[k] = coerceField(k, v);
    let uploads = new Map<string, Upload>();
    const call: ApiCall = { method, params, at: this.now(), files: [] };
    const finish = (response: ApiResponse): RawResponse => {
      call.response = response;
      if (!response.ok) this.stats.errors++;
      this.emit({ type: 'call', call });
      return json(response.ok ? 200 : response.error_code, response);
    };
    if (req.body && req.body.length > 0) {
      const ct = (req.contentType ?? '').toLowerCase();
      try {
        if (ct.startsWith('multipart/form-data')) {
          const parsed = parseMultipart(req.body, req.contentType ?? '');
          Object.assign(params, parsed.fields);
          uploads = parsed.uploads;
        } else if (ct.startsWith('application/x-www-form-urlencoded')) {
          for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params[k] = coerceField(k, v);
        } else {
          const parsed: unknown = JSON.parse(req.body.toString('utf8'));
          if (!isRecord(parsed)) throw bad("can't parse JSON encoded request");
          Object.assign(params, parsed);
        }
      } catch (e) {
        this.calls.push(call);
        this.stats.calls++;
        const err = e instanceof TelegramApiError ? e : bad("can't parse JSON encoded request");
        return finish({ ok: false, error_code: err.code, description: err.description });
      }
    }
    call.files = [...uploads.values()].map((u) => ({ field: u.field, filename: u.filename, size: u.data.length }));
    this.calls.push(call);
    this.stats.calls++;

    const lower = method.toLowerCase();
    const failure = this.failures.get(lower)?.shift();
    if (failure) {
      if ('network' in failure) {
        call.response = undefined;
        this.emit({ type: 'call', call });
        return { kind: 'network-error' };
      }
      const description =
        failure.description ??
        (failure.code === 429
          ? `Too Many Requests: retry after ${failure.retryAfter ?? 1}`
          : failure.code >= 500
            ? failure.code === 502
              ? 'Bad Gateway'
              : 'Internal Server Error'
            : 'Bad Request');
      const response: ApiResponse = { ok: false, error_code: failure.code, description };
      if (failure.code === 429) {
        response.parameters = { retry_after: failure.retryAfter ?? 1 };
        this.stats.tooManyRequests++;
      }
      return finish(response);
    }

    const handler = this.handlers.get(lower);
    if (!handler) {
      this.unknownCalls.push(call);
      return finish({ ok: false, error_code: 404, description: DESCRIPTIONS.methodNotFound });
    }

    const sending = isSendingMethod(lower);
    // Telegram counts a message when it receives the request: concurrent requests count at once
    // (counted at the answer, 90 requests in flight together all passed a 30-a-second check).
    let counted: { at: number; chatId: number | undefined } | undefined;
    if (sending && this.rateLimits) {
      const retry = this.checkRateLimit(params);
      if (retry !== undefined) {
        this.stats.tooManyRequests++;
        return finish({
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${retry}`,
          parameters: { retry_after: retry },
        });
      }
      counted = { at: this.limiterNow(), chatId: chatIdKey(params.chat_id) };
      this.sendLog.push(counted);
    }

    try {
      const result = await handler(params, { uploads, signal: req.signal });
      const holds = this.holds.get(lower);
      const at = holds?.findIndex((h) => h.chatId === undefined || String(h.chatId) === String(params.chat_id)) ?? -1;
      const hold = at >= 0 ? holds?.splice(at, 1)[0] : undefined;
      if (hold) {
        hold.reached(call);
        await hold.gate;
      }
      if (sending) this.stats.delivered++;
      return finish({ ok: true, result: result === undefined ? true : result });
    } catch (e) {
      // A refused request is not a sent message.
      if (counted) this.sendLog = this.sendLog.filter((x) => x !== counted);
      if (e instanceof TelegramApiError) {
        const response: ApiResponse = { ok: false, error_code: e.code, description: e.description };
        if (e.parameters) response.parameters = e.parameters;
        return finish(response);
      }
      if (req.signal?.aborted) throw e;
      return finish({
        ok: false,
        error_code: 500,
        description: `Internal Server Error: fake Bot API crashed in ${method}: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }

  private tokenOk(token: string): boolean {
    return this.options.token === undefined || this.options.token === token;
  }

  private limiterNow(): number {
    return (this.rateLimits?.now ?? this.now)();
  }

  /** Returns retry_after seconds when the request would exceed a limit. */
  private checkRateLimit(params: Params): number | undefined {
    const limits = this.rateLimits;
    if (!limits) return undefined;
    const now = this.limiterNow();
    this.sendLog = this.sendLog.filter((s) => now - s.at < 60_000);
    const chatId = chatIdKey(params.chat_id);
    const lastSecond = this.sendLog.filter((s) => now - s.at < 1000);
    const wait = (entries: Array<{ at: number }>, windowMs: number) => {
      const oldest = Math.min(...entries.map((e) => e.at));
      return limits.retryAfter ?? Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    };
    if (limits.perSecond !== undefined && lastSecond.length >= limits.perSecond) return wait(lastSecond, 1000);
    if (chatId !== undefined) {
      const inChat = lastSecond.filter((s) => s.chatId === chatId);
      if (limits.perChatPerSecond !== undefined && inChat.length >= limits.perChatPerSecond) return wait(inChat, 1000);
      if (limits.perGroupPerMinute !== undefined && chatId < 0) {
        const inGroup = this.sendLog.filter((s) => s.chatId === chatId);
        if (inGroup.length >= limits.perGroupPerMinute) return wait(inGroup, 60_000);
      }
    }
    return undefined;
  }

  private emit(make: FakeEvent | (() => FakeEvent)): void {
    if (this.listeners.size === 0) return;
    const e = typeof make === 'function' ? make() : make;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // listeners must not break the API
      }
    }
  }

  // ─────────────── state helpers ───────────────

  private unixNow(): number {
    return Math.floor(this.now() / 1000);
  }

  private botUser(): User {
    return {
      id: this.botInfo.id,
      is_bot: true,
      first_name: this.botInfo.first_name,
      username: this.botInfo.username,
    };
  }

  private newChatState(chat: Chat): ChatState {
    return { chat, nextMessageId: 1, messages: new Map(), pinned: [], blocked: false, actions: [] };
  }

  private chatState(chatId: number, create: boolean, chat?: Chat): ChatState {
    let state = this.chats.get(chatId);
    if (!state) {
      if (!create) throw bad('chat not found');
      const c: Chat =
        chat ??
        (chatId < 0
          ? { id: chatId, type: 'group', title: `Group ${-chatId}` }
          : { id: chatId, type: 'private', first_name: `User ${chatId}` });
      state = this.newChatState(c);
      this.chats.set(chatId, state);
    }
    return state;
  }

  /** Resolves `chat_id` of a request; checks blocking. */
  private targetChat(p: Params, key = 'chat_id', checkBlocked = true): ChatState {
    const raw = p[key];
    if (raw === undefined || raw === null || raw === '') throw bad('chat_id is empty');
    let id: number | undefined;
    if (typeof raw === 'number' && Number.isInteger(raw)) id = raw;
    else if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) id = Number(raw.trim());
    else if (typeof raw === 'string' && raw.startsWith('@')) {
      const name = raw.slice(1).toLowerCase();
      for (const s of this.chats.values()) {
        if (s.chat.username?.toLowerCase() === name) id = s.chat.id;
      }
    }
    if (id === undefined) throw bad('chat not found');
    if (id === this.botInfo.id || this.users.get(id)?.is_bot) {
      throw new TelegramApiError(403, "Forbidden: bot can't send messages to bots");
    }
    const state = this.chats.get(id) ?? this.chatState(id, this.options.unknownChats !== 'not-found');
    if (checkBlocked && state.blocked) {
      throw new TelegramApiError(
        403,
        state.chat.type === 'private' ? DESCRIPTIONS.blocked : 'Forbidden: bot was kicked from the group chat',
      );
    }
    return state;
  }

  private store(state: ChatState, sender: 'bot' | 'user', message: Message, file?: StoredFile): StoredMessage {
    const stored: StoredMessage = { message, sender, seq: ++this.seq, edited: false, file };
    state.messages.set(message.message_id, stored);
    return stored;
  }

  private view(chatId: number, s: StoredMessage): ChatMessage {
    const m = s.message;
    const markup = m.reply_markup;
    return {
      chatId,
      messageId: m.message_id,
      from: s.sender,
      kind: messageKind(m),
      date: m.date,
      text: m.text,
      caption: m.caption,
      content: m.text ?? m.caption ?? '',
      entities: structuredClone(m.entities ?? m.caption_entities ?? []),
      replyMarkup: markup ? structuredClone(markup) : undefined,
      buttons: markup ? markup.inline_keyboard.map((row) => row.map((b) => b.text)) : [],
      file: s.file,
      edited: s.edited,
      seq: s.seq,
      message: structuredClone(m),
    };
  }

  private asReplyTarget(m: Message): ReplyTarget {
    const copy = structuredClone(m);
    delete copy.reply_to_message;
    return copy as ReplyTarget;
  }

  private resolveReply(state: ChatState, p: Params): ReplyTarget | undefined {
    const rp = jsonField(p.reply_parameters);
    let id = optInt(p, 'reply_to_message_id');
    let allowWithout = optBool(p, 'allow_sending_without_reply');
    if (isRecord(rp)) {
      id = optInt(rp, 'message_id') ?? id;
      allowWithout = optBool(rp, 'allow_sending_without_reply') || allowWithout;
      if (rp.chat_id !== undefined && chatIdKey(rp.chat_id) !== state.chat.id) {
        const other = this.chats.get(chatIdKey(rp.chat_id) ?? Number.NaN);
        const target = other?.messages.get(id ?? -1);
        if (target) return this.asReplyTarget(target.message);
        if (!allowWithout) throw bad('message to be replied not found');
        return undefined;
      }
    }
    if (id === undefined) return undefined;
    const target = state.messages.get(id);
    if (target) return this.asReplyTarget(target.message);
    if (!allowWithout) throw bad('message to be replied not found');
    return undefined;
  }

  private parseReplyMarkup(raw: unknown): Markup | undefined {
    if (raw === undefined || raw === null || raw === '') return undefined;
    const rm = jsonField(raw);
    if (!isRecord(rm)) throw bad("can't parse reply keyboard markup JSON object");
    if ('inline_keyboard' in rm) {
      const rows = rm.inline_keyboard;
      if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
        throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
      }
      let count = 0;
      const out: Array<Array<Record<string, unknown>>> = [];
      for (const row of rows as unknown[][]) {
        const outRow: Array<Record<string, unknown>> = [];
        for (const button of row) {
          count++;
          if (!isRecord(button)) throw bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
          if (!('text' in button)) throw bad('can\'t parse inline keyboard button: Can\'t find field "text"');
          if (typeof button.text !== 'string') {
            throw bad('can\'t parse inline keyboard button: Field "text" must be of type String');
          }
          const actions = [
            'url',
            'callback_data',
            'web_app',
            'login_url',
            'switch_inline_query',
            'switch_inline_query_current_chat',
            'switch_inline_query_chosen_chat',
            'copy_text',
            'callback_game',
            'pay',
          ].filter((k) => button[k] !== undefined && button[k] !== null);
          if (actions.length === 0) {
            throw bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
          }
          if (button.callback_data !== undefined) {
            const data = String(button.callback_data);
            const size = utf8len(data);
            if (size < 1 || size > MAX_CALLBACK_DATA) throw new TelegramApiError(400, DESCRIPTIONS.buttonData);
          }
          if (typeof button.url === 'string') {
            const url = button.url;
            if (!/^tg:\/\//i.test(url) && normalizeUrl(url) === undefined) {
              throw bad(`inline keyboard button URL '${url}' is invalid: Wrong HTTP URL`);
            }
          }
          const clean: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(button)) if (v !== undefined && v !== null) clean[k] = v;
          if (clean.callback_data !== undefined) clean.callback_data = String(clean.callback_data);
          outRow.push(clean);
        }
        if (outRow.length) out.push(outRow);
      }
      if (count > 100) throw bad('reply markup is too long');
      return { kind: 'inline', markup: { inline_keyboard: out } as unknown as InlineKeyboardMarkup };
    }
    if ('keyboard' in rm) {
      const rows = rm.keyboard;
      if (!Array.isArray(rows) || !rows.every(Array.isArray)) {
        throw bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays');
      }
      for (const row of rows as unknown[][]) {
        for (const b of row) {
          if (typeof b === 'string') continue;
          if (!isRecord(b)) throw bad("can't parse keyboard button: KeyboardButton must be a String or an Object");
          if (typeof b.text !== 'string') throw bad('can\'t parse keyboard button: Field "text" must be of type String');
        }
      }
      return { kind: 'keyboard', markup: structuredClone(rm) as unknown as ReplyKeyboardMarkup };
    }
    if (rm.remove_keyboard === true || rm.remove_keyboard === 'true') return { kind: 'remove' };
    if (rm.force_reply === true || rm.force_reply === 'true') return { kind: 'force_reply' };
    throw bad("can't parse reply keyboard markup JSON object");
  }

  private applyKeyboard(state: ChatState, markup: Markup | undefined): void {
    if (markup?.kind === 'keyboard') state.replyKeyboard = markup.markup;
    else if (markup?.kind === 'remove') state.replyKeyboard = undefined;
  }

  private inlineMarkup(markup: Markup | undefined): InlineKeyboardMarkup | undefined {
    return markup?.kind === 'inline' && markup.markup.inline_keyboard.length > 0 ? markup.markup : undefined;
  }

  private captionContent(caption: string | undefined, parseMode?: unknown, entities?: unknown): Partial<Message> {
    if (caption === undefined || caption === '') return {};
    const f = formatText(caption, parseMode, entities);
    if (f.text.length > MAX_CAPTION) throw bad('message caption is too long');
    if (!f.text) return {};
    return f.entities.length ? { caption: f.text, caption_entities: f.entities } : { caption: f.text };
  }

  private textContent(p: Params): { text: string; entities?: MessageEntity[] } {
    const raw = optStr(p, 'text') ?? '';
    const f = formatText(raw, p.parse_mode, p.entities);
    if (!f.text) throw new TelegramApiError(400, DESCRIPTIONS.empty);
    if (f.text.length > MAX_TEXT) throw new TelegramApiError(400, DESCRIPTIONS.tooLong);
    return f.entities.length ? { text: f.text, entities: f.entities } : { text: f.text };
  }

  /** Builds, stores and announces a bot message. */
  private deliver(state: ChatState, p: Params, content: Partial<Message>, markup: Markup | undefined, file?: StoredFile) {
    const reply = this.resolveReply(state, p);
    const message: Message = {
      message_id: 0,
      from: this.botUser(),
      chat: state.chat,
      date: this.unixNow(),
    };
    if (reply) message.reply_to_message = reply;
    Object.assign(message, content);
    const inline = this.inlineMarkup(markup);
    if (inline) message.reply_markup = inline;
    if (optBool(p, 'protect_content')) message.has_protected_content = true;
    message.message_id = this.allocateMessageId(state.chat.id);
    this.applyKeyboard(state, markup);
    const stored = this.store(state, 'bot', message, file);
    if (file) this.sent.push({ file, chatId: state.chat.id, messageId: message.message_id });
    this.emit(() => ({ type: 'message', chatId: state.chat.id, message: this.view(state.chat.id, stored) }));
    return structuredClone(message);
  }

  private storeFile(
    kind: FileKind,
    data: Buffer,
    filename: string,
    mimeType: string | undefined,
    origin: 'bot' | 'user',
    extra: Partial<StoredFile> = {},
  ): StoredFile {
    const n = ++this.fileCounter;
    const image = kind === 'photo' ? sniffImage(data) : undefined;
    const ext = image?.ext ?? (extOf(filename) || 'dat');
    const file: StoredFile = {
      fileId: `${kind === 'photo' ? 'AgAC' : kind === 'document' ? 'BQAC' : 'AwAC'}fake${n.toString(36).padStart(6, '0')}${Buffer.from(filename).toString('base64url').slice(0, 8)}`,
      fileUniqueId: `AQAD${n.toString(36).padStart(6, '0')}`,
      kind,
      filename,
      mimeType: image?.mime ?? mimeFor(filename, mimeType),
      data,
      size: data.length,
      filePath: `${FILE_DIRS[kind]}/file_${n}.${kind === 'photo' ? 'jpg' : ext}`,
      origin,
      ...(image ? { width: image.width, height: image.height } : {}),
      ...extra,
    };
    this.files.set(file.fileId, file);
    this.filesByPath.set(file.filePath, file);
    return file;
  }

  /** Telegram returns several sizes of every photo; all of them serve the original bytes here. */
  private photoSizes(file: StoredFile): PhotoSize[] {
    const w = file.width ?? 100;
    const h = file.height ?? 100;
    const max = Math.max(w, h);
    const sizes: PhotoSize[] = [];
    for (const side of [90, 320, 800, 1280]) {
      if (side >= max) break;
      const scale = side / max;
      const alias = `${file.fileId}_s${side}`;
      if (!this.files.has(alias)) this.files.set(alias, { ...file, fileId: alias, fileUniqueId: `${file.fileUniqueId}${side}` });
      sizes.push({
        file_id: alias,
        file_unique_id: `${file.fileUniqueId}${side}`,
        width: Math.max(1, Math.round(w * scale)),
        height: Math.max(1, Math.round(h * scale)),
        file_size: Math.max(1, Math.round(file.size * scale * scale)),
      });
    }
    const scale = max > 2560 ? 2560 / max : 1;
    sizes.push({
      file_id: file.fileId,
      file_unique_id: file.fileUniqueId,
      width: Math.round(w * scale),
      height: Math.round(h * scale),
      file_size: file.size,
    });
    return sizes;
  }

  private documentObject(file: StoredFile) {
    return {
      file_id: file.fileId,
      file_unique_id: file.fileUniqueId,
      file_name: file.filename,
      mime_type: file.mimeType,
      file_size: file.size,
    };
  }

  /** Resolves an InputFile / file_id / URL parameter into a stored file. */
  private resolveInputFile(value: unknown, field: string, kind: FileKind, uploads: Map<string, Upload>): StoredFile {
    let upload: Upload | undefined;
    if (typeof value === 'string' && value.startsWith('attach://')) {
      upload = uploads.get(value.slice('attach://'.length));
      if (!upload) throw bad(`there is no ${field} in the request`);
    } else if (value === undefined || value === null || value === '') {
      upload = uploads.get(field);
      if (!upload) throw bad(`there is no ${field} in the request`);
    }
    if (upload) {
      const data = upload.data;
      if (data.length === 0) throw bad('file must be non-empty');
      if (data.length > MAX_UPLOAD) throw new TelegramApiError(413, 'Request Entity Too Large');
      if (kind === 'photo') {
        if (data.length > MAX_PHOTO) throw bad('PHOTO_INVALID_DIMENSIONS');
        const img = sniffImage(data);
        if (!img) throw bad('IMAGE_PROCESS_FAILED');
        if (img.width + img.height > 10_000 || Math.max(img.width, img.height) / Math.max(1, Math.min(img.width, img.height)) > 20) {
          throw bad('PHOTO_INVALID_DIMENSIONS');
        }
      }
      return this.storeFile(kind, data, upload.filename, upload.contentType, 'bot');
    }
    const str = String(value);
    if (/^https?:\/\//i.test(str)) {
      const name = decodeURIComponent(new URL(str).pathname.split('/').pop() || `${field}.dat`);
      return this.storeFile(kind, Buffer.alloc(0), name, undefined, 'bot', { url: str });
    }
    const existing = this.files.get(str);
    if (!existing) throw bad('wrong file identifier/HTTP URL specified');
    return existing;
  }

  private mediaContent(kind: FileKind, file: StoredFile, p: Params): Partial<Message> {
    const base = { file_id: file.fileId, file_unique_id: file.fileUniqueId, file_size: file.size };
    switch (kind) {
      case 'photo':
        return { photo: this.photoSizes(file) };
      case 'document':
        return { document: this.documentObject(file) };
      case 'voice':
        return { voice: { ...base, duration: optInt(p, 'duration') ?? 1, mime_type: file.mimeType } };
      case 'audio':
        return {
          audio: {
            ...base,
            duration: optInt(p, 'duration') ?? 1,
            file_name: file.filename,
            mime_type: file.mimeType,
            ...(optStr(p, 'title') ? { title: optStr(p, 'title') } : {}),
            ...(optStr(p, 'performer') ? { performer: optStr(p, 'performer') } : {}),
          },
        };
      case 'video':
        return {
          video: {
            ...base,
            width: optInt(p, 'width') ?? 640,
            height: optInt(p, 'height') ?? 360,
            duration: optInt(p, 'duration') ?? 1,
            file_name: file.filename,
            mime_type: file.mimeType,
          },
        };
      case 'animation': {
        const animation = {
          ...base,
          width: optInt(p, 'width') ?? 320,
          height: optInt(p, 'height') ?? 240,
          duration: optInt(p, 'duration') ?? 1,
          file_name: file.filename,
          mime_type: file.mimeType,
        };
        return { animation, document: this.documentObject(file) };
      }
      case 'video_note':
        return { video_note: { ...base, length: optInt(p, 'length') ?? 240, duration: optInt(p, 'duration') ?? 1 } };
      case 'sticker':
        return {
          sticker: {
            ...base,
            type: 'regular',
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
            ...(optStr(p, 'emoji') ? { emoji: optStr(p, 'emoji') } : {}),
          },
        };
    }
  }

  private sendFile(kind: FileKind, field: string, p: Params, ctx: CallContext) {
    const state = this.targetChat(p);
    const caption = kind === 'sticker' ? {} : this.captionContent(optStr(p, 'caption'), p.parse_mode, p.caption_entities);
    const markup = this.parseReplyMarkup(p.reply_markup);
    const file = this.resolveInputFile(p[field], field, kind, ctx.uploads);
    const content = { ...this.mediaContent(kind, file, p), ...caption };
    if (optBool(p, 'has_spoiler')) content.has_media_spoiler = true;
    return this.deliver(state, p, content, markup, file);
  }

  private findEditable(p: Params): { state: ChatState; stored: StoredMessage } {
    if (p.inline_message_id !== undefined && p.chat_id === undefined) throw bad('MESSAGE_ID_INVALID');
    const state = this.targetChat(p);
    const id = optInt(p, 'message_id');
    if (id === undefined) throw bad('message identifier is not specified');
    const stored = state.messages.get(id);
    if (!stored) throw new TelegramApiError(400, DESCRIPTIONS.editNotFound);
    if (stored.sender !== 'bot') throw bad("message can't be edited");
    return { state, stored };
  }

  private commitEdit(state: ChatState, stored: StoredMessage, next: Message): Message {
    const contentOf = (m: Message) => {
      const c: Record<string, unknown> = {};
      for (const k of CONTENT_KEYS) c[k] = m[k];
      c.reply_markup = m.reply_markup;
      return canonical(c);
    };
    if (contentOf(stored.message) === contentOf(next)) throw new TelegramApiError(400, DESCRIPTIONS.notModified);
    next.edit_date = this.unixNow();
    stored.message = next;
    stored.edited = true;
    stored.seq = ++this.seq;
    this.emit(() => ({ type: 'edit', chatId: state.chat.id, message: this.view(state.chat.id, stored) }));
    return structuredClone(next);
  }

  private editMarkup(p: Params): InlineKeyboardMarkup | undefined {
    const markup = this.parseReplyMarkup(p.reply_markup);
    if (markup && markup.kind !== 'inline') throw bad('inline keyboard expected');
    return this.inlineMarkup(markup);
  }

  private scopeKey(scope: unknown, languageCode: string): string {
    const s = jsonField(scope);
    const rec = isRecord(s) ? s : { type: 'default' };
    return canonical({ type: rec.type ?? 'default', chat_id: chatIdKey(rec.chat_id), user_id: rec.user_id, lang: languageCode });
  }

  private normalizeScope(scope: unknown): BotCommandScope {
    const s = jsonField(scope);
    if (s === undefined || s === null) return { type: 'default' };
    if (!isRecord(s) || typeof s.type !== 'string') throw bad("can't parse BotCommandScope JSON object");
    const known = [
      'default',
      'all_private_chats',
      'all_group_chats',
      'all_chat_administrators',
      'chat',
      'chat_administrators',
      'chat_member',
    ];
    if (!known.includes(s.type)) throw bad('unsupported bot command scope type specified');
    if (['chat', 'chat_administrators', 'chat_member'].includes(s.type) && s.chat_id === undefined) {
      throw bad('chat_id is empty');
    }
    if (s.type === 'chat_member' && s.user_id === undefined) throw bad('user not found');
    return structuredClone(s) as unknown as BotCommandScope;
  }

  // ─────────────── getUpdates ───────────────

  private isAllowed(u: Update): boolean {
    const type = Object.keys(u).find((k) => k !== 'update_id');
    if (!type) return false;
    const allowed = this.allowedUpdates;
    if (!allowed || allowed.length === 0) return !DEFAULT_EXCLUDED_UPDATES.includes(type);
    return allowed.includes(type);
  }

  private takeUpdates(limit: number): Update[] {
    this.queue = this.queue.filter((u) => this.isAllowed(u));
    return structuredClone(this.queue.slice(0, limit));
  }

  private confirm(offset: number): void {
    if (offset <= this.confirmedOffset) return;
    this.confirmedOffset = offset;
    for (const w of [...this.confirmWaiters]) {
      if (offset > w.updateId) {
        this.confirmWaiters.delete(w);
        w.resolve();
      }
    }
  }

  private getUpdates(p: Params, ctx: CallContext): Update[] | Promise<Update[]> {
    if (this.webhook.url) {
      throw new TelegramApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      );
    }
    const offset = optInt(p, 'offset') ?? 0;
    if (offset > 0) {
      this.queue = this.queue.filter((u) => u.update_id >= offset);
      this.confirm(offset);
    } else if (offset < 0) {
      this.queue = this.queue.slice(offset);
    }
    const limit = Math.min(100, Math.max(1, optInt(p, 'limit') ?? 100));
    const timeout = Math.max(0, optInt(p, 'timeout') ?? 0);
    const allowed = jsonField(p.allowed_updates);
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.map(String);
    const ready = this.takeUpdates(limit);
    if (ready.length > 0 || timeout === 0 || this.closed) return ready;
    const previous = this.poller;
    this.poller = undefined;
    previous?.fail(
      new TelegramApiError(
        409,
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      ),
    );
    return new Promise<Update[]>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ctx.signal?.removeEventListener('abort', onAbort);
        if (this.poller === poller) this.poller = undefined;
        fn();
      };
      const onAbort = () => finish(() => reject(abortError()));
      const poller: Poller = {
        limit,
        wake: () => {
          const updates = this.takeUpdates(limit);
          if (updates.length > 0) finish(() => resolve(updates));
        },
        end: () => finish(() => resolve([])),
        fail: (e) => finish(() => reject(e)),
      };
      const timer = setTimeout(() => finish(() => resolve([])), timeout * 1000);
      ctx.signal?.addEventListener('abort', onAbort);
      this.poller = poller;
    });
  }

  // ─────────────── method table ───────────────

  private registerHandlers(): void {
    const h = (name: string, fn: Handler) => this.handlers.set(name.toLowerCase(), fn);

    h('getMe', () => structuredClone(this.botInfo));
    h('logOut', () => true);
    h('close', () => true);
    h('getUpdates', (p, ctx) => this.getUpdates(p, ctx));

    h('setWebhook', (p) => {
      const url = optStr(p, 'url') ?? '';
      if (url && !/^https:\/\//i.test(url)) throw bad('bad webhook: An HTTPS URL must be provided for webhook');
      const allowed = jsonField(p.allowed_updates);
      this.webhook = {
        url,
        allowedUpdates: Array.isArray(allowed) ? allowed.map(String) : this.webhook.allowedUpdates,
        maxConnections: optInt(p, 'max_connections'),
        secretToken: optStr(p, 'secret_token'),
      };
      if (Array.isArray(allowed)) this.allowedUpdates = allowed.map(String);
      if (optBool(p, 'drop_pending_updates')) this.queue = [];
      if (url) this.poller?.fail(new TelegramApiError(409, 'Conflict: terminated by setWebhook request'));
      return true;
    });
    h('deleteWebhook', (p) => {
      this.webhook = { url: '' };
      if (optBool(p, 'drop_pending_updates')) this.queue = [];
      return true;
    });
    h('getWebhookInfo', () => {
      const info: Record<string, unknown> = {
        url: this.webhook.url,
        has_custom_certificate: false,
        pending_update_count: this.queue.length,
      };
      if (this.webhook.url) {
        info.max_connections = this.webhook.maxConnections ?? 40;
        info.ip_address = '127.0.0.1';
        if (this.webhook.allowedUpdates) info.allowed_updates = this.webhook.allowedUpdates;
      }
      return info;
    });

    h('setMyCommands', (p) => {
      const commands = jsonField(p.commands);
      if (!Array.isArray(commands)) throw bad('parameter "commands" is required');
      if (commands.length > 100) throw bad('too many commands specified');
      const clean: BotCommand[] = commands.map((c) => {
        if (!isRecord(c)) throw bad("can't parse BotCommand JSON object");
        const command = String(c.command ?? '');
        const description = String(c.description ?? '');
        if (!/^[a-z0-9_]{1,32}$/.test(command)) throw bad('BOT_COMMAND_INVALID');
        if (description.trim().length === 0 || description.length > 256) throw bad('BOT_COMMAND_DESCRIPTION_INVALID');
        return { command, description };
      });
      const scope = this.normalizeScope(p.scope);
      const languageCode = optStr(p, 'language_code') ?? '';
      const key = this.scopeKey(scope, languageCode);
      if (clean.length === 0) this.commandSets.delete(key);
      else this.commandSets.set(key, { scope, languageCode, commands: clean });
      return true;
    });
    h('getMyCommands', (p) => {
      const scope = this.normalizeScope(p.scope);
      return this.commands(scope, optStr(p, 'language_code') ?? '');
    });
    h('deleteMyCommands', (p) => {
      const scope = this.normalizeScope(p.scope);
      this.commandSets.delete(this.scopeKey(scope, optStr(p, 'language_code') ?? ''));
      return true;
    });
    h('setChatMenuButton', (p) => {
      const button = jsonField(p.menu_button);
      const key = p.chat_id === undefined ? 'default' : String(this.targetChat(p, 'chat_id', false).chat.id);
      const value = isRecord(button) ? (structuredClone(button) as unknown as MenuButton) : { type: 'default' as const };
      if (!['default', 'commands', 'web_app'].includes(value.type)) throw bad('unsupported menu button type');
      this.menuButtons.set(key, value);
      return true;
    });
    h('getChatMenuButton', (p) => {
      const key = p.chat_id === undefined ? 'default' : String(chatIdKey(p.chat_id));
      return this.menuButtons.get(key) ?? this.menuButtons.get('default') ?? { type: 'commands' };
    });
    for (const [setName, getName, field] of [
      ['setMyDescription', 'getMyDescription', 'description'],
      ['setMyShortDescription', 'getMyShortDescription', 'short_description'],
      ['setMyName', 'getMyName', 'name'],
    ] as const) {
      h(setName, (p) => {
        this.botTexts.set(`${field}|${optStr(p, 'language_code') ?? ''}`, optStr(p, field) ?? '');
        return true;
      });
      h(getName, (p) => ({ [field]: this.botTexts.get(`${field}|${optStr(p, 'language_code') ?? ''}`) ?? '' }));
    }

    h('getChat', (p) => {
      const state = this.targetChat(p, 'chat_id', false);
      return {
        ...structuredClone(state.chat),
        accent_color_id: 0,
        max_reaction_count: 11,
        accepted_gift_types: {
          unlimited_gifts: false,
          limited_gifts: false,
          unique_gifts: false,
          premium_subscription: false,
          gifts_from_channels: false,
        },
      };
    });
    h('getChatMember', (p) => {
      const state = this.targetChat(p, 'chat_id', false);
      const userId = optInt(p, 'user_id');
      const user = userId === undefined ? undefined : userId === this.botInfo.id ? this.botUser() : this.users.get(userId);
      if (!user) throw bad('PARTICIPANT_ID_INVALID');
      if (state.chat.type === 'private' && user.id !== state.chat.id && user.id !== this.botInfo.id) {
        throw bad('PARTICIPANT_ID_INVALID');
      }
      return { status: state.blocked && user.id === this.botInfo.id ? 'kicked' : 'member', user };
    });

    h('sendMessage', (p) => {
      const state = this.targetChat(p);
      const content = this.textContent(p);
      const markup = this.parseReplyMarkup(p.reply_markup);
      return this.deliver(state, p, content, markup);
    });
    h('sendPhoto', (p, ctx) => this.sendFile('photo', 'photo', p, ctx));
    h('sendDocument', (p, ctx) => this.sendFile('document', 'document', p, ctx));
    h('sendVoice', (p, ctx) => this.sendFile('voice', 'voice', p, ctx));
    h('sendAudio', (p, ctx) => this.sendFile('audio', 'audio', p, ctx));
    h('sendVideo', (p, ctx) => this.sendFile('video', 'video', p, ctx));
    h('sendAnimation', (p, ctx) => this.sendFile('animation', 'animation', p, ctx));
    h('sendVideoNote', (p, ctx) => this.sendFile('video_note', 'video_note', p, ctx));
    h('sendSticker', (p, ctx) => this.sendFile('sticker', 'sticker', p, ctx));
    h('sendContact', (p) => {
      const state = this.targetChat(p);
      const phone = optStr(p, 'phone_number');
      const first = optStr(p, 'first_name');
      if (!phone) throw bad('phone number is empty');
      if (!first) throw bad('first name is empty');
      const contact = { phone_number: phone, first_name: first, last_name: optStr(p, 'last_name') };
      return this.deliver(state, p, { contact }, this.parseReplyMarkup(p.reply_markup));
    });
    h('sendLocation', (p) => {
      const state = this.targetChat(p);
      const latitude = Number(p.latitude);
      const longitude = Number(p.longitude);
      if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) throw bad('wrong latitude/longitude specified');
      return this.deliver(state, p, { location: { latitude, longitude } }, this.parseReplyMarkup(p.reply_markup));
    });
    h('sendMediaGroup', (p, ctx) => {
      const state = this.targetChat(p);
      const media = jsonField(p.media);
      if (!Array.isArray(media)) throw bad('parameter "media" is required');
      if (media.length === 0) throw bad('media must be non-empty');
      if (media.length > 10) throw bad('too many media specified');
      const kinds = new Set(media.map((item) => (isRecord(item) ? String(item.type) : '')));
      if (kinds.size > 1 && (kinds.has('document') || kinds.has('audio'))) {
        throw bad(`${kinds.has('document') ? 'document' : 'audio'} can't be mixed with other media types`);
      }
      const groupId = `${Date.now()}${++this.fileCounter}`;
      const prepared = media.map((item) => {
        if (!isRecord(item)) throw bad("can't parse InputMedia JSON object");
        const type = String(item.type ?? '');
        if (!['photo', 'video', 'document', 'audio'].includes(type)) throw bad(`unsupported media type "${type}"`);
        const kind = type as FileKind;
        const file = this.resolveInputFile(item.media, 'media', kind, ctx.uploads);
        const content: Partial<Message> = {
          ...this.mediaContent(kind, file, item),
          ...this.captionContent(optStr(item, 'caption'), item.parse_mode, item.caption_entities),
          media_group_id: groupId,
        };
        return { content, file };
      });
      return prepared.map(({ content, file }) => this.deliver(state, p, content, undefined, file));
    });

    h('sendChatAction', (p) => {
      const state = this.targetChat(p);
      const action = optStr(p, 'action') ?? '';
      if (!CHAT_ACTIONS.has(action)) throw bad('wrong parameter action in request');
      state.actions.push({ action, at: this.now() });
      this.emit({ type: 'chat_action', chatId: state.chat.id, action });
      return true;
    });

    h('editMessageText', (p) => {
      const { state, stored } = this.findEditable(p);
      if (stored.message.text === undefined) throw bad('there is no text in the message to edit');
      const content = this.textContent(p);
      const next: Message = { ...structuredClone(stored.message), text: content.text };
      if (content.entities) next.entities = content.entities;
      else delete next.entities;
      const markup = this.editMarkup(p);
      if (markup) next.reply_markup = markup;
      else delete next.reply_markup;
      return this.commitEdit(state, stored, next);
    });
    h('editMessageCaption', (p) => {
      const { state, stored } = this.findEditable(p);
      if (stored.message.text !== undefined || messageKind(stored.message) === 'sticker') {
        throw bad('there is no caption in the message to edit');
      }
      const next: Message = structuredClone(stored.message);
      delete next.caption;
      delete next.caption_entities;
      Object.assign(next, this.captionContent(optStr(p, 'caption'), p.parse_mode, p.caption_entities));
      const markup = this.editMarkup(p);
      if (markup) next.reply_markup = markup;
      else delete next.reply_markup;
      return this.commitEdit(state, stored, next);
    });
    h('editMessageReplyMarkup', (p) => {
      const { state, stored } = this.findEditable(p);
      const next: Message = structuredClone(stored.message);
      const markup = this.editMarkup(p);
      if (markup) next.reply_markup = markup;
      else delete next.reply_markup;
      return this.commitEdit(state, stored, next);
    });
    h('editMessageMedia', (p, ctx) => {
      const { state, stored } = this.findEditable(p);
      if (stored.message.text !== undefined) throw bad('there is no media in the message to edit');
      const media = jsonField(p.media);
      if (!isRecord(media)) throw bad("can't parse InputMedia JSON object");
      const type = String(media.type ?? '');
      if (!['photo', 'video', 'document', 'audio', 'animation'].includes(type)) throw bad(`unsupported media type "${type}"`);
      const file = this.resolveInputFile(media.media, 'media', type as FileKind, ctx.uploads);
      const next: Message = structuredClone(stored.message);
      for (const k of CONTENT_KEYS) delete next[k];
      Object.assign(
        next,
        this.mediaContent(type as FileKind, file, media),
        this.captionContent(optStr(media, 'caption'), media.parse_mode, media.caption_entities),
      );
      const markup = this.editMarkup(p);
      if (markup) next.reply_markup = markup;
      else delete next.reply_markup;
      const result = this.commitEdit(state, stored, next);
      stored.file = file;
      this.sent.push({ file, chatId: state.chat.id, messageId: stored.message.message_id });
      return result;
    });

    h('deleteMessage', (p) => {
      const state = this.targetChat(p, 'chat_id', false);
      const id = optInt(p, 'message_id');
      if (id === undefined) throw bad('message identifier is not specified');
      if (!state.messages.has(id)) throw new TelegramApiError(400, DESCRIPTIONS.deleteNotFound);
      state.messages.delete(id);
      state.pinned = state.pinned.filter((x) => x !== id);
      this.seq++;
      this.emit({ type: 'delete', chatId: state.chat.id, messageId: id });
      return true;
    });
    h('deleteMessages', (p) => {
      const state = this.targetChat(p, 'chat_id', false);
      const ids = jsonField(p.message_ids);
      if (!Array.isArray(ids) || ids.length === 0) throw bad('message identifiers are not specified');
      for (const raw of ids) {
        const id = Number(raw);
        if (state.messages.delete(id)) {
          this.seq++;
          this.emit({ type: 'delete', chatId: state.chat.id, messageId: id });
        }
      }
      return true;
    });

    h('answerCallbackQuery', (p) => {
      const id = optStr(p, 'callback_query_id') ?? '';
      const q = this.callbackQueries.get(id);
      if (!q || q.answered) throw new TelegramApiError(400, DESCRIPTIONS.queryInvalid);
      const text = optStr(p, 'text');
      if (text !== undefined && text.length > 200) throw bad('MESSAGE_TOO_LONG');
      const answer: CallbackAnswer = {};
      if (text !== undefined) answer.text = text;
      if (p.show_alert !== undefined) answer.show_alert = optBool(p, 'show_alert');
      const url = optStr(p, 'url');
      if (url !== undefined) answer.url = url;
      const cache = optInt(p, 'cache_time');
      if (cache !== undefined) answer.cache_time = cache;
      q.answered = true;
      q.answer = answer;
      this.emit({ type: 'callback_answer', queryId: id, answer });
      return true;
    });

    const copyOrForward = (p: Params, mode: 'copy' | 'forward') => {
      const from = this.chats.get(chatIdKey(p.from_chat_id) ?? Number.NaN);
      if (!from) throw bad('chat not found');
      const id = optInt(p, 'message_id');
      const src = id === undefined ? undefined : from.messages.get(id);
      if (!src) throw bad(mode === 'copy' ? 'message to copy not found' : 'message to forward not found');
      if (src.message.has_protected_content) {
        throw bad(mode === 'copy' ? "message can't be copied" : "message can't be forwarded");
      }
      const state = this.targetChat(p);
      const content: Partial<Message> = {};
      for (const k of CONTENT_KEYS) {
        const v = src.message[k];
        if (v !== undefined) Object.assign(content, { [k]: structuredClone(v) });
      }
      let markup: Markup | undefined;
      if (mode === 'copy') {
        if (p.caption !== undefined) {
          delete content.caption;
          delete content.caption_entities;
          Object.assign(content, this.captionContent(optStr(p, 'caption'), p.parse_mode, p.caption_entities));
        }
        markup = this.parseReplyMarkup(p.reply_markup);
      } else {
        content.forward_origin = {
          type: 'user',
          sender_user: src.sender === 'bot' ? this.botUser() : (src.message.from ?? this.botUser()),
          date: src.message.date,
        };
      }
      return this.deliver(state, mode === 'copy' ? p : { ...p, reply_parameters: undefined }, content, markup, src.file);
    };
    h('copyMessage', (p) => ({ message_id: copyOrForward(p, 'copy').message_id }));
    h('forwardMessage', (p) => copyOrForward(p, 'forward'));

    h('getFile', (p) => {
      const id = optStr(p, 'file_id') ?? '';
      const file = this.files.get(id);
      if (!file) throw bad('invalid file_id');
      if (file.size > MAX_DOWNLOAD) throw bad('file is too big');
      return { file_id: id, file_unique_id: file.fileUniqueId, file_size: file.size, file_path: file.filePath };
    });

    h('pinChatMessage', (p) => {
      const state = this.targetChat(p);
      const id = optInt(p, 'message_id');
      if (id === undefined || !state.messages.has(id)) throw bad('message to pin not found');
      state.pinned = [...state.pinned.filter((x) => x !== id), id];
      return true;
    });
    h('unpinChatMessage', (p) => {
      const state = this.targetChat(p);
      const id = optInt(p, 'message_id') ?? state.pinned[state.pinned.length - 1];
      state.pinned = state.pinned.filter((x) => x !== id);
      return true;
    });
    h('unpinAllChatMessages', (p) => {
      this.targetChat(p).pinned = [];
      return true;
    });
    h('setMessageReaction', (p) => {
      this.targetChat(p);
      return true;
    });
  }
}

function chatIdKey(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
  return undefined;
}

async function readBody(body: unknown): Promise<{ data: Buffer; contentType?: string }> {
  if (typeof body === 'string') return { data: Buffer.from(body, 'utf8'), contentType: 'text/plain;charset=UTF-8' };
  if (body instanceof Uint8Array) return { data: Buffer.from(body) };
  if (body instanceof ArrayBuffer) return { data: Buffer.from(body) };
  if (body instanceof URLSearchParams) {
    return { data: Buffer.from(body.toString(), 'utf8'), contentType: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof FormData || body instanceof Blob || body instanceof ReadableStream) {
    const res = new Response(body as ConstructorParameters<typeof Response>[0]);
    return {
      data: Buffer.from(await res.arrayBuffer()),
      contentType: res.headers.get('content-type') ?? undefined,
    };
  }
  if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    }
    return { data: Buffer.concat(chunks) };
  }
  throw new Error(`FakeBotApi: unsupported request body type ${Object.prototype.toString.call(body)}`);
}
