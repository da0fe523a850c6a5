import type { Hono } from 'hono';
import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { readsWholeSchool } from '../../domain/school/access.js';
import type { Actor } from '../../domain/school/actor.js';
import { fullName } from '../../domain/school/people.js';
import { todayOf, loadSchoolRules } from '../../domain/school/rules.js';
import { addDays } from '../../domain/shared/calendar.js';
import type { ApiRole, ChildItem, MeResponse, TeachingItem } from '../api-types.js';
import type { WebDeps, WebEnv } from '../context.js';

type Id = Types.ObjectId;

/** GET /app/api/me: who the init data belongs to, and what they may open. */
export function meRoutes(api: Hono<WebEnv>, deps: WebDeps): void {
  api.get('/me', async (c) => {
    const { actor, personId, locale } = c.get('session');
    const { db } = deps;
    const [person, school, teaching, children] = await Promise.all([
      db.models.Person.findById(personId, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
      db.models.School.findById(actor.schoolId, { name: 1 }).lean(),
      teachingOf(db, actor, deps.now()),
      childrenOf(db, actor),
    ]);
    const body: MeResponse = {
      person: { id: personId, name: person ? fullName(person) : '' },
      roles: [...actor.roles] as ApiRole[],
      locale,
      school: { id: String(actor.schoolId), name: school?.name ?? '' },
      teaching,
      children,
      isOffice: readsWholeSchool(actor),
      classTeacherOf: [...actor.classTeacherOf].sort(),
    };
    return c.json(body);
  });
}

/**
 * What a teacher may open in the grid: the teaching load, the classes a substitute holds an
 * active grant for (R7: a grant for the whole class gives every subject of its load), and the
 * class × subject of each lesson they substitute for in the fortnight around today (R7; the grid
 * then shows those lessons only).
 */
export async function teachingOf(db: Db, actor: Actor, now: Date): Promise<TeachingItem[]> {
  if (!actor.roles.has('teacher') || !actor.personId) return [];
  const { TeachingLoad, AccessGrant, SchoolClass, Group, Subject, Substitution, TimetableSlot } = db.models;
  const today = todayOf(await loadSchoolRules(db, actor.schoolId), now);
  const [load, grants, subs] = await Promise.all([
    TeachingLoad.find({ schoolId: actor.schoolId, teacherId: actor.personId }, { classId: 1, groupId: 1, subjectId: 1 }).lean(),
    AccessGrant.find(
      { schoolId: actor.schoolId, teacherId: actor.personId, from: { $lte: today }, to: { $gte: today }, revokedAt: null },
      { classId: 1, subjectId: 1 },
    ).lean(),
    Substitution.find(
      { schoolId: actor.schoolId, substituteId: actor.personId, date: { $gte: addDays(today, -14), $lte: addDays(today, 14) } },
      { slotId: 1 },
    ).lean(),
  ]);
  const substituted = subs.length
    ? await TimetableSlot.find({ _id: { $in: subs.map((x) => x.slotId) }, schoolId: actor.schoolId }, { classId: 1, groupId: 1, subjectId: 1 }).lean()
    : [];
  const granted = grants.length
    ? await TeachingLoad.find(
        { schoolId: actor.schoolId, classId: { $in: grants.map((g) => g.classId) } },
        { classId: 1, groupId: 1, subjectId: 1 },
      ).lean()
    : [];
  const grantedRows = granted.filter((l) =>
    grants.some((g) => String(g.classId) === String(l.classId) && (!g.subjectId || String(g.subjectId) === String(l.subjectId))),
  );
  const rows = new Map<string, { classId: Id; groupId: Id | null; subjectId: Id }>();
  for (const l of [...load, ...grantedRows, ...substituted]) {
    rows.set(`${l.classId}|${l.groupId ?? ''}|${l.subjectId}`, { classId: l.classId, groupId: l.groupId ?? null, subjectId: l.subjectId });
  }
  const list = [...rows.values()];
  const [classes, groups, subjects] = await Promise.all([
    SchoolClass.find({ _id: { $in: list.map((r) => r.classId) } }, { name: 1, grade: 1 }).lean(),
    Group.find({ _id: { $in: list.flatMap((r) => (r.groupId ? [r.groupId] : [])) } }, { name: 1 }).lean(),
    Subject.find({ _id: { $in: list.map((r) => r.subjectId) } }, { name: 1 }).lean(),
  ]);
  const name = (docs: Array<{ _id: Id; name: string }>) => new Map(docs.map((d) => [String(d._id), d.name]));
  const [cn, gn, sn] = [name(classes), name(groups), name(subjects)];
  const grade = new Map(classes.map((d) => [String(d._id), d.grade]));
  return list
    .map((r) => {
      const cls = cn.get(String(r.classId)) ?? '';
      const group = r.groupId ? ` (${gn.get(String(r.groupId)) ?? ''})` : '';
      return {
        classId: String(r.classId),
        groupId: r.groupId ? String(r.groupId) : null,
        subjectId: String(r.subjectId),
        label: `${cls}${group} · ${sn.get(String(r.subjectId)) ?? ''}`,
        grade: grade.get(String(r.classId)) ?? 0,
      };
    })
    .sort((a, b) => a.grade - b.grade || a.label.localeCompare(b.label))
    .map(({ grade: _grade, ...item }) => item);
}

/** A parent's children at the school (R4: only their own). */
export async function childrenOf(db: Db, actor: Actor): Promise<ChildItem[]> {
  if (actor.childIds.size === 0) return [];
  const kids = await db.models.Person.find(
    { _id: { $in: [...actor.childIds] }, schoolId: actor.schoolId },
    { lastName: 1, firstName: 1, middleName: 1, student: 1 },
  ).lean();
  const classes = await db.models.SchoolClass.find(
    { _id: { $in: kids.flatMap((k) => (k.student?.classId ? [k.student.classId] : [])) } },
    { name: 1 },
  ).lean();
  const cn = new Map(classes.map((c) => [String(c._id), c.name]));
  return kids
    .map((k) => ({ id: String(k._id), name: fullName(k), className: cn.get(String(k.student?.classId)) ?? '' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
