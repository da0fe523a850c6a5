import { describe, expect, it } from 'vitest';
import { studentRow, timetableRow } from '../../../src/domain/imports/rows.js';

/** Issue 11: a row with two bad cells reports both in one pass, the row's own rules included. */
const issues = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  (r.error?.issues ?? []).map((i) => `${String(i.path[0])}: ${i.message}`);

describe('every bad cell of a row is reported', () => {
  it('a student row: a bad birth date and a parent’s phone without the parent’s code', () => {
    const r = studentRow.safeParse({ student_id: 'S1', last_name: 'Иванов', first_name: 'Иван', class_id: '5A', birth_date: '31.02.2015', parent1_phone: '+7 916 111-22-33' });
    expect(issues(r)).toEqual(['birth_date: import.errors.badDate', 'parent1_id: import.errors.required']);
  });

  it('a timetable row: a bad weekday and dates in the wrong order', () => {
    const r = timetableRow.safeParse({ class_id: '5A', weekday: 'восьмое', lesson_no: '1', subject_id: 'M', teacher_id: 'T', valid_from: '2026-09-10', valid_to: '2026-09-01' });
    expect(issues(r)).toEqual(['weekday: import.errors.badWeekday', 'valid_to: import.errors.dateOrder']);
  });

  it('a bad parent code is reported once (not also as missing)', () => {
    const r = studentRow.safeParse({ student_id: 'S1', last_name: 'Иванов', first_name: 'Иван', class_id: '5A', parent1_id: '!!', parent1_phone: '+7 916 111-22-33' });
    expect(issues(r)).toEqual(['parent1_id: import.errors.badId']);
  });
});
