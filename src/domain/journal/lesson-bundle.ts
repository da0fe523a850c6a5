import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { LessonDoc } from '../../db/models/journal.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { loadSchoolRules, type SchoolRules, todayOf } from '../school/rules.js';
import { AccessDenied } from '../shared/errors.js';
import { assertCanEditLesson, type EditOptions } from './lesson-access.js';
import { briefFrom, type LessonBrief, type RosterStudent } from './lessons.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';

/** The roster's order (lessons.ts lessonRoster). */
const byName = (a: RosterStudent, b: RosterStudent) => a.lastName.localeCompare(b.lastName, 'ru') || a.firstName.localeCompare(b.firstName, 'ru');

/**
 * Issue 12 (round trips per tap): everything a journal write needs to know about one lesson, in
 * ONE aggregation over `lessons` — the lesson, the facts its access check needs (R30: a closed year
 * containing its date; R7: a substitution of that date or an access grant for the actor), the names
 * a screen shows, and what the use case asks for besides (the actor's attendance draft, the saved
 * absences, the confirmed absence reports of that date, the lesson's marks). Equality matches in
 * `$lookup` pipelines are index-backed on a real MongoDB (5.0+); every lookup is school-prefixed.
 *
 * Nothing here decides: lesson-access.ts checks with these facts exactly as it would with its own
 * queries (`EditFacts`).
 */
type Id = Types.ObjectId;

/** What assertCanEditLesson would otherwise read itself. */
export interface EditFacts {
  /** R30: the closed year containing the lesson's date. */
  archivedYear: { name: string } | null;
  /** R7: the actor substitutes in this lesson's slot on its date. */
  substitute: boolean;
  /** R7: the actor holds an access grant for this lesson's class (and subject) on its date. */
  grant: boolean;
}

export interface BundleNames {
  className?: string;
  subjectName?: string;
  groupName?: string;
  /** R21: the subject is PE (exemptions apply). */
  pe: boolean;
  groupStudentIds?: Id[];
}

export interface LessonBundle {
  lesson: LessonDoc;
  facts: EditFacts;
  names: BundleNames;
  draft?: AttendanceDraftLean;
  absences: Array<{ _id: Id; studentId: Id; code?: string | null }>;
  /** Confirmed absence reports covering the lesson's date (R20), of the lesson's class. */
  reports: Array<{ studentId: Id; code?: string | null }>;
  marks: MarkLean[];
  roster: RosterStudent[];
}

export interface AttendanceDraftLean {
  _id: Id;
  rosterVersion: string;
  roster: Id[];
  labels: string[];
  absent: number[];
  baseAbsent?: Id[] | null;
  /** Set on (re)start; a draft whose rev the lesson records in `attendanceSaved` was saved. */
  rev?: Id | null;
}

export interface MarkLean {
  _id: Id;
  studentId: Id;
  value: string;
  workKind: string;
  deletedAt?: Date | null;
  clientKey?: string | null;
  [key: string]: unknown;
}

export interface BundleWants {
  draft?: boolean;
  absences?: boolean;
  reports?: boolean;
  marks?: boolean;
  /** The lesson's students (lessons.ts `lessonRoster`: its group, or its class; studying only). */
  roster?: boolean;
}

/** The roster as two lookups (a class's students when the lesson has no group; a group's members). */
function rosterStages(): object[] {
  const fields = { lastName: 1, firstName: 1, student: 1 } as const;
  const studying = { $match: { roles: 'student', 'student.status': STUDYING_STATUS } };
  const roster = (conds: Cond[], as: string) => ({
    $lookup: {
      from: 'persons',
      let: { sid: '$schoolId', cid: '$classId', gid: '$groupId', gids: '$b_gids' },
      pipeline: [studying, { $match: { $expr: { $and: conds } } }, { $project: fields }],
      as,
    },
  });
  return [
    { $addFields: { b_gids: { $ifNull: [{ $arrayElemAt: ['$b_group.studentIds', 0] }, []] } } },
    roster([eq('schoolId', '$$sid'), isNull('$$gid'), eq('student.classId', '$$cid')], 'b_rc'),
    roster([eq('schoolId', '$$sid'), { $in: ['$_id', '$$gids'] }], 'b_rg'),
  ];
}

type Cond = Record<string, unknown>;
const eq = (field: string, value: unknown): Cond => ({ $eq: [`$${field}`, value] });
/** Null or missing (in an expression a missing field is not equal to null). */
const isNull = (expr: string): Cond => ({ $eq: [{ $ifNull: [expr, null] }, null] });
const lookup = (from: string, conds: Cond[], as: string, project?: Record<string, 0 | 1>) => ({
  $lookup: {
    from,
    let: { sid: '$schoolId', lid: '$_id', date: '$date', cid: '$classId', gid: '$groupId', subj: '$subjectId', slot: '$slotId' },
    pipeline: [{ $match: { $expr: { $and: conds } } }, ...(project ? [{ $project: project }] : [])],
    as,
  },
});

