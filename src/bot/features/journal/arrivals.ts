import { Composer, InlineKeyboard } from 'grammy';
import type { Types } from 'mongoose';
import { z } from 'zod';
import { PERIOD_MARK_VALUES } from '../../../db/models/journal.js';
import { isAdmin } from '../../../domain/school/access.js';
import type { Actor } from '../../../domain/school/actor.js';
import { addDays, fullDate, type LocalDate } from '../../../domain/shared/calendar.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import { schoolToday } from '../../../domain/journal/lessons.js';
import { enterTransferPeriodMarks, TRANSFER_MARK_DAYS } from '../../../domain/journal/marks.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import { periodName } from '../../../notify/render.js';
import { cbField, defineCallback } from '../../callbacks/index.js';
import type { BotContext } from '../../context.js';
import { ack, guardedRun, requireActor, STALE, show } from './ui.js';
import { STUDYING_STATUS } from '../../../db/models/people.js';

/**
 * /arrivals (R18): the class teacher enters the period marks of a student who arrived mid-year,
 * from the previous school's report, within TRANSFER_MARK_DAYS of enrolment (the admin at any
 * time): student → period → subject → mark. The screens only pick; enterTransferPeriodMarks checks
 * the rights and the window again and writes (PeriodMark source 'transfer', audit entry).
 *
 * Buttons carry student, year and subject in full, so a press can never land on another student or
 * subject; to fit 64 bytes the ObjectIds travel as 16 characters of base64url instead of 24 hex.
 */
type Id = Types.ObjectId;
type PeriodValue = (typeof PERIOD_MARK_VALUES)[number];

const LIST_MAX = 50;
const MARK_VALUES: readonly PeriodValue[] = ['2', '3', '4', '5'];
const NOT_ASSESSED: readonly PeriodValue[] = ['Н', 'Б', 'У'];

const sid = () => z.string().regex(/^[A-Za-z0-9_-]{16}$/);
const short = (id: Id | string) => Buffer.from(String(id), 'hex').toString('base64url');
const long = (s: string) => Buffer.from(s, 'base64url').toString('hex');
const periodIdx = () => cbField.int(0, 30);

export const arrivalsListCb = defineCallback('tml', {});
export const arrivalStudentCb = defineCallback('tms', { s: sid() });
export const arrivalPeriodCb = defineCallback('tmp', { s: sid(), y: sid(), p: periodIdx() });
export const arrivalSubjectCb = defineCallback('tmj', { s: sid(), y: sid(), p: periodIdx(), j: sid() });
export const arrivalValueCb = defineCallback('tmv', {
  s: sid(),
  y: sid(),
  p: periodIdx(),
  j: sid(),
  v: cbField.enumOf(PERIOD_MARK_VALUES),
});

type Step = { s: string; y: string; p: number };

/** The class teacher of the student's class, or the admin; anyone else learns nothing. */
async function loadStudent(ctx: BotContext, actor: Actor, studentId: string) {
  const student = await ctx.deps.db.models.Person.findOne(
    { _id: studentId, schoolId: actor.schoolId, roles: 'student' },
    { firstName: 1, lastName: 1, student: 1 },
  ).lean();
  const classId = student?.student?.classId ? String(student.student.classId) : '';
  if (!student || (!isAdmin(actor) && !actor.classTeacherOf.has(classId))) throw new AccessDenied();
  const cls = classId ? await ctx.deps.db.models.SchoolClass.findById(classId, { name: 1 }).lean() : null;
  return {
    id: String(student._id),
    name: `${student.lastName} ${student.firstName}`,
    classId,
    className: cls?.name ?? '—',
    enrolledOn: student.student?.enrolledOn ?? undefined,
  };
}
type Student = Awaited<ReturnType<typeof loadStudent>>;

