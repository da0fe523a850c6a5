import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { type Command, type Ctx, localeOf, objectId, parse, printJson, textTranslator, UsageError, validate } from '../context.js';
import { requireSchool, withDb } from '../database.js';

/**
 * `report <kind> --school <id> [--class 5А] [--grade 5] [--student <id>] [--subject <name>]
 *  [--period <code>] [--from YYYY-MM-DD --to YYYY-MM-DD] --format json|xlsx|pdf [--out FILE]`
 * (issue 14): the same reports as the bot's /reports, as the school's system actor (full rights,
 * src/cli/context.ts). `json` prints the figures (or the document's data) with the key figures;
 * `xlsx`/`pdf` write the file (--out, else its own name in the current folder). The scope is the
 * most specific option given: a student, a class, a grade level, else the school.
 */
/** For the help text without loading the domain; a test keeps it equal to REPORT_KINDS. */
export const REPORT_KIND_NAMES = [
  'progress',
  'attendance',
  'filling',
  'coverage',
  'quarter-report',
  'summary-sheet',
  'class-journal',
  'report-card',
  'weekly-letters',
] as const;

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const schema = z.object({
  school: z.string().trim().min(1),
  class: z.string().trim().min(1).max(20).optional(),
  grade: z.coerce.number().int().min(1).max(11).optional(),
  student: objectId.optional(),
  subject: z.string().trim().min(1).max(100).optional(),
  period: z.enum(['q1', 'q2', 'q3', 'q4', 'h1', 'h2', 't1', 't2', 't3', 'year']).optional(),
  from: date.optional(),
  to: date.optional(),
  format: z.enum(['json', 'xlsx', 'pdf']),
  out: z.string().min(1).optional(),
});

const OPTIONS = {
  school: { type: 'string' },
  class: { type: 'string' },
  grade: { type: 'string' },
  student: { type: 'string' },
  subject: { type: 'string' },
  period: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
} as const;

export const reportCommand: Command = async (ctx: Ctx, args: string[]) => {
  const { values, positionals } = parse(args, OPTIONS);
  const usage = { kinds: REPORT_KIND_NAMES.join(', ') };
  if (values.help) {
    ctx.io.out(`${textTranslator(ctx, localeOf(ctx))('cli.report.usage', usage)}\n`);
    return 0;
  }
  const [kindArg, ...extra] = positionals;
  if (!kindArg) throw new UsageError('cli.report.usage', usage);
  if (extra.length) throw new UsageError('cli.errors.unexpectedArg', { value: extra[0] });
  const kind = REPORT_KIND_NAMES.find((k) => k === kindArg);
  if (!kind) throw new UsageError('cli.report.badKind', { kind: kindArg, ...usage });
  const input = validate(schema, values);
  const { KIND_FORMATS, buildReportData, keyFigures } = await import('../../domain/reports/catalog.js');
  if (input.format !== 'json' && !KIND_FORMATS[kind].includes(input.format)) {
    throw new UsageError('cli.report.badFormat', { kind, formats: ['json', ...KIND_FORMATS[kind]].join(', ') });
  }
  return withDb(ctx, async (db, d) => {
    const school = await requireSchool(ctx, db, input.school);
    const locale = localeOf(ctx, school);
    const t = textTranslator(ctx, locale);
    let classId: string | undefined;
    if (input.class) {
      const cls = await db.models.SchoolClass.findOne({ schoolId: school._id, name: input.class, closedAt: null }, { _id: 1 }).lean();
      if (!cls) throw new UsageError('cli.report.noClass', { name: input.class });
      classId = String(cls._id);
    }
    let subjectId: string | undefined;
    if (input.subject) {
      const name = input.subject;
      const sub = await db.models.Subject.findOne({ schoolId: school._id, $or: [{ name }, { shortName: name }, { externalId: name }] }, { _id: 1 }).lean();
      if (!sub) throw new UsageError('cli.report.noSubject', { name });
      subjectId = String(sub._id);
    }
    const scope = input.student ? 'student' : classId ? 'class' : input.grade !== undefined ? 'grade' : 'school';
    const params = {
      scope,
      ...(classId ? { classId } : {}),
      ...(input.grade !== undefined ? { grade: input.grade } : {}),
      ...(input.student ? { studentId: input.student } : {}),
      ...(subjectId ? { subjectId } : {}),
      ...(input.period ? { periodCode: input.period } : {}),
      ...(input.from ? { from: input.from } : {}),
      ...(input.to ? { to: input.to } : {}),
    } as const;
    const data = await buildReportData(db, d.systemActor(school._id, 'cli'), kind, params, ctx.now());
    if (input.format === 'json') {
      printJson(ctx, { kind, key: keyFigures(data), ...('report' in data ? { report: data.report } : {}), ...('sheet' in data ? { sheet: data.sheet } : {}) });
      return 0;
    }
    const { renderReport } = await import('../../documents/reports/by-kind.js');
    const file = await renderReport(data, input.format, t, locale);
    const out = input.out ?? file.name;
    writeFileSync(out, file.data);
    if (ctx.json) printJson(ctx, { file: out, bytes: file.data.length, key: keyFigures(data) });
    else ctx.io.out(`${t('cli.report.written', { file: out, bytes: file.data.length })}\n`);
    return 0;
  });
};