export async function loadLessonBundle(db: Db, actor: Actor, lessonId: string | Id, wants: BundleWants = {}): Promise<LessonBundle> {
  const me = actor.personId ?? null;
  const id = toObjectId(lessonId);
  const schoolId = actor.schoolId;
  // What is known before the read is matched plainly (index-backed everywhere); the rest by expression.
  const byLesson = (from: string, as: string, extra: Cond = {}, project?: Record<string, 1>) => ({
    $lookup: { from, pipeline: [{ $match: { schoolId, lessonId: id, ...extra } }, ...(project ? [{ $project: project }] : [])], as },
  });
  const stages: object[] = [
    { $match: { _id: id, schoolId } },
    { $limit: 1 },
    lookup(
      'academic_years',
      [eq('schoolId', '$$sid'), eq('status', 'archived'), { $lte: ['$startsOn', '$$date'] }, { $gte: ['$endsOn', '$$date'] }],
      'b_year',
      { name: 1 },
    ),
    lookup('classes', [eq('_id', '$$cid')], 'b_class', { name: 1 }),
    lookup('subjects', [eq('_id', '$$subj')], 'b_subject', { name: 1, pe: 1 }),
    lookup('groups', [eq('_id', '$$gid')], 'b_group', { name: 1, studentIds: 1 }),
    lookup('substitutions', [eq('schoolId', '$$sid'), eq('slotId', '$$slot'), eq('date', '$$date'), eq('substituteId', me)], 'b_sub', { _id: 1 }),
    lookup(
      'access_grants',
      [
        eq('schoolId', '$$sid'),
        eq('teacherId', me),
        eq('classId', '$$cid'),
        { $lte: ['$from', '$$date'] },
        { $gte: ['$to', '$$date'] },
        isNull('$revokedAt'),
        { $or: [isNull('$subjectId'), eq('subjectId', '$$subj')] },
      ],
      'b_grant',
      { _id: 1 },
    ),
  ];
  if (wants.draft) stages.push(byLesson('attendance_drafts', 'b_draft', { editorId: me ?? schoolId }));
  if (wants.absences) stages.push(byLesson('absences', 'b_abs', {}, { studentId: 1, code: 1 }));
  if (wants.reports) {
    stages.push(
      lookup(
        'absence_reports',
        [eq('schoolId', '$$sid'), eq('status', 'confirmed'), { $lte: ['$from', '$$date'] }, { $gte: ['$to', '$$date'] }],
        'b_reports',
        { studentId: 1, code: 1 },
      ),
    );
  }
  if (wants.marks) stages.push(byLesson('marks', 'b_marks'));
  if (wants.roster) stages.push(...rosterStages());
  const [row] = await db.models.Lesson.aggregate(stages as Parameters<typeof db.models.Lesson.aggregate>[0]);
  if (!row) throw new AccessDenied();
  const { b_year, b_class, b_subject, b_group, b_sub, b_grant, b_draft, b_abs, b_reports, b_marks, b_rc, b_rg, b_gids, ...lesson } = row as Record<string, unknown[]>;
  type P = { _id: Id; lastName: string; firstName: string; student?: { form?: string | null } | null };
  const people = [...((b_rc ?? []) as P[]), ...((b_rg ?? []) as P[])];
  const first = <T>(xs: unknown[] | undefined) => (xs?.[0] as T | undefined) ?? undefined;
  const group = first<{ name?: string; studentIds?: Id[] }>(b_group);
  const subject = first<{ name?: string; pe?: boolean }>(b_subject);
  const year = first<{ name: string }>(b_year);
  return {
    lesson: lesson as unknown as LessonDoc,
    facts: { archivedYear: year ? { name: year.name } : null, substitute: (b_sub?.length ?? 0) > 0, grant: (b_grant?.length ?? 0) > 0 },
    names: {
      className: first<{ name?: string }>(b_class)?.name,
      subjectName: subject?.name,
      groupName: group?.name,
      pe: subject?.pe === true,
      groupStudentIds: group?.studentIds,
    },
    draft: first<AttendanceDraftLean>(b_draft),
    absences: (b_abs ?? []) as LessonBundle['absences'],
    reports: (b_reports ?? []) as LessonBundle['reports'],
    marks: (b_marks ?? []) as MarkLean[],
    roster: people
      .map((p) => ({ id: String(p._id), lastName: p.lastName, firstName: p.firstName, form: p.student?.form ?? undefined }))
      .sort(byName),
  };
}

/** The screen's name for the lesson, from the bundle (lessons.ts `lessonBrief` without its reads). */
export function briefOf(bundle: LessonBundle, rules: SchoolRules): LessonBrief {
  return briefFrom(bundle.lesson, rules, bundle.names);
}

/**
 * A lesson about to be changed, in one round trip (the school's rules come from the school cache):
 * the bundle, the rules, the brief, and the actor's right to change `what` in it today checked
 * (R7, R13, R14, R30) — lessons.ts `lessonForEdit` with the facts read alongside.
 */
export async function bundleForEdit(
  db: Db,
  actor: Actor,
  lessonId: string | Id,
  now: Date,
  opts: Omit<EditOptions, 'rules' | 'today' | 'facts'>,
  wants: BundleWants = {},
) {
  const [bundle, rules] = await Promise.all([loadLessonBundle(db, actor, lessonId, wants), loadSchoolRules(db, actor.schoolId)]);
  const check = await assertCanEditLesson(db, actor, bundle.lesson, { ...opts, rules, today: todayOf(rules, now), facts: bundle.facts });
  return { bundle, lesson: bundle.lesson, rules, check, brief: briefOf(bundle, rules) };
}