/** The year the school is in now: the active one containing today, else the latest begun. */
async function currentYear(ctx: BotContext, actor: Actor, today: LocalDate) {
  const years = await ctx.deps.db.models.AcademicYear.find({ schoolId: actor.schoolId, status: 'active' }, { periods: 1, startsOn: 1, endsOn: 1 })
    .sort({ startsOn: -1 })
    .lean();
  return years.find((y) => y.startsOn <= today && today <= y.endsOn) ?? years.find((y) => y.startsOn <= today);
}

/** The period a button means: that year's period at that index, if it has begun. */
async function loadPeriod(ctx: BotContext, actor: Actor, yearShort: string, p: number) {
  const year = await ctx.deps.db.models.AcademicYear.findOne({ _id: long(yearShort), schoolId: actor.schoolId }, { periods: 1 }).lean();
  const period = year?.periods[p];
  if (!year || !period) return undefined;
  return { yearId: String(year._id), code: period.code };
}

/** Subjects the class is taught (teaching load), by name. */
async function classSubjects(ctx: BotContext, actor: Actor, classId: string) {
  if (!classId) return [];
  const { TeachingLoad, Subject } = ctx.deps.db.models;
  const load = await TeachingLoad.find({ schoolId: actor.schoolId, classId }, { subjectId: 1 }).lean();
  const ids = [...new Set(load.map((l) => String(l.subjectId)))];
  const subjects = await Subject.find({ _id: { $in: ids }, schoolId: actor.schoolId }, { name: 1, assessment: 1 }).lean();
  return subjects
    .map((s) => ({ id: String(s._id), name: s.name, passFail: s.assessment === 'passfail' }))
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'));
}

function studentHead(t: Translate, student: Student): string {
  const lines = [`🧳 <b>${escapeHtml(student.name)}</b> · ${escapeHtml(student.className)}`];
  lines.push(
    student.enrolledOn
      ? t('arrivals.enrolled', { date: fullDate(student.enrolledOn), until: fullDate(addDays(student.enrolledOn, TRANSFER_MARK_DAYS)) })
      : t('arrivals.noEnrolment'),
  );
  return lines.join('\n');
}

// ─────────────── screens ───────────────

async function showArrivals(ctx: BotContext): Promise<void> {
  const actor = requireActor(ctx);
  const { db } = ctx.deps;
  const admin = isAdmin(actor);
  if (!admin && actor.classTeacherOf.size === 0) throw new AccessDenied();
  const today = await schoolToday(db, actor, ctx.deps.now());
  const since = addDays(today, -TRANSFER_MARK_DAYS);
  const recent = { $gte: since, $lte: today };
  const movements = await db.models.StudentMovement.find({ schoolId: actor.schoolId, kind: 'arrival', date: recent }, { studentId: 1, date: 1 }).lean();
  const arrivedOn = new Map(movements.map((m) => [String(m.studentId), m.date]));
  const filter: Record<string, unknown> = {
    schoolId: actor.schoolId,
    roles: 'student',
    'student.status': STUDYING_STATUS,
    $or: [{ 'student.enrolledOn': recent }, { _id: { $in: movements.map((m) => m.studentId) } }],
  };
  if (!admin) filter['student.classId'] = { $in: [...actor.classTeacherOf] };
  const people = await db.models.Person.find(filter, { firstName: 1, lastName: 1, student: 1 }).lean();
  const classIds = [...new Set(people.map((p) => String(p.student?.classId ?? '')).filter(Boolean))];
  const classes = await db.models.SchoolClass.find({ _id: { $in: classIds }, schoolId: actor.schoolId }, { name: 1, grade: 1, letter: 1 }).lean();
  const classOf = new Map(classes.map((c) => [String(c._id), c]));
  const rows = people
    .map((p) => {
      const cls = classOf.get(String(p.student?.classId ?? ''));
      const enrolled = p.student?.enrolledOn;
      const date = enrolled && enrolled >= since ? enrolled : (arrivedOn.get(String(p._id)) ?? enrolled ?? today);
      return { id: String(p._id), name: `${p.lastName} ${p.firstName}`, className: cls?.name ?? '—', grade: cls?.grade ?? 99, letter: cls?.letter ?? '', date };
    })
    .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru') || a.name.localeCompare(b.name, 'ru'));
  const t = ctx.t;
  const lines = [`🧳 ${t('arrivals.title')}`, t('arrivals.intro', { days: TRANSFER_MARK_DAYS }), ''];
  const kb = new InlineKeyboard();
  if (rows.length === 0) lines.push(t('arrivals.none', { days: TRANSFER_MARK_DAYS }));
  else lines.push(t('arrivals.pickStudent'));
  for (const r of rows.slice(0, LIST_MAX)) {
    kb.text(`${r.className} · ${r.name} · ${fullDate(r.date).slice(0, 5)}`, arrivalStudentCb.pack({ s: short(r.id) })).row();
  }
  if (rows.length > LIST_MAX) lines.push(t('arrivals.more', { count: rows.length - LIST_MAX }));
  await show(ctx, lines.join('\n'), kb);
}

