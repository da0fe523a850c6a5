import type { Types } from 'mongoose';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { DEFAULT_BELLS, DEFAULT_WORK_KINDS } from '../../db/models/school.js';
import { cachedSchool } from '../../db/school-cache.js';
import { addDays, type LocalDate, localDate } from '../shared/calendar.js';
import { AccessDenied, DomainError, NotFound } from '../shared/errors.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';

/**
 * A school's rules: the regulation's values are defaults each school may change (admin or operator).
 * - R13 deadlines: class-work marks within `classWorkDueDays` after the lesson, written work
 *   (tests, control work) within `writtenWorkDueDays`;
 * - R14 lock: `lockAfterDays` after a lesson its record is locked (the lock itself: journal/locks.ts);
 * - R15 the final-mark window, the grace window of mark notices, quiet hours, invite lifetime;
 * - the kinds of work with their weights, and the bell times.
 */

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/);

/** What an admin (or the operator) may change; the limits are the schema's. */
export const schoolSettingsPatch = z
  .object({
    lockAfterDays: z.number().int().min(1).max(60), // R14
    classWorkDueDays: z.number().int().min(0).max(30), // R13
    writtenWorkDueDays: z.number().int().min(0).max(30), // R13
    finalMarkWindowDays: z.number().int().min(1).max(30), // R15
    markGraceMinutes: z.number().int().min(0).max(60),
    quietHours: z.object({ from: hhmm, to: hhmm }),
    inviteTtlDays: z.number().int().min(1).max(365),
    /** R17: the assessment rule that suggests period marks (journal/assessment.ts). */
    assessment: z.object({ roundFrom: z.number().min(0.1).max(0.9), minMarks: z.number().int().min(0).max(20) }).partial(),
    /** Issue 14 (R26–R28): the automatic reports, each on unless turned off (jobs/reports.ts). */
    reports: z.object({ weekly: z.boolean(), monthly: z.boolean(), periodEnd: z.boolean() }).partial(),
  })
  .partial()
  .strict();
export type SchoolSettingsPatch = z.infer<typeof schoolSettingsPatch>;

export interface SchoolSettingsView {
  lockAfterDays: number;
  classWorkDueDays: number;
  writtenWorkDueDays: number;
  finalMarkWindowDays: number;
  markGraceMinutes: number;
  quietHours: { from: string; to: string };
  /** Unset: INVITE_TTL_DAYS, else 14. */
  inviteTtlDays?: number;
  /** R17: rounding threshold and the minimum number of marks to assess. */
  assessment: { roundFrom: number; minMarks: number };
  /** The automatic reports: weekly to class teachers, monthly to the deputy, at a period's end to the administration. */
  reports: { weekly: boolean; monthly: boolean; periodEnd: boolean };
}

/** Stored settings, as far as they are set (older or partial documents). */
export interface StoredSettings {
  lockAfterDays?: number | null;
  classWorkDueDays?: number | null;
  writtenWorkDueDays?: number | null;
  finalMarkWindowDays?: number | null;
  markGraceMinutes?: number | null;
  quietHours?: { from?: string | null; to?: string | null } | null;
  inviteTtlDays?: number | null;
  assessment?: { roundFrom?: number | null; minMarks?: number | null } | null;
  reports?: { weekly?: boolean | null; monthly?: boolean | null; periodEnd?: boolean | null } | null;
}

/** The school's rules with the regulation defaults filled in (one place for the defaults). */
export function settingsOf(school: { settings?: StoredSettings | null }): SchoolSettingsView {
  const s = school.settings ?? {};
  return {
    lockAfterDays: s.lockAfterDays ?? 7,
    classWorkDueDays: s.classWorkDueDays ?? 1,
    writtenWorkDueDays: s.writtenWorkDueDays ?? 5,
    finalMarkWindowDays: s.finalMarkWindowDays ?? 7,
    markGraceMinutes: s.markGraceMinutes ?? 5,
    quietHours: { from: s.quietHours?.from ?? '21:00', to: s.quietHours?.to ?? '08:00' },
    ...(typeof s.inviteTtlDays === 'number' ? { inviteTtlDays: s.inviteTtlDays } : {}),
    assessment: { roundFrom: s.assessment?.roundFrom ?? 0.5, minMarks: s.assessment?.minMarks ?? 3 },
    reports: { weekly: s.reports?.weekly ?? true, monthly: s.reports?.monthly ?? true, periodEnd: s.reports?.periodEnd ?? true },
  };
}

/**
 * Changes the school's rules (deadlines, lock, final-mark window, grace, quiet hours, invite
 * lifetime): the admin or the operator only. Every change is recorded in the audit trail with
 * before and after (R31); a patch that changes nothing writes nothing.
 */
