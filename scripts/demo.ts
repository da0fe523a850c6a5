/**
 * One school morning, end to end, with no token and no network: the demo school (the same
 * generator as `npm run seed:demo`) on a throw-away local database, the real bot and the real
 * journal use cases, and a local fake Telegram. Then prints every chat as a person would see it.
 *
 *   npm run demo                 # options: --students N (default 120), --date YYYY-MM-DD (default today)
 *
 * The morning: at 08:05 parents and the teacher join by invite (parents accept the privacy notice and get
 * the summary of the quarter so far); at 08:35 the teacher saves attendance — the absent child's
 * parents get a message at once; at 09:05 the teacher gives marks and corrects one two minutes
 * later — after the 5-minute grace window the parents get one message per family with the final
 * marks; a parent presses "Acknowledged"; the teacher checks who acknowledged; a parent opens the
 * diary; at 10:10 the absent child's parent writes to the teacher through the bot and gets an
 * answer (no phone number changes hands); at 10:30 the class teacher sends the class's families an
 * announcement, two parents press "Read" and the class teacher sees who has not.
 * Then the end of the quarter (scripts/demo-quarter.ts): the clock moves into the quarter's
 * period-mark window, the quarter's marks are recorded, the teacher opens /periodmarks, accepts the
 * suggested marks in one tap, and the families get the period marks after the grace window.
 * Uses MONGODB_URI if set (a fresh database in it), else starts a local server.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Types } from 'mongoose';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { signInitData, webAppLink } from '../src/web/init-data.js';
import { loadConfig } from '../src/config.js';
import { startLocalMongo } from '../src/db/local-server.js';
import { loadActor, systemActor } from '../src/domain/school/actor.js';
import { openAttendance, saveAttendance, toggleAttendance } from '../src/domain/journal/attendance.js';
import { seedDemoSchool } from '../src/domain/demo/seed.js';
import { createInvite } from '../src/domain/school/invites/create.js';
import { lessonsForTeacher } from '../src/domain/journal/lessons.js';
import { changeMark, recordMark } from '../src/domain/journal/marks.js';
import { shortName } from '../src/domain/school/people.js';
import { sendJoinSummary } from '../src/domain/notices/summaries.js';
import { addDays, instantOf, isLocalDate, isoWeekday, localDate } from '../src/domain/shared/calendar.js';
import { type ChatMessage, FakeBotApi } from '../test/support/fake-bot-api.js';
import { createTelegramWorld, type TestUser } from '../test/support/users.js';
import { playQuarterEnd } from './demo-quarter.js';

const { values } = parseArgs({
  options: { students: { type: 'string', default: '120' }, date: { type: 'string' }, serve: { type: 'boolean', default: false } },
});
const TOKEN = '123456789:DEMO_TOKEN_abcdefghijklmnopqrstuvwxyz';
const TZ = 'Europe/Moscow';
const out = (line = '') => process.stdout.write(`${line}\n`);

/** The demo's clock: the morning is played, not waited for. */
class Clock {
  constructor(private at: Date) {}
  now = () => new Date(this.at);
  setLocal(date: string, hhmm: string) {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    this.at = instantOf(date, h * 60 + m, TZ);
  }
}

/** The next school day (Mon–Fri) from `--date` or today, in the school's time zone. */
function schoolDay(): string {
  if (values.date && !isLocalDate(values.date)) throw new Error(`--date: YYYY-MM-DD, not ${values.date}`);
  let d = values.date ?? localDate(new Date(), TZ);
  while (isoWeekday(d) > 5) d = addDays(d, 1);
  return d;
}

function transcript(title: string, messages: ChatMessage[]): void {
  out(`┌─ ${title}`);
  for (const m of messages) {
    const time = new Intl.DateTimeFormat('ru-RU', { timeZone: TZ, hour: '2-digit', minute: '2-digit' }).format(new Date(m.date * 1000));
    const who = m.from === 'bot' ? 'бот' : 'я';
    let lines = m.content ? m.content.split('\n') : [`[${m.kind}]`];
    if (m.kind !== 'text' && m.content) lines.unshift(`[${m.kind}]`);
    // The privacy notice is long: the demo shows its beginning.
    if (lines.length > 14 && lines[0]?.startsWith('🔒')) lines = [...lines.slice(0, 9), `… (ещё ${lines.length - 9} строк)`];
    out(`│ ${time} ${who}: ${lines[0]}`);
    for (const l of lines.slice(1)) out(`│           ${l}`);
    for (const row of m.buttons) out(`│           ${row.map((b) => `[ ${b} ]`).join(' ')}`);
  }
  out('└─');
  out();
}