async function showPeriods(ctx: BotContext, studentShort: string): Promise<void> {
  const actor = requireActor(ctx);
  const student = await loadStudent(ctx, actor, long(studentShort));
  const today = await schoolToday(ctx.deps.db, actor, ctx.deps.now());
  const year = await currentYear(ctx, actor, today);
  const t = ctx.t;
  const lines = [studentHead(t, student), ''];
  const kb = new InlineKeyboard();
  // Periods begun (a report can only hold those); the year's own mark is not a previous school's.
  const periods = (year?.periods ?? [])
    .map((p, i) => ({ ...p, i }))
    .filter((p) => p.kind !== 'year' && p.startsOn <= today)
    .sort((a, b) => a.startsOn.localeCompare(b.startsOn));
  if (!year) lines.push(t('arrivals.noYear'));
  else if (periods.length === 0) lines.push(t('arrivals.noPeriods'));
  else lines.push(t('arrivals.pickPeriod'));
  if (year) for (const p of periods) kb.text(periodName(t, p.code), arrivalPeriodCb.pack({ s: studentShort, y: short(year._id), p: p.i }));
  kb.row().text(t('arrivals.backToList'), arrivalsListCb.pack({}));
  await show(ctx, lines.join('\n'), kb);
}

async function showSubjects(ctx: BotContext, step: Step, note?: string, next?: { id: string; name: string }): Promise<void> {
  const actor = requireActor(ctx);
  const student = await loadStudent(ctx, actor, long(step.s));
  const period = await loadPeriod(ctx, actor, step.y, step.p);
  if (!period) return STALE(ctx);
  const subjects = await classSubjects(ctx, actor, student.classId);
  const saved = await ctx.deps.db.models.PeriodMark.find(
    { studentId: student.id, yearId: period.yearId, periodCode: period.code },
    { subjectId: 1, value: 1 },
  ).lean();
  const markOf = new Map(saved.map((m) => [String(m.subjectId), m.value]));
  const t = ctx.t;
  const lines = [studentHead(t, student), t('arrivals.periodLine', { period: periodName(t, period.code) }), ''];
  if (note) lines.push(note, '');
  lines.push(subjects.length ? t('arrivals.pickSubject') : t('arrivals.noSubjects'));
  const kb = new InlineKeyboard();
  if (next) kb.text(t('arrivals.nextSubject', { subject: next.name }), arrivalSubjectCb.pack({ ...step, j: short(next.id) })).row();
  subjects.forEach((s, i) => {
    const value = markOf.get(s.id);
    kb.text(value ? `${s.name} · ${value}` : s.name, arrivalSubjectCb.pack({ ...step, j: short(s.id) }));
    if (i % 2 === 1) kb.row();
  });
  if (subjects.length % 2 === 1) kb.row();
  kb.text(t('arrivals.backToPeriods'), arrivalStudentCb.pack({ s: step.s })).text(t('arrivals.backToList'), arrivalsListCb.pack({}));
  await show(ctx, lines.join('\n'), kb);
}

