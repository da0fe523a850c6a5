import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n, type TFunction } from 'i18next';
import { LOCALES, type Locale } from './config.js';

export const LOCALES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'locales');

/** Escape user text for Telegram's HTML parse mode. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export type Translate = (key: string, vars?: Record<string, unknown>) => string;

export function loadLocaleResources(): Record<Locale, Record<string, unknown>> {
  const out = {} as Record<Locale, Record<string, unknown>>;
  for (const locale of LOCALES) {
    out[locale] = JSON.parse(readFileSync(join(LOCALES_DIR, `${locale}.json`), 'utf8')) as Record<string, unknown>;
  }
  return out;
}

/** One i18next instance per app (no global state); user text is escaped by the caller where HTML is used. */
export async function createI18n(defaultLocale: Locale): Promise<i18n> {
  const resources = loadLocaleResources();
  const instance = i18next.createInstance();
  await instance.init({
    lng: defaultLocale,
    fallbackLng: defaultLocale,
    supportedLngs: [...LOCALES],
    resources: Object.fromEntries(Object.entries(resources).map(([lng, res]) => [lng, { translation: res }])),
    // Interpolated values are HTML-escaped (messages use parse_mode HTML); `{{- raw}}` opts out.
    interpolation: { escapeValue: true, escape: escapeHtml },
    returnNull: false,
    showSupportNotice: false,
  } as Parameters<typeof instance.init>[0]);
  return instance;
}

export function translator(instance: i18n, locale: Locale): Translate {
  const t: TFunction = instance.getFixedT(locale);
  return (key, vars) => t(key, vars ?? {}) as string;
}

/** Telegram's language_code ("ru", "en-US", "uk") → one of our locales, or undefined. */
export function localeFromTelegram(code: string | undefined): Locale | undefined {
  if (!code) return undefined;
  const base = code.toLowerCase().split('-')[0];
  return (LOCALES as readonly string[]).includes(base ?? '') ? (base as Locale) : undefined;
}
