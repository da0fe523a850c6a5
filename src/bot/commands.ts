import type { Api, RawApi } from 'grammy';
import type { BotCommand } from 'grammy/types';
import { LOCALES, type Locale } from '../config.js';
import type { Translate } from '../i18n.js';

/** Commands everyone has. Role menus extend this list (see `commandsFor`). */
export const GUEST_COMMANDS = ['start', 'help', 'language'] as const;

export function commandList(t: Translate, names: readonly string[]): BotCommand[] {
  return names.map((command) => ({ command, description: t(`help.commands.${command}`) }));
}

/** The default menu (people who have not joined), in every language we speak. */
export async function setDefaultCommands(
  api: Api<RawApi>,
  translators: Record<Locale, Translate>,
  defaultLocale: Locale,
): Promise<void> {
  await api.setMyCommands(commandList(translators[defaultLocale], GUEST_COMMANDS));
  for (const locale of LOCALES) {
    await api.setMyCommands(commandList(translators[locale], GUEST_COMMANDS), { language_code: locale });
  }
}
