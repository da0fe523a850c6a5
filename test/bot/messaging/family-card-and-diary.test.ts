import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandsFor } from '../../../src/bot/commands.js';
import { annGroupCb, teacherAllParentsCb } from '../../../src/bot/callbacks/messaging.js';
import { diaryCb } from '../../../src/bot/callbacks/diary.js';
import { RATE_LIMIT_PER_MINUTE, sendMessage } from '../../../src/domain/messaging/send.js';
import { startThread } from '../../../src/domain/messaging/threads.js';
import { bind, familyWorld, type FamilyWorld } from '../../notify/world.js';
import { actorOf } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * One family world through issue 6 (R3, R23, R24), in order: a teacher writes from a student's card
 * to all of the student's parents at once (each gets a private thread; a recall takes every copy
 * back); a student writes, with files; an announcement to a group reaches only the group's families;
 * a recall that races with a copy Telegram is already sending still removes it, and the
 * 20-a-minute limit holds when messages are sent at the same moment; the diary then lists those
 * conversations and announcements; labels stay short.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;

const delivered = (u: TestUser, text: string) => waitFor(() => u.messages().find((m) => m.content.includes(text)));
const settle = () => new Promise((r) => setTimeout(r, 400));
const has = (u: TestUser, text: string) => u.messages().some((m) => m.content.includes(text));

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

