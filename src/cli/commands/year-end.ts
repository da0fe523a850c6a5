import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { Translate } from '../../i18n.js';
import { type Ctx, localeOf, parse, printJson, textTranslator, UsageError, validate } from '../context.js';
import { requireSchool, withDb } from '../database.js';

/**
 * The end of the year (R5, R21, R30) at the operator's terminal (`year` dispatches here, year.ts):
 *   year outcomes --school <id> --file outcomes.csv [--dry-run]   students' outcomes, all or nothing
 *   year close --school <id> [--year 2026/2027] [--dry-run]        what is missing, then the closing steps (resumes an unfinished run)
 *   year confirm-timetable --school <id>                           the carried-over timetable makes lessons from now on
 *   year archive --school <id> --year <name> --out <dir>           journals (XLSX), year.json, SHA256SUMS, documents/
 *   year restore --from <dir> --uri <mongodb uri>                  loads an archive into a new database for reading
 *   year pe-subject --school <id> --subject <code or name> [--off] a subject is PE (R21) or not
 */
const OPTIONS = {
  school: { type: 'string' },
  year: { type: 'string' },
  file: { type: 'string' },
  out: { type: 'string' },
  from: { type: 'string' },
  uri: { type: 'string' },
  subject: { type: 'string' },
  off: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

type Values = Record<string, string | boolean | undefined>;

export async function yearEndCommand(ctx: Ctx, args: string[]): Promise<number> {
  const sub = args.find((a) => !a.startsWith('-'));
  const { values } = parse(args.filter((a) => a !== sub), OPTIONS);
  const v = values as Values;
  if (sub === 'restore') return restore(ctx, v);
  const input = validate(z.object({ school: z.string().trim().min(1) }).passthrough(), values);
  return withDb(ctx, async (db) => {
    const school = await requireSchool(ctx, db, input.school);
    const { systemActor } = await import('../../domain/school/actor.js');
    const st = textTranslator(ctx, localeOf(ctx, school));
    const actor = systemActor(school._id, 'cli');
    const now = ctx.now();
    switch (sub) {
      case 'outcomes': {
        const { importOutcomes } = await import('../../domain/year/outcomes.js');
        const rows = parseCsv(readFileSync(required(v, 'file')), { columns: true, skip_empty_lines: true, trim: true, bom: true, delimiter: [',', ';'] }) as Array<Record<string, string>>;
        const res = await importOutcomes(db, actor, rows, now, { dryRun: Boolean(v['dry-run']) });
        if (ctx.json) printJson(ctx, { ...res, errors: res.errors.map((e) => ({ ...e, message: st(e.key, e.vars) })) });
        for (const e of res.errors) ctx.io.err(`${st('cli.out.year.badRow', { row: e.row, message: st(e.key, e.vars) })}\n`);
        if (res.errors.length) return 1;
        if (!ctx.json) ctx.io.out(`${st(v['dry-run'] ? 'yearEnd.cli.outcomesChecked' : 'yearEnd.cli.outcomesWritten', { rows: res.rows, written: res.written })}\n`);
        return 0;
      }
      case 'close':
        return close(ctx, st, db, actor, v);
      case 'confirm-timetable': {
        const { confirmTimetable } = await import('../../domain/year/close.js');
        const res = await confirmTimetable(db, actor, now);
        if (ctx.json) printJson(ctx, res);
        else ctx.io.out(`${st('yearEnd.cli.confirmed', { n: res.confirmed })}\n`);
        return 0;
      }
      case 'archive':
        return archive(ctx, st, db, actor, v);
      case 'pe-subject': {
        const { setSubjectPe } = await import('../../domain/journal/exemptions.js');
        const name = required(v, 'subject');
        const subject = await db.models.Subject.findOne({ schoolId: school._id, $or: [{ externalId: name }, { name }] }, { _id: 1 }).lean();
        if (!subject) throw new UsageError('cli.errors.badOption', { option: 'subject', value: name });
        const changed = await setSubjectPe(db, actor, String(subject._id), !v.off, now);
        if (ctx.json) printJson(ctx, { subject: name, pe: !v.off, changed });
        else ctx.io.out(`${st(v.off ? 'yearEnd.cli.peOff' : 'yearEnd.cli.peOn', { name })}\n`);
        return 0;
      }
    }
    throw new UsageError('cli.errors.unknownCommand', { command: `year ${sub ?? ''}` });
  });
}

function required(v: Values, option: string): string {
  const value = v[option];
  if (typeof value !== 'string' || !value.trim()) throw new UsageError('cli.errors.missingOption', { option });
  return value;
}

type SystemActor = ReturnType<(typeof import('../../domain/school/actor.js'))['systemActor']>;

async function close(ctx: Ctx, st: Translate, db: Db, actor: SystemActor, v: Values): Promise<number> {
  const { closeYear, closingReport, yearToClose } = await import('../../domain/year/close.js');
  const year = await yearToClose(db, actor, ctx.now(), typeof v.year === 'string' ? v.year : undefined);
  if (v['dry-run']) {
    const report = await closingReport(db, actor, year);
    if (ctx.json) printJson(ctx, { dryRun: true, report });
    else ctx.io.out(`${reportText(st, report)}\n`);
    return 0;
  }
  const started = Date.now();
  const result = await closeYear(db, actor, year, ctx.now());
  if (ctx.json) {
    printJson(ctx, { ...result, ms: Date.now() - started });
    return 0;
  }
  const lines = [reportText(st, result.report), ''];
  for (const s of result.steps) lines.push(st(s.ran ? 'yearEnd.cli.stepDone' : 'yearEnd.cli.stepSkipped', { step: st(`yearEnd.steps.${s.name}`) }));
  lines.push('', st('yearEnd.cli.closed', { name: result.report.year.name, next: result.report.nextYearName }));
  ctx.io.out(`${lines.join('\n')}\n`);
  return 0;
}

function reportText(st: Translate, r: Awaited<ReturnType<(typeof import('../../domain/year/close.js'))['closingReport']>>): string {
  const lines = [st('yearEnd.report.title', { name: r.year.name, classes: r.classes, students: r.students })];
  lines.push(st('yearEnd.report.outcomes', { recorded: r.outcomes.recorded, notRecorded: r.outcomes.notRecorded }));
  if (r.missingYearMarks.length === 0) lines.push(st('yearEnd.report.marksComplete'));
  else lines.push(st('yearEnd.report.marksMissing', { n: r.missingYearMarks.reduce((s, m) => s + m.missing, 0) }));
  for (const m of r.missingYearMarks) lines.push(`  ${m.className}${m.groupName ? ` (${m.groupName})` : ''} · ${m.subjectName}: ${m.missing}/${m.students}`);
  if (r.done.length) lines.push(st('yearEnd.report.resuming', { steps: r.done.map((s) => st(`yearEnd.steps.${s}`)).join(', ') }));
  return lines.join('\n');
}

async function archive(ctx: Ctx, st: Translate, db: Db, actor: SystemActor, v: Values): Promise<number> {
  const [{ archivedYear, yearDump, yearJournals }, { writeYearArchive }] = await Promise.all([
    import('../../domain/year/archive.js'),
    import('../../documents/year-archive.js'),
  ]);
  const year = await archivedYear(db, actor, required(v, 'year'));
  const dir = path.resolve(required(v, 'out'));
  const written = await writeYearArchive(dir, await yearJournals(db, actor, year), await yearDump(db, actor, year), {
    student: st('yearEnd.archive.student'),
    lesson: st('yearEnd.archive.lesson'),
    topic: st('yearEnd.archive.topic'),
    homework: st('yearEnd.archive.homework'),
    teacher: st('yearEnd.archive.teacher'),
    year: st('yearEnd.archive.year'),
    cancelled: st('yearEnd.archive.cancelled'),
    documentsReadme: st('yearEnd.archive.documentsReadme'),
  });
  if (ctx.json) printJson(ctx, written);
  else ctx.io.out(`${st('yearEnd.cli.archived', { dir: written.dir, files: written.files, mb: (written.bytes / 1048576).toFixed(1) })}\n`);
  return 0;
}

/** Restore connects to the given database itself: never the one the CLI uses by default. */
async function restore(ctx: Ctx, v: Values): Promise<number> {
  const st = textTranslator(ctx, localeOf(ctx));
  const uri = required(v, 'uri');
  const [{ readYearArchive }, { restoreYear }, { connectMongo }, { createDb }] = await Promise.all([
    import('../../documents/year-archive.js'),
    import('../../domain/year/restore.js'),
    import('../../db/connection.js'),
    import('../../db/index.js'),
  ]);
  const { dump, bad } = await readYearArchive(path.resolve(required(v, 'from')));
  if (bad.length) throw new DomainError('yearEnd.restore.checksum', { files: bad.join(', ') });
  const conn = await connectMongo(uri, { serverSelectionTimeoutMS: 8_000 });
  try {
    const counts = await restoreYear(conn, dump);
    await createDb(conn);
    if (ctx.json) printJson(ctx, { year: dump.year.name, counts });
    else ctx.io.out(`${st('yearEnd.cli.restored', { name: dump.year.name, school: dump.school.name, n: Object.values(counts).reduce((s, x) => s + x, 0) })}\n`);
    return 0;
  } finally {
    await conn.close().catch(() => undefined);
  }
}
