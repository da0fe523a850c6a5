import { InlineKeyboard } from 'grammy';
import { longId, shortId } from '../../callbacks/index.js';
import { REPORT_KIND_CODES, reportGoCb, reportKindCb, reportScopeCb, reportsMenuCb } from '../../callbacks/reports.js';
import { periodLabel } from '../../../documents/reports/text.js';
import { KIND_FORMATS, KIND_SCOPES, REPORT_KINDS, type ReportKind } from '../../../domain/reports/catalog.js';
import { currentYear, periodsOf } from '../../../domain/school/academic-year.js';
import type { Actor } from '../../../domain/school/actor.js';
import { fullName, toObjectId } from '../../../domain/school/people.js';
import { todayOf } from '../../../domain/school/rules.js';
import { STUDYING_STATUS } from '../../../domain/shared/vocabulary.js';
import { cachedSchool } from '../../../db/school-cache.js';
import { escapeHtml } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';

/**
 * The screens of /reports (issue 14): kind → scope (class, grade level, school, a child) →
 * subject (the class journal) or student (staff asking for a report card) → period and format. Only what the person may open gets a button
 * (what they lead, teach or their children); the domain checks again when the report is built,
 * so a forged button is refused there (domain/reports/access.ts).
 */
export type KindCode = (typeof REPORT_KIND_CODES)[number];
export const kindOf = (code: KindCode): ReportKind => REPORT_KINDS[REPORT_KIND_CODES.indexOf(code)] as ReportKind;
export const codeOf = (kind: ReportKind): KindCode => REPORT_KIND_CODES[REPORT_KINDS.indexOf(kind)] as KindCode;

const leads = (a: Actor) => a.roles.has('admin') || a.roles.has('deputy');
const family = (a: Actor) => a.roles.has('parent') || a.roles.has('student');
const FAMILY_KINDS: ReportKind[] = ['report-card', 'weekly-letters'];
/** Documents about the whole class in every subject: the class teacher, the deputy, the admin (R26). */
const WHOLE_CLASS: ReportKind[] = ['quarter-report', 'summary-sheet', 'weekly-letters'];
const TEACHER_KINDS: ReportKind[] = ['progress', 'attendance', 'filling', 'coverage', 'class-journal'];

/** The kinds this person may ask for, in menu order. */
export function kindsFor(actor: Actor): ReportKind[] {
  // The report card too: a student of the class (R26), picked after the class.
  if (leads(actor) || actor.classTeacherOf.size > 0) return [...REPORT_KINDS];
  if (actor.roles.has('teacher') && actor.teachesClassIds.size > 0) return TEACHER_KINDS;
  if (family(actor)) return FAMILY_KINDS;
  return [];
}

export async function showKinds(ctx: BotContext, actor: Actor): Promise<void> {
  const kinds = kindsFor(actor);
  if (kinds.length === 0) return showScreen(ctx, ctx.t('reportsUi.none'));
  const kb = new InlineKeyboard();
  kinds.forEach((k, i) => {
    kb.text(ctx.t(`reportsUi.kinds.${k}`), reportKindCb.pack({ k: codeOf(k) }));
    if (i % 2 === 1) kb.row();
  });
  await showScreen(ctx, ctx.t('reportsUi.pickKind'), kb);
}

type Target = { label: string; t: 'c' | 'g' | 's' | 'p'; i: string };

/** The classes whose report of this kind the person may open (led, taught, or every one). */
async function classTargets(ctx: BotContext, actor: Actor, kind: ReportKind): Promise<Target[]> {
  const whole = WHOLE_CLASS.includes(kind) || kind === 'report-card';
  const ids = [...actor.classTeacherOf, ...(whole ? [] : actor.teachesClassIds)];
  const filter = leads(actor) ? { schoolId: actor.schoolId } : { schoolId: actor.schoolId, _id: { $in: ids.map((id) => toObjectId(id)) } };
  if (!leads(actor) && ids.length === 0) return [];
  const classes = await ctx.deps.db.models.SchoolClass.find({ ...filter, closedAt: null }, { name: 1, grade: 1, letter: 1 }).lean();
  return classes
    .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru'))
    .map((c) => ({ label: c.name, t: 'c' as const, i: shortId(String(c._id)) }));
}