describe('from the student’s card to all parents', () => {
  it('the card lists the parents without phones; one message reaches both; replies come back privately', async () => {
    // A third guardian who has not joined the bot: listed, but no button.
    const granny = await db().models.Person.create({
      schoolId: w.s.schoolId,
      externalId: 'p-a3',
      lastName: 'Иванова',
      firstName: 'Галина',
      phone: '+79001112233',
      roles: ['parent'],
    });
    await db().models.Guardianship.create({ schoolId: w.s.schoolId, parentId: granny._id, studentId: w.s.familyA.studentId, relation: 'guardian' });

    const teacher = w.classTeacherA;
    await teacher.send(`/children ${String(w.s.familyA.studentId)}`);
    expect(teacher.lastText()).toContain('Иванова Галина');
    expect(teacher.lastText()).not.toContain('+7900');
    expect(teacher.buttons()).toEqual(['✉️ Написать родителям']);
    await teacher.press('✉️ Написать родителям');
    const card = teacher.lastText() ?? '';
    expect(card).toContain('Иванов Матвей, 5А');
    expect(card).toContain('Мама — Иванова М. — в боте');
    expect(card).toContain('Папа — Иванов П. — в боте');
    expect(card).toContain('Опекун — Иванова Г. — ещё не подключился к боту');
    expect(card).not.toContain('+7900');
    expect(teacher.buttons()).toEqual(['Всем родителям (2)', 'Мама — Иванова М.', 'Папа — Иванов П.']);

    await teacher.press('Всем родителям (2)');
    expect(teacher.lastText()).toContain('родителей ученика Иванов Матвей (2)');
    await teacher.send('Матвей сегодня отлично выступил на олимпиаде.');
    expect(teacher.lastText()).toBe('Отправлено ✓ (2 получателям)');
    const toMother = await delivered(w.motherA, 'отлично выступил');
    const toFather = await delivered(w.fatherA, 'отлично выступил');
    expect(toMother.content).toContain('Классный руководитель Петрова А. И.');
    // Two private threads, one record each, one batch.
    const records = await db().models.ThreadMessage.find({ text: /отлично выступил/ }).lean();
    expect(records).toHaveLength(2);
    expect(new Set(records.map((r) => String(r.threadId))).size).toBe(2);
    expect(String(records[0]?.batchId)).toBe(String(records[1]?.batchId));
    // Counted once against the sender's rate limit.
    const rate = await db().models.SendRate.findById(`msg:${String(w.s.teacherAId)}`).lean();
    expect(rate?.times).toHaveLength(1);
    await teacher.press('Готово');

    // The father's reply reaches the teacher only — the mother never sees it.
    await w.fatherA.replyTo(toFather.messageId, 'Спасибо, очень рады!');
    const reply = await delivered(teacher, 'очень рады');
    expect(reply.content).toContain('Папа ученика Иванов Матвей, 5А · классному руководителю');
    await settle();
    expect(has(w.motherA, 'очень рады')).toBe(false);
  });

  it('the subject teacher opens the same card from the student in a lesson’s marks', async () => {
    const teacher = w.mathTeacher;
    await teacher.send('/today');
    await teacher.press(/^2 · 5А/);
    await teacher.press('✏️ Оценки');
    await teacher.press(/^Иванов/);
    await teacher.press('✉️ Написать родителям');
    expect(teacher.lastText()).toContain('Мама — Иванова М. — в боте');
    expect(teacher.buttons()).toEqual(['Всем родителям (2)', 'Мама — Иванова М.', 'Папа — Иванов П.']);
  });

  it('a recall takes back the copies of both parents', async () => {
    const teacher = w.classTeacherA;
    await teacher.send(`/children ${String(w.s.familyA.studentId)}`);
    await teacher.press('✉️ Написать родителям');
    await teacher.press('Всем родителям (2)');
    await teacher.send('Ошибочное сообщение обоим');
    const confirmation = teacher.lastMessage();
    await delivered(w.motherA, 'Ошибочное сообщение обоим');
    await delivered(w.fatherA, 'Ошибочное сообщение обоим');
    await waitFor(async () =>
      (await db().models.OutboxMessage.countDocuments({ 'payload.text': 'Ошибочное сообщение обоим', status: 'sent', messageId: { $exists: true } })) === 2
        ? true
        : undefined,
    );
    const answer = await teacher.press('Отозвать', { messageId: confirmation?.messageId });
    expect(answer?.text).toBe('Сообщение отозвано.');
    expect(has(w.motherA, 'Ошибочное сообщение обоим')).toBe(false);
    expect(has(w.fatherA, 'Ошибочное сообщение обоим')).toBe(false);
    const records = await db().models.ThreadMessage.find({ text: 'Ошибочное сообщение обоим' }).lean();
    expect(records.map((r) => r.recalledAt instanceof Date)).toEqual([true, true]);
    await teacher.press('Готово');
  });

  it('is refused for a student the teacher does not teach, and says so when no parent has joined', async () => {
    const teacher = w.classTeacherA;
    await teacher.send('/write');
    const forged = await teacher.pressData(teacherAllParentsCb.pack({ s: String(w.s.familyB.studentId) }));
    expect(forged?.text).toContain('У вас нет доступа');
    expect(await db().models.MessageThread.countDocuments({ studentId: w.s.familyB.studentId })).toBe(0);

    // The class teacher of 5Б, whose only family has not joined.
    const teacherB = t.world.user({ firstName: 'Борис', languageCode: 'ru' });
    await bind(db(), w.s.teacherBId, teacherB, new Date(t.clock.now().getTime() - 86_400_000));
    await db().models.Person.updateOne({ _id: w.s.familyB.parentId }, { $unset: { telegramId: 1 } });
    await teacherB.send('/write');
    await teacherB.press('5Б');
    await teacherB.press(/Сидоров/);
    expect(teacherB.lastText()).toContain('ещё не подключились к боту');
    expect(teacherB.buttons()).toEqual([]);
    const direct = await teacherB.pressData(teacherAllParentsCb.pack({ s: String(w.s.familyB.studentId) }));
    expect(direct?.text).toContain('ещё не подключились к боту');
    await bind(db(), w.s.familyB.parentId, w.motherB, new Date(t.clock.now().getTime() - 86_400_000));
  });
});

