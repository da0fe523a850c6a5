import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { readsWholeSchool } from '../school/access.js';
import { type Actor, pairKey } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { parseSpreadsheet } from '../imports/parse.js';
import { assertCanReadLesson } from './lesson-access.js';
import { lessonForEdit, loadLesson } from './lessons.js';
import { toObjectId } from '../school/people.js';

/**
 * The calendar-thematic plan (КТП, R8–R10): ordered topics with hours for one class (or group) and
 * subject. Loaded from CSV/XLSX or typed in the bot; the total is compared with the curriculum
 * hours of the teaching load (R9). Lesson topics follow the plan (R10): the next topic not yet
 * covered is offered for one tap, or a free text; topics may be entered in advance.
 */
type Id = Types.ObjectId;

export interface PlanItemInput {
  topic: string;
  hours: number;
  periodCode?: string;
}

export const PLAN_MAX_ITEMS = 400;
const TOPIC_MAX = 300;

function parseHours(raw: string, line: number): number {
  const text = raw.trim().replace(',', '.').replace(/\s*(ч|час|часа|часов|h|hours?)\.?$/i, '');
  if (!text) return 1;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 200 || Math.round(n * 2) !== n * 2) {
    throw new DomainError('plan.badHours', { line, value: raw.trim().slice(0, 12) });
  }
  return n;
}

function checkTopic(topic: string, line: number): string {
  const t = topic.trim().replace(/\s+/g, ' ');
  if (!t) throw new DomainError('plan.emptyTopic', { line });
  if (t.length > TOPIC_MAX) throw new DomainError('plan.topicTooLong', { line, max: TOPIC_MAX });
  return t;
}

/**
 * Text typed in the bot: one topic per line, "Topic; hours" (hours optional, default 1; `;`, tab or
 * `|` separate; a leading "1." or "1)" is ignored).
 */
export function parsePlanText(text: string): PlanItemInput[] {
  const items: PlanItemInput[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim().replace(/^\d{1,3}\s*[.)]\s+/, '');
    if (!line) return;
    const parts = line.split(/\s*[;\t|]\s*/);
    const hours = parts.length > 1 ? parseHours(parts[parts.length - 1] ?? '', i + 1) : 1;
    const topic = parts.length > 1 ? parts.slice(0, -1).join('; ') : line;
    items.push({ topic: checkTopic(topic, i + 1), hours });
  });
  return checkCount(items);
}

function checkCount(items: PlanItemInput[]): PlanItemInput[] {
  if (items.length === 0) throw new DomainError('plan.empty');
  if (items.length > PLAN_MAX_ITEMS) throw new DomainError('plan.tooMany', { max: PLAN_MAX_ITEMS });
  return items;
}

const HEADERS = {
  topic: ['тема', 'topic', 'тема урока', 'название'],
  hours: ['часы', 'часов', 'кол-во часов', 'количество часов', 'hours', 'ч'],
  order: ['№', 'n', 'no', 'номер', 'order', '#'],
  period: ['четверть', 'период', 'period', 'quarter'],
};

/** A CSV or XLSX file with a header row: Тема/Topic and Часы/Hours (№ and Четверть/Period optional). */
export async function parsePlanFile(data: Buffer, filename: string): Promise<PlanItemInput[]> {
  const sheet = await parseSpreadsheet(data, filename);
  const find = (names: string[]) => sheet.headers.find((h) => names.includes(h.trim().toLowerCase()));
  const topicCol = find(HEADERS.topic);
  const hoursCol = find(HEADERS.hours);
  const orderCol = find(HEADERS.order);
  const periodCol = find(HEADERS.period);
  if (!topicCol) throw new DomainError('plan.noTopicColumn');
  const rows = sheet.rows.map((r) => ({
    rowNo: r.rowNo,
    order: orderCol ? Number((r.cells[orderCol] ?? '').replace(',', '.')) : Number.NaN,
    item: {
      topic: checkTopic(r.cells[topicCol] ?? '', r.rowNo),
      hours: hoursCol ? parseHours(r.cells[hoursCol] ?? '', r.rowNo) : 1,
      periodCode: periodCol ? r.cells[periodCol]?.trim() || undefined : undefined,
    },
  }));
  // With a № column the file's numbering decides the order; otherwise the row order does.
  if (orderCol && rows.every((r) => Number.isFinite(r.order))) rows.sort((a, b) => a.order - b.order);
  return checkCount(rows.map((r) => r.item));
}

export interface PlanTarget {
  classId: string;
  groupId?: string | null;
  subjectId: string;
}

