import { z } from 'zod';
import { EDUCATION_FORMS, STUDENT_STATUSES } from '../shared/vocabulary.js';
import { cell, optional, parseBoolean, parseDate, parseEnum, parseExternalId, parseHours, parseIdList, parseIntIn, parseLetter, parseName, parsePhone, parseRoles, parseText, parseWeekday, required } from './cells.js';
import type { ImportKind } from './kinds.js';

/**
 * A zod schema per row of each import kind, built from the cell parsers (cells.ts): a bad cell
 * becomes an issue naming the column and the reason.
 */
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
  // Checked even when another cell of the row is bad, so one pass reports every bad cell of a row
  // (issue 11); skipped only when a parent's code itself is bad (that is the one thing to fix).
  .superRefine(requireParentId, { when: (p) => !p.issues.some((i) => /^parent\d_id$/.test(String(i.path?.[0]))) });

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
  pe: cell(optional(parseBoolean)),
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
  }, { when: (p) => !p.issues.some((i) => ['valid_from', 'valid_to'].includes(String(i.path?.[0]))) });

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