describe('students and files', () => {
  it('a student writes to a teacher; a voice note and a document arrive as such, with the header', async () => {
    const student = w.studentA;
    const teacher = w.mathTeacher;
    await student.send('/write');
    expect(student.buttons()).toEqual(['Классный руководитель Петрова А. И.', 'Кузнецов И. — Математика']);
    await student.press('Кузнецов И. — Математика');
    await student.send('Можно пересдать контрольную?');
    const text = await delivered(teacher, 'пересдать контрольную');
    expect(text.content).toContain('Ученик Иванов Матвей, 5А · Математика');

    await student.sendVoice({ duration: 3 });
    expect(student.lastText()).toBe('Отправлено ✓');
    const voice = await waitFor(() => teacher.messages().find((m) => m.kind === 'voice'));
    expect(voice.caption).toContain('Ученик Иванов Матвей, 5А');
    expect(voice.buttons.flat()).toEqual(['Ответить']);

    await student.sendDocument('работа.pdf', Buffer.from('%PDF-1.4 test'), 'application/pdf', 'Моя работа');
    const doc = await waitFor(() => teacher.messages().find((m) => m.kind === 'document'));
    expect(doc.caption).toContain('Моя работа');
    expect(doc.file?.data.toString()).toBe('%PDF-1.4 test');
    const kinds = (await db().models.ThreadMessage.find({ fromPersonId: w.s.familyA.studentId }).lean()).map((m) => m.kind);
    expect(kinds).toEqual(['text', 'voice', 'document']);
    await student.press('Готово');
  });
});

describe('announcement to a group', () => {
  it('an English teacher announces to their group; only its families get it; another group is refused', async () => {
    const english = await db().models.Subject.create({ schoolId: w.s.schoolId, externalId: 'eng', name: 'Английский язык' });
    const engTeacherId = (
      await db().models.Person.create({
        schoolId: w.s.schoolId,
        externalId: 't-eng',
        lastName: 'Смит',
        firstName: 'Джейн',
        roles: ['teacher'],
      })
    )._id;
    // A second 5А student outside the group, with a bound parent.
    const other = await db().models.Person.create({
      schoolId: w.s.schoolId,
      externalId: 's-a2',
      lastName: 'Орлов',
      firstName: 'Олег',
      roles: ['student'],
      student: { classId: w.s.classA.id, status: 'studying', form: 'regular', birthDate: '2015-05-01' },
    });
    const otherMotherId = (
      await db().models.Person.create({ schoolId: w.s.schoolId, externalId: 'p-o', lastName: 'Орлова', firstName: 'Ольга', roles: ['parent'] })
    )._id;
    await db().models.Guardianship.create({ schoolId: w.s.schoolId, parentId: otherMotherId, studentId: other._id, relation: 'mother' });
    const otherMother = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
    await bind(db(), otherMotherId, otherMother, new Date(t.clock.now().getTime() - 86_400_000));

    const group1 = await db().models.Group.create({
      schoolId: w.s.schoolId,
      externalId: 'g-5a-en1',
      classId: w.s.classA.id,
      subjectId: english._id,
      name: 'Английский 1',
      studentIds: [w.s.familyA.studentId],
    });
    const group2 = await db().models.Group.create({
      schoolId: w.s.schoolId,
      externalId: 'g-5a-en2',
      classId: w.s.classA.id,
      subjectId: english._id,
      name: 'Английский 2',
      studentIds: [other._id],
    });
    await db().models.TeachingLoad.create({
      schoolId: w.s.schoolId,
      classId: w.s.classA.id,
      groupId: group1._id,
      subjectId: english._id,
      teacherId: engTeacherId,
      hoursPerYear: 102,
    });
    const eng = t.world.user({ firstName: 'Jane', languageCode: 'ru' });
    await bind(db(), engTeacherId, eng, new Date(t.clock.now().getTime() - 86_400_000));

    await eng.send('/start');
    // Her menu has /announce: she teaches a group (a subject teacher without one has not).
    const menu = t.fake.commands({ type: 'chat', chat_id: eng.id }, 'ru').map((c) => c.command);
    expect(menu).toContain('announce');
    expect(commandsFor(['teacher'], { teachesGroups: false })).not.toContain('announce');
    await eng.send('/announce');
    expect(eng.buttons()).toEqual(['5А: группа «Английский 1»', 'Отмена']);
    // A forged button for the group she does not teach: refused, nothing sent.
    const forged = await eng.pressData(annGroupCb.pack({ g: String(group2._id) }));
    expect(forged?.text).toContain('У вас нет доступа');

    await eng.press('5А: группа «Английский 1»');
    expect(eng.lastText()).toContain('родителям группы «Английский 1» (5А)');
    await eng.send('Завтра контрольная по неправильным глаголам.');
    await eng.press('Отправить');
    expect(eng.lastText()).toContain('Объявление, 5А, группа «Английский 1»');
    const copy = await delivered(w.motherA, 'неправильным глаголам');
    expect(copy.content).toContain('Объявление: Смит Д., 5А, группа «Английский 1»');
    await delivered(w.fatherA, 'неправильным глаголам');
    await settle();
    expect(has(otherMother, 'неправильным глаголам')).toBe(false);
    expect(has(w.motherB, 'неправильным глаголам')).toBe(false);
    const a = await db().models.Announcement.findOne({ text: /неправильным глаголам/ }).lean();
    expect(String(a?.audience?.groupId)).toBe(String(group1._id));
    // Three guardians of Матвей (the grandmother of the first test is not in the bot): one copy not delivered.
    expect(await db().models.AnnouncementReceipt.countDocuments({ announcementId: a?._id })).toBe(3);

    // The class teacher of 5А reaches both groups from the class screen.
    const ct = w.classTeacherA;
    await ct.send('/announce');
    await ct.press('5А');
    expect(ct.buttons()).toEqual(
      expect.arrayContaining(['Группе «Английский 1»', 'Группе «Английский 2»']),
    );
    await ct.press('Группе «Английский 2»');
    await ct.send('Группа 2: учебники в пятницу.');
    await ct.press('Отправить');
    await delivered(otherMother, 'учебники в пятницу');
    await settle();
    expect(has(w.motherA, 'учебники в пятницу')).toBe(false);
  });
});

