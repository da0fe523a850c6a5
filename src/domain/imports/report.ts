import type { Translate } from '../../i18n.js';
import type { RowError } from './common.js';
import type { ImportReport } from './index.js';

/**
 * An import report as text lines in the reader's language (bot and CLI alike). The translator
 * decides the escaping: the bot's escapes for HTML, the CLI's does not.
 */
export function errorLine(error: RowError, t: Translate): string {
  const reason = t(error.key, error.vars ?? {});
  if (!error.column) return t('import.report.fileError', { row: error.row, reason });
  return t('import.report.errorLine', { row: error.row, column: error.column, reason });
}

export function countLines(report: ImportReport, t: Translate): string[] {
  return Object.entries(report.counts).map(([entity, c]) => {
    const line = t('import.report.counts', {
      entity: t(`import.entities.${entity}`),
      created: c.created,
      updated: c.updated,
      unchanged: c.unchanged,
    });
    return c.removed ? `${line}${t('import.report.removed', { removed: c.removed })}` : line;
  });
}

export function reportHeading(report: ImportReport, t: Translate): string {
  return t('import.report.title', { kind: t(`import.kinds.${report.kind}`), rows: report.rows });
}

/** Heading, status, then counts (good file) or one line per problem (rejected file). */
export function formatReport(report: ImportReport, t: Translate): string[] {
  const lines = [reportHeading(report, t)];
  if (report.ok) {
    lines.push(t(report.dryRun ? 'import.report.previewOk' : 'import.report.done'));
    lines.push(...countLines(report, t));
  } else {
    lines.push(t('import.report.rejected', { count: report.errors.length }));
    lines.push(...report.errors.map((e) => errorLine(e, t)));
  }
  return lines;
}

/** Splits lines into messages under Telegram's 4096-character limit, never inside a line. */
export function chunkLines(lines: readonly string[], limit = 4000): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.length > limit ? `${raw.slice(0, limit - 1)}…` : raw;
    if (current && current.length + 1 + line.length > limit) {
      chunks.push(current);
      current = line;
    } else current = current ? `${current}\n${line}` : line;
  }
  if (current) chunks.push(current);
  return chunks;
}