async function familyTargets(ctx: BotContext, actor: Actor): Promise<Target[]> {
  const ids = actor.roles.has('student') && actor.personId ? [String(actor.personId)] : [...actor.childIds];
  const people = await ctx.deps.db.models.Person.find({ _id: { $in: ids.map((id) => toObjectId(id)) }, schoolId: actor.schoolId }, { lastName: 1, firstName: 1 }).lean();
  return people.map((p) => ({ label: fullName(p), t: 'p' as const, i: shortId(String(p._id)) }));
}

async function targetsFor(ctx: BotContext, actor: Actor, kind: ReportKind): Promise<Target[]> {
  if (family(actor) && FAMILY_KINDS.includes(kind) && !leads(actor) && actor.classTeacherOf.size === 0) return familyTargets(ctx, actor);
  // Staff: a student's report card goes through their class (the students come next).
  if (kind === 'report-card') return classTargets(ctx, actor, kind);
  const out: Target[] = [];
  const scopes = KIND_SCOPES[kind];
  if (leads(actor) && scopes.includes('school')) out.push({ label: ctx.t('reportsUi.scope.school'), t: 's', i: '-' });
  if (leads(actor) && scopes.includes('grade')) {
    const grades = (await ctx.deps.db.models.SchoolClass.distinct('grade', { schoolId: actor.schoolId, closedAt: null })) as number[];
    for (const g of grades.sort((a, b) => a - b)) out.push({ label: ctx.t('reportsUi.scope.grade', { grade: g }), t: 'g', i: String(g) });
  }
  if (scopes.includes('class')) out.push(...(await classTargets(ctx, actor, kind)));
  return out;
}

export async function showScopes(ctx: BotContext, actor: Actor, code: KindCode): Promise<void> {
  const kind = kindOf(code);
  const targets = await targetsFor(ctx, actor, kind);
  const back = new InlineKeyboard().text(ctx.t('reportsUi.back'), reportsMenuCb.pack({}));
  if (targets.length === 0) return showScreen(ctx, ctx.t('reportsUi.noScope'), back);
  const only = targets[0];
  if (targets.length === 1 && only) return showNext(ctx, actor, code, only.t, only.i, '-');
  const kb = new InlineKeyboard();
  targets.forEach((x, i) => {
    kb.text(x.label, reportScopeCb.pack({ k: code, t: x.t, i: x.i, s: '-' }));
    if (i % 4 === 3 || x.t !== 'c') kb.row();
  });
  kb.row().text(ctx.t('reportsUi.back'), reportsMenuCb.pack({}));
  await showScreen(ctx, `${ctx.t(`reportsUi.kinds.${kind}`)}\n${ctx.t('reportsUi.pickScope')}`, kb);
}

/** After the scope: the subject (the class journal), then the period. */
export async function showNext(ctx: BotContext, actor: Actor, code: KindCode, t: Target['t'], i: string, s: string): Promise<void> {
  const kind = kindOf(code);
  if (kind === 'class-journal' && s === '-' && t === 'c') return showSubjects(ctx, actor, code, i);
  if (kind === 'report-card' && t === 'c') return showStudents(ctx, actor, code, i);
  return showPeriods(ctx, actor, code, t, i, s);
}

/** A class's studying students, for one student's report card (the access rule decides at the end). */
async function showStudents(ctx: BotContext, actor: Actor, code: KindCode, i: string): Promise<void> {
  const students = await ctx.deps.db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': toObjectId(longId(i)), 'student.status': STUDYING_STATUS },
    { lastName: 1, firstName: 1 },
  ).lean();
  const kb = new InlineKeyboard();
  students
    .sort((a, b) => fullName(a).localeCompare(fullName(b), 'ru'))
    .forEach((p, n) => {
      kb.text(fullName(p), reportScopeCb.pack({ k: code, t: 'p', i: shortId(String(p._id)), s: '-' }));
      if (n % 2 === 1) kb.row();
    });
  kb.row().text(ctx.t('reportsUi.back'), reportKindCb.pack({ k: code }));
  await showScreen(ctx, students.length ? ctx.t('reportsUi.pickStudent') : ctx.t('reportsUi.noScope'), kb);
}

