import type { InlineKeyboardButton } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attOpenCb, markValueCb } from '../../../src/bot/callbacks/journal.js';
import type { Db } from '../../../src/db/index.js';
import { createBot } from '../../../src/bot/index.js';
import { createTestApp, TEST_BOT_INFO, type TestApp } from '../../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import { createTelegramWorld, type TestUser } from '../../support/users.js';

/**
 * The teacher's journal from a phone, end to end: the real bot pipeline and database, Telegram
 * faked at the HTTP level. The clock is Monday 2026-11-23, 12:00 in Moscow (lesson 2 is over).
 */
let t: TestApp;
let f: JournalFixture;
let teacher: TestUser;
const db = (): Db => t.app.db;
const TODAY = '2026-11-23';

const callbackData = (u: TestUser, messageId?: number) =>
  (u.messages().find((m) => m.messageId === (messageId ?? u.lastMessage()?.messageId))?.replyMarkup?.inline_keyboard ?? [])
    .flat()
    .map((b: InlineKeyboardButton) => (b as { callback_data?: string }).callback_data ?? '');
const textOf = (u: TestUser, messageId: number) => t.fake.message(u.chatId, messageId)?.content ?? '';

async function openLesson(u: TestUser, label: RegExp, day = ''): Promise<void> {
  await u.send(day ? `/today ${day}` : '/today');
  await u.press(label);
}

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db);
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  await bindTelegram(t.app.db, f.teacherId, teacher.id);
});

afterAll(async () => {
  await t?.close();
});

