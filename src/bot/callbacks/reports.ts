import { cbField, defineCallback } from './index.js';

/**
 * The button formats of /reports (issue 14, src/bot/features/reports/): the kind, the scope, the
 * subject (the class journal), the period and the format. Buttons carry ids only; the handler
 * hands them to the reports' access rule (domain/reports/access.ts), so a forged button is refused
 * there. A leaf: nothing here knows grammY or the domain. Prefixes and field order are frozen.
 */

/** The report kinds, two letters each (the order of domain/reports/catalog.ts REPORT_KINDS; a test keeps them equal). */
export const REPORT_KIND_CODES = ['pr', 'at', 'fi', 'co', 'qr', 'ss', 'cj', 'rc', 'wl'] as const;
/** Scope: c class, g grade level, s school, p a student (the family's child). */
export const REPORT_SCOPE_CODES = ['c', 'g', 's', 'p'] as const;
/** A period of the year, or n: the period the school is in now. */
export const REPORT_PERIOD_CODES = ['n', 'q1', 'q2', 'q3', 'q4', 'h1', 'h2', 't1', 't2', 't3', 'year'] as const;

const kind = () => cbField.enumOf(REPORT_KIND_CODES);
/** A short object id (16 chars), a grade level (1–11), or '-' (none). */
const target = () => cbField.enumOf(['-']).or(cbField.shortObjectId()).or(cbField.int(1, 11).transform(String));
const subject = () => cbField.enumOf(['-']).or(cbField.shortObjectId());

export const reportsMenuCb = defineCallback('rpm', {});
export const reportKindCb = defineCallback('rpk', { k: kind() });
export const reportScopeCb = defineCallback('rps', { k: kind(), t: cbField.enumOf(REPORT_SCOPE_CODES), i: target(), s: subject() });
export const reportGoCb = defineCallback('rpg', {
  k: kind(),
  t: cbField.enumOf(REPORT_SCOPE_CODES),
  i: target(),
  s: subject(),
  p: cbField.enumOf(REPORT_PERIOD_CODES),
  f: cbField.enumOf(['p', 'x']),
});