describe('recall and the rate limit under concurrency', () => {
  it('a copy Telegram is sending while the sender recalls it is removed after it lands', async () => {
    const hold = t.fake.holdNext('sendMessage', { chatId: w.mathTeacher.id });
    const mother = w.motherA;
    await mother.send('/write');
    await mother.press('Кузнецов И. — Математика');
    await mother.send('Отзываю на лету');
    const confirmation = mother.lastMessage();
    // Telegram has the message in the teacher's chat but has not answered yet.
    await hold.reached;
    expect(has(w.mathTeacher, 'Отзываю на лету')).toBe(true);
    const copy = await db().models.OutboxMessage.findOne({ 'payload.text': 'Отзываю на лету' }).lean();
    expect(copy?.status).toBe('sending');
    const answer = await mother.press('Отозвать', { messageId: confirmation?.messageId });
    expect(answer?.text).toBe('Сообщение отозвано.');
    hold.release();
    await waitFor(() => (has(w.mathTeacher, 'Отзываю на лету') ? undefined : true));
    const after = await db().models.OutboxMessage.findOne({ _id: copy?._id }).lean();
    expect(after?.status).toBe('sent');
    expect(after?.recallRequested).toBe(true);
    await mother.press('Готово');
  });

  it('25 messages sent at the same moment: exactly 20 pass, the rest are refused and not stored', async () => {
    const now = new Date(t.clock.now().getTime() + 3_600_000);
    const actor = await actorOf(db(), w.fatherAId);
    const { threadId } = await startThread(db(), actor, { studentId: String(w.s.familyA.studentId), teacherId: String(w.s.subjectTeacherId) }, now);
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) => sendMessage(db(), actor, threadId, { kind: 'text', text: `Поток ${i}` }, now)),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBe(RATE_LIMIT_PER_MINUTE);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(5);
    expect(String((refused[0] as PromiseRejectedResult).reason?.key)).toBe('messaging.errors.rateLimited');
    expect(await db().models.ThreadMessage.countDocuments({ text: /^Поток / })).toBe(20);
    // A minute later the sender may write again.
    const later = new Date(now.getTime() + 60_001);
    await expect(sendMessage(db(), actor, threadId, { kind: 'text', text: 'Через минуту' }, later)).resolves.toMatchObject({ threadId });

    // A sender's very first messages, all at once (the rate row does not exist yet): still exactly 20.
    const fresh = await actorOf(db(), w.s.familyB.parentId);
    expect(await db().models.SendRate.countDocuments({ _id: `msg:${String(w.s.familyB.parentId)}` })).toBe(0);
    const thread2 = await startThread(db(), fresh, { studentId: String(w.s.familyB.studentId), teacherId: String(w.s.subjectTeacherId) }, now);
    const first = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) => sendMessage(db(), fresh, thread2.threadId, { kind: 'text', text: `Первые ${i}` }, now)),
    );
    expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
    expect(await db().models.ThreadMessage.countDocuments({ text: /^Первые / })).toBe(20);
  });
});