describe('the teacher’s day and attendance', () => {
  it('/today lists the lessons with what is missing; a lesson shows class, subject, time and room', async () => {
    await teacher.send('/today');
    const text = teacher.lastText() ?? '';
    expect(text).toContain('Мои уроки');
    expect(text).toContain('Пн, 23.11 (сегодня)');
    expect(text).toContain('2. 09:25 7Б · Математика — ⚠️ посещаемость, тема, д/з, оценки');
    expect(teacher.buttons()).toEqual(['2 · 7Б Математика ⚠️', '4 · 8А Математика ⚠️', '« Сб, 21.11', '📅', 'Вт, 24.11 »']);
    await teacher.press('2 · 7Б Математика ⚠️');
    const lesson = teacher.lastText() ?? '';
    expect(lesson).toContain('7Б · Математика');
    expect(lesson).toContain('Пн, 23.11 · 2-й урок · 09:25–10:10 · каб. 204');
    expect(lesson).toContain('Посещаемость: ❌ не отмечена');
    expect(teacher.buttons()).toEqual(expect.arrayContaining(['📋 Посещаемость', '✏️ Оценки', '📖 Тема', '🏠 Д/з']));
  });

  it('marks 2 absent of 30 in three taps, in one message, and saves only that', async () => {
    await openLesson(teacher, /^2 · 7Б Математика/);
    await teacher.press('📋 Посещаемость');
    const sheet = teacher.lastMessage();
    const sheetId = sheet?.messageId ?? -1;
    const messagesBefore = teacher.messages().length;
    const rows = teacher.buttonRows();
    expect(rows.slice(0, 15).every((r) => r.length === 2)).toBe(true);
    expect(rows.flat().filter((b) => b.startsWith('✅ '))).toHaveLength(30);
    expect(rows.flat()).toEqual(expect.arrayContaining(['👥 Все присутствуют', '💾 Сохранить']));

    // Tap, tap, save.
    await teacher.press('✅ Ученик03 И.');
    await teacher.press('✅ Ученик17 И.');
    expect(textOf(teacher, sheetId)).toContain('Отсутствуют: 2 из 30');
    expect(await db().models.Absence.countDocuments({})).toBe(0); // a draft, not the journal yet
    await teacher.press('💾 Сохранить');

    expect(teacher.messages()).toHaveLength(messagesBefore);
    expect(teacher.lastMessage()?.messageId).toBe(sheetId);
    expect(textOf(teacher, sheetId)).toContain('Сохранено: отмечено отсутствующих — 2');
    const lessonId = await lessonOn(db(), f, f.mathSlot7, TODAY);
    const absences = await db().models.Absence.find({ lessonId }).lean();
    expect(absences.map((a) => String(a.studentId)).sort()).toEqual(
      [f.class7.studentIds[2], f.class7.studentIds[16]].map(String).sort(),
    );
    expect(absences.every((a) => a.code === 'Н')).toBe(true);
    expect((await db().models.Lesson.findById(lessonId).lean())?.attendanceTakenAt).toBeInstanceOf(Date);
    expect(await db().models.AuditEntry.countDocuments({ lessonId, action: 'absence.marked' })).toBe(2);

    // Re-opening shows the saved state.
    await teacher.press('✏️ Изменить');
    const marked = teacher.buttons().filter((b) => b.startsWith('❌ '));
    expect(marked).toEqual(['❌ Ученик03 И.', '❌ Ученик17 И.']);
  });

  it('a class of 40 fits: every button is under 64 bytes (roster indexes, not ids)', async () => {
    await openLesson(teacher, /^4 · 8А Математика/);
    await teacher.press('📋 Посещаемость');
    expect(teacher.buttons().filter((b) => b.startsWith('✅ '))).toHaveLength(40);
    const data = callbackData(teacher);
    expect(data.length).toBeGreaterThan(40);
    for (const d of data) expect(Buffer.byteLength(d, 'utf8')).toBeLessThanOrEqual(64);

    // The draft is in MongoDB: a tap in this process, then Save in a freshly started one.
    await teacher.press('✅ Восьмой40 И.');
    const restarted = createBot(t.config, t.app.deps, {
      client: { fetch: t.fake.fetch, apiRoot: 'http://fake-bot-api.local' },
      botInfo: TEST_BOT_INFO,
    });
    const sameTeacher = createTelegramWorld(t.fake, (u) => restarted.handleUpdate(u)).user({ id: teacher.id, firstName: 'Анна' });
    await sameTeacher.press('💾 Сохранить');
    const lessonId = await lessonOn(db(), f, f.mathSlot8, TODAY);
    const absences = await db().models.Absence.find({ lessonId }).lean();
    expect(absences.map((a) => String(a.studentId))).toEqual([String(f.class8.studentIds[39])]);
  });

  it('the class teacher sets the reason of an absence from the day list of the class (R20)', async () => {
    const ct = t.world.user({ firstName: 'Мария' });
    await bindTelegram(db(), f.classTeacherId, ct.id);
    await ct.send('/absences');
    const text = ct.lastText() ?? '';
    expect(text).toContain('Пропуски 7Б');
    expect(text).toContain('Ученик03 Имя03');
    await ct.press('Ученик03 Имя03 · 1 · Н');
    expect(ct.lastText()).toContain('2 Математика — Н');
    await ct.press('2 · Б');
    expect(ct.lastText()).toContain('2 Математика — Б');
    expect(ct.lastText()).toContain('Причина Б указана (пропусков: 1)');
    expect(ct.buttons()).toContain('• 2 · Б');
    const absence = await db().models.Absence.findOne({ studentId: f.class7.studentIds[2] }).lean();
    expect(absence?.code).toBe('Б');
    const entry = await db().models.AuditEntry.findOne({ action: 'absence.reason', studentId: f.class7.studentIds[2] }).lean();
    expect([entry?.before, entry?.after, String(entry?.actorId)]).toEqual([{ code: 'Н' }, { code: 'Б' }, String(f.classTeacherId)]);
  });
});

