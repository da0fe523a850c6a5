import { DomainError } from '../shared/errors.js';
import type { PERIOD_MARK_VALUES } from '../shared/vocabulary.js';

/**
 * The school's assessment rule (R16, R17): how a period or year mark is suggested from what the
 * journal holds. Pure functions: the screens, the Mini App and the reports all suggest the same way.
 */

export type PeriodValue = (typeof PERIOD_MARK_VALUES)[number];
export type NotAssessed = 'Н' | 'Б' | 'У';
export type Assessment = 'marks' | 'passfail';

export interface AssessmentRule {
  /** The fractional part from which an average rounds up: 0.5 → 3.5 is 4; 0.6 → 3.5 is 3, 3.6 is 4. */
  roundFrom: number;
  /** Fewer current marks than this: not assessed (Н/Б/У by the absences), R16. */
  minMarks: number;
}

export const DEFAULT_ASSESSMENT: AssessmentRule = { roundFrom: 0.5, minMarks: 3 };

export interface AbsenceCounts {
  Н: number;
  Б: number;
  У: number;
}

/** An average to a mark 2–5 under the school's rounding threshold. */
export function roundMark(average: number, roundFrom: number): 2 | 3 | 4 | 5 {
  const whole = Math.floor(average);
  // 1e-9: 3.6 - 3 is 0.6000000000000001 in floating point, and 3.5 - 3 must reach 0.5.
  const up = average - whole >= roundFrom - 1e-9 ? 1 : 0;
  return Math.min(5, Math.max(2, whole + up)) as 2 | 3 | 4 | 5;
}

/**
 * Not assessed (R16): the reason most of the missed lessons had; a tie favours the student
 * (illness, then excused, then unexcused); Н when nothing was missed.
 */
export function notAssessedFrom(absences: AbsenceCounts): NotAssessed {
  if (absences.Н + absences.Б + absences.У === 0) return 'Н';
  let best: NotAssessed = 'Б';
  for (const c of ['У', 'Н'] as const) if (absences[c] > absences[best]) best = c;
  return best;
}

export interface PeriodFacts {
  assessment: Assessment;
  /** The period's weighted average of current marks; undefined without marks. */
  average?: number;
  marks: number;
  absences: AbsenceCounts;
  /** Lessons held for this student in the period (pass/fail subjects are judged by attendance). */
  lessons: number;
}

/**
 * R17: the suggested period mark. A marked subject: the rounded average with at least `minMarks`
 * marks, else Н/Б/У from the absences, or nothing when there were no absences either (the teacher
 * decides). A pass/fail subject: К when the student attended at least half of the lessons.
 */
export function suggestPeriodMark(f: PeriodFacts, rule: AssessmentRule): PeriodValue | undefined {
  const missed = f.absences.Н + f.absences.Б + f.absences.У;
  if (f.assessment === 'passfail') {
    if (f.lessons === 0) return undefined;
    return missed * 2 <= f.lessons ? 'К' : notAssessedFrom(f.absences);
  }
  if (f.average !== undefined && f.marks >= rule.minMarks) return String(roundMark(f.average, rule.roundFrom)) as PeriodValue;
  return missed > 0 ? notAssessedFrom(f.absences) : undefined;
}

/** The arithmetic mean of the numeric period marks, to two decimals (the year mark's basis). */
export function meanOfPeriodMarks(values: readonly string[]): number | undefined {
  const numbers = values.filter((v) => /^[2-5]$/.test(v)).map(Number);
  if (numbers.length === 0) return undefined;
  return Math.round((numbers.reduce((a, b) => a + b, 0) / numbers.length) * 100) / 100;
}

/**
 * R17 for the year: the rounded mean of the period marks; К when every period was passed; else the
 * most common Н/Б/У; nothing without period marks.
 */
export function suggestYearMark(periodValues: readonly string[], assessment: Assessment, rule: AssessmentRule): PeriodValue | undefined {
  if (periodValues.length === 0) return undefined;
  if (assessment === 'passfail') {
    if (periodValues.every((v) => v === 'К')) return 'К';
  } else {
    const mean = meanOfPeriodMarks(periodValues);
    if (mean !== undefined) return String(roundMark(mean, rule.roundFrom)) as PeriodValue;
  }
  const counts: AbsenceCounts = { Н: 0, Б: 0, У: 0 };
  for (const v of periodValues) if (v === 'Н' || v === 'Б' || v === 'У') counts[v] += 1;
  return notAssessedFrom(counts);
}

/**
 * R16, checked in the domain whatever the face: 2–5 or Н/Б/У for a marked subject, К/Н/Б/У for a
 * pass/fail one. Accepts Latin look-alikes typed by hand (H, B, Y, K) and any case.
 */
export function parsePeriodValue(raw: string, assessment: Assessment): PeriodValue {
  const latin: Record<string, string> = { H: 'Н', B: 'Б', Y: 'У', K: 'К' };
  const v = raw.trim().toUpperCase();
  const value = latin[v] ?? v;
  const allowed: readonly string[] = assessment === 'passfail' ? ['К', 'Н', 'Б', 'У'] : ['2', '3', '4', '5', 'Н', 'Б', 'У'];
  if (!allowed.includes(value)) {
    throw new DomainError(assessment === 'passfail' ? 'periodMarks.badValuePassFail' : 'periodMarks.badValue', { value: raw.slice(0, 10) });
  }
  return value as PeriodValue;
}
