import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ImportKind } from '../../domain/imports/index.js';
import { DomainError } from '../../domain/shared/errors.js';
import { type Ctx, KIND_NAMES, localeOf, objectId, parse, printJson, textTranslator, UsageError, validate } from '../context.js';
import { requireSchool, withDb } from '../database.js';

/** `import <kind> <file> --school <id> [--dry-run]`: the importer, all or nothing per file. */
export async function importCommand(ctx: Ctx, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { school: { type: 'string' }, 'dry-run': { type: 'boolean' } });
  const t0 = textTranslator(ctx, localeOf(ctx));
  if (values.help) {
    ctx.io.out(`${t0('cli.help.import', { kinds: KIND_NAMES.join(', ') })}\n`);
    return 0;
  }
  const [kindWord, file, extra] = positionals;
  if (!kindWord) throw new UsageError('cli.errors.missingOption', { option: 'kind' });
  const { kindFromWord } = await import('../../domain/imports/kinds.js');
  const kind: ImportKind | undefined = kindFromWord(kindWord);
  if (!kind) throw new UsageError('cli.errors.unknownKind', { kind: kindWord, kinds: KIND_NAMES.join(', ') });
  if (!file) throw new UsageError('cli.errors.missingOption', { option: 'file' });
  if (extra) throw new UsageError('cli.errors.unexpectedArg', { value: extra });
  const input = validate(z.object({ school: objectId }), values);
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch {
    throw new DomainError('cli.errors.fileNotFound', { file });
  }
  return withDb(ctx, async (db, d) => {
    const school = await requireSchool(ctx, db, input.school);
    const t = textTranslator(ctx, localeOf(ctx, school));
    const report = await d.importFile(db, d.systemActor(school._id, 'cli'), {
      kind,
      data,
      filename: path.basename(file),
      dryRun: (values as Record<string, unknown>)['dry-run'] === true,
      now: ctx.now(),
    });
    if (ctx.json) printJson(ctx, report);
    else {
      const text = `${d.formatReport(report, t).join('\n')}\n`;
      if (report.ok) ctx.io.out(text);
      else ctx.io.err(text);
    }
    return report.ok ? 0 : 1;
  });
}
