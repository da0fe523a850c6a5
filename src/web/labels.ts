import { periodName } from '../notify/render/common.js';
import type { Translate } from '../i18n.js';

/**
 * A period's name for a screen's heading or list: "Quarter 2" / "2-я четверть" (the
 * notifications use the same words mid-sentence, uncapitalized).
 */
export function periodLabel(t: Translate, code: string): string {
  const name = periodName(t, code);
  return name.charAt(0).toUpperCase() + name.slice(1);
}