async function resolveTarget(db: Db, actor: Actor, target: PlanTarget, write: boolean) {
  const classId = toObjectId(target.classId);
  const groupId = target.groupId ? toObjectId(target.groupId) : null;
  const subjectId = toObjectId(target.subjectId);
  const [cls, subject, group] = await Promise.all([
    db.models.SchoolClass.findOne({ _id: classId, schoolId: actor.schoolId }, { name: 1 }).lean(),
    db.models.Subject.findOne({ _id: subjectId, schoolId: actor.schoolId }, { name: 1 }).lean(),
    groupId ? db.models.Group.findOne({ _id: groupId, schoolId: actor.schoolId, classId }, { name: 1 }).lean() : null,
  ]);
  if (!cls || !subject || (groupId && !group)) throw new AccessDenied();
  // R8: each teacher fills the plan of what they teach; the deputy and the admin may too.
  const teaches = actor.teachesPairs.has(pairKey(groupId ?? classId, subjectId));
  const staff = actor.roles.has('admin') || actor.roles.has('deputy');
  if (write ? !(teaches || staff) : !(teaches || readsWholeSchool(actor) || actor.classTeacherOf.has(String(classId)))) {
    throw new AccessDenied();
  }
  return { classId, groupId, subjectId, className: cls.name, subjectName: subject.name, groupName: group?.name };
}

export interface PlanReport {
  className: string;
  groupName?: string;
  subjectName: string;
  items: number;
  plannedHours: number;
  /** Curriculum hours from the teaching load (R9); undefined when there is no load. */
  curriculumHours?: number;
  /** planned − curriculum. */
  difference?: number;
}

/** R9: the plan's hours against the curriculum hours of the teaching load. */
export async function planReport(db: Db, actor: Actor, target: PlanTarget): Promise<PlanReport> {
  const t = await resolveTarget(db, actor, target, false);
  return reportOf(db, actor, t);
}

async function reportOf(
  db: Db,
  actor: Actor,
  t: Awaited<ReturnType<typeof resolveTarget>>,
): Promise<PlanReport> {
  const scope = { schoolId: actor.schoolId, classId: t.classId, groupId: t.groupId, subjectId: t.subjectId };
  const [items, loads] = await Promise.all([
    db.models.PlanItem.find(scope, { hours: 1 }).lean(),
    db.models.TeachingLoad.find(scope, { hoursPerYear: 1 }).lean(),
  ]);
  const plannedHours = items.reduce((s, i) => s + i.hours, 0);
  const curriculumHours = loads.length ? Math.max(...loads.map((l) => l.hoursPerYear)) : undefined;
  return {
    className: t.className,
    groupName: t.groupName,
    subjectName: t.subjectName,
    items: items.length,
    plannedHours,
    curriculumHours,
    difference: curriculumHours === undefined ? undefined : plannedHours - curriculumHours,
  };
}

/**
 * Replaces the plan of one class/group+subject. Items keep their ids by position (upsert on order),
 * so lessons already linked to topic N stay linked; items beyond the new length are removed.
 */
