import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lessonAcknowledgements } from '../../../src/domain/diary/acknowledgements.js';
import { setDigest, setMode } from '../../../src/domain/notices/preferences.js';
import { publishEvent } from '../../../src/domain/notices/events.js';
import { queueWeeklyDigests, sendJoinSummary } from '../../../src/domain/notices/summaries.js';
import { actorOf } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { bind, type FamilyWorld, familyWorld, giveMark, received } from '../../notify/world.js';

/**
 * What families get besides single events: the summary on joining (no flood of old events), the
 * weekly digest (R25), the "Acknowledged" button, per-kind preferences, and reporting an absence
 * in advance (R20).
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

describe('joining mid-year', () => {
  it('sends no old events, only one summary of the current period', async () => {
    const yesterday = new Date(t.clock.now().getTime() - 86_400_000);
    await giveMark(db(), w.lessonB, w.s.familyB.studentId, 5, yesterday, 'control');
    const markId = await giveMark(db(), w.lessonB, w.s.familyB.studentId, 4, yesterday);
    const granny = await db().models.Person.create({
      schoolId: w.s.schoolId,
      externalId: 'p-b-granny',
      lastName: 'Сидорова',
      firstName: 'Галина',
      roles: ['parent'],
    });
    await db().models.Guardianship.create({ schoolId: w.s.schoolId, parentId: granny._id, studentId: w.s.familyB.studentId });
    const user = t.world.user({ firstName: 'Галина' });
    await bind(db(), granny._id, user, t.clock.now());
    // An event from before she joined (published late) is not hers.
    await publishEvent(db(), {
      kind: 'mark.changed',
      schoolId: w.s.schoolId,
      studentId: w.s.familyB.studentId,
      markId,
      lessonId: w.lessonB.id,
      at: yesterday,
    });
    expect(await db().models.OutboxMessage.countDocuments({ chatId: user.id })).toBe(0);

    expect(await sendJoinSummary(db(), granny._id, { now: t.clock.now() })).toBe(1);
    expect(await sendJoinSummary(db(), granny._id, { now: t.clock.now() })).toBe(0); // once per binding
    await deliver();
    const texts = received(user);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain(`${w.s.familyB.childName}: 2-я четверть на сегодня`);
    // (5 × 2 + 4 × 1) / 3 = 4.67: the weighted average (control work weighs 2).
    expect(texts[0]).toContain('Математика: оценок 2, средний балл 4,67');
    // New events after joining reach her.
    await giveMark(db(), w.lessonB, w.s.familyB.studentId, 3, t.clock.now());
    await deliver();
    expect(received(user)).toHaveLength(2);
  });
});

describe('weekly digest (R25)', () => {
  it('comes once, at the hour the parent picked, silently', async () => {
    const actor = await actorOf(db(), w.s.familyB.parentId);
    await setDigest(db(), actor, String(w.s.familyB.studentId), 1, 13); // Monday 13:00 (Moscow)
    expect(t.clock.now().toISOString()).toBe('2026-11-23T09:00:00.000Z'); // Monday 12:00 in Moscow
    expect(await queueWeeklyDigests(db(), t.clock.now())).toBe(0);
    t.clock.set('2026-11-23T10:05:00Z');
    const calls = t.fake.callsOf('sendMessage').length;
    expect(await queueWeeklyDigests(db(), t.clock.now())).toBe(1);
    expect(await queueWeeklyDigests(db(), t.clock.now())).toBe(0);
    await deliver();
    const sent = t.fake.callsOf('sendMessage').slice(calls);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.params.chat_id).toBe(w.motherB.id);
    expect(sent[0]?.params.disable_notification).toBe(true);
    const text = w.motherB.lastText() ?? '';
    expect(text).toContain(`Неделя 17.11–23.11: ${w.s.familyB.childName}`);
    expect(text).toMatch(/Математика: [2-5 ]+ · средний \d,\d\d/);
    expect(text).toContain('Пропуски за неделю: 0');
  });
});

describe('"Acknowledged" (the parent’s signature)', () => {
  it('is recorded, shown to the teacher, and cannot be pressed for someone else', async () => {
    await giveMark(db(), w.lessonA, w.s.familyA.studentId, 5, t.clock.now());
    await deliver();
    const answer = await w.motherA.press('✅ Ознакомлен(а)');
    expect(answer?.text).toContain('Спасибо');
    const acks = await db().models.Acknowledgement.find({ personId: w.s.familyA.parentId }).lean();
    expect(acks).toHaveLength(1);
    expect(acks[0]?.kind).toBe('mark');
    // The button now says it is done; pressing again records nothing new.
    expect(w.motherA.buttons()).toEqual(['☑️ Вы ознакомились — записано']);
    expect((await w.motherA.press('☑️ Вы ознакомились — записано'))?.text).toContain('уже');
    expect(await db().models.Acknowledgement.countDocuments({ personId: w.s.familyA.parentId })).toBe(1);

    // Someone else's message token: refused, nothing recorded.
    const token = (await db().models.OutboxMessage.findOne({ chatId: w.fatherA.id, kind: 'mark', status: 'sent' }).lean())?.sendToken;
    expect(token).toBeDefined();
    const forged = await w.motherB.pressData(`ack:${token}`);
    expect(forged?.show_alert).toBe(true);
    expect(await db().models.Acknowledgement.countDocuments({ personId: w.s.familyB.parentId })).toBe(0);

    // The teacher of the lesson sees who acknowledged.
    const view = await lessonAcknowledgements(db(), await actorOf(db(), w.s.subjectTeacherId), String(w.lessonA.id));
    const row = view.rows.find((r) => r.studentId === String(w.s.familyA.studentId));
    expect(row?.items).toContain('5');
    expect(row?.guardians.find((g) => g.name === 'Иванова Мария')?.acknowledgedAt).toBeInstanceOf(Date);
    expect(row?.guardians.find((g) => g.name === 'Иванов Пётр')?.acknowledgedAt).toBeUndefined();
    // … and in the bot.
    await w.mathTeacher.send('/acks');
    await w.mathTeacher.press(/5А · Математика/);
    const text = w.mathTeacher.lastText() ?? '';
    expect(text).toContain('✅ Иванова Мария');
    expect(text).toContain('⏳ Иванов Пётр — ещё не отметил(а)');
    // A teacher of another class and subject may not look (R4).
    await expect(lessonAcknowledgements(db(), await actorOf(db(), w.s.teacherBId), String(w.lessonA.id))).rejects.toThrow();
  });
});

describe('preferences per parent, child and kind', () => {
  it('a parent turns marks off in the bot; absences still come; another child is not theirs to set', async () => {
    await w.fatherA.send('/notifications');
    expect(w.fatherA.lastText()).toContain(`Уведомления: ${w.s.familyA.childName}`);
    await w.fatherA.press('Оценки: сразу');
    await w.fatherA.press('Оценки: в сводке');
    expect(w.fatherA.buttons()).toContain('Оценки: выключено');
    const pref = await db().models.NotifyPreference.findOne({ personId: w.fatherAId }).lean();
    expect(pref?.modes?.mark).toBe('off');

    const before = received(w.fatherA).length;
    const motherBefore = received(w.motherA).length;
    await giveMark(db(), w.lessonA, w.s.familyA.studentId, 3, t.clock.now());
    await deliver();
    expect(received(w.fatherA)).toHaveLength(before);
    expect(received(w.motherA)).toHaveLength(motherBefore + 1);

    const forged = await w.fatherA.pressData(`np:${w.s.familyB.studentId}:mark:off`);
    expect(forged?.show_alert).toBe(true);
    expect(await db().models.NotifyPreference.countDocuments({ studentId: w.s.familyB.studentId, personId: w.fatherAId })).toBe(0);
  });
});

describe('reporting an absence in advance (R20)', () => {
  it('parent reports with a photo; the class teacher confirms Б; the absences get the reason; the family hears', async () => {
    await db().models.Absence.create({
      schoolId: w.s.schoolId,
      lessonId: w.lessonA.id,
      studentId: w.s.familyA.studentId,
      classId: w.s.classA.id,
      date: w.today,
      code: 'Н',
    });
    await w.motherA.send('/absent');
    expect(w.motherA.lastText()).toContain(`Когда ${w.s.familyA.childName} не будет в школе?`);
    await w.motherA.press('Сегодня');
    await w.motherA.press('🤒 Болеет');
    expect(w.motherA.lastText()).toContain('пришлите её фото');
    await w.motherA.sendPhoto();
    expect(w.motherA.lastText()).toContain('классный руководитель получил сообщение о пропуске');
    const report = await db().models.AbsenceReport.findOne({ studentId: w.s.familyA.studentId }).lean();
    expect(report?.status).toBe('pending');
    expect(report?.photoFileId).toBeTruthy();

    await deliver();
    const photos = w.classTeacherA.sentPhotos();
    expect(photos).toHaveLength(1);
    expect(photos[0]?.caption).toContain('Сообщение о пропуске');
    expect(photos[0]?.caption).toContain(w.s.familyA.childName);
    // Only the class teacher of the class may decide: a forged press by another parent is refused.
    const forged = await w.motherB.pressData(`abrd:${report?._id}:u`);
    expect(forged?.show_alert).toBe(true);

    await w.classTeacherA.press('Б — болезнь');
    expect(w.classTeacherA.lastText()).toContain('причина «Б» проставлена в пропусках: 1');
    const absence = await db().models.Absence.findOne({ lessonId: w.lessonA.id, studentId: w.s.familyA.studentId }).lean();
    expect(absence?.code).toBe('Б');
    expect(String(absence?.reasonBy)).toBe(String(w.s.teacherAId));
    expect(await db().models.AuditEntry.countDocuments({ action: 'absence.reason', studentId: w.s.familyA.studentId })).toBe(1);

    const before = received(w.motherA).length;
    await deliver();
    const fresh = received(w.motherA).slice(before).join('\n');
    expect(fresh).toContain('Классный руководитель подтвердил пропуск');
    expect(fresh).toContain('по болезни (Б)');
  });
});

describe('homework (off by default) and period marks', () => {
  it('homework is sent only to those who turned it on, silently; a period mark goes to the family', async () => {
    await db().models.Lesson.updateOne({ _id: w.lessonB.id }, { $set: { homework: { text: 'Параграф 12, задачи 1–3' } } });
    await publishEvent(db(), { kind: 'homework.posted', schoolId: w.s.schoolId, lessonId: w.lessonB.id, at: t.clock.now() });
    expect(await db().models.OutboxMessage.countDocuments({ kind: 'homework' })).toBe(0);

    await setMode(db(), await actorOf(db(), w.s.familyB.parentId), String(w.s.familyB.studentId), 'homework', 'instant');
    await publishEvent(db(), { kind: 'homework.posted', schoolId: w.s.schoolId, lessonId: w.lessonB.id, at: t.clock.now() });
    const calls = t.fake.callsOf('sendMessage').length;
    await deliver();
    const sent = t.fake.callsOf('sendMessage').slice(calls);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.params.chat_id).toBe(w.motherB.id);
    expect(sent[0]?.params.disable_notification).toBe(true);
    expect(w.motherB.lastText()).toContain('Домашнее задание, Математика (23.11): Параграф 12, задачи 1–3');

    const year = await db().models.AcademicYear.findOne({ schoolId: w.s.schoolId }).lean();
    const pm = await db().models.PeriodMark.create({
      schoolId: w.s.schoolId,
      yearId: year?._id,
      periodCode: 'q1',
      studentId: w.s.familyA.studentId,
      subjectId: w.s.subjectId,
      value: '5',
    });
    await publishEvent(db(), {
      kind: 'periodMark.set',
      schoolId: w.s.schoolId,
      studentId: w.s.familyA.studentId,
      periodMarkId: pm._id,
      at: t.clock.now(),
    });
    await deliver();
    expect(w.motherA.lastText()).toContain('1-я четверть: Математика — итоговая оценка 5');
    expect(w.motherB.lastText()).not.toContain('итоговая оценка');
  });
});