describe('messages in the diary (R24)', () => {
  it('the diary lists the conversations and announcements about the child; a thread opens from there', async () => {
    const mother = w.motherA;
    await mother.send('/diary');
    await mother.press('💬 Сообщения');
    const text = mother.lastText() ?? '';
    expect(text).toContain('Сообщения: Матвей Иванов');
    expect(text).toContain('Классный руководитель Петрова А. И.');
    expect(text).toContain('Учитель (Математика) Кузнецов И.');
    expect(text).toContain('Объявления:');
    // Not read yet (🔵); after "Read" under the copy it shows ✅.
    expect(text).toContain('🔵 23.11, Смит Д.: Завтра контрольная по неправильным глаголам.');
    const copy = mother.messages().find((m) => m.content.includes('неправильным глаголам') && m.buttons.flat().includes('Прочитано'));
    await mother.press('Прочитано', { messageId: copy?.messageId });
    await mother.send('/diary');
    await mother.press('💬 Сообщения');
    expect(mother.lastText()).toContain('✅ 23.11, Смит Д.: Завтра контрольная');
    expect(mother.buttons()).toContain('✉️ Написать учителю');
    await mother.press(/Кузнецов И\./);
    expect(mother.lastText()).toContain('Переписка: Учитель (Математика) Кузнецов И.');
    // Another family's child: a forged button shows nothing.
    const forged = await mother.pressData(diaryCb.pack({ a: 'g', s: String(w.s.familyB.studentId), p: 0 }));
    expect(forged?.text).toContain('У вас нет доступа');
  });

  it('a student sees their own conversations, not the parents’', async () => {
    const student = w.studentA;
    await student.send('/diary');
    await student.press('💬 Сообщения');
    const text = student.lastText() ?? '';
    expect(text).toContain('Учитель (Математика) Кузнецов И.');
    expect(text).not.toContain('Объявления:');
    expect(text).not.toContain('Классный руководитель');
  });
});

describe('labels stay short', () => {
  it('a class teacher who teaches many subjects is named as the class teacher; a button lists two subjects', async () => {
    const names = ['Литературное чтение', 'Окружающий мир', 'Русский язык'];
    for (const [i, name] of names.entries()) {
      const subject = await db().models.Subject.create({ schoolId: w.s.schoolId, externalId: `prim${i}`, name });
      await db().models.TeachingLoad.create({ schoolId: w.s.schoolId, classId: w.s.classA.id, subjectId: subject._id, teacherId: w.s.teacherAId, hoursPerYear: 34 });
    }
    const mother = w.motherA;
    t.clock.advance(2 * 3_600_000);
    await mother.send('/write');
    expect(mother.buttons()).toContain('Петрова А. И. — классный руководитель, Литературное чтение, Окружающий мир, +1');
    await mother.press(/^Петрова А\. И\. — классный руководитель/);
    expect(mother.lastText()).toContain('Напишите сообщение для: Классный руководитель Петрова А. И.');
    await mother.send('Вопрос классному руководителю');
    const got = await delivered(w.classTeacherA, 'Вопрос классному руководителю');
    expect(got.content).toContain('Мама ученика Иванов Матвей, 5А · классному руководителю');
    await mother.press('Готово');
  });
});
