import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ASSESSMENT,
  meanOfPeriodMarks,
  notAssessedFrom,
  parsePeriodValue,
  roundMark,
  suggestPeriodMark,
  suggestYearMark,
} from '../../../src/domain/journal/assessment.js';
import { DomainError } from '../../../src/domain/shared/errors.js';

const none = { Н: 0, Б: 0, У: 0 };

describe('the assessment rule (R16, R17)', () => {
  it('rounds by the school threshold: 0.5 makes 3.5 a 4, 0.6 keeps 3.5 a 3 and makes 3.6 a 4', () => {
    expect(roundMark(3.5, 0.5)).toBe(4);
    expect(roundMark(3.49, 0.5)).toBe(3);
    expect(roundMark(3.5, 0.6)).toBe(3);
    expect(roundMark(3.6, 0.6)).toBe(4);
    expect(roundMark(4.6, 0.6)).toBe(5);
    expect(roundMark(1.2, 0.5)).toBe(2);
    expect(roundMark(5, 0.5)).toBe(5);
  });

  it('suggests the rounded average with enough marks, Н/Б/У by the absences below the minimum, nothing without either', () => {
    const base = { assessment: 'marks' as const, lessons: 10 };
    expect(suggestPeriodMark({ ...base, average: 4.5, marks: 3, absences: none }, DEFAULT_ASSESSMENT)).toBe('5');
    expect(suggestPeriodMark({ ...base, average: 4.5, marks: 3, absences: none }, { roundFrom: 0.6, minMarks: 3 })).toBe('4');
    expect(suggestPeriodMark({ ...base, average: 5, marks: 2, absences: { Н: 1, Б: 6, У: 0 } }, DEFAULT_ASSESSMENT)).toBe('Б');
    expect(suggestPeriodMark({ ...base, average: 5, marks: 2, absences: { Н: 3, Б: 1, У: 2 } }, DEFAULT_ASSESSMENT)).toBe('Н');
    expect(suggestPeriodMark({ ...base, average: 5, marks: 2, absences: none }, DEFAULT_ASSESSMENT)).toBeUndefined();
  });

  it('a pass/fail subject: К with at least half the lessons attended, else the absence reason', () => {
    const f = { assessment: 'passfail' as const, marks: 0, lessons: 8 };
    expect(suggestPeriodMark({ ...f, absences: { Н: 0, Б: 4, У: 0 } }, DEFAULT_ASSESSMENT)).toBe('К');
    expect(suggestPeriodMark({ ...f, absences: { Н: 0, Б: 5, У: 0 } }, DEFAULT_ASSESSMENT)).toBe('Б');
    expect(suggestPeriodMark({ ...f, lessons: 0, absences: none }, DEFAULT_ASSESSMENT)).toBeUndefined();
  });

  it('a tie between reasons favours the student; nothing missed is Н', () => {
    expect(notAssessedFrom({ Н: 2, Б: 2, У: 2 })).toBe('Б');
    expect(notAssessedFrom({ Н: 2, Б: 0, У: 2 })).toBe('У');
    expect(notAssessedFrom(none)).toBe('Н');
  });

  it('the year mark is the rounded mean of the period marks (4, 4, 5, 5 → 4.5 → 5), К when every period passed', () => {
    expect(meanOfPeriodMarks(['4', '4', '5', '5'])).toBe(4.5);
    expect(suggestYearMark(['4', '4', '5', '5'], 'marks', DEFAULT_ASSESSMENT)).toBe('5');
    expect(suggestYearMark(['3', '4', '4', 'Б'], 'marks', DEFAULT_ASSESSMENT)).toBe('4');
    expect(suggestYearMark(['Б', 'Б'], 'marks', DEFAULT_ASSESSMENT)).toBe('Б');
    expect(suggestYearMark(['К', 'К'], 'passfail', DEFAULT_ASSESSMENT)).toBe('К');
    expect(suggestYearMark([], 'marks', DEFAULT_ASSESSMENT)).toBeUndefined();
  });

  it('R16: values are checked against the subject; Latin look-alikes are read as Cyrillic; a forged value is refused', () => {
    expect(parsePeriodValue('5', 'marks')).toBe('5');
    expect(parsePeriodValue(' h ', 'marks')).toBe('Н');
    expect(parsePeriodValue('k', 'passfail')).toBe('К');
    for (const bad of ['К', '1', '5+', '', '55']) expect(() => parsePeriodValue(bad, 'marks'), bad).toThrow(DomainError);
    for (const bad of ['5', '2', 'x']) expect(() => parsePeriodValue(bad, 'passfail'), bad).toThrow(DomainError);
  });
});
