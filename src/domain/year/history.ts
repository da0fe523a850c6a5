import type { LocalDate } from '../shared/calendar.js';

/**
 * A class keeps its id when it moves up (5А → 6А, R5); its `history` says what it was called in
 * each closed year. Views of a past day name the class as it was on that day.
 */
export interface ClassWithHistory {
  name: string;
  history?: Array<{ name?: string | null; endsOn?: string | null }> | null;
}

/** The class's name on `date`: the name of the earliest closed year that ends on or after it, else today's. */
export function classNameOn(cls: ClassWithHistory, date: LocalDate): string {
  const then = (cls.history ?? [])
    .filter((h) => h.endsOn && date <= h.endsOn && h.name)
    .sort((a, b) => String(a.endsOn).localeCompare(String(b.endsOn)))[0];
  return then?.name ?? cls.name;
}