describe('marks', () => {
  it('bulk entry for a test goes student by student, refuses non-marks, never saves twice, can stop', async () => {
    await openLesson(teacher, /^2 · 7Б Математика/);
    await teacher.press('✏️ Оценки');
    expect(teacher.lastText()).toContain('Вид работы: Работа на уроке');
    for (let i = 0; i < 3; i++) await teacher.press(/^Вид: /);
    expect(teacher.lastText()).toContain('Вид работы: Самостоятельная работа (вес 1.5)');
    await teacher.press('📝 Оценки по списку (контрольная)');
    const bulkId = teacher.lastMessage()?.messageId ?? -1;
    expect(textOf(teacher, bulkId)).toContain('Ученик 1 из 30');
    expect(textOf(teacher, bulkId)).toContain('Ученик01 И.');
    const firstFive = callbackData(teacher, bulkId).find((d) => d.startsWith('bk:v:5:'));

    await teacher.press('5');
    expect(textOf(teacher, bulkId)).toContain('Ученик 2 из 30');
    await teacher.press('4');
    // Every non-mark is refused with the rule, and the same student stays (R11).
    for (const bad of ['5+', '4-', '1', '6', '.']) {
      await teacher.send(bad);
      expect(teacher.lastText()).toContain(`«${bad}» — не оценка`);
      expect(textOf(teacher, bulkId)).toContain('Ученик 3 из 30');
    }
    await teacher.send('3');
    expect(textOf(teacher, bulkId)).toContain('Ученик 4 из 30');
    // A late second tap on the first student's "5" does not give anyone a mark.
    const again = await teacher.pressData(firstFive ?? '', bulkId);
    expect(again?.text).toBe('Этот ученик уже пройден.');
    await teacher.press('Пропустить');
    expect(textOf(teacher, bulkId)).toContain('Ученик 5 из 30');
    await teacher.press('⏹ Закончить');
    expect(textOf(teacher, bulkId)).toContain('Ввод остановлен: выставлено оценок — 3 из 30');
    expect(textOf(teacher, bulkId)).toContain('Пропущены: Ученик04 И.');

    const lessonId = await lessonOn(db(), f, f.mathSlot7, TODAY);
    const marks = await db().models.Mark.find({ lessonId }).sort({ createdAt: 1, _id: 1 }).lean();
    expect(marks.map((m) => [String(m.studentId), m.value, m.workKind, m.weight])).toEqual([
      [String(f.class7.studentIds[0]), 5, 'test', 1.5],
      [String(f.class7.studentIds[1]), 4, 'test', 1.5],
      [String(f.class7.studentIds[2]), 3, 'test', 1.5],
    ]);
    // After the conversation, messages go to the usual handlers again.
    await teacher.send('/today');
    expect(teacher.lastText()).toContain('Мои уроки');
  });

  it('quick entry: student, then 2/3/4/5; a double-pressed button saves once; a forged value is refused', async () => {
    await openLesson(teacher, /^2 · 7Б Математика/);
    await teacher.press('✏️ Оценки');
    await teacher.press('Ученик10 И.');
    expect(teacher.lastText()).toContain('Ученик10 Имя10');
    const five = callbackData(teacher).find((d) => d.startsWith('mv:'))?.replace(/^(mv:[^:]+:[^:]+:[^:]+:)[^:]+/, '$15') ?? '';
    const screenId = teacher.lastMessage()?.messageId ?? -1;
    const forged = five.replace(/^(mv:[^:]+:[^:]+:[^:]+:)5/, '$16');
    const refused = await teacher.pressData(forged, screenId);
    expect(refused?.text).toContain('«6» — не оценка');
    await teacher.press('5');
    expect(teacher.lastText()).toContain('✅ Ученик10 И.: 5 (Работа на уроке)');
    // The same button once more (a double tap): answered, not saved again.
    const second = await teacher.pressData(five, screenId);
    expect(second?.text).toBe('Сохранено: 5');
    const lessonId = await lessonOn(db(), f, f.mathSlot7, TODAY);
    expect(await db().models.Mark.countDocuments({ lessonId, studentId: f.class7.studentIds[9] })).toBe(1);
    expect(teacher.buttons()).toContain('Ученик10 И. 5');
  });
});

