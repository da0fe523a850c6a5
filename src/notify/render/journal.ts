import type { Types } from 'mongoose';
import { ackCb } from '../../bot/callbacks/notices.js';
import type { Db } from '../../db/index.js';
import type { OutboxDoc } from '../../db/models/notify.js';
import { shortName } from '../../domain/school/people.js';
import { dayMonth } from '../../domain/shared/calendar.js';
import { byIds, type SchoolInfo } from './cache.js';
import {
  clip,
  codeName,
  MAX_TEXT,
  oneButton,
  periodName,
  type RenderedItem,
  type RenderedMessage,
  type RenderInput,
  type Snapshot,
} from './common.js';

/**
 * Marks, absences, homework and period marks: joined into one message per chat, one line per
 * thing, grouped by child. Each line says what changed since the recipient was last told
 * (NoticeState), from the journal as it is now.
 */
type Id = Types.ObjectId;

interface Line {
  doc: OutboxDoc;
  text?: string;
  snapshot?: Snapshot;
  acknowledgeable?: boolean;
}

export async function renderJoined(input: RenderInput): Promise<RenderedMessage> {
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
    replyMarkup: ackable ? oneButton(t('ack.button'), ackCb.pack({ t: input.token })) : undefined,
    disableNotification: included.every((l) => l.doc.priority === 'low'),
    items,
    skipped,
    overflow,
  };
}

const same = (a: Snapshot | undefined, b: Snapshot | undefined) =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

type Entities = Awaited<ReturnType<typeof loadEntities>>;

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
          describe = () => t('notify.absence.new', { ...vars, reason: codeName(t, a.code) });
          change = () => t('notify.absence.reason', { ...vars, reason: codeName(t, a.code) });
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
            // The date it is due at, as the teacher was shown it (issue 11 item 5); older homework: the lesson's.
            date: lesson.homework?.dueOn ? t('notify.homework.due', { date: dayMonth(lesson.homework.dueOn) }) : dayMonth(lesson.date),
            // A long homework is shortened here and says where the whole text is (never cut silently).
            text: text.length > 700 ? `${clip(text, 700)} ${t('notify.homework.more')}` : text,
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