async function main(): Promise<void> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const external = process.env.MONGODB_URI?.trim();
  const local = external ? undefined : await startLocalMongo({ persistent: false, dbName: 'demo', logger });
  const base = external ?? (local?.uri as string);
  const mongoUri = base.replace(/\/([^/?]*)(\?|$)/, `/demo_${randomBytes(4).toString('hex')}$2`);
  const day = schoolDay();
  const clock = new Clock(instantOf(day, 7 * 60 + 30, TZ));
  const fake = new FakeBotApi({ token: TOKEN, now: () => clock.now().getTime() });
  const config = loadConfig({ BOT_TOKEN: TOKEN, LOG_LEVEL: 'silent', NODE_ENV: 'development', MONGODB_URI: mongoUri });
  const app = await createApp(config, {
    logger,
    mongoUri,
    client: { fetch: fake.fetch, apiRoot: 'http://fake-telegram.local' },
    now: clock.now,
    runtime: false,
    jobs: false,
    delivery: false,
    // The Mini App on the local web server: WEB_PORT with --serve (to open it in a browser), any free port otherwise.
    web: { host: '127.0.0.1', port: values.serve ? Number(process.env.WEB_PORT ?? 8080) : 0 },
  });
  try {
    await app.start();
    const db = app.db;
    const world = createTelegramWorld(fake, (u) => app.bot.handleUpdate(u));
    // The families' notices are fanned out after each answer (src/notify/fan-out.ts), then sent.
    const deliver = async () => {
      await app.fanOut.idle();
      return app.delivery.runUntilIdle(60_000);
    };

    out(`Демо: школьное утро ${day.split('-').reverse().join('.')} (время — московское). Строю демо-школу…`);
    const seeded = await seedDemoSchool(db, { students: Number(values.students), now: clock.now() });
    const schoolId = seeded.schoolId;
    const { Person, Guardianship, TimetableSlot, SchoolClass } = db.models;

    // A class with a first lesson today, its teacher, and three of its families.
    const slots = await TimetableSlot.find({ schoolId, weekday: isoWeekday(day), lessonNo: 1, groupId: null }).lean();
    let picked: { slot: (typeof slots)[number]; students: Array<{ _id: Types.ObjectId; firstName: string; lastName: string }> } | undefined;
    for (const slot of slots.sort((a, b) => String(a.classId).localeCompare(String(b.classId)))) {
      const students = await Person.find({ schoolId, roles: 'student', 'student.classId': slot.classId }, { firstName: 1, lastName: 1 })
        .sort({ lastName: 1 })
        .lean();
      if (students.length >= 3) {
        picked = { slot, students };
        break;
      }
    }
    if (!picked) throw new Error('the demo school has no class with a first lesson today');
    const cls = await SchoolClass.findById(picked.slot.classId, { name: 1 }).lean();
    const teacherPerson = await Person.findById(picked.slot.teacherId, { firstName: 1, lastName: 1, middleName: 1 }).lean();
    const children = picked.students.slice(0, 3);
    out(`Класс ${cls?.name}, первый урок ведёт ${teacherPerson?.firstName} ${teacherPerson?.middleName ?? ''}. Семьи: ${children.map((c) => shortName(c)).join(', ')}.`);
    out();

    // ── 08:05 joining by invite (after the quiet hours, so the summaries come at once) ──
    clock.setLocal(day, '08:05');
    const admin = systemActor(new Types.ObjectId(schoolId));
    const teacher = world.user({ firstName: teacherPerson?.firstName ?? 'Учитель', lastName: teacherPerson?.lastName });
    const teacherInvite = await createInvite(db, admin, { role: 'teacher', personId: picked.slot.teacherId, now: clock.now() });
    await teacher.send(`/start ${teacherInvite.code}`);
    const parents: Array<{ user: TestUser; personId: Types.ObjectId; child: string; name: string }> = [];
    for (const child of children) {
      const links = await Guardianship.find({ schoolId, studentId: child._id }, { parentId: 1 }).lean();
      for (const link of links) {
        const p = await Person.findById(link.parentId, { firstName: 1, lastName: 1 }).lean();
        if (!p) continue;
        const user = world.user({ firstName: p.firstName, lastName: p.lastName });
        const invite = await createInvite(db, admin, { role: 'parent', personId: link.parentId, now: clock.now() });
        await user.send(`/start ${invite.code}`);
        await user.press('✅ Принимаю');
        await sendJoinSummary(db, link.parentId, { now: clock.now() });
        parents.push({ user, personId: link.parentId, child: shortName(child), name: shortName(p) });
      }
    }
    await deliver();

    // ── 08:35 attendance ──
    clock.setLocal(day, '08:35');
    const actor = await loadActor(db, picked.slot.teacherId, teacher.id);
    if (!actor) throw new Error('the teacher did not join');
    const lessons = await lessonsForTeacher(db, actor, day, clock.now());
    const lesson = lessons.lessons.find((l) => l.lessonNo === 1 && l.classId === String(picked.slot.classId));
    if (!lesson) throw new Error('no first lesson for the class');
    let sheet = await openAttendance(db, actor, lesson.id, clock.now());
    const absentChild = children[1] as (typeof children)[number];
    const idx = sheet.students.find((s) => s.id === String(absentChild._id))?.idx;
    if (idx === undefined) throw new Error('the child is not on the roster');
    sheet = await toggleAttendance(db, actor, lesson.id, sheet.version, idx, clock.now());
    await saveAttendance(db, actor, lesson.id, sheet.version, clock.now());
    await deliver(); // absences go out at once

    // ── 09:05 marks, a correction at 09:07 ──
    clock.setLocal(day, '09:05');
    const first = children[0] as (typeof children)[number];
    const third = children[2] as (typeof children)[number];
    const { mark } = await recordMark(db, actor, { lessonId: lesson.id, studentId: String(first._id), value: 3, workKind: 'oral' }, clock.now());
    await recordMark(db, actor, { lessonId: lesson.id, studentId: String(first._id), value: 5, workKind: 'classwork' }, clock.now());
    await recordMark(db, actor, { lessonId: lesson.id, studentId: String(third._id), value: 4, workKind: 'classwork' }, clock.now());
    clock.setLocal(day, '09:07');
    await changeMark(db, actor, { markId: mark.id, value: 4 }, clock.now());
    await deliver(); // nothing yet: inside the grace window
    clock.setLocal(day, '09:11');
    await deliver();

    // ── 09:20 a parent acknowledges; the teacher looks; a parent opens the diary ──
    clock.setLocal(day, '09:20');
    const signer = parents[0] as (typeof parents)[number];
    await signer.user.press('✅ Ознакомлен(а)');
    clock.setLocal(day, '09:50');
    await teacher.send('/acks');
    const lessonButton = teacher.buttons()[0];
    if (lessonButton) await teacher.press(lessonButton);
    clock.setLocal(day, '10:00');
    const reader = parents[parents.length - 1] as (typeof parents)[number];
    await reader.user.send('/diary');
    await reader.user.press('⭐ Оценки');

    // ── 10:10 the absent child's parent writes to the teacher (no phone numbers change hands) ──
    clock.setLocal(day, '10:10');
    const writer = parents.find((p) => p.child === shortName(absentChild)) ?? (parents[0] as (typeof parents)[number]);
    await writer.user.send('/write');
    if (writer.user.lastText()?.startsWith('Учителю какого ребёнка')) await writer.user.press(new RegExp(`^${absentChild.firstName}`));
    const teacherButton = writer.user.buttons().find((b) => b.includes(teacherPerson?.lastName ?? '\u0000'));
    if (!teacherButton) throw new Error('the parent cannot find the teacher');
    await writer.user.press(teacherButton);
    await writer.user.send('Здравствуйте! Сегодня мы у врача, справку принесём завтра. Что задано на дом?');
    await writer.user.press('Готово');
    await deliver();
    const question = teacher.messages().find((m) => m.content.includes('справку принесём'));
    clock.setLocal(day, '10:15');
    if (question) await teacher.replyTo(question.messageId, 'Спасибо, выздоравливайте! Задание в дневнике: параграф 12, № 3–5.');
    await deliver();

    // ── 10:30 the class teacher's announcement to the class's families, with read receipts ──
    clock.setLocal(day, '10:30');
    const classTeacherId = (await SchoolClass.findById(picked.slot.classId, { classTeacherId: 1 }).lean())?.classTeacherId;
    let classTeacher = teacher;
    let classTeacherName = `${teacherPerson?.firstName} ${teacherPerson?.lastName}`;
    if (classTeacherId && String(classTeacherId) !== String(picked.slot.teacherId)) {
      const p = await Person.findById(classTeacherId, { firstName: 1, lastName: 1 }).lean();
      classTeacherName = `${p?.firstName} ${p?.lastName}`;
      classTeacher = world.user({ firstName: p?.firstName ?? 'Классный', lastName: p?.lastName });
      const invite = await createInvite(db, admin, { role: 'teacher', personId: classTeacherId, now: clock.now() });
      await classTeacher.send(`/start ${invite.code}`);
    }
    if (classTeacherId) {
      await classTeacher.send('/announce');
      await classTeacher.press(cls?.name ?? '');
      await classTeacher.press(/^Всему классу/);
      await classTeacher.send('В четверг в 18:00 родительское собрание в кабинете 21. Тема — итоги первой четверти.');
      await classTeacher.press('Отправить');
      await deliver();
      clock.setLocal(day, '10:45');
      for (const p of parents.slice(0, 2)) {
        const copy = p.user.messages().find((m) => m.content.includes('родительское собрание') && m.buttons.flat().includes('Прочитано'));
        if (copy) await p.user.press('Прочитано', { messageId: copy.messageId });
      }
      clock.setLocal(day, '11:00');
      await classTeacher.press('🔄 Обновить');
    }

    out('═══ Чаты — так, как их видят люди ═══');
    out();
    for (const p of parents) transcript(`${p.name} (родитель: ${p.child})`, p.user.chat());
    transcript(`${teacherPerson?.firstName} ${teacherPerson?.lastName} (учитель)`, teacher.chat());
    if (classTeacher !== teacher) transcript(`${classTeacherName} (классный руководитель)`, classTeacher.chat());
    const sent = await db.models.OutboxMessage.countDocuments({ status: 'sent' });
    const cancelled = await db.models.OutboxMessage.countDocuments({ status: 'cancelled' });
    out(`Outbox: отправлено ${sent}, закрыто без сообщения ${cancelled}; отметок «Ознакомлен»: ${await db.models.Acknowledgement.countDocuments({})}.`);
    out();

    // ── The end of the quarter: the period-mark window, the suggested marks, the families told ──
    const quarter = await playQuarterEnd({
      db,
      clock,
      deliver,
      actor,
      teacher,
      families: [signer.user],
      classId: String(picked.slot.classId),
      className: cls?.name ?? '',
      subjectName: lesson.subjectName,
      students: picked.students,
      morning: day,
    });
    const dm = (d: string) => d.split('-').reverse().join('.');
    out(`═══ Конец четверти: ${dm(quarter.day)}, окно выставления четвертных ${dm(quarter.window.opensOn)} — ${dm(quarter.window.closesOn)} ═══`);
    out(
      `Четверть ${dm(quarter.period.startsOn)} — ${dm(quarter.period.endsOn)}: ${cls?.name} · ${lesson.subjectName} — уроков ${quarter.lessons}, ` +
        `оценок ${quarter.marks}, пропусков ${quarter.absences} (записаны через журнал, каждый в свой день), плюс утро ${dm(day)}.`,
    );
    out();
    for (const s of quarter.screens) transcript(`Экран учителя: ${s.title}`, [s.message]);
    transcript(`${teacherPerson?.firstName} ${teacherPerson?.lastName} (учитель) — конец четверти`, teacher.chat().slice(quarter.from.get(teacher)));
    transcript(`${signer.name} (родитель: ${signer.child}) — конец четверти`, signer.user.chat().slice(quarter.from.get(signer.user)));
    const told = await db.models.OutboxMessage.countDocuments({ kind: 'periodMark', status: 'sent' });
    out(`Четвертные отметки: сохранено ${await db.models.PeriodMark.countDocuments({ periodCode: quarter.period.code })}; родителям отправлено сообщений «🏁»: ${told}.`);
    out();
    await printMiniAppLinks(app.web?.url, [
      { who: `${teacherPerson?.firstName} ${teacherPerson?.lastName} (учитель): сетка журнала`, user: teacher.info },
      { who: `${signer.name} (родитель): график отметок, посещаемость, домашние задания`, user: signer.user.info },
    ]);
    if (values.serve) await untilSignal();
  } finally {
    await app.db.conn.dropDatabase().catch(() => undefined);
    await app.stop();
    await local?.stop();
  }
}

/** The Mini App's links with test init data signed by the demo's token (src/web/init-data.ts). */
async function printMiniAppLinks(base: string | undefined, people: Array<{ who: string; user: { id: number; first_name: string; last_name?: string } }>) {
  if (!base) return;
  out('═══ Mini App на локальном сервере (тестовые init data, подписанные токеном демо) ═══');
  for (const p of people) out(`${p.who}:\n  ${webAppLink(base, signInitData(TOKEN, { ...p.user, language_code: 'ru' }))}`);
  out(
    values.serve
      ? 'Откройте ссылку в браузере (лучше в режиме телефона, 390×844). Ctrl+C — остановить.'
      : 'Сервер закрывается вместе с демо: `npm run demo -- --serve` оставит его работать (порт WEB_PORT, 8080 по умолчанию), и ссылки откроются в любом браузере.',
  );
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

main().catch((e) => {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