export async function updateSchoolSettings(
  db: Db,
  actor: Actor,
  input: unknown,
  now: Date,
): Promise<{ settings: SchoolSettingsView; changed: string[] }> {
  if (!actor.roles.has('admin')) throw new AccessDenied();
  const parsed = schoolSettingsPatch.safeParse(input);
  if (!parsed.success) throw new DomainError('settings.invalid', { field: String(parsed.error.issues[0]?.path.join('.') ?? '') });
  const school = await db.models.School.findById(actor.schoolId, { settings: 1 }).lean();
  if (!school) throw new AccessDenied();
  const before = settingsOf(school);
  const set: Record<string, unknown> = {};
  const changed: string[] = [];
  const patch: Record<string, unknown> = { ...parsed.data };
  // A part of the assessment rule keeps the other part as it was.
  if (parsed.data.assessment) patch.assessment = { ...before.assessment, ...parsed.data.assessment };
  if (parsed.data.reports) patch.reports = { ...before.reports, ...parsed.data.reports };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (JSON.stringify(before[key as keyof SchoolSettingsView]) === JSON.stringify(value)) continue;
    set[`settings.${key}`] = value;
    changed.push(key);
  }
  if (changed.length === 0) return { settings: before, changed };
  await db.models.School.updateOne({ _id: actor.schoolId }, { $set: set });
  const after = { ...before, ...patch } as SchoolSettingsView;
  await appendAudit(db, actor, now, {
    action: 'school.settings',
    entity: { type: 'School', id: actor.schoolId },
    before: Object.fromEntries(changed.map((k) => [k, before[k as keyof SchoolSettingsView] ?? null])),
    after: Object.fromEntries(changed.map((k) => [k, after[k as keyof SchoolSettingsView] ?? null])),
  });
  return { settings: after, changed };
}

// ───────────────────────────── the journal's view of the rules ─────────────────────────────

export interface WorkKind {
  code: string;
  name: { ru: string; en: string };
  weight: number;
  written: boolean;
}

export interface Bell {
  lessonNo: number;
  start: string;
  end: string;
}

export interface SchoolRules {
  schoolId: Types.ObjectId;
  timezone: string;
  locale: string;
  lockAfterDays: number;
  classWorkDueDays: number;
  writtenWorkDueDays: number;
  workKinds: WorkKind[];
  bells: Bell[];
}

export async function loadSchoolRules(db: Db, schoolId: Types.ObjectId): Promise<SchoolRules> {
  const school = await cachedSchool(db, schoolId);
  if (!school) throw new NotFound('school');
  return rulesOf(school);
}

type SchoolLike = {
  _id: Types.ObjectId;
  timezone: string;
  locale?: string | null;
  settings?: {
    lockAfterDays?: number | null;
    classWorkDueDays?: number | null;
    writtenWorkDueDays?: number | null;
    workKinds?: Array<{ code: string; name?: { ru?: string | null; en?: string | null } | null; weight: number; written?: boolean | null }> | null;
    bells?: Array<{ lessonNo: number; start: string; end: string }> | null;
  } | null;
};

export function rulesOf(school: SchoolLike): SchoolRules {
  const s = school.settings ?? {};
  const withDefaults = settingsOf(school);
  const kinds = s.workKinds?.length ? s.workKinds : DEFAULT_WORK_KINDS;
  return {
    schoolId: school._id,
    timezone: school.timezone,
    locale: school.locale ?? 'ru',
    lockAfterDays: withDefaults.lockAfterDays,
    classWorkDueDays: withDefaults.classWorkDueDays,
    writtenWorkDueDays: withDefaults.writtenWorkDueDays,
    workKinds: kinds.map((k) => ({
      code: k.code,
      name: { ru: k.name?.ru ?? k.code, en: k.name?.en ?? k.name?.ru ?? k.code },
      weight: k.weight,
      written: Boolean(k.written),
    })),
    bells: (s.bells?.length ? s.bells : DEFAULT_BELLS).map((b) => ({ lessonNo: b.lessonNo, start: b.start, end: b.end })),
  };
}

export const todayOf = (rules: Pick<SchoolRules, 'timezone'>, now: Date): LocalDate => localDate(now, rules.timezone);

/** R13: the last day on which a new mark of this kind may be entered for a lesson of `lessonDate`. */
export function markDeadline(lessonDate: LocalDate, kind: Pick<WorkKind, 'written'>, rules: SchoolRules): LocalDate {
  return addDays(lessonDate, kind.written ? rules.writtenWorkDueDays : rules.classWorkDueDays);
}

export function workKindOf(rules: SchoolRules, code: string): WorkKind | undefined {
  return rules.workKinds.find((k) => k.code === code);
}

export function bellOf(rules: SchoolRules, lessonNo: number | null | undefined): Bell | undefined {
  return lessonNo === null || lessonNo === undefined ? undefined : rules.bells.find((b) => b.lessonNo === lessonNo);
}
