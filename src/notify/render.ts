import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Types } from 'mongoose';
import type { Locale } from '../config.js';
import type { Db } from '../db/index.js';
import type { NoticeKind, OutboxDoc } from '../db/models/notify.js';
import { loadActor } from '../domain/school/actor.js';
import { periodSummary, weekSummary } from '../domain/diary/diary.js';
import { shortName } from '../domain/school/people.js';
import { escapeHtml, type Translate } from '../i18n.js';
import { dayMonth } from '../domain/shared/zoned.js';

/**
 * Turns claimed outbox documents for one chat into one Telegram message. The text comes from the
 * journal as it is now and from what the recipient was told before (NoticeState):
 *
 *   the thing exists, never told          → "new mark 5"
 *   exists, told the same                 → nothing (a correction back to the told value)
 *   exists, told something else           → "changed 3 → 4"
 *   gone (deleted, cleared), never told   → nothing (deleted inside the grace window)
 *   gone, told                            → "deleted"
 *
 * User text (names, homework, messages) is escaped for HTML; i18next escapes {{vars}} itself.
 */
type Id = Types.ObjectId;

export const MAX_TEXT = 4000; // under Telegram's 4096, with room for the header
/** Kinds joined into one message per chat; the others go alone. */
export const JOINABLE: ReadonlySet<NoticeKind> = new Set(['mark', 'absence', 'homework', 'periodMark']);

/** Callback data of the buttons under notifications (the bot's acks/absence-report features unpack them). */
export const ackData = (token: string) => `ack:${token}`;
export const reportDecisionData = (reportId: string, decision: 'b' | 'u' | 'x') => `abrd:${reportId}:${decision}`;

export type Snapshot = Record<string, unknown> & { gone?: boolean };

export interface RenderedItem {
  id: Id;
  collapseKey?: string | null;
  snapshot?: Snapshot;
}

export interface RenderedMessage {
  text: string;
  replyMarkup?: InlineKeyboardMarkup;
  disableNotification: boolean;
  /** Send as a photo (by file_id) with the text as its caption. */
  photo?: string;
  /** Send as a document or a voice message (by file_id) with the text as its caption. */
  document?: string;
  voice?: string;
  items: RenderedItem[];
  /** Nothing to say any more: closed without a message. */
  skipped: Id[];
  /** Did not fit into this message: back to the queue. */
  overflow: Id[];
}

interface SchoolInfo {
  name: string;
  locale?: string | null;
  timezone: string;
  workKinds: Map<string, { ru: string; en: string }>;
}

/** Small caches for the worker (names change rarely; a stale name for a minute is harmless). */
export class RenderCache {
  private schools = new Map<string, { at: number; info: SchoolInfo | undefined }>();
  private subjects = new Map<string, { at: number; name: string }>();
  constructor(private readonly ttlMs = 60_000) {}

  async school(db: Db, id: Id): Promise<SchoolInfo | undefined> {
    const key = String(id);
    const hit = this.schools.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.info;
    const s = await db.models.School.findById(id, { name: 1, locale: 1, timezone: 1, settings: 1 }).lean();
    const info = s
      ? {
          name: s.name,
          locale: s.locale,
          timezone: s.timezone,
          workKinds: new Map(
            (s.settings?.workKinds ?? []).map((k) => [k.code, { ru: k.name?.ru ?? k.code, en: k.name?.en ?? k.code }]),
          ),
        }
      : undefined;
    this.schools.set(key, { at: Date.now(), info });
    return info;
  }