async function showValues(ctx: BotContext, step: Step & { j: string }): Promise<void> {
  const actor = requireActor(ctx);
  const student = await loadStudent(ctx, actor, long(step.s));
  const period = await loadPeriod(ctx, actor, step.y, step.p);
  const subject = (await classSubjects(ctx, actor, student.classId)).find((s) => s.id === long(step.j));
  if (!period || !subject) return STALE(ctx);
  const before = await ctx.deps.db.models.PeriodMark.findOne(
    { studentId: student.id, subjectId: subject.id, yearId: period.yearId, periodCode: period.code },
    { value: 1 },
  ).lean();
  const t = ctx.t;
  const lines = [
    studentHead(t, student),
    t('arrivals.periodLine', { period: periodName(t, period.code) }),
    t('arrivals.subjectLine', { subject: subject.name }),
  ];
  if (before) lines.push(t('arrivals.current', { value: before.value }));
  lines.push('', t('arrivals.pickValue'), t(subject.passFail ? 'arrivals.codesPassFail' : 'arrivals.codes'));
  const kb = new InlineKeyboard();
  const mark = (v: PeriodValue) => kb.text(v === before?.value ? `• ${v}` : v, arrivalValueCb.pack({ ...step, v }));
  // R16: К is the pass of a subject taught without marks; 2–5 are for the others.
  for (const v of subject.passFail ? (['К'] as const) : MARK_VALUES) mark(v);
  kb.row();
  for (const v of NOT_ASSESSED) mark(v);
  kb.row().text(t('arrivals.backToSubjects'), arrivalPeriodCb.pack({ s: step.s, y: step.y, p: step.p }));
  await show(ctx, lines.join('\n'), kb);
}

async function saveValue(ctx: BotContext, data: Step & { j: string; v: PeriodValue }): Promise<void> {
  const actor = requireActor(ctx);
  const student = await loadStudent(ctx, actor, long(data.s));
  const period = await loadPeriod(ctx, actor, data.y, data.p);
  const subjects = await classSubjects(ctx, actor, student.classId);
  const at = subjects.findIndex((s) => s.id === long(data.j));
  const subject = subjects[at];
  if (!period || !subject) return STALE(ctx);
  const { saved } = await enterTransferPeriodMarks(
    ctx.deps.db,
    actor,
    { studentId: student.id, yearId: period.yearId, periodCode: period.code, marks: [{ subjectId: subject.id, value: data.v }] },
    ctx.deps.now(),
  );
  const t = ctx.t;
  const vars = { subject: subject.name, value: data.v, period: periodName(t, period.code) };
  // "Next subject": the first one after this without a mark of this period, else simply the next.
  const marked = new Set(
    (
      await ctx.deps.db.models.PeriodMark.find({ studentId: student.id, yearId: period.yearId, periodCode: period.code }, { subjectId: 1 }).lean()
    ).map((m) => String(m.subjectId)),
  );
  const after = [...subjects.slice(at + 1), ...subjects.slice(0, at)];
  const next = after.find((s) => !marked.has(s.id)) ?? subjects[at + 1];
  await showSubjects(ctx, data, t(saved ? 'arrivals.saved' : 'arrivals.savedAlready', vars), next);
  await ack(ctx, t('arrivals.savedShort', { value: data.v }));
}

export function transferMarksFeature() {
  const composer = new Composer<BotContext>();
  composer.command('arrivals', (ctx) =>
    guardedRun(ctx, async () => {
      if (!ctx.actor) {
        await ctx.reply(ctx.t('help.guest'));
        return;
      }
      await showArrivals(ctx);
    }),
  );
  composer.callbackQuery(arrivalsListCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      await showArrivals(ctx);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalStudentCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalStudentCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showPeriods(ctx, data.s);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalPeriodCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalPeriodCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showSubjects(ctx, data);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalSubjectCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalSubjectCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await showValues(ctx, data);
      await ack(ctx);
    }),
  );
  composer.callbackQuery(arrivalValueCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const data = arrivalValueCb.unpack(ctx.callbackQuery.data);
      if (!data) return STALE(ctx);
      await saveValue(ctx, data);
    }),
  );
  return composer;
}
