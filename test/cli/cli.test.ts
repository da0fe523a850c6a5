import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIND_NAMES, ROLE_NAMES } from '../../src/cli/context.js';
import { connectMongo } from '../../src/db/connection.js';
import { createDb, type Db } from '../../src/db/index.js';
import { ROLES } from '../../src/domain/shared/vocabulary.js';
import { IMPORT_KINDS } from '../../src/domain/imports/index.js';
import { testMongoUri } from '../support/db.js';

/**
 * The CLI as an operator runs it: a separate process (`tsx src/cli/index.ts …`) against a test
 * database (MONGODB_URI), in an empty working directory (no .env), with no bot token: nothing
 * may reach beyond loopback.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const ENTRY = join(ROOT, 'src', 'cli', 'index.ts');
const TEMPLATES = join(ROOT, 'docs', 'import');

let uri: string;
let conn: Connection;
let db: Db;
let work: string;

beforeAll(async () => {
  uri = testMongoUri('cli');
  conn = await connectMongo(uri);
  db = await createDb(conn);
  work = mkdtempSync(join(tmpdir(), 'sjb-cli-'));
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['BOT_TOKEN', 'BOT_USERNAME', 'TELEGRAM_API_ROOT', 'MONGODB_URI', 'LANG', 'LC_ALL', 'DATA_DIR']) delete base[name];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(TSX, [ENTRY, ...args], {
      cwd: work,
      env: { ...base, MONGODB_URI: uri, LANG: 'en_US.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const LINK = /https:\/\/t\.me\/([^?\s]+)\?start=([A-Za-z0-9_-]{16,64})/;

describe('help and bad arguments', () => {
  it('the help texts list the real kinds and roles', () => {
    expect([...KIND_NAMES]).toEqual([...IMPORT_KINDS]);
    expect([...ROLE_NAMES]).toEqual([...ROLES]);
  });

  it('--help at the top and on each command; exit 0', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: npm run cli -- <command>');
    for (const command of ['school create', 'school list', 'school settings', 'import <kind> <file>', 'invite --school', 'seed:demo', 'year show']) {
      expect(top.stdout).toContain(command);
    }
    const imp = await cli(['import', '--help']);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain('students, staff, subjects, classes, groups, load, timetable');
    const ru = await cli(['school', '--help', '--lang', 'ru']);
    expect(ru.code).toBe(0);
    expect(ru.stdout).toContain('Часовой пояс');
    const invite = await cli(['invite', '--help']);
    expect(invite.stdout).toContain('--class <name>');
    const seed = await cli(['seed:demo', '--help']);
    expect(seed.stdout).toContain('--students N');
  }, 60_000);

  it('no command, an unknown command, a missing or bad option: stderr and a non-zero exit', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage');
    expect(none.stdout).toBe('');

    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command: frobnicate');

    const missing = await cli(['school', 'create', '--name', 'X']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Missing timezone');

    const badOption = await cli(['school', 'create', '--name', 'X', '--timezone', 'Europe/Moscow', '--colour', 'red']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain('Unknown option --colour');

    const badZone = await cli(['school', 'create', '--name', 'X', '--timezone', 'Mars/Olympus']);
    expect(badZone.code).toBe(1);
    expect(badZone.stderr).toContain('"Mars/Olympus" is not a time zone');

    const badKind = await cli(['import', 'pets', 'x.csv', '--school', '0123456789abcdef01234567']);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain('Unknown kind "pets"');

    const badSchool = await cli(['import', 'students', 'x.csv', '--school', 'nope']);
    expect(badSchool.code).toBe(2);
    expect(badSchool.stderr).toContain('Bad value for --school');

    // Issue 11: with no language named (LANG=C) the errors speak the default, Russian, like the
    // rest of the output; a negative number is a bad value, not "argument is ambiguous".
    const russian = await cli(['school', 'create', '--name', 'X', '--timezone', 'Europe/Moscow', '--colour', 'red'], { LANG: 'C' });
    expect(russian.stderr).toContain('Неизвестный параметр --colour');
    const negative = await cli(['school', 'settings', '--school', '0123456789abcdef01234567', '--grace-minutes', '-3'], { LANG: 'C' });
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('Недопустимое значение --grace-minutes: «-3»');
    expect(negative.stderr).not.toContain('ambiguous');

    const noSchool = await cli(['school', 'list', '--bogus']);
    expect(noSchool.code).toBe(2);
    expect(await db.models.School.countDocuments({ name: 'X' })).toBe(0);
  }, 90_000);
});

describe('school create, import, invite', () => {
  let schoolId = '';

  it('school create prints the id and a one-time invite link for the first admin', async () => {
    const res = await cli(['school', 'create', '--name', 'Школа №7', '--timezone', 'Asia/Yekaterinburg'], {
      BOT_USERNAME: '@journal_test_bot',
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    schoolId = /id: ([0-9a-f]{24})/.exec(res.stdout)?.[1] ?? '';
    expect(schoolId).toMatch(/^[0-9a-f]{24}$/);
    const link = LINK.exec(res.stdout);
    expect(link?.[1]).toBe('journal_test_bot');

    const school = await db.models.School.findById(schoolId).lean();
    expect(school).toMatchObject({ name: 'Школа №7', timezone: 'Asia/Yekaterinburg', locale: 'ru' });
    expect(school?.settings?.lockAfterDays).toBe(7); // regulation defaults (R14)
    const year = await db.models.AcademicYear.findOne({ schoolId }).lean();
    expect(year?.periods.map((p) => p.code)).toEqual(['q1', 'q2', 'q3', 'q4', 'year']);
    expect(year?.startsOn).toMatch(/-09-01$/);
    const invites = await db.models.Invite.find({ schoolId }).lean();
    expect(invites).toHaveLength(1);
    expect(invites[0]).toMatchObject({ role: 'admin' });
    expect(invites[0]?.personId).toBeUndefined();
    expect(invites[0]?.codeHash).not.toContain(link?.[2]);
  }, 60_000);

  it('--json is machine-readable; without BOT_USERNAME or a token the link has a placeholder and stderr says so', async () => {
    const res = await cli(['school', 'create', '--name', 'Lyceum', '--timezone', 'Europe/Moscow', '--locale', 'en', '--json']);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { id: string; locale: string; adminInvite: { link: string; expiresAt: string } };
    expect(out.id).toMatch(/^[0-9a-f]{24}$/);
    expect(out.locale).toBe('en');
    expect(out.adminInvite.link).toMatch(/^https:\/\/t\.me\/<bot>\?start=/);
    expect(res.stderr).toContain('placeholder <bot>');

    const list = await cli(['school', 'list', '--json']);
    expect(list.code).toBe(0);
    const schools = JSON.parse(list.stdout) as Array<{ id: string; name: string }>;
    expect(schools.map((s) => s.id)).toEqual(expect.arrayContaining([schoolId, out.id]));
  }, 60_000);

  it('school settings shows the rules, changes them (audited), refuses bad values with exit 2', async () => {
    const shown = await cli(['school', 'settings', '--school', schoolId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('закрытие урока для правок: через 7 дн.');
    expect(shown.stdout).toContain('тихие часы уведомлений: 21:00–08:00');

    const changed = await cli(['school', 'settings', '--school', schoolId, '--lock-days', '5', '--quiet-hours', '22:00-07:30', '--json']);
    expect(changed.code).toBe(0);
    const out = JSON.parse(changed.stdout) as { settings: { lockAfterDays: number; quietHours: { from: string; to: string } }; changed: string[] };
    expect(out.changed.sort()).toEqual(['lockAfterDays', 'quietHours']);
    expect(out.settings.lockAfterDays).toBe(5);
    const school = await db.models.School.findById(schoolId).lean();
    expect(school?.settings?.lockAfterDays).toBe(5);
    expect(school?.settings?.quietHours).toMatchObject({ from: '22:00', to: '07:30' });
    const audit = await db.models.AuditEntry.findOne({ schoolId, action: 'school.settings' }).lean();
    expect(audit?.before).toMatchObject({ lockAfterDays: 7 });
    expect(audit?.after).toMatchObject({ lockAfterDays: 5 });

    // The same again changes nothing and records nothing more.
    const again = await cli(['school', 'settings', '--school', schoolId, '--lock-days', '5']);
    expect(again.stdout).toContain('Ничего не изменилось');
    expect(await db.models.AuditEntry.countDocuments({ schoolId, action: 'school.settings' })).toBe(1);

    for (const bad of [['--lock-days', '0'], ['--lock-days', 'семь'], ['--quiet-hours', '25:00-07:00'], ['--grace-minutes', '61']]) {
      const res = await cli(['school', 'settings', '--school', schoolId, ...bad]);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(bad[0]?.slice(2));
    }
    expect((await db.models.School.findById(schoolId).lean())?.settings?.lockAfterDays).toBe(5);
  }, 120_000);

  it('import: a good file prints counts; a bad one prints every bad row to stderr, exit 1, nothing written', async () => {
    for (const kind of ['staff', 'subjects', 'classes']) {
      const res = await cli(['import', kind, join(TEMPLATES, `${kind}.csv`), '--school', schoolId, '--lang', 'en']);
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('Imported:');
    }
    const students = join(work, 'ученики.csv');
    copyFileSync(join(TEMPLATES, 'students.csv'), students);
    const dry = await cli(['import', 'ученики', students, '--school', schoolId, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Ученики: новых 4, изменено 0, без изменений 0'); // the school's language
    expect(await db.models.Person.countDocuments({ schoolId, roles: 'student' })).toBe(0);

    const bad = join(work, 'bad.csv');
    writeFileSync(
      bad,
      ['student_id,last_name,first_name,class_id', 'N1,Орлов,Олег,5A', 'N2,Орлов,1,5A', 'N3,Орлова,Ольга,9Z', 'N4,,Ира,5A'].join('\n'),
    );
    const rejected = await cli(['import', 'students', bad, '--school', schoolId, '--lang', 'en']);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('The file was not imported: 3 problem(s)');
    expect(rejected.stderr).toContain('Row 3, first_name: not a name');
    expect(rejected.stderr).toContain('Row 4, class_id: no class with the code 9Z');
    expect(rejected.stderr).toContain('Row 5, last_name: a value is required');
    expect(await db.models.Person.countDocuments({ schoolId, roles: 'student' })).toBe(0);

    const json = await cli(['import', 'students', bad, '--school', schoolId, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; errors: Array<{ row: number; column: string }> };
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => [e.row, e.column])).toEqual([
      [3, 'first_name'],
      [4, 'class_id'],
      [5, 'last_name'],
    ]);

    const good = await cli(['import', 'students', students, '--school', schoolId, '--json']);
    expect(good.code).toBe(0);
    expect((JSON.parse(good.stdout) as { counts: Record<string, { created: number }> }).counts['students']?.created).toBe(4);
    const audit = await db.models.AuditEntry.find({ schoolId, action: 'import.students' }).lean();
    expect(audit.map((a) => a.via)).toEqual(['cli']);

    const missing = await cli(['import', 'students', join(work, 'nope.csv'), '--school', schoolId, '--lang', 'en']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Cannot read the file');
  }, 120_000);

  it('invite prints one link per line with the person’s name (a class’s parents, one teacher)', async () => {
    const env = { BOT_USERNAME: 'journal_test_bot' };
    const parents = await cli(['invite', '--school', schoolId, '--role', 'parent', '--class', '5а'], env);
    expect(parents.stderr).toBe('');
    expect(parents.code).toBe(0);
    const lines = parents.stdout.trim().split('\n');
    // 5А: S0001 (parents P0001, P0002) and S0003 (P0003).
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^\S.+\thttps:\/\/t\.me\/journal_test_bot\?start=[A-Za-z0-9_-]+$/);
    expect(parents.stdout).toContain('Иванова Мария Петровна (Пётр Иванов)');

    const teacher = await cli(['invite', '--school', schoolId, '--role', 'teacher', '--person', 'T004', '--json'], env);
    expect(teacher.code).toBe(0);
    const out = JSON.parse(teacher.stdout) as { invites: Array<{ name: string; link: string }> };
    expect(out.invites).toHaveLength(1);
    expect(out.invites[0]?.name).toBe('Петрова Анна Ивановна');
    expect(out.invites[0]?.link).toMatch(LINK);

    const wrongRole = await cli(['invite', '--school', schoolId, '--role', 'parent', '--person', 'T004', '--lang', 'en'], env);
    expect(wrongRole.code).toBe(1);
    expect(wrongRole.stderr).toContain('T004 is not a parent');
    const noClass = await cli(['invite', '--school', schoolId, '--role', 'parent', '--class', '10Щ', '--lang', 'en'], env);
    expect(noClass.code).toBe(1);
    expect(noClass.stderr).toContain('No class named 10Щ');
  }, 90_000);

  it('invite again: says that the earlier links are revoked (and they are); a joined person needs --rebind', async () => {
    const env = { BOT_USERNAME: 'journal_test_bot' };
    const args = ['invite', '--school', schoolId, '--role', 'parent', '--class', '5а', '--lang', 'en'];
    const first = await cli(args, env);
    expect(first.code).toBe(0);
    const again = await cli(args, env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('Earlier unused links of these people (3) were revoked: only the links above work.');
    const codeOf = (line: string) => /start=([A-Za-z0-9_-]+)$/.exec(line)?.[1] ?? '';
    const { redeemInvite } = await import('../../src/domain/school/invites/redeem.js');
    const redeem = (code: string, telegramId: number) => redeemInvite(db, { telegramId, firstName: 'P', code, now: new Date() });
    await expect(redeem(codeOf(first.stdout.trim().split('\n')[0] ?? ''), 7_700_001)).rejects.toMatchObject({ key: 'invite.revoked' });
    await redeem(codeOf(again.stdout.trim().split('\n')[0] ?? ''), 7_700_002);
    const joined = await db.models.Person.findOne({ schoolId, telegramId: 7_700_002 }, { externalId: 1 }).lean();

    const one = ['invite', '--school', schoolId, '--role', 'parent', '--person', joined?.externalId ?? '', '--lang', 'en'];
    const refused = await cli(one, env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('has already joined');
    expect(refused.stderr).toContain('--rebind');
    const rebind = await cli([...one, '--rebind'], env);
    expect(rebind.code).toBe(0);
    expect(rebind.stdout).toMatch(/\thttps:\/\/t\.me\/journal_test_bot\?start=/);
    expect(rebind.stderr).toContain("current Telegram account has been told");
    expect(await db.models.OutboxMessage.countDocuments({ schoolId, kind: 'accountRebind', chatId: 7_700_002 })).toBe(1);
  }, 90_000);
});

describe('seed:demo', () => {
  it('builds a demo school through the importer and prints its id, counts and an admin link', async () => {
    const res = await cli(['seed:demo', '--students', '66', '--json'], { BOT_USERNAME: 'journal_test_bot' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as {
      schoolId: string;
      counts: Record<string, number>;
      ms: number;
      adminInvite: { name: string; link: string };
    };
    expect(out.counts).toMatchObject({ staff: 40, classes: 22, students: 66, groups: 40 });
    expect(out.adminInvite.link).toMatch(LINK);
    expect(await db.models.Person.countDocuments({ schoolId: out.schoolId, roles: 'student' })).toBe(66);
    expect(await db.models.AuditEntry.countDocuments({ schoolId: out.schoolId, action: /^import\./ })).toBe(7);
  }, 120_000);
});
