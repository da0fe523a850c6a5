import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml, loadLocaleResources, localeFromTelegram } from '../../src/i18n.js';

function flatten(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** The Mini App's front end (src/web/app) looks its keys up under `webapp.` with its own t(): test/browser checks those. */
const OWN_KEYS = ['/src/web/app'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (OWN_KEYS.some((d) => path.endsWith(d))) return [];
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const resources = loadLocaleResources();
const ru = new Set(flatten(resources.ru));
const en = new Set(flatten(resources.en));

describe('locales', () => {
  it('ru and en have the same keys (plural forms compared by their base key: ru has _few/_many, en does not)', () => {
    const base = (keys: Set<string>) => new Set([...keys].map((k) => k.replace(/_(zero|one|two|few|many|other)$/, '')));
    const ruBase = base(ru);
    const enBase = base(en);
    expect([...ruBase].filter((k) => !enBase.has(k))).toEqual([]);
    expect([...enBase].filter((k) => !ruBase.has(k))).toEqual([]);
  });

  it('every key used in the code exists', () => {
    const root = new URL('../../src', import.meta.url).pathname;
    // t('a.b'), ctx.t("a.b"), DomainError('a.b'), super('a.b'), tKey: 'a.b'
    const pattern = /(?:\bt|DomainError|super|i18nKey)\(\s*['"]([a-zA-Z][\w]*(?:\.[\w]+)+)['"]/g;
    const used = new Set<string>();
    for (const file of sourceFiles(root)) {
      for (const m of readFileSync(file, 'utf8').matchAll(pattern)) used.add(m[1] as string);
    }
    expect(used.size).toBeGreaterThan(5);
    const missing = [...used].filter((k) => !ru.has(k) || !en.has(k));
    expect(missing).toEqual([]);
  });

  it('no value is empty', () => {
    for (const locale of [resources.ru, resources.en]) {
      for (const key of flatten(locale)) {
        const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], locale);
        expect(String(value).trim(), key).not.toBe('');
      }
    }
  });
});

describe('i18n helpers', () => {
  it('maps Telegram language codes to our locales', () => {
    expect(localeFromTelegram('ru')).toBe('ru');
    expect(localeFromTelegram('en-US')).toBe('en');
    expect(localeFromTelegram('uk')).toBeUndefined();
    expect(localeFromTelegram(undefined)).toBeUndefined();
  });

  it('escapes text for HTML parse mode', () => {
    expect(escapeHtml('<b>Tom & "Jerry"</b>')).toBe('&lt;b&gt;Tom &amp; "Jerry"&lt;/b&gt;');
  });
});
