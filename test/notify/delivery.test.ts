import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishEvent } from '../../src/domain/notices/events.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import { type FamilyWorld, familyWorld, giveMark, markAbsent, received, setGrace } from './world.js';

/**
 * R4, R23: a journal event reaches the child's own family — every bound parent and the student —
 * and nobody else; corrections inside the grace window collapse into one message.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;
const deliver = () => t.app.delivery.runUntilIdle(20_000);

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

describe('who hears about a mark (R4, R23)', () => {
  it('a mark reaches both parents and the student, and nobody else', async () => {
    await giveMark(db(), w.lessonA, w.s.familyA.studentId, 5, t.clock.now());
    await deliver();
    for (const u of [w.motherA, w.fatherA]) {
      const texts = received(u);
      expect(texts).toHaveLength(1);
      expect(texts[0]).toContain(w.s.familyA.childName);
      expect(texts[0]).toContain('Математика: 5 — Работа на уроке');
    }
    expect(received(w.studentA)).toHaveLength(1);
    expect(received(w.studentA)[0]).toContain('Новое в дневнике');
    for (const u of [w.motherB, w.classTeacherA, w.mathTeacher]) expect(received(u)).toEqual([]);
    // One outbox document per (event, recipient), each sent once.
    const docs = await db().models.OutboxMessage.find({ kind: 'mark' }).lean();
    expect(docs.map((d) => d.status)).toEqual(['sent', 'sent', 'sent']);
    expect(new Set(docs.map((d) => d.key)).size).toBe(3);
  });

  it('a parent never receives anything about another family’s child', async () => {
    const beforeA = received(w.motherA).length;
    const markId = await giveMark(db(), w.lessonB, w.s.familyB.studentId, 2, t.clock.now());
    await markAbsent(db(), w.lessonB, w.s.familyB.studentId, t.clock.now());
    await publishEvent(db(), {
      kind: 'mark.changed',
      schoolId: w.s.schoolId,
      studentId: w.s.familyB.studentId,
      markId,
      lessonId: w.lessonB.id,
      at: t.clock.now(),
    });
    await deliver();
    expect(received(w.motherA)).toHaveLength(beforeA);
    expect(received(w.fatherA)).toHaveLength(beforeA);
    const b = received(w.motherB).join('\n');
    expect(b).toContain(w.s.familyB.childName);
    expect(b).toContain('Пропуск');
    // No outbox row for family A's chats mentions family B's child.
    const leaked = await db().models.OutboxMessage.countDocuments({
      studentId: w.s.familyB.studentId,
      chatId: { $in: [w.motherA.id, w.fatherA.id, w.studentA.id] },
    });
    expect(leaked).toBe(0);
  });

  it('publishing the same event twice sends one message', async () => {
    const before = received(w.motherA).length;
    const mark = await db().models.Mark.create({
      schoolId: w.s.schoolId,
      lessonId: w.lessonA.id,
      studentId: w.s.familyA.studentId,
      subjectId: w.s.subjectId,
      classId: w.s.classA.id,
      date: w.today,
      value: 4,
      workKind: 'oral',
      weight: 1,
      teacherId: w.s.subjectTeacherId,
      clientKey: 'twice',
    });
    const event = {
      kind: 'mark.created' as const,
      schoolId: w.s.schoolId,
      studentId: w.s.familyA.studentId,
      markId: mark._id,
      lessonId: w.lessonA.id,
      at: t.clock.now(),
    };
    await publishEvent(db(), event);
    await publishEvent(db(), { ...event, at: new Date(event.at.getTime() + 1000) });
    await deliver();
    expect(received(w.motherA).length).toBe(before + 1);
  });
});

describe('grace window for marks', () => {
  it('a correction inside the window is one message with the final mark; a deletion is none', async () => {
    await setGrace(db(), w.s.schoolId, 5);
    const before = received(w.motherA).length;
    const start = t.clock.now();
    const markId = await giveMark(db(), w.lessonA, w.s.familyA.studentId, 3, start);
    t.clock.advance(2 * 60_000);
    await db().models.Mark.updateOne({ _id: markId }, { $set: { value: 4 } });
    await publishEvent(db(), {
      kind: 'mark.changed',
      schoolId: w.s.schoolId,
      studentId: w.s.familyA.studentId,
      markId,
      lessonId: w.lessonA.id,
      at: t.clock.now(),
    });
    // A second mark, deleted inside its window.
    const gone = await giveMark(db(), w.lessonA, w.s.familyA.studentId, 2, t.clock.now());
    await db().models.Mark.updateOne({ _id: gone }, { $set: { deletedAt: t.clock.now() } });
    await publishEvent(db(), {
      kind: 'mark.deleted',
      schoolId: w.s.schoolId,
      studentId: w.s.familyA.studentId,
      markId: gone,
      lessonId: w.lessonA.id,
      at: t.clock.now(),
    });
    await deliver();
    expect(received(w.motherA).length).toBe(before); // still inside the window: nothing yet
    t.clock.advance(10 * 60_000);
    await deliver();
    const fresh = received(w.motherA).slice(before);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toContain('Математика: 4 — Работа на уроке');
    expect(fresh[0]).not.toContain(': 3 ');
    expect(fresh[0]).not.toContain(': 2 ');
    // The deleted mark's message was closed without a word.
    const closed = await db().models.OutboxMessage.find({ 'ref.markId': gone }).lean();
    expect(closed.map((d) => d.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);

    // After the message, a correction says what changed.
    await db().models.Mark.updateOne({ _id: markId }, { $set: { value: 5 } });
    await publishEvent(db(), {
      kind: 'mark.changed',
      schoolId: w.s.schoolId,
      studentId: w.s.familyA.studentId,
      markId,
      lessonId: w.lessonA.id,
      at: t.clock.now(),
    });
    t.clock.advance(6 * 60_000);
    await deliver();
    const last = received(w.motherA).slice(before);
    expect(last).toHaveLength(2);
    expect(last[1]).toContain('исправлена: 4 → 5');
    await setGrace(db(), w.s.schoolId, 0);
  });
});

describe('quiet hours (21:00–08:00 in the school’s time zone)', () => {
  it('hold a non-urgent message until morning; it then goes out', async () => {
    const before = received(w.motherA).length;
    t.clock.set('2026-11-24T19:30:00Z'); // 22:30 in Moscow
    const lesson = w.lessonA;
    await markAbsent(db(), lesson, w.s.familyA.studentId, t.clock.now());
    await deliver();
    expect(received(w.motherA).length).toBe(before);
    const held = await db().models.OutboxMessage.findOne({ kind: 'absence', chatId: w.motherA.id, status: 'pending' }).lean();
    expect(held?.notBefore.toISOString()).toBe('2026-11-25T05:00:00.000Z'); // 08:00 Moscow
    t.clock.set('2026-11-25T04:59:00Z');
    await deliver();
    expect(received(w.motherA).length).toBe(before);
    t.clock.set('2026-11-25T05:00:30Z');
    await deliver();
    const fresh = received(w.motherA).slice(before);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toContain('Пропуск: Математика, 2-й урок');
  });

  it('let an urgent school message through at night; low priority goes silently', async () => {
    const { publishMessage } = await import('../../src/domain/notices/events.js');
    t.clock.set('2026-11-25T20:00:00Z'); // 23:00 in Moscow
    const calls = t.fake.callsOf('sendMessage').length;
    await publishMessage(db(), {
      schoolId: w.s.schoolId,
      key: 'closed-tomorrow',
      recipients: [{ personId: w.s.familyA.parentId, telegramId: w.motherA.id }],
      title: 'Школа закрыта',
      text: 'Завтра занятий не будет: авария <теплосети> & ремонт.',
      priority: 'urgent',
      at: t.clock.now(),
    });
    await publishMessage(db(), {
      schoolId: w.s.schoolId,
      key: 'newsletter',
      recipients: [{ personId: w.s.familyB.parentId, telegramId: w.motherB.id }],
      text: 'Новости недели',
      priority: 'low',
      at: t.clock.now(),
    });
    await deliver();
    const sent = t.fake.callsOf('sendMessage').slice(calls);
    expect(sent).toHaveLength(1);
    expect(w.motherA.lastText()).toContain('авария <теплосети> & ремонт');
    t.clock.set('2026-11-26T05:30:00Z');
    await deliver();
    const low = t.fake.callsOf('sendMessage').slice(calls)[1];
    expect(low?.params.chat_id).toBe(w.motherB.id);
    expect(low?.params.disable_notification).toBe(true);
    t.clock.set('2026-11-23T09:00:00Z');
  });
});
