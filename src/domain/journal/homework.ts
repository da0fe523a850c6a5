import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { announceEvent } from '../notices/intents.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { addDays, isoWeekday, type LocalDate } from '../shared/calendar.js';
import { DomainError } from '../shared/errors.js';
import { telegramLength } from '../shared/text-limits.js';
import { assertCanReadLesson } from './lesson-access.js';
import { type LessonBrief, lessonBrief, lessonForEdit, loadLesson, materializeLessons } from './lessons.js';

/**
 * Homework (R22): text plus the photos and files the teacher sends (kept as Telegram file_ids),
 * kept on the lesson it is given at (this lesson, or the next lesson of the subject when entered
 * in advance, R10) and due at the lesson after that one — resolved from the timetable once, when
 * it is set, and stored (`dueOn`): the teacher is shown that date and the diary lists the homework
 * under it alone (issue 11 item 5). Editable: a new version replaces the old one; the audit keeps both (R31).
 */
type Id = Types.ObjectId;

export interface HomeworkAttachment {
  kind: 'photo' | 'document';
  fileId: string;
  fileUniqueId?: string;
  name?: string;
  mimeType?: string;
}

export interface HomeworkInput {
  text?: string;
  attachments?: HomeworkAttachment[];
}

export const HOMEWORK_TEXT_MAX = 3000;
export const HOMEWORK_FILES_MAX = 10;
/** How far ahead "the next lesson of this subject" is looked for (holidays included). */
const NEXT_LESSON_HORIZON_DAYS = 21;

export async function setHomework(
  db: Db,
  actor: Actor,
  lessonId: string,
  input: HomeworkInput & { reason?: string },
  now: Date,
): Promise<{ lessonId: string; date: LocalDate; dueOn?: LocalDate }> {
  const text = input.text?.trim() || undefined;
  const attachments = (input.attachments ?? []).slice();
  if (!text && attachments.length === 0) throw new DomainError('homework.empty');
  if (text && telegramLength(text) > HOMEWORK_TEXT_MAX) throw new DomainError('common.tooLong', { max: HOMEWORK_TEXT_MAX });
  if (attachments.length > HOMEWORK_FILES_MAX) throw new DomainError('homework.tooManyFiles', { max: HOMEWORK_FILES_MAX });
  for (const a of attachments) {
    if (!/^[\w-]{10,200}$/.test(a.fileId) || (a.kind !== 'photo' && a.kind !== 'document')) {
      throw new DomainError('homework.badFile');
    }
  }
  const { lesson, check } = await lessonForEdit(db, actor, lessonId, now, { what: 'homework', reason: input.reason });
  const dueOn = (await nextLessonAfter(db, lesson))?.date;
  const homework = {
    text,
    attachments: attachments.map((a) => ({
      kind: a.kind,
      fileId: a.fileId,
      fileUniqueId: a.fileUniqueId,
      name: a.name?.slice(0, 200),
      mimeType: a.mimeType?.slice(0, 100),
    })),
    dueOn,
    updatedAt: now,
  };
  await db.models.Lesson.updateOne({ _id: lesson._id }, { $set: { homework } });
  const summary = (h: { text?: string | null; attachments?: HomeworkAttachment[] | null } | null | undefined) =>
    h && (h.text || h.attachments?.length)
      ? { text: h.text ?? null, files: (h.attachments ?? []).map((a) => ({ kind: a.kind, fileId: a.fileId })) }
      : null;
  const before = summary(lesson.homework as Parameters<typeof summary>[0]);
  await appendAudit(db, actor, now, {
    action: before ? 'homework.changed' : 'homework.set',
    entity: { type: 'lesson', id: lesson._id },
    lessonId: lesson._id,
    before,
    after: summary(homework),
    reason: check.lockedOverride ? input.reason?.trim() : undefined,
  });
  await announceEvent(db, { kind: 'homework.posted', schoolId: lesson.schoolId, lessonId: lesson._id, at: now });
  return { lessonId: String(lesson._id), date: lesson.date, dueOn };
}

/**
 * The next lesson (after this lesson's date) of the same class/group and subject, from the
 * timetable valid on each date; its Lesson document is created if nobody opened that day yet.
 */
export async function nextLessonOfSubject(db: Db, actor: Actor, lessonId: string): Promise<{ lessonId: string; date: LocalDate } | undefined> {
  const lesson = await loadLesson(db, actor, lessonId);
  await assertCanReadLesson(db, actor, lesson);
  return nextLessonAfter(db, lesson);
}

type LessonKey = { schoolId: Id; classId: Id; groupId?: Id | null; subjectId: Id; date: LocalDate };

async function nextLessonAfter(db: Db, lesson: LessonKey): Promise<{ lessonId: string; date: LocalDate } | undefined> {
  const { TimetableSlot, Lesson } = db.models;
  const scope = { schoolId: lesson.schoolId, classId: lesson.classId, groupId: lesson.groupId ?? null, subjectId: lesson.subjectId };
  const slots = await TimetableSlot.find(scope).lean();
  for (let i = 1; i <= NEXT_LESSON_HORIZON_DAYS; i++) {
    const date = addDays(lesson.date, i);
    const weekday = isoWeekday(date);
    const due = slots
      .filter((s) => s.weekday === weekday && s.validFrom <= date && (!s.validTo || s.validTo >= date))
      .sort((a, b) => a.lessonNo - b.lessonNo);
    const manual = await Lesson.findOne({ ...scope, date, slotId: null, status: { $ne: 'cancelled' } }, { _id: 1 }).lean();
    if (due.length === 0 && !manual) continue;
    await materializeLessons(db, date, due);
    const next = await Lesson.find({ ...scope, date, status: { $ne: 'cancelled' } }, { _id: 1, lessonNo: 1 })
      .sort({ lessonNo: 1 })
      .limit(1)
      .lean();
    const first = next[0];
    if (first) return { lessonId: String(first._id), date };
  }
  return undefined;
}

/** Before collecting the homework: may the actor set it (admin on a locked lesson: asked for a reason later)? */
export async function prepareHomework(
  db: Db,
  actor: Actor,
  lessonId: string,
  now: Date,
): Promise<{ lesson: LessonBrief; text?: string; files: number; dueOn?: LocalDate }> {
  const { lesson, rules } = await lessonForEdit(db, actor, lessonId, now, { what: 'homework', draft: true });
  return {
    lesson: await lessonBrief(db, lesson, rules),
    // The date the families will see it under (setHomework stores the same one).
    dueOn: (await nextLessonAfter(db, lesson))?.date,
    text: lesson.homework?.text ?? undefined,
    files: lesson.homework?.attachments?.length ?? 0,
  };
}

export async function getHomework(
  db: Db,
  actor: Actor,
  lessonId: string,
): Promise<{ text?: string; attachments: HomeworkAttachment[]; lessonId: Id; dueOn?: LocalDate }> {
  const lesson = await loadLesson(db, actor, lessonId);
  await assertCanReadLesson(db, actor, lesson);
  return {
    lessonId: lesson._id,
    text: lesson.homework?.text ?? undefined,
    dueOn: lesson.homework?.dueOn ?? undefined,
    attachments: (lesson.homework?.attachments ?? []).map((a) => ({
      kind: a.kind === 'document' ? 'document' : 'photo',
      fileId: a.fileId,
      fileUniqueId: a.fileUniqueId ?? undefined,
      name: a.name ?? undefined,
      mimeType: a.mimeType ?? undefined,
    })),
  };
}