describe('plan, topic and homework', () => {
  it('loads the plan as text and as a CSV file, and reports the hours against the curriculum (R8, R9)', async () => {
    await teacher.send('/plan');
    expect(teacher.buttons()).toEqual(['7Б · Математика · —', '8А · Математика · —']);
    await teacher.press('7Б · Математика · —');
    expect(teacher.lastText()).toContain('тем — 0');
    await teacher.press('📤 Загрузить КТП');
    expect(teacher.lastText()).toContain('Пришлите КТП для <b>7Б · Математика</b>'.replace(/<\/?b>/g, ''));
    await teacher.send('Линейные уравнения; 2\nСистемы уравнений; 1\nКвадратные уравнения; два');
    expect(teacher.lastText()).toContain('Строка 3: «два» — не число часов');
    await teacher.send('Линейные уравнения; 2\nСистемы уравнений; 1');
    expect(teacher.lastText()).toContain('КТП 7Б · Математика: тем — 2, часов — 3');
    expect(teacher.lastText()).toContain('В КТП на 167 ч меньше, чем по учебному плану: 3 из 170 ч');

    await teacher.send('/plan');
    await teacher.press('8А · Математика · —');
    await teacher.press('📤 Загрузить КТП');
    const rows = ['№;Тема;Часы', ...Array.from({ length: 85 }, (_, i) => `${i + 1};Тема ${i + 1};2`)].join('\n');
    await teacher.sendDocument('ktp-8a.csv', Buffer.from(rows, 'utf8'), 'text/csv');
    expect(teacher.lastText()).toContain('тем — 85, часов — 170');
    expect(teacher.lastText()).toContain('Часы совпадают с учебным планом: 170 ч');
  });

  it('the topic screen offers the next plan topic; one tap accepts it (R10)', async () => {
    await openLesson(teacher, /^2 · 7Б Математика/);
    await teacher.press('📖 Тема');
    expect(teacher.lastText()).toContain('Следующая тема по КТП: №1 «Линейные уравнения» (час 1 из 2)');
    await teacher.press('✅ Принять тему из КТП');
    expect(teacher.lastText()).toContain('✅ Тема: «Линейные уравнения»');
    const lesson = await db().models.Lesson.findById(await lessonOn(db(), f, f.mathSlot7, TODAY)).lean();
    expect(lesson?.topic).toBe('Линейные уравнения');
    expect(lesson?.planItemId).toBeDefined();
    // A free-text topic for tomorrow's lesson, entered in advance.
    await openLesson(teacher, /^2 · 7Б Математика/, '24.11');
    await teacher.press('📖 Тема');
    expect(teacher.lastText()).toContain('(час 2 из 2)');
    await teacher.press('✏️ Своя тема');
    await teacher.send('Решение задач на движение');
    expect(teacher.lastText()).toContain('✅ Тема: «Решение задач на движение»');
    const tomorrow = await db().models.Lesson.findById(await lessonOn(db(), f, f.mathSlot7, '2026-11-24')).lean();
    expect(tomorrow?.topic).toBe('Решение задач на движение');
  });

  it('posts homework with a photo (file id kept), and shows it again (R22)', async () => {
    await openLesson(teacher, /^2 · 7Б Математика/);
    await teacher.press('🏠 Д/з');
    await teacher.press('🏠 Задать д/з на этом уроке');
    expect(teacher.lastText()).toContain('нажмите «Готово»');
    await teacher.send('§12, №5–7');
    const photo = await teacher.sendPhoto();
    expect(teacher.lastText()).toContain('файлов — 1');
    await teacher.press('✅ Готово');
    expect(teacher.lastText()).toContain('✅ Д/з сохранено: 7Б · Математика · 23.11.2026 (файлов: 1)');
    const lesson = await db().models.Lesson.findById(await lessonOn(db(), f, f.mathSlot7, TODAY)).lean();
    expect(lesson?.homework?.text).toBe('§12, №5–7');
    const best = photo.photo?.[photo.photo.length - 1];
    expect(lesson?.homework?.attachments?.map((a) => [a.kind, a.fileId])).toEqual([['photo', best?.file_id]]);
    await teacher.press('« К уроку');
    expect(teacher.lastText()).toContain('Д/з: §12, №5–7 📎1');
    await teacher.press('🏠 Д/з');
    await teacher.press('📎 Показать файлы');
    expect(teacher.sentPhotos().at(-1)?.fileId).toBe(best?.file_id);
  });

  it('homework for the next lesson of the subject goes to that lesson', async () => {
    await openLesson(teacher, /^4 · 8А Математика/);
    await teacher.press('🏠 Д/з');
    await teacher.press('➡️ Задать д/з на следующем уроке (заранее)');
    expect(teacher.lastText()).toContain('8А · Математика · 24.11.2026');
    await teacher.send('Повторить формулы');
    await teacher.press('✅ Готово');
    const next = await db().models.Lesson.findById(await lessonOn(db(), f, f.mathSlot8, '2026-11-24')).lean();
    expect(next?.homework?.text).toBe('Повторить формулы');
  });
});

