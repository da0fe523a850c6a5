import { z } from 'zod';
import { EDUCATION_FORMS, STAFF_ROLES, STUDENT_STATUSES, type StaffRole } from '../../db/models/people.js';

/**
 * What each import kind looks like: its columns (canonical snake_case English headers, plus the
 * Russian headers people actually write) and a zod schema per row. Every cell reaches the schema
 * as trimmed text; a bad cell becomes an issue whose message is an i18n key (`import.errors.*`)
 * and whose params are the key's variables, so the report can say exactly what is wrong, where.
 */
export const IMPORT_KINDS = ['students', 'staff', 'subjects', 'classes', 'groups', 'load', 'timetable'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** Kinds the deputy may load (R7); admin and secretary may load all (R5). */
export const DEPUTY_KINDS: readonly ImportKind[] = ['subjects', 'classes', 'groups', 'load', 'timetable'];

export interface ColumnDef {
  name: string;
  /** Header spellings accepted besides the canonical name (compared after normalizeHeader). */
  aliases: readonly string[];
  /** The header must be present (the cell may still be allowed empty by the schema). */
  required: boolean;
}

/** Lower case, ё→е, `_`/`-`/`.` and runs of spaces → one space: "Фамилия ", "last_name" and "Last Name" match. */
export function normalizeHeader(header: string): string {
  return header
    .toLowerCase()
    .replace(/ё/g, 'е')
    .replace(/[_\-.:№#]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Cell parsers. Each returns the value or an issue {key, vars}.

type Parsed<T> = { ok: true; value: T } | { ok: false; key: string; vars?: Record<string, unknown> };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (key: string, vars?: Record<string, unknown>): Parsed<never> => ({ ok: false, key, vars });

/** A zod field from a cell parser: the cell arrives as text (missing column → ''). */
function cell<T>(parseCell: (raw: string) => Parsed<T>) {
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

const required =
  <T>(parseCell: (raw: string) => Parsed<T>) =>
  (raw: string): Parsed<T> =>
    raw === '' ? bad('import.errors.required') : parseCell(raw);
const optional =
  <T>(parseCell: (raw: string) => Parsed<T>) =>
  (raw: string): Parsed<T | undefined> =>
    raw === '' ? ok(undefined) : parseCell(raw);

/** A school's own code for a person, class, subject or group: letters, digits and `-_./#`, up to 64. */
const EXTERNAL_ID = /^[\p{L}\p{N}][\p{L}\p{N}_.\-/#]{0,63}$/u;
export const parseExternalId = (raw: string): Parsed<string> =>
  EXTERNAL_ID.test(raw) ? ok(raw) : bad('import.errors.badId', { value: raw.slice(0, 70) });

/** A person's name: letters with spaces, hyphens, apostrophes, dots; no digits (a shifted column shows up here). */
const NAME = /^\p{L}[\p{L}\p{M}' .\-‐–()]*$/u;
const parseName = (raw: string): Parsed<string> => {
  const value = raw.replace(/\s+/g, ' ');
  if (value.length > 60) return bad('import.errors.tooLong', { max: 60 });
  return NAME.test(value) ? ok(value) : bad('import.errors.badName');
};

const parseText =
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

const parseIntIn =
  (min: number, max: number) =>
  (raw: string): Parsed<number> => {
    const n = Number(raw.replace(',', '.'));
    return Number.isInteger(n) && n >= min && n <= max ? ok(n) : bad('import.errors.badNumber', { min, max });
  };

/** Hours may be fractional (half an hour a week is 17 hours a year); one decimal, comma or dot. */
const parseHours = (raw: string): Parsed<number> => {
  const n = Number(raw.replace(',', '.'));
  return Number.isFinite(n) && n >= 0 && n <= 2000 && Math.round(n * 10) === n * 10
    ? ok(n)
    : bad('import.errors.badNumber', { min: 0, max: 2000 });
};

/** An enum cell with synonyms (Russian words people type); the message lists the canonical values. */
const parseEnum =
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
const parseBoolean = (raw: string): Parsed<boolean> => {
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
const parseRoles = (raw: string): Parsed<StaffRole[]> => {
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
const parseIdList = (raw: string): Parsed<string[]> => {
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
const parseLetter = (raw: string): Parsed<string> =>
  /^\p{L}{1,3}$/u.test(raw) ? ok(raw.toUpperCase()) : bad('import.errors.badLetter', { value: raw.slice(0, 10) });

// ---------------------------------------------------------------------------------------------
// Columns per kind

const col = (name: string, aliases: readonly string[], isRequired = false): ColumnDef => ({
  name,
  aliases,
  required: isRequired,
});

const NAME_COLUMNS = [
  col('last_name', ['фамилия', 'surname', 'family name'], true),
  col('first_name', ['имя', 'given name'], true),
  col('middle_name', ['отчество', 'patronymic']),
];

const PARENT_FIELDS = [
  ['id', ['код', 'id', 'ид']],
  ['last_name', ['фамилия']],
  ['first_name', ['имя']],
  ['middle_name', ['отчество']],
  ['phone', ['телефон']],
  ['relation', ['родство', 'кем приходится', 'степень родства']],
] as const;

/** parent1_last_name ← "Фамилия родителя 1", "Родитель 1 фамилия", "Родитель1 Фамилия". */
const parentColumns = (n: 1 | 2): ColumnDef[] =>
  PARENT_FIELDS.map(([field, words]) =>
    col(
      `parent${n}_${field}`,
      words.flatMap((w) => [`${w} родителя ${n}`, `родитель ${n} ${w}`, `родитель${n} ${w}`, `parent ${n} ${field.replace('_', ' ')}`]),
    ),
  );

export const COLUMNS: Record<ImportKind, ColumnDef[]> = {
  students: [
    col('student_id', ['код ученика', 'id ученика', 'ид ученика', 'номер ученика', 'код', 'id'], true),
    ...NAME_COLUMNS,
    col('class_id', ['класс', 'код класса', 'class'], true),
    col('birth_date', ['дата рождения', 'birthday', 'date of birth']),
    col('form', ['форма обучения', 'форма']),
    col('pe_exempt', ['освобождение от физкультуры', 'освобожден от физкультуры', 'освобождение от фк', 'пе освобождение']),
    col('status', ['статус']),
    ...parentColumns(1),
    ...parentColumns(2),
  ],
  staff: [
    col('staff_id', ['код сотрудника', 'табельный номер', 'id сотрудника', 'код', 'id'], true),
    ...NAME_COLUMNS,
    col('roles', ['роли', 'роль', 'role'], true),
    col('phone', ['телефон']),
    col('active', ['работает', 'активен', 'действующий']),
  ],
  subjects: [
    col('subject_id', ['код предмета', 'код', 'id'], true),
    col('name', ['название', 'наименование', 'предмет'], true),
    col('short_name', ['краткое название', 'сокращение', 'краткое наименование']),
    col('assessment', ['оценивание', 'система оценивания']),
  ],
  classes: [
    col('class_id', ['код класса', 'код', 'id'], true),
    col('grade', ['параллель', 'год обучения', 'номер класса'], true),
    col('letter', ['литера', 'буква'], true),
    col('class_teacher_id', ['классный руководитель', 'код классного руководителя', 'кл рук']),
  ],
  groups: [
    col('group_id', ['код группы', 'код', 'id'], true),
    col('class_id', ['класс', 'код класса'], true),
    col('subject_id', ['предмет', 'код предмета'], true),
    col('name', ['название', 'группа', 'наименование'], true),
    col('student_ids', ['ученики', 'коды учеников', 'students'], true),
  ],
  load: [
    col('class_id', ['класс', 'код класса'], true),
    col('group_id', ['группа', 'код группы']),
    col('subject_id', ['предмет', 'код предмета'], true),
    col('teacher_id', ['учитель', 'код учителя', 'преподаватель'], true),
    col('hours_per_year', ['часов в год', 'часы в год', 'часы', 'hours'], true),
  ],
  timetable: [
    col('class_id', ['класс', 'код класса'], true),
    col('group_id', ['группа', 'код группы']),
    col('weekday', ['день недели', 'день', 'day'], true),
    col('lesson_no', ['номер урока', 'урок', 'lesson'], true),
    col('subject_id', ['предмет', 'код предмета'], true),
    col('teacher_id', ['учитель', 'код учителя', 'преподаватель'], true),
    col('room', ['кабинет', 'аудитория']),
    col('valid_from', ['действует с', 'с', 'from']),
    col('valid_to', ['действует по', 'по', 'to']),
  ],
};

/** Header as written → canonical column name, for one kind. */
export function headerMap(kind: ImportKind): Map<string, string> {
  const map = new Map<string, string>();
  for (const c of COLUMNS[kind]) {
    map.set(normalizeHeader(c.name), c.name);
    for (const a of c.aliases) if (!map.has(normalizeHeader(a))) map.set(normalizeHeader(a), c.name);
  }
  return map;
}

export interface MappedHeaders {
  /** Header as written in the file → canonical column. Unknown headers are left out (ignored). */
  columns: Map<string, string>;
  /** Canonical columns present in the file. */
  present: Set<string>;
  errors: Array<{ column: string; key: string; vars?: Record<string, unknown> }>;
}

export function mapHeaders(kind: ImportKind, headers: readonly string[]): MappedHeaders {
  const known = headerMap(kind);
  const columns = new Map<string, string>();
  const present = new Set<string>();
  const errors: MappedHeaders['errors'] = [];
  for (const header of headers) {
    const name = known.get(normalizeHeader(header));
    if (!name) continue;
    if (present.has(name)) {
      errors.push({ column: name, key: 'import.errors.duplicateColumn', vars: { header } });
      continue;
    }
    columns.set(header, name);
    present.add(name);
  }
  for (const c of COLUMNS[kind]) {
    if (c.required && !present.has(c.name)) errors.push({ column: c.name, key: 'import.errors.missingColumn', vars: { column: c.name } });
  }
  return { columns, present, errors };
}

/** The kind whose identifying columns are all in the file (bot: a document sent without a caption). */
export function guessKind(headers: readonly string[]): ImportKind | undefined {
  const has = (kind: ImportKind, ...names: string[]) => {
    const { present } = mapHeaders(kind, headers);
    return names.every((n) => present.has(n));
  };
  if (has('students', 'student_id', 'class_id', 'last_name')) return 'students';
  if (has('staff', 'staff_id', 'roles')) return 'staff';
  if (has('groups', 'group_id', 'student_ids')) return 'groups';
  if (has('timetable', 'weekday', 'lesson_no', 'teacher_id')) return 'timetable';
  if (has('load', 'hours_per_year', 'teacher_id')) return 'load';
  if (has('classes', 'class_id', 'letter') && mapHeaders('classes', headers).errors.length === 0) return 'classes';
  if (has('subjects', 'subject_id', 'name') && !has('groups', 'class_id')) return 'subjects';
  return undefined;
}

const KIND_WORDS: Record<string, ImportKind> = {
  students: 'students',
  student: 'students',
  pupils: 'students',
  ученики: 'students',
  учащиеся: 'students',
  обучающиеся: 'students',
  контингент: 'students',
  staff: 'staff',
  teachers: 'staff',
  сотрудники: 'staff',
  персонал: 'staff',
  учителя: 'staff',
  кадры: 'staff',
  subjects: 'subjects',
  предметы: 'subjects',
  classes: 'classes',
  классы: 'classes',
  groups: 'groups',
  группы: 'groups',
  load: 'load',
  нагрузка: 'load',
  'учебная нагрузка': 'load',
  'педагогическая нагрузка': 'load',
  timetable: 'timetable',
  schedule: 'timetable',
  расписание: 'timetable',
};

/** A caption or command word → kind ("students", "Ученики", "расписание"). */
export function kindFromWord(word: string | undefined): ImportKind | undefined {
  if (!word) return undefined;
  return KIND_WORDS[normalizeHeader(word).replace(/^\//, '')];
}

// ---------------------------------------------------------------------------------------------
// Row schemas

const id = cell(required(parseExternalId));
const optionalId = cell(optional(parseExternalId));
const name = cell(required(parseName));
const optionalName = cell(optional(parseName));

const FORM_WORDS: Record<string, (typeof EDUCATION_FORMS)[number]> = {
  очная: 'regular',
  обычная: 'regular',
  очно: 'regular',
  надому: 'home',
  'на дому': 'home',
  домашняя: 'home',
  'в больнице': 'hospital',
  больница: 'hospital',
  стационар: 'hospital',
};
const STATUS_WORDS: Record<string, (typeof STUDENT_STATUSES)[number]> = {
  обучается: 'studying',
  учится: 'studying',
  выбыл: 'withdrawn',
  выбыла: 'withdrawn',
  отчислен: 'withdrawn',
  отчислена: 'withdrawn',
  переведен: 'transferred',
  переведена: 'transferred',
};
export const RELATIONS = ['mother', 'father', 'guardian'] as const;
const RELATION_WORDS: Record<string, (typeof RELATIONS)[number]> = {
  мать: 'mother',
  мама: 'mother',
  отец: 'father',
  папа: 'father',
  опекун: 'guardian',
  попечитель: 'guardian',
  'законный представитель': 'guardian',
};

const parentId = optionalId;
const parentPhone = cell(optional(parsePhone));
const parentRelation = cell(optional(parseEnum(RELATIONS, RELATION_WORDS)));

/** A parent's columns only make sense with the parent's code. */
function requireParentId(row: Record<string, unknown>, ctx: z.RefinementCtx) {
  for (const n of [1, 2]) {
    if (row[`parent${n}_id`]) continue;
    for (const f of ['last_name', 'first_name', 'middle_name', 'phone', 'relation']) {
      if (row[`parent${n}_${f}`] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [`parent${n}_id`], message: 'import.errors.required', params: {} });
        break;
      }
    }
  }
}

export const studentRow = z
  .object({
    student_id: id,
    last_name: name,
    first_name: name,
    middle_name: optionalName,
    class_id: id,
    birth_date: cell(optional(parseDate)),
    form: cell(optional(parseEnum(EDUCATION_FORMS, FORM_WORDS))),
    pe_exempt: cell(optional(parseBoolean)),
    status: cell(optional(parseEnum(STUDENT_STATUSES, STATUS_WORDS))),
    parent1_id: parentId,
    parent1_last_name: optionalName,
    parent1_first_name: optionalName,
    parent1_middle_name: optionalName,
    parent1_phone: parentPhone,
    parent1_relation: parentRelation,
    parent2_id: parentId,
    parent2_last_name: optionalName,
    parent2_first_name: optionalName,
    parent2_middle_name: optionalName,
    parent2_phone: parentPhone,
    parent2_relation: parentRelation,
  })
  .superRefine(requireParentId);

export const staffRow = z.object({
  staff_id: id,
  last_name: name,
  first_name: name,
  middle_name: optionalName,
  roles: cell(required(parseRoles)),
  phone: cell(optional(parsePhone)),
  active: cell(optional(parseBoolean)),
});

export const subjectRow = z.object({
  subject_id: id,
  name: cell(required(parseText(100))),
  short_name: cell(optional(parseText(30))),
  assessment: cell(
    optional(
      parseEnum(['marks', 'passfail'] as const, {
        оценки: 'marks',
        отметки: 'marks',
        балльная: 'marks',
        зачет: 'passfail',
        'зачет незачет': 'passfail',
        безотметочное: 'passfail',
        'pass fail': 'passfail',
      }),
    ),
  ),
});

export const classRow = z.object({
  class_id: id,
  grade: cell(required(parseIntIn(1, 11))),
  letter: cell(required(parseLetter)),
  class_teacher_id: optionalId,
});

export const groupRow = z.object({
  group_id: id,
  class_id: id,
  subject_id: id,
  name: cell(required(parseText(60))),
  student_ids: cell(required(parseIdList)),
});

export const loadRow = z.object({
  class_id: id,
  group_id: optionalId,
  subject_id: id,
  teacher_id: id,
  hours_per_year: cell(required(parseHours)),
});

export const timetableRow = z
  .object({
    class_id: id,
    group_id: optionalId,
    weekday: cell(required(parseWeekday)),
    lesson_no: cell(required(parseIntIn(0, 12))),
    subject_id: id,
    teacher_id: id,
    room: cell(optional(parseText(30))),
    valid_from: cell(optional(parseDate)),
    valid_to: cell(optional(parseDate)),
  })
  .superRefine((row, ctx) => {
    if (row.valid_from && row.valid_to && row.valid_to < row.valid_from) {
      ctx.addIssue({ code: 'custom', path: ['valid_to'], message: 'import.errors.dateOrder', params: {} });
    }
  });

export const ROW_SCHEMAS = {
  students: studentRow,
  staff: staffRow,
  subjects: subjectRow,
  classes: classRow,
  groups: groupRow,
  load: loadRow,
  timetable: timetableRow,
} as const;

export type StudentRow = z.output<typeof studentRow>;
export type StaffRow = z.output<typeof staffRow>;
export type SubjectRow = z.output<typeof subjectRow>;
export type ClassRow = z.output<typeof classRow>;
export type GroupRow = z.output<typeof groupRow>;
export type LoadRow = z.output<typeof loadRow>;
export type TimetableRow = z.output<typeof timetableRow>;
export type RowOf<K extends ImportKind> = z.output<(typeof ROW_SCHEMAS)[K]>;
