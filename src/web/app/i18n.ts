/**
 * ru/en for the Mini App from the same locale files as the bot: the build bundles only their `webapp`
 * section (scripts/build-webapp.ts). The same `{{name}}` interpolation and `_one/_few/_many/_other`
 * plural keys as i18next, without shipping i18next to the phone.
 */
export type Locale = 'ru' | 'en';

let current: Locale = 'ru';

export function setLocale(locale: string | undefined) {
  current = locale?.toLowerCase().startsWith('en') ? 'en' : 'ru';
  document.documentElement.lang = current;
}

export function locale(): Locale {
  return current;
}

function lookup(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function find(key: string, count: unknown): string | undefined {
  for (const lang of [current, 'ru' as const]) {
    const tree = __WEBAPP_LOCALES__[lang];
    if (typeof count === 'number') {
      const form = cached(`p|${lang}`, () => new Intl.PluralRules(lang)).select(count);
      const plural = lookup(tree, `${key}_${form}`) ?? lookup(tree, `${key}_other`);
      if (typeof plural === 'string') return plural;
    }
    const found = lookup(tree, key);
    if (typeof found === 'string') return found;
  }
  return undefined;
}

/** The text of `webapp.<key>` in the current language; the key itself when missing (a test catches it). */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const text = find(key, vars.count) ?? key;
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => String(vars[name] ?? ''));
}

/** A date as the person reads it: 3 дек / Dec 3 (short), with the weekday when asked. */
export function formatDate(iso: string, opts: Intl.DateTimeFormatOptions = { day: 'numeric', month: 'short' }) {
  const date = new Date(`${iso.slice(0, 10)}T12:00:00Z`);
  const text = dateFormat(opts).format(date);
  // A weekday starts a heading ("Вторник, 1 декабря"); a bare "нояб" under a day number stays small.
  return opts.weekday ? capitalize(text) : text;
}

/** "декабрь 2026 г." → "Декабрь 2026 г." (CSS capitalize would make it "Декабрь 2026 Г."). */
export function capitalize(text: string) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatNumber(value: number, digits = 2) {
  return cached(`n|${current}|${digits}`, () => new Intl.NumberFormat(current, { maximumFractionDigits: digits, minimumFractionDigits: digits })).format(value);
}

/**
 * Intl formatters are slow to make and a grid of 30 × 20 formats hundreds of dates: one per
 * language and options (the grid's first paint on a slow phone halved with this).
 */
const formatters = new Map<string, unknown>();
function cached<T>(key: string, make: () => T): T {
  let found = formatters.get(key) as T | undefined;
  if (found === undefined) {
    found = make();
    formatters.set(key, found);
  }
  return found;
}

export function dateFormat(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(`d|${current}|${JSON.stringify(opts)}`, () => new Intl.DateTimeFormat(current, { ...opts, timeZone: 'UTC' }));
}