export async function loadPlan(
  db: Db,
  actor: Actor,
  target: PlanTarget,
  items: PlanItemInput[],
  now: Date,
): Promise<PlanReport> {
  const t = await resolveTarget(db, actor, target, true);
  checkCount(items);
  const scope = { schoolId: actor.schoolId, classId: t.classId, groupId: t.groupId, subjectId: t.subjectId };
  const { PlanItem } = db.models;
  const before = await reportOf(db, actor, t);
  await PlanItem.bulkWrite(
    items.map((item, i) => ({
      updateOne: {
        filter: { ...scope, order: i + 1 },
        update: { $set: { topic: item.topic, hours: item.hours, periodCode: item.periodCode } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  await PlanItem.deleteMany({ ...scope, order: { $gt: items.length } });
  const report = await reportOf(db, actor, t);
  await appendAudit(db, actor, now, {
    action: 'plan.loaded',
    entity: { type: 'plan' },
    before: { items: before.items, hours: before.plannedHours },
    after: { items: report.items, hours: report.plannedHours, classId: String(t.classId), subjectId: String(t.subjectId) },
  });
  return report;
}

/** The teacher's plans to fill: one per class/group+subject of their teaching load. */
export async function myPlanTargets(
  db: Db,
  actor: Actor,
): Promise<Array<PlanTarget & { label: string; items: number }>> {
  if (!actor.personId) return [];
  const loads = await db.models.TeachingLoad.find({ schoolId: actor.schoolId, teacherId: actor.personId }).lean();
  if (loads.length === 0) return [];
  const ids = (xs: Array<Id | null | undefined>) => [...new Set(xs.filter(Boolean).map(String))];
  const [classes, groups, subjects, counts] = await Promise.all([
    db.models.SchoolClass.find({ _id: { $in: ids(loads.map((l) => l.classId)) } }, { name: 1 }).lean(),
    db.models.Group.find({ _id: { $in: ids(loads.map((l) => l.groupId)) } }, { name: 1 }).lean(),
    db.models.Subject.find({ _id: { $in: ids(loads.map((l) => l.subjectId)) } }, { name: 1 }).lean(),
    db.models.PlanItem.aggregate<{ _id: { c: Id; g: Id | null; s: Id }; n: number }>([
      { $match: { schoolId: actor.schoolId, subjectId: { $in: loads.map((l) => l.subjectId) } } },
      { $group: { _id: { c: '$classId', g: '$groupId', s: '$subjectId' }, n: { $sum: 1 } } },
    ]),
  ]);
  const name = (xs: Array<{ _id: Id; name: string }>, id: Id | null | undefined) =>
    id ? (xs.find((x) => String(x._id) === String(id))?.name ?? '?') : undefined;
  const countOf = (c: Id, g: Id | null | undefined, s: Id) =>
    counts.find((x) => String(x._id.c) === String(c) && String(x._id.g ?? '') === String(g ?? '') && String(x._id.s) === String(s))?.n ?? 0;
  return loads
    .map((l) => ({
      classId: String(l.classId),
      groupId: l.groupId ? String(l.groupId) : null,
      subjectId: String(l.subjectId),
      label: [name(classes, l.classId), name(groups, l.groupId), name(subjects, l.subjectId)].filter(Boolean).join(' · '),
      items: countOf(l.classId, l.groupId, l.subjectId),
    }))
    .sort((a, b) => a.label.localeCompare(b.label, 'ru'));
}

// ─────────────── lesson topics (R10) ───────────────

export interface TopicSuggestion {
  planItemId: string;
  order: number;
  topic: string;
  hours: number;
  /** Which hour of the topic this lesson would be (a 2-hour topic spans two lessons). */
  hourNo: number;
}

/** The next plan item not yet covered by the lessons of this class/group+subject. */
export async function suggestTopic(db: Db, actor: Actor, lessonId: string): Promise<TopicSuggestion | undefined> {
  const lesson = await loadLesson(db, actor, lessonId);
  await assertCanReadLesson(db, actor, lesson);
  const scope = { schoolId: lesson.schoolId, classId: lesson.classId, groupId: lesson.groupId ?? null, subjectId: lesson.subjectId };
  const items = await db.models.PlanItem.find(scope).sort({ order: 1 }).lean();
  if (items.length === 0) return undefined;
  const used = await db.models.Lesson.aggregate<{ _id: Id; n: number }>([
    {
      $match: {
        ...scope,
        status: { $ne: 'cancelled' },
        planItemId: { $in: items.map((i) => i._id) },
        _id: { $ne: lesson._id },
      },
    },
    { $group: { _id: '$planItemId', n: { $sum: 1 } } },
  ]);
  const usedBy = new Map(used.map((u) => [String(u._id), u.n]));
  for (const item of items) {
    const n = usedBy.get(String(item._id)) ?? 0;
    if (n < Math.ceil(item.hours)) {
      return { planItemId: String(item._id), order: item.order, topic: item.topic, hours: item.hours, hourNo: n + 1 };
    }
  }
  return undefined;
}

/** Before asking for a topic's text: may the actor set it (the admin's reason comes at saving)? */
export async function assertCanSetTopic(db: Db, actor: Actor, lessonId: string, now: Date): Promise<void> {
  await lessonForEdit(db, actor, lessonId, now, { what: 'topic', draft: true });
}

/** Sets the topic of a lesson from the plan (planItemId) or as free text; in advance too (R10). */
export async function setLessonTopic(
  db: Db,
  actor: Actor,
  lessonId: string,
  input: { planItemId?: string; text?: string; reason?: string },
  now: Date,
): Promise<{ topic: string }> {
  const { lesson, check } = await lessonForEdit(db, actor, lessonId, now, { what: 'topic', reason: input.reason });
  let topic: string;
  let planItemId: Id | null = null;
  if (input.planItemId) {
    const item = await db.models.PlanItem.findOne({
      _id: toObjectId(input.planItemId),
      schoolId: lesson.schoolId,
      classId: lesson.classId,
      groupId: lesson.groupId ?? null,
      subjectId: lesson.subjectId,
    }).lean();
    if (!item) throw new DomainError('topic.notInPlan');
    topic = item.topic;
    planItemId = item._id;
  } else {
    topic = (input.text ?? '').trim().replace(/\s+/g, ' ');
    if (!topic) throw new DomainError('topic.empty');
    if (topic.length > TOPIC_MAX) throw new DomainError('common.tooLong', { max: TOPIC_MAX });
  }
  if (topic === lesson.topic && String(planItemId ?? '') === String(lesson.planItemId ?? '')) return { topic };
  await db.models.Lesson.updateOne({ _id: lesson._id }, { $set: { topic, planItemId } });
  await appendAudit(db, actor, now, {
    action: lesson.topic ? 'topic.changed' : 'topic.set',
    entity: { type: 'lesson', id: lesson._id },
    lessonId: lesson._id,
    before: lesson.topic ? { topic: lesson.topic, planItemId: lesson.planItemId ? String(lesson.planItemId) : null } : null,
    after: { topic, planItemId: planItemId ? String(planItemId) : null },
    reason: check.lockedOverride ? input.reason?.trim() : undefined,
  });
  return { topic };
}