async function showSubjects(ctx: BotContext, actor: Actor, code: KindCode, i: string): Promise<void> {
  const classId = longId(i);
  const { TeachingLoad, Subject } = ctx.deps.db.models;
  const load = await TeachingLoad.find({ schoolId: actor.schoolId, classId: toObjectId(classId) }, { subjectId: 1 }).lean();
  const all = leads(actor) || actor.classTeacherOf.has(classId);
  const ids = [...new Set(load.map((l) => String(l.subjectId)))].filter((sid) => all || actor.teachesPairs.has(`${classId}|${sid}`));
  const subjects = await Subject.find({ schoolId: actor.schoolId, _id: { $in: ids.map((x) => toObjectId(x)) } }, { name: 1 }).lean();
  const kb = new InlineKeyboard();
  subjects
    .sort((a, b) => a.name.localeCompare(b.name, 'ru'))
    .forEach((sub, n) => {
      kb.text(sub.name, reportScopeCb.pack({ k: code, t: 'c', i, s: shortId(String(sub._id)) }));
      if (n % 2 === 1) kb.row();
    });
  kb.row().text(ctx.t('reportsUi.back'), reportKindCb.pack({ k: code }));
  await showScreen(ctx, subjects.length ? ctx.t('reportsUi.pickSubject') : ctx.t('reportsUi.noScope'), kb);
}

async function gradeOf(ctx: BotContext, actor: Actor, t: Target['t'], i: string): Promise<number | undefined> {
  if (t === 'g') return Number(i);
  if (t === 's' || i === '-') return undefined;
  const { SchoolClass, Person } = ctx.deps.db.models;
  if (t === 'p') {
    const p = await Person.findOne({ _id: toObjectId(longId(i)), schoolId: actor.schoolId }, { student: 1 }).lean();
    if (!p?.student?.classId) return undefined;
    return (await SchoolClass.findById(p.student.classId, { grade: 1 }).lean())?.grade;
  }
  return (await SchoolClass.findOne({ _id: toObjectId(longId(i)), schoolId: actor.schoolId }, { grade: 1 }).lean())?.grade;
}

async function showPeriods(ctx: BotContext, actor: Actor, code: KindCode, t: Target['t'], i: string, s: string): Promise<void> {
  const kind = kindOf(code);
  const formats = KIND_FORMATS[kind];
  const kb = new InlineKeyboard();
  const add = (label: string, p: 'n' | 'q1' | 'q2' | 'q3' | 'q4' | 'h1' | 'h2' | 't1' | 't2' | 't3' | 'year') => {
    for (const f of formats) kb.text(formats.length > 1 ? `${label} · ${f.toUpperCase()}` : label, reportGoCb.pack({ k: code, t, i, s, p, f: f === 'pdf' ? 'p' : 'x' }));
    kb.row();
  };
  if (kind === 'summary-sheet') add(ctx.t('reportsUi.period.year'), 'year');
  else if (kind === 'weekly-letters') add(ctx.t('reportsUi.period.week'), 'n');
  else {
    add(ctx.t('reportsUi.period.now'), 'n');
    const school = await cachedSchool(ctx.deps.db, actor.schoolId);
    const year = school ? await currentYear(ctx.deps.db, actor.schoolId, todayOf({ timezone: school.timezone }, ctx.deps.now())) : undefined;
    const grade = await gradeOf(ctx, actor, t, i);
    for (const p of year ? periodsOf(year, grade) : []) {
      if (/^(q[1-4]|h[12]|t[1-3])$/.test(p.code)) add(periodLabel(ctx.t, p.code, 'full'), p.code as 'q1');
    }
    if (kind !== 'class-journal') add(ctx.t('reportsUi.period.year'), 'year');
  }
  kb.text(ctx.t('reportsUi.back'), reportKindCb.pack({ k: code }));
  await showScreen(ctx, `${escapeHtml(ctx.t(`reportsUi.kinds.${kind}`))}\n${ctx.t('reportsUi.pickPeriod')}`, kb);
}
