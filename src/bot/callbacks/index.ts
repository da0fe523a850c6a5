import { z } from 'zod';

/**
 * Typed callback data, packed positionally under Telegram's 64-byte limit:
 * `prefix:field1:field2`. Unpacking validates with zod, so a forged or stale button
 * yields `undefined`, never a half-parsed object.
 */
export const MAX_CALLBACK_BYTES = 64;

type Shape = Record<string, z.ZodType<string | number | boolean>>;
type Values<S extends Shape> = { [K in keyof S]: z.infer<S[K]> };

export interface CallbackData<S extends Shape> {
  prefix: string;
  pack(values: Values<S>): string;
  unpack(data: string | undefined): Values<S> | undefined;
  /** Matches any data with this prefix, for `bot.callbackQuery(cb.filter)`. */
  filter: RegExp;
}

const SEPARATOR = ':';

export function defineCallback<S extends Shape>(prefix: string, shape: S): CallbackData<S> {
  if (!/^[a-z][a-z0-9_]*$/i.test(prefix)) throw new Error(`bad callback prefix ${prefix}`);
  const keys = Object.keys(shape) as (keyof S & string)[];
  const schema = z.object(shape);
  return {
    prefix,
    filter: new RegExp(`^${prefix}(${SEPARATOR}|$)`),
    pack(values) {
      const parts = keys.map((k) => {
        const v = values[k];
        const s = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
        if (s.includes(SEPARATOR)) throw new Error(`callback field ${k} contains "${SEPARATOR}"`);
        return s;
      });
      const data = [prefix, ...parts].join(SEPARATOR);
      if (Buffer.byteLength(data, 'utf8') > MAX_CALLBACK_BYTES) {
        throw new Error(`callback data for ${prefix} is ${Buffer.byteLength(data)} bytes (max ${MAX_CALLBACK_BYTES})`);
      }
      return data;
    },
    unpack(data) {
      if (!data || Buffer.byteLength(data, 'utf8') > MAX_CALLBACK_BYTES) return undefined;
      const [head, ...parts] = data.split(SEPARATOR);
      if (head !== prefix || parts.length !== keys.length) return undefined;
      const raw: Record<string, unknown> = {};
      keys.forEach((k, i) => {
        const field = shape[k];
        const part = parts[i] ?? '';
        raw[k] = field instanceof z.ZodBoolean ? part === '1' : part;
      });
      const parsed = schema.safeParse(raw);
      return parsed.success ? (parsed.data as Values<S>) : undefined;
    },
  };
}

/** Helpers for common field types. Numbers travel as base-10 text. */
export const cbField = {
  objectId: () => z.string().regex(/^[0-9a-f]{24}$/),
  int: (min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max),
  enumOf: <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values),
  bool: () => z.boolean(),
  /** An ObjectId as 16 characters of base64url (see shortId), where 24 hex would not fit 64 bytes. */
  shortObjectId: () => z.string().regex(/^[A-Za-z0-9_-]{16}$/),
};

/** An ObjectId's 24 hex characters as the 16 base64url characters of cbField.shortObjectId, and back. */
export const shortId = (id: string) => Buffer.from(id, 'hex').toString('base64url');
export const longId = (s: string) => Buffer.from(s, 'base64url').toString('hex');
