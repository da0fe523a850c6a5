import { z } from 'zod';
import { STAFF_ROLES, type StaffRole } from '../shared/vocabulary.js';
import { normalizeHeader } from './kinds.js';

/**
 * Cell parsers of the import files. Every cell arrives as trimmed text; each parser returns the
 * value or an issue whose key is an i18n key (`import.errors.*`) with the key's variables, so the
 * report can say exactly what is wrong, where.
 */
export type Parsed<T> = { ok: true; value: T } | { ok: false; key: string; vars?: Record<string, unknown> };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (key: string, vars?: Record<string, unknown>): Parsed<never> => ({ ok: false, key, vars });

/** A zod field from a cell parser: the cell arrives as text (missing column → ''). */
export function cell<T>(parseCell: (raw: string) => Parsed<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const result = parseCell((raw ?? '').trim());
      if (result.ok) return result.value;
      ctx.addIssue({ code: 'custom', message: result.key, params: result.vars ?? {} });
      return z.NEVER;
    });
}

export const required =
  <T>(parseCell: (raw: string) => Parsed<T>) =>
  (raw: string): Parsed<T> =>
    raw === '' ? bad('import.errors.required') : parseCell(raw);
export const optional =
  <T>(parseCell: (raw: string) => Parsed<T>) =>
  (raw: string): Parsed<T | undefined> =>
    raw === '' ? ok(undefined) : parseCell(raw);

/** A school's own code for a person, class, subject or group: letters, digits and `-_./#`, up to 64. */
const EXTERNAL_ID = /^[\p{L}\p{N}][\p{L}\p{N}_.\-/#]{0,63}$/u;
export const parseExternalId = (raw: string): Parsed<string> =>
  EXTERNAL_ID.test(raw) ? ok(raw) : bad('import.errors.badId', { value: raw.slice(0, 70) });

/** A person's name: letters with spaces, hyphens, apostrophes, dots; no digits (a shifted column shows up here). */
const NAME = /^\p{L}[\p{L}\p{M}' .\-‐–()]*$/u;
export const parseName = (raw: string): Parsed<string> => {
  const value = raw.replace(/\s+/g, ' ');
  if (value.length > 60) return bad('import.errors.tooLong', { max: 60 });
  return NAME.test(value) ? ok(value) : bad('import.errors.badName');
};

export const parseText =
  (max: number) =>
  (raw: string): Parsed<string> => {
    const value = raw.replace(/\s+/g, ' ');
    return value.length > max ? bad('import.errors.tooLong', { max }) : ok(value);
  };

const pad = (n: number) => String(n).padStart(2, '0');
/** YYYY-MM-DD or DD.MM.YYYY (how Russian spreadsheets show dates); must be a real calendar date. */
export const parseDate = (raw: string): Parsed<string> => {
  let y: number;
  let m: number;
  let d: number;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(raw);
  const ru = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/.exec(raw);
  if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (ru) [y, m, d] = [Number(ru[3]), Number(ru[2]), Number(ru[1])];
  else return bad('import.errors.badDate', { value: raw.slice(0, 20) });
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || y > 2100 || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return bad('import.errors.badDate', { value: raw.slice(0, 20) });
  }
  return ok(`${y}-${pad(m)}-${pad(d)}`);
};

/**
 * Digits, "+", spaces, dashes and parentheses, 10–15 digits. Stored as "+<digits>" when written
 * with a plus, Russian 8XXXXXXXXXX / 7XXXXXXXXXX become +7XXXXXXXXXX, otherwise the digits.
 */
export const parsePhone = (raw: string): Parsed<string> => {
  if (!/^\+?[\d\s\-()]+$/.test(raw)) return bad('import.errors.badPhone');
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 10 || digits.length > 15) return bad('import.errors.badPhone');
  if (raw.trim().startsWith('+')) return ok(`+${digits}`);
  if (digits.length === 11 && (digits.startsWith('8') || digits.startsWith('7'))) return ok(`+7${digits.slice(1)}`);
  return ok(digits);
};

export const parseIntIn =
  (min: number, max: number) =>
  (raw: string): Parsed<number> => {
    const n = Number(raw.replace(',', '.'));
    return Number.isInteger(n) && n >= min && n <= max ? ok(n) : bad('import.errors.badNumber', { min, max });
  };