describe('locks, the admin, forged buttons', () => {
  it('after the lock the teacher is refused; the admin corrects with a reason and the history shows before/after (R14, R31)', async () => {
    const old = await lessonOn(db(), f, f.mathSlot7, '2026-11-13');
    await db().models.Mark.create({
      schoolId: f.schoolId,
      lessonId: old,
      studentId: f.class7.studentIds[0],
      subjectId: f.mathId,
      classId: f.class7.id,
      date: '2026-11-13',
      value: 4,
      workKind: 'classwork',
      weight: 1,
      teacherId: f.teacherId,
      clientKey: 'fixture-old-mark',
    });
    await openLesson(teacher, /^2 · 7Б Математика/, '13.11');
    expect(teacher.lastText()).toContain('🔒 Урок закрыт для изменений');
    const refusedSheet = await teacher.press('📋 Посещаемость');
    expect(refusedSheet?.text).toContain('закрыт');
    expect(refusedSheet?.text).toContain('Админова');
    await teacher.press('✏️ Оценки');
    await teacher.press('Ученик01 И. 4');
    await teacher.press('✏️ Исправить 4');
    const refusedMark = await teacher.press('5');
    expect(refusedMark?.show_alert).toBe(true);
    expect(refusedMark?.text).toContain('Урок 13.11.2026 закрыт: менять его можно 7 дн. после урока. Теперь изменить может только администратор');
    expect((await db().models.Mark.findOne({ lessonId: old }).lean())?.value).toBe(4);

    const admin = t.world.user({ firstName: 'Ольга' });
    await bindTelegram(db(), f.adminId, admin.id);
    await admin.send('/journal');
    await admin.press('7Б');
    expect(admin.lastText()).toContain('Журнал 7Б');
    await admin.press('📅');
    await admin.press('13.11');
    await admin.press(/^2 · 7Б Математика/);
    await admin.press('✏️ Оценки');
    await admin.press('Ученик01 И. 4');
    await admin.press('✏️ Исправить 4');
    await admin.press('5');
    expect(admin.lastText()).toContain('укажите причину изменения');
    await admin.send('ошибка при переносе из бумажного журнала');
    expect(admin.lastText()).toContain('✅ Оценка исправлена: 5.');
    expect((await db().models.Mark.findOne({ lessonId: old }).lean())?.value).toBe(5);
    await admin.press('« К уроку');
    await admin.press('🕓 История изменений');
    const history = admin.lastText() ?? '';
    expect(history).toContain('Админова Ольга Ивановна (администратор)');
    expect(history).toContain('Оценка исправлена · Ученик01 Имя01: 4 (Работа на уроке) → 5 (Работа на уроке)');
    expect(history).toContain('Причина: ошибка при переносе из бумажного журнала');

    // The student's history, from /history: class → student (paged, newest first).
    await admin.send('/history');
    await admin.press('7Б');
    await admin.press('Ученик01 Имя01');
    const student = admin.lastText() ?? '';
    expect(student).toContain('История: Ученик01 Имя01');
    expect(student.indexOf('Оценка исправлена')).toBeLessThan(student.indexOf('Оценка ·') === -1 ? Number.MAX_SAFE_INTEGER : student.indexOf('Оценка ·'));
    expect(student).toContain('Причина: ошибка при переносе из бумажного журнала');
    // A teacher cannot read the trail.
    await teacher.send('/history');
    expect(teacher.lastText()).toBe('У вас нет доступа к этому.');
  });

  it('a teacher pressing a forged button for another teacher’s lesson is refused and nothing changes', async () => {
    const rus = t.world.user({ firstName: 'Вера' });
    await bindTelegram(db(), f.otherTeacherId, rus.id);
    await rus.send('/today');
    const mathLesson = String(await lessonOn(db(), f, f.mathSlot7, TODAY));
    const before = await Promise.all([db().models.AttendanceDraft.countDocuments({}), db().models.Mark.countDocuments({})]);
    const a = await rus.pressData(attOpenCb.pack({ l: mathLesson }));
    expect(a?.show_alert).toBe(true);
    expect(a?.text).toContain('Это не ваш урок');
    const b = await rus.pressData(
      markValueCb.pack({ l: mathLesson, v: '00000000', i: 0, m: '5', k: 0, t: 'forged01' }),
    );
    expect(b?.text).toMatch(/не ваш урок|Список учеников изменился/);
    const after = await Promise.all([db().models.AttendanceDraft.countDocuments({}), db().models.Mark.countDocuments({})]);
    expect(after).toEqual(before);
    // A lesson of another school's id space (a random id) says nothing about existence.
    const c = await rus.pressData(attOpenCb.pack({ l: 'aaaaaaaaaaaaaaaaaaaaaaaa' }));
    expect(c?.text).toBe('У вас нет доступа к этому.');
  });

  it('the deputy gives a substitute access to a class for some days (R7); the substitute then edits', async () => {
    const deputy = t.world.user({ firstName: 'Нина' });
    await bindTelegram(db(), f.deputyId, deputy.id);
    const spare = t.world.user({ firstName: 'Ирина' });
    await bindTelegram(db(), f.spareTeacherId, spare.id);
    await spare.send('/today');
    expect(spare.lastText()).toContain('Уроков нет.');
    await deputy.send('/grant');
    await deputy.press('7Б');
    await deputy.press('Запасова Ирина Ивановна');
    await deputy.press('3 дн.');
    expect(deputy.lastText()).toContain('✅ Запасова Ирина Ивановна: доступ к журналу 7Б с 23.11.2026 по 25.11.2026.');
    await spare.send('/today');
    expect(spare.lastText()).toContain('7Б · Русский язык');
    await spare.press(/^3 · 7Б Русский язык/);
    await spare.press('📖 Тема');
    await spare.press('✏️ Своя тема');
    await spare.send('Сложноподчинённые предложения');
    expect(spare.lastText()).toContain('✅ Тема: «Сложноподчинённые предложения»');
  });

  it('a text prompt gives way to any other button or command', async () => {
    await openLesson(teacher, /^4 · 8А Математика/);
    await teacher.press('📖 Тема');
    await teacher.press('✏️ Своя тема');
    expect(teacher.lastText()).toContain('Напишите тему урока');
    // Instead of typing, the teacher goes to the homework: the prompt ends, the button works.
    const screen = teacher.findButton('« К уроку')?.messageId ?? -1;
    await teacher.press('« К уроку');
    expect(textOf(teacher, screen)).toContain('Посещаемость:');
    await teacher.press('🏠 Д/з');
    expect(textOf(teacher, screen)).toContain('Домашнее задание');
    await teacher.press('🏠 Задать д/з на этом уроке');
    await teacher.send('/today');
    expect(teacher.lastText()).toContain('Мои уроки');
    // The topic was not set by anything typed meanwhile.
    const lesson = await db().models.Lesson.findById(await lessonOn(db(), f, f.mathSlot8, TODAY)).lean();
    expect(lesson?.topic).toBeUndefined();
  });

  it('the deputy cancels a lesson that did not take place, with a reason (R7)', async () => {
    const deputy = t.world.user({ firstName: 'Нина2' });
    await bindTelegram(db(), f.deputyId, deputy.id);
    await deputy.send('/journal');
    await deputy.press('7Б');
    await deputy.press(/^3 · 7Б Русский язык/);
    await deputy.press('🚫 Урок не состоялся');
    expect(deputy.lastText()).toContain('Почему урок не состоялся?');
    await deputy.send('Экскурсия в музей');
    expect(deputy.lastText()).toContain('Урок отмечен как не состоявшийся');
    const lesson = await db().models.Lesson.findById(await lessonOn(db(), f, f.russianSlot7, TODAY)).lean();
    expect([lesson?.status, lesson?.cancelReason]).toEqual(['cancelled', 'Экскурсия в музей']);
  });
});