  async subjectNames(db: Db, ids: Id[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const missing: Id[] = [];
    for (const id of ids) {
      const hit = this.subjects.get(String(id));
      if (hit && Date.now() - hit.at < this.ttlMs) out.set(String(id), hit.name);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const found = await Promise.all([...new Set(missing.map(String))].map((id) => db.models.Subject.findById(id, { name: 1 }).lean()));
      for (const s of found) {
        if (!s) continue;
        out.set(String(s._id), s.name);
        this.subjects.set(String(s._id), { at: Date.now(), name: s.name });
      }
    }
    return out;
  }
}

export interface RenderInput {
  db: Db;
  t: Translate;
  locale: Locale;
  now: Date;
  token: string;
  docs: OutboxDoc[];
  cache: RenderCache;
}

const CODE_KEY: Record<string, string> = { Н: 'n', Б: 'b', У: 'u' };

export async function renderMessage(input: RenderInput): Promise<RenderedMessage> {
  const first = input.docs[0];
  if (!first) return { text: '', disableNotification: false, items: [], skipped: [], overflow: [] };
  if (JOINABLE.has(first.kind as NoticeKind)) return renderJoined(input);
  return renderSingle(input, first);
}

// ───────────────────────────── joined: marks, absences, homework, period marks ─────────────────────────────

interface Line {
  doc: OutboxDoc;
  text?: string;
  snapshot?: Snapshot;
  acknowledgeable?: boolean;
}

async function renderJoined(input: RenderInput): Promise<RenderedMessage> {
  const { db, t, docs } = input;
  const school = await input.cache.school(db, docs[0]?.schoolId as Id);
  // One line per thing: two documents about the same mark (a retry, a race) say it once.
  const byThing = new Map<string, OutboxDoc[]>();
  for (const d of docs) {
    const k = d.collapseKey ?? String(d._id);
    byThing.set(k, [...(byThing.get(k) ?? []), d]);
  }
  const keys = [...new Set(docs.map((d) => d.collapseKey).filter((k): k is string => Boolean(k)))];
  const lead = [...byThing.values()].map((group) => group[0] as OutboxDoc);
  const duplicates = [...byThing.values()].flatMap((group) => group.slice(1));
  // What the recipient was told, the journal now, and the children's names: read together.
  const [states, entities, students] = await Promise.all([
    byIds(keys, (id) => db.models.NoticeState.findById(id).lean()),
    loadEntities(db, lead),
    byIds([...new Set(lead.map((d) => String(d.studentId)))], (id) =>
      db.models.Person.findById(id, { firstName: 1, lastName: 1 }).lean(),
    ),
  ]);
  const told = new Map(states.map((s) => [s._id, s.snapshot as Snapshot]));
  const lines = await linesFor(input, lead, told, school, entities);

  // Group by child; a student reading about themself gets no name header.
  const names = new Map(students.map((s) => [String(s._id), shortName(s)]));
  const order: string[] = [];
  const perStudent = new Map<string, Line[]>();
  for (const line of lines) {
    if (!line.text) continue;
    const sid = String(line.doc.studentId);
    if (!perStudent.has(sid)) {
      perStudent.set(sid, []);
      order.push(sid);
    }
    perStudent.get(sid)?.push(line);
  }
  const parts: string[] = [];
  const included: Line[] = [];
  const overflow: Id[] = [];
  let length = 0;
  for (const sid of order) {
    const group = perStudent.get(sid) ?? [];
    const self = group.every((l) => String(l.doc.recipientId) === sid);
    const header = self ? t('notify.headerSelf') : t('notify.header', { name: names.get(sid) ?? '' });
    let block = header;
    const taken: Line[] = [];
    for (const line of group) {
      const next = `${block}\n${line.text}`;
      if (length + next.length + 2 > MAX_TEXT && (included.length > 0 || taken.length > 0)) {
        overflow.push(line.doc._id);
        continue;
      }
      block = next;
      taken.push(line);
    }
    if (taken.length === 0) continue;
    parts.push(block);
    length += block.length + 2;
    included.push(...taken);
  }
  // A duplicate (same thing) shares the fate of its lead: sent with it, back to the queue, or closed.
  const fate = new Map<string, 'included' | 'overflow' | 'skipped'>();
  for (const l of lines) fate.set(l.doc.collapseKey ?? String(l.doc._id), 'skipped');
  for (const l of included) fate.set(l.doc.collapseKey ?? String(l.doc._id), 'included');
  for (const l of lines) if (overflow.some((o) => String(o) === String(l.doc._id))) fate.set(l.doc.collapseKey ?? String(l.doc._id), 'overflow');
  const items: RenderedItem[] = included.map((l) => ({ id: l.doc._id, collapseKey: l.doc.collapseKey, snapshot: l.snapshot }));
  const skipped: Id[] = lines.filter((l) => fate.get(l.doc.collapseKey ?? String(l.doc._id)) === 'skipped').map((l) => l.doc._id);
  for (const d of duplicates) {
    const f = fate.get(d.collapseKey ?? String(d._id));
    if (f === 'included') items.push({ id: d._id, collapseKey: d.collapseKey });
    else if (f === 'overflow') overflow.push(d._id);
    else skipped.push(d._id);
  }
  const ackable = included.some((l) => l.acknowledgeable);
  return {
    text: parts.join('\n\n'),
    replyMarkup: ackable
      ? { inline_keyboard: [[{ text: t('ack.button'), callback_data: ackData(input.token) }]] }
      : undefined,
    disableNotification: included.every((l) => l.doc.priority === 'low'),
    items,
    skipped,
    overflow,
  };
}

const same = (a: Snapshot | undefined, b: Snapshot | undefined) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

type Entities = Awaited<ReturnType<typeof loadEntities>>;

/**
 * One lookup per id by its unique key rather than one `$in` query: a message is about a handful of
 * things, and an exact key is an index hit on every server (the stand-in uses no index for `$in`).
 */
async function byIds<T>(ids: ReadonlyArray<Id | string>, find: (id: Id | string) => Promise<T | null>): Promise<T[]> {
  const unique = [...new Set(ids.map(String))];
  const found = await Promise.all(unique.map((id) => find(id)));
  return found.filter((x): x is Awaited<T> & T => x !== null && x !== undefined);
}

/** The marks, lessons, absences and period marks the messages are about (empty lists cost no query). */
async function loadEntities(db: Db, docs: OutboxDoc[]) {
  const ids = (f: (d: OutboxDoc) => Id | null | undefined) => docs.map(f).filter((x): x is Id => Boolean(x));
  const markIds = ids((d) => (d.kind === 'mark' ? d.ref?.markId : undefined));
  const lessonIds = ids((d) => d.ref?.lessonId);
  const periodMarkIds = ids((d) => d.ref?.periodMarkId);
  const absencePairs = docs
    .filter((d) => d.kind === 'absence' && d.ref?.lessonId && d.studentId)
    .map((d) => ({ lessonId: d.ref?.lessonId as Id, studentId: d.studentId as Id }));
  const [marks, lessons, absences, periodMarks] = await Promise.all([
    byIds(markIds, (id) => db.models.Mark.findById(id).lean()),
    byIds(lessonIds, (id) =>
      db.models.Lesson.findById(id, { subjectId: 1, date: 1, lessonNo: 1, homework: 1, status: 1 }).lean(),
    ),
    Promise.all(
      absencePairs.map((p) =>
        db.models.Absence.findOne({ lessonId: p.lessonId, studentId: p.studentId }, { lessonId: 1, studentId: 1, code: 1 }).lean(),
      ),
    ).then((list) => list.filter((a): a is NonNullable<typeof a> => Boolean(a))),
    byIds(periodMarkIds, (id) => db.models.PeriodMark.findById(id).lean()),
  ]);
  return { marks, lessons, absences, periodMarks };
}

async function linesFor(
  input: RenderInput,
  docs: OutboxDoc[],
  told: Map<string, Snapshot>,
  school: SchoolInfo | undefined,
  entities: Entities,
): Promise<Line[]> {
  const { db, t, locale } = input;
  const { marks, lessons, absences, periodMarks } = entities;
  const markById = new Map(marks.map((m) => [String(m._id), m]));
  const lessonById = new Map(lessons.map((l) => [String(l._id), l]));
  const absenceBy = new Map(absences.map((a) => [`${a.lessonId}|${a.studentId}`, a]));
  const pmById = new Map(periodMarks.map((p) => [String(p._id), p]));
  const subjects = await input.cache.subjectNames(db, [
    ...marks.map((m) => m.subjectId),
    ...lessons.map((l) => l.subjectId),
    ...periodMarks.map((p) => p.subjectId),
  ]);
  const kindName = (code: string) => school?.workKinds.get(code)?.[locale] ?? code;
  const codeName = (code: string) => t(`notify.code.${CODE_KEY[code] ?? 'n'}`);

  return docs.map((doc): Line => {
    const before = doc.collapseKey ? told.get(doc.collapseKey) : undefined;
    const wasTold = Boolean(before && !before.gone);
    let now: Snapshot;
    let describe: (() => string) | undefined;
    let change: (() => string) | undefined;
    let gone: (() => string) | undefined;
    let acknowledgeable = false;
    switch (doc.kind) {
      case 'mark': {
        const m = markById.get(String(doc.ref?.markId));
        const subject = subjects.get(String(m?.subjectId)) ?? '—';
        if (!m || m.deletedAt) {
          now = { gone: true };
          gone = () =>
            t('notify.mark.deleted', { subject, value: String(before?.v ?? ''), date: dayMonth(String(before?.d ?? m?.date ?? '')) });
        } else {
          now = { v: m.value, k: m.workKind, d: m.date };
          const vars = { subject, value: m.value, kind: kindName(m.workKind), date: dayMonth(m.date) };
          describe = () => (m.comment ? `${t('notify.mark.new', vars)}\n   ${t('notify.comment', { text: m.comment })}` : t('notify.mark.new', vars));
          change = () => t('notify.mark.changed', { ...vars, before: String(before?.v ?? '') });
        }
        acknowledgeable = true;
        break;
      }
      case 'absence': {
        const lesson = lessonById.get(String(doc.ref?.lessonId));
        const a = absenceBy.get(`${doc.ref?.lessonId}|${doc.studentId}`);
        const vars = {
          subject: subjects.get(String(lesson?.subjectId)) ?? '—',
          lesson: lesson?.lessonNo ?? '—',
          date: lesson ? dayMonth(lesson.date) : '',
        };
        if (!a) {
          now = { gone: true };
          gone = () => t('notify.absence.cleared', vars);
        } else {
          now = { c: a.code };
          describe = () => t('notify.absence.new', { ...vars, reason: codeName(a.code) });
          change = () => t('notify.absence.reason', { ...vars, reason: codeName(a.code) });
        }
        acknowledgeable = true;
        break;
      }
      case 'homework': {
        const lesson = lessonById.get(String(doc.ref?.lessonId));
        const text = lesson?.homework?.text?.trim() ?? '';
        const files = lesson?.homework?.attachments?.length ?? 0;
        if (!lesson || lesson.status === 'cancelled' || (!text && files === 0)) {
          now = { gone: true };
        } else {
          now = { h: `${text}|${files}` };
          const vars = {
            subject: subjects.get(String(lesson.subjectId)) ?? '—',
            date: dayMonth(lesson.date),
            text: clip(text, 700),
          };
          const files_ = files > 0 ? ` ${t('notify.homework.files', { n: files })}` : '';
          describe = () => t('notify.homework.new', vars) + files_;
          change = () => t('notify.homework.changed', vars) + files_;
        }
        break;
      }
      case 'periodMark': {
        const p = pmById.get(String(doc.ref?.periodMarkId));
        if (!p) {
          now = { gone: true };
        } else {
          now = { v: p.value };
          const vars = { subject: subjects.get(String(p.subjectId)) ?? '—', value: p.value, period: periodName(t, p.periodCode) };
          describe = () => t('notify.periodMark.new', vars);
          change = () => t('notify.periodMark.changed', { ...vars, before: String(before?.v ?? '') });
        }
        break;
      }
      default:
        now = { gone: true };
    }
    let text: string | undefined;
    if (now.gone) text = wasTold ? gone?.() : undefined;
    else if (!wasTold) text = describe?.();
    else if (!same(stripGone(before), now)) text = change?.();
    return { doc, text, snapshot: now, acknowledgeable: acknowledgeable && Boolean(text) && !now.gone };
  });
}

function stripGone(s: Snapshot | undefined): Snapshot | undefined {
  if (!s) return s;
  const { gone: _gone, ...rest } = s;
  return rest;
}

export function periodName(t: Translate, code: string): string {
  const m = /^([qht])(\d)$/.exec(code);
  if (m) return t(`notify.period.${m[1]}`, { n: m[2] });
  if (code === 'year') return t('notify.period.year');
  return code;
}

const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

// ───────────────────────────── single messages ─────────────────────────────

/** The Reply button under a delivered thread message (parsed by src/bot/features/messaging.ts). */
export const threadReplyData = (threadId: string) => `msgr:${threadId}`;
/** "Open the conversation" under a report to the admin (`reportViewCb`, first page). */
export const reportViewData = (threadId: string) => `msga:${threadId}:0`;

/**
 * A teacher–family message (src/domain/messaging.ts): the sender's header in the recipient's
 * language ("Mother of …, 5B" / "Teacher of Mathematics …"), the text, the file, a Reply button.
 */
function renderThreadMessage(t: Translate, payload: Record<string, unknown>, base: RenderedMessage): RenderedMessage {
  const header = payload.header as { key?: unknown; vars?: Record<string, unknown> } | undefined;
  const vars = header?.vars ?? {};
  const translated =
    typeof header?.key === 'string'
      ? t(header.key, { ...vars, subjects: Array.isArray(vars.subjects) ? vars.subjects.join(', ') : vars.subjects, relation: typeof vars.relation === 'string' ? t(vars.relation) : undefined })
      : '';
  const file = typeof payload.fileId === 'string' ? payload.fileId : undefined;
  const title = clip(translated, 200);
  // Telegram counts the text after parsing the HTML: the header, a new line, the message.
  const limit = (file ? 1024 : 4096) - title.length - 1;
  const text = `<b>${escapeHtml(title)}</b>\n${escapeHtml(clip(String(payload.text ?? ''), limit))}`;
  const out: RenderedMessage = {
    ...base,
    text,
    replyMarkup: { inline_keyboard: [[{ text: t('messaging.replyButton'), callback_data: threadReplyData(String(payload.threadId)) }]] },
  };
  if (file && payload.fileKind === 'photo') out.photo = file;
  if (file && payload.fileKind === 'document') out.document = file;
  if (file && payload.fileKind === 'voice') out.voice = file;
  return out;
}

/** A header-like label ({ key, vars }) in the reader's language. */
function noticeLabel(t: Translate, label: unknown): string {
  const l = label as { key?: unknown; vars?: Record<string, unknown> } | undefined;
  if (typeof l?.key !== 'string') return '';
  const vars = l.vars ?? {};
  return t(l.key, {
    ...vars,
    subjects: Array.isArray(vars.subjects) ? vars.subjects.join(', ') : vars.subjects,
    relation: typeof vars.relation === 'string' ? t(vars.relation) : undefined,
  });
}

/** `noticeKey` with `noticeVars`; each of `noticeLabels` is translated first. */
function renderNotice(t: Translate, payload: Record<string, unknown>): string {
  const vars: Record<string, unknown> = { ...((payload.noticeVars as Record<string, unknown>) ?? {}) };
  for (const [name, label] of Object.entries((payload.noticeLabels as Record<string, unknown>) ?? {})) vars[name] = noticeLabel(t, label);
  return t(String(payload.noticeKey), vars);
}

/** The Read button under a delivered class announcement (parsed by src/bot/features/announcements.ts). */
export const announcementReadData = (announcementId: string) => `anr:${announcementId}`;

/** An announcement (src/domain/announcements.ts): header, text (a photo's or document's caption), a Read button. */
function renderAnnouncement(t: Translate, payload: Record<string, unknown>, base: RenderedMessage): RenderedMessage {
  const h = (payload.header ?? {}) as { name?: unknown; className?: unknown; groupName?: unknown; grade?: unknown; wholeSchool?: unknown };
  const key = payload.reminder ? 'announce.headerReminder' : payload.urgent ? 'announce.headerUrgent' : 'announce.header';
  const audience = h.wholeSchool
    ? t('announce.labelSchool')
    : typeof h.grade === 'number'
      ? t('announce.labelGrade', { grade: h.grade })
      : typeof h.groupName === 'string'
        ? t('announce.labelGroup', { className: String(h.className ?? '—'), group: h.groupName })
        : String(h.className ?? '—');
  const file = typeof payload.fileId === 'string' ? payload.fileId : undefined;
  if (payload.fileOnly && file) {
    // One of several files of an announcement, before its text: a short caption, no Read button.
    const caption = clip(t('announce.fileHeader', { name: String(h.name ?? '—'), className: audience, n: Number(payload.fileNo) || 1, total: Number(payload.fileCount) || 1 }), 200);
    const out: RenderedMessage = { ...base, text: `<b>${escapeHtml(caption)}</b>` };
    if (payload.fileKind === 'photo') out.photo = file;
    else out.document = file;
    return out;
  }
  const filesAbove = typeof payload.fileCount === 'number' && payload.fileCount > 1 ? `\n${t('announce.filesAbove', { n: payload.fileCount })}` : '';
  const title = clip(t(key, { name: String(h.name ?? '—'), className: audience }), 200) + filesAbove;
  // With a photo or a document the text is its caption (1024 after parsing the HTML).
  const limit = (file ? 1024 : 4096) - title.length - 1;
  const text = `<b>${escapeHtml(title)}</b>\n${escapeHtml(clip(String(payload.text ?? ''), limit))}`;
  const id = String(payload.announcementId);
  const out: RenderedMessage = {
    ...base,
    text,
    replyMarkup: { inline_keyboard: [[{ text: t('announce.readButton'), callback_data: announcementReadData(id) }]] },
  };
  if (file && payload.fileKind === 'photo') out.photo = file;
  if (file && payload.fileKind === 'document') out.document = file;
  return out;
}

async function renderSingle(input: RenderInput, doc: OutboxDoc): Promise<RenderedMessage> {
  const base: RenderedMessage = {
    text: '',
    disableNotification: doc.priority === 'low',
    items: [{ id: doc._id }],
    skipped: [],
    overflow: input.docs.slice(1).map((d) => d._id),
  };
  const nothing = (): RenderedMessage => ({ ...base, items: [], skipped: [doc._id] });
  const { db, t, now } = input;
  const payload = (doc.payload ?? {}) as Record<string, unknown>;
  switch (doc.kind) {
    case 'message': {
      if (typeof payload.threadId === 'string') {
        // Recalled by its sender while it waited: nothing to deliver.
        const recalled = typeof payload.threadMessageId === 'string'
          ? await db.models.ThreadMessage.exists({ _id: payload.threadMessageId, recalledAt: { $exists: true } })
          : null;
        if (recalled) return nothing();
        return renderThreadMessage(t, payload, base);
      }
      if (typeof payload.announcementId === 'string') return renderAnnouncement(t, payload, base);
      // A notice with an i18n key, its variables and labels (messaging reports: src/domain/messaging.ts).
      if (typeof payload.noticeKey === 'string') {
        const out: RenderedMessage = { ...base, text: escapeHtml(clip(renderNotice(t, payload), MAX_TEXT)) };
        // A report of a conversation: the admin opens it from the notice (read-only, audited).
        if (typeof payload.reportThreadId === 'string') {
          out.replyMarkup = { inline_keyboard: [[{ text: t('messaging.reportOpen'), callback_data: reportViewData(payload.reportThreadId) }]] };
        }
        return out;
      }
      const title = typeof payload.title === 'string' && payload.title ? `<b>${escapeHtml(clip(payload.title, 200))}</b>\n` : '';
      // Clipped before escaping, so an entity is never cut in half.
      return { ...base, text: `${title}${escapeHtml(clip(String(payload.text ?? ''), MAX_TEXT - 300))}` };
    }
    case 'digest':
    case 'joinSummary': {
      // Read as the recipient (R4): a guardianship removed since then means no message.
      const actor = doc.recipientId ? await loadActor(db, doc.recipientId) : undefined;
      if (!actor || !doc.studentId) return nothing();
      try {
        const text =
          doc.kind === 'digest'
            ? digestText(t, input.locale, await weekSummary(db, actor, String(doc.studentId), now))
            : joinSummaryText(t, input.locale, await periodSummary(db, actor, String(doc.studentId), now));
        return { ...base, text: clip(text, MAX_TEXT) };
      } catch {
        return nothing();
      }
    }
    case 'familyBlocked': {
      const [student, parent] = await Promise.all([
        db.models.Person.findById(doc.studentId, { firstName: 1, lastName: 1, student: 1 }).lean(),
        db.models.Person.findById(payload.parentId, { firstName: 1, lastName: 1, middleName: 1 }).lean(),
      ]);
      if (!student) return nothing();
      const cls = student.student?.classId
        ? await db.models.SchoolClass.findById(student.student.classId, { name: 1 }).lean()
        : null;
      return {
        ...base,
        text: t('notify.familyBlocked', {
          parent: parent ? shortName(parent) : '—',
          student: shortName(student),
          className: cls?.name ?? '—',
        }),
      };
    }
    case 'absenceReport':
    case 'absenceReportDecision':
      return renderReport(input, doc, base, nothing);
    default:
      return nothing();
  }
}

async function renderReport(
  input: RenderInput,
  doc: OutboxDoc,
  base: RenderedMessage,
  nothing: () => RenderedMessage,
): Promise<RenderedMessage> {
  const { db, t } = input;
  const report = await db.models.AbsenceReport.findById(doc.ref?.reportId).lean();
  if (!report) return nothing();
  const [student, parent] = await Promise.all([
    db.models.Person.findById(report.studentId, { firstName: 1, lastName: 1, student: 1 }).lean(),
    db.models.Person.findById(report.parentId, { firstName: 1, lastName: 1 }).lean(),
  ]);
  const cls = student?.student?.classId ? await db.models.SchoolClass.findById(student.student.classId, { name: 1 }).lean() : null;
  const dates = report.from === report.to ? dayMonth(report.from) : `${dayMonth(report.from)}–${dayMonth(report.to)}`;
  const vars = {
    student: student ? shortName(student) : '—',
    className: cls?.name ?? '—',
    parent: parent ? shortName(parent) : '—',
    dates,
    reason: t(`absenceReport.reasons.${report.reason}`),
  };
  if (doc.kind === 'absenceReport') {
    if (report.status !== 'pending') return nothing();
    const id = String(report._id);
    return {
      ...base,
      text: t('absenceReport.toTeacher', vars),
      photo: report.photoFileId ?? undefined,
      replyMarkup: {
        inline_keyboard: [
          [
            { text: t('absenceReport.confirmB'), callback_data: reportDecisionData(id, 'b') },
            { text: t('absenceReport.confirmU'), callback_data: reportDecisionData(id, 'u') },
          ],
          [{ text: t('absenceReport.reject'), callback_data: reportDecisionData(id, 'x') }],
        ],
      },
    };
  }
  if (report.status === 'pending') return nothing();
  const key = report.status === 'rejected' ? 'absenceReport.rejectedToParent' : 'absenceReport.confirmedToParent';
  return {
    ...base,
    text: t(key, { ...vars, code: report.code ?? '', codeName: t(`notify.code.${CODE_KEY[report.code ?? ''] ?? 'n'}`) }),
  };
}

// ───────────────────────────── digest, join summary ─────────────────────────────

const avg = (n: number | undefined, locale: Locale) =>
  n === undefined
    ? '—'
    : n.toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function trend(now: number | undefined, before: number | undefined, locale: Locale): string {
  if (now === undefined || before === undefined) return '';
  const d = Math.round((now - before) * 100) / 100;
  if (d > 0) return ` ↑ +${avg(d, locale)}`;
  if (d < 0) return ` ↓ ${avg(d, locale)}`;
  return ' =';
}

export function digestText(t: Translate, locale: Locale, w: Awaited<ReturnType<typeof weekSummary>>): string {
  const lines = [t('digest.title', { name: w.student.name, from: dayMonth(w.from), to: dayMonth(w.to) })];
  lines.push('', t('digest.marks'));
  if (w.subjects.length === 0) lines.push(t('digest.noMarks'));
  for (const s of w.subjects) {
    lines.push(
      t('digest.subject', {
        subject: s.subject,
        marks: s.marks.length ? s.marks.join(' ') : '—',
        average: avg(s.average, locale),
      }) + trend(s.average, s.previousAverage, locale),
    );
  }
  lines.push('', t('digest.absences', { n: w.absences.length }));
  for (const a of w.absences.slice(0, 20)) {
    lines.push(t('digest.absence', { date: dayMonth(a.date), subject: a.subject, code: a.code }));
  }
  lines.push('', t('digest.homework'));
  if (w.homework.length === 0) lines.push(t('digest.noHomework'));
  for (const h of w.homework.slice(0, 25)) {
    lines.push(t('digest.homeworkLine', { date: dayMonth(h.dueOn), subject: h.subject, text: clip(h.text, 200) }));
  }
  return lines.join('\n');
}

export function joinSummaryText(t: Translate, locale: Locale, s: Awaited<ReturnType<typeof periodSummary>>): string {
  const lines = [
    t('notify.join.title', {
      name: s.student.name,
      period: s.period ? periodName(t, s.period.code) : t('notify.join.recent'),
    }),
  ];
  if (s.subjects.length === 0) lines.push(t('notify.join.noMarks'));
  for (const sub of s.subjects) {
    lines.push(t('notify.join.subject', { subject: sub.subject, n: sub.count, average: avg(sub.average, locale) }));
  }
  lines.push(
    '',
    t('notify.join.absences', { n: s.absences.Н ?? 0, b: s.absences.Б ?? 0, u: s.absences.У ?? 0 }),
    '',
    t('notify.join.next'),
  );
  return lines.join('\n');
}