/** Hours may be fractional (half an hour a week is 17 hours a year); one decimal, comma or dot. */
export const parseHours = (raw: string): Parsed<number> => {
  const n = Number(raw.replace(',', '.'));
  return Number.isFinite(n) && n >= 0 && n <= 2000 && Math.round(n * 10) === n * 10
    ? ok(n)
    : bad('import.errors.badNumber', { min: 0, max: 2000 });
};

/** An enum cell with synonyms (Russian words people type); the message lists the canonical values. */
export const parseEnum =
  <T extends string>(values: readonly T[], synonyms: Record<string, T> = {}) =>
  (raw: string): Parsed<T> => {
    const key = normalizeHeader(raw);
    const found = values.find((v) => v === key) ?? synonyms[key];
    return found ? ok(found) : bad('import.errors.notOneOf', { value: raw.slice(0, 30), values: values.join(', ') });
  };

const BOOLEAN_WORDS: Record<string, boolean> = {
  '1': true,
  '0': false,
  true: true,
  false: false,
  yes: true,
  no: false,
  y: true,
  n: false,
  да: true,
  нет: false,
  д: true,
  н: false,
  '+': true,
  '-': false,
  истина: true,
  ложь: false,
};
export const parseBoolean = (raw: string): Parsed<boolean> => {
  const v = BOOLEAN_WORDS[raw.toLowerCase()];
  return v === undefined ? bad('import.errors.badBoolean', { value: raw.slice(0, 30) }) : ok(v);
};

const ROLE_WORDS: Record<string, StaffRole> = {
  администратор: 'admin',
  админ: 'admin',
  секретарь: 'secretary',
  делопроизводитель: 'secretary',
  'инспектор ок': 'secretary',
  завуч: 'deputy',
  заместитель: 'deputy',
  'заместитель директора': 'deputy',
  зам: 'deputy',
  учитель: 'teacher',
  педагог: 'teacher',
  преподаватель: 'teacher',
};
/** Roles separated by `;` or `,` (R1): admin, secretary, deputy, teacher (or the Russian words). */
export const parseRoles = (raw: string): Parsed<StaffRole[]> => {
  const roles = new Set<StaffRole>();
  for (const part of raw.split(/[;,/]+/)) {
    const word = normalizeHeader(part);
    if (!word) continue;
    const role = (STAFF_ROLES as readonly string[]).includes(word) ? (word as StaffRole) : ROLE_WORDS[word];
    if (!role) return bad('import.errors.badRole', { value: part.trim().slice(0, 30), values: STAFF_ROLES.join(', ') });
    roles.add(role);
  }
  return roles.size > 0 ? ok([...roles]) : bad('import.errors.required');
};

const WEEKDAY_WORDS: Record<string, number> = {
  пн: 1,
  пон: 1,
  понедельник: 1,
  mon: 1,
  monday: 1,
  вт: 2,
  вторник: 2,
  tue: 2,
  tuesday: 2,
  ср: 3,
  среда: 3,
  wed: 3,
  wednesday: 3,
  чт: 4,
  четверг: 4,
  thu: 4,
  thursday: 4,
  пт: 5,
  пятница: 5,
  fri: 5,
  friday: 5,
  сб: 6,
  суббота: 6,
  sat: 6,
  saturday: 6,
};
/** 1 (Monday) … 6 (Saturday), or Пн/Вт/…, Mon/Tue/…, full names. */
export const parseWeekday = (raw: string): Parsed<number> => {
  const word = normalizeHeader(raw);
  if (/^[1-6]$/.test(word)) return ok(Number(word));
  const n = WEEKDAY_WORDS[word];
  return n ? ok(n) : bad('import.errors.badWeekday', { value: raw.slice(0, 20) });
};

/** Student codes separated by `;`, `,` or spaces. */
export const parseIdList = (raw: string): Parsed<string[]> => {
  const ids: string[] = [];
  for (const part of raw.split(/[;,\s]+/)) {
    if (!part) continue;
    const id = parseExternalId(part);
    if (!id.ok) return id;
    if (!ids.includes(id.value)) ids.push(id.value);
  }
  return ok(ids);
};

/** A class letter: one or two letters ("А", "Б", "ИТ"), stored in upper case. */
export const parseLetter = (raw: string): Parsed<string> =>
  /^\p{L}{1,3}$/u.test(raw) ? ok(raw.toUpperCase()) : bad('import.errors.badLetter', { value: raw.slice(0, 10) });
