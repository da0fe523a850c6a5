import type { Api, RawApi } from 'grammy';
import type { BotCommand } from 'grammy/types';
import { LOCALES, type Locale } from '../config.js';
import { ROLES, type Role } from '../domain/shared/vocabulary.js';
import type { Translate } from '../i18n.js';
import type { BotContext } from './context.js';

/** Commands everyone has. Role menus extend this list (see `commandsFor`). */
export const GUEST_COMMANDS = ['start', 'help', 'language'] as const;

/**
 * What each role can use, in menu order. A feature that adds a command adds it here (and a
 * `help.commands.<name>` text in both locales): the chat menu and /help are built from this table.
 */
export const ROLE_COMMANDS: Record<Role, readonly string[]> = {
  // Announcements to a class, a grade level or the whole school (issue 6).
  admin: ['invite', 'journal', 'periodmarks', 'calendar', 'history', 'announce', 'outcomes', 'newyear', 'reports'],
  // R5: students' outcomes at the year's end.
  secretary: ['outcomes'],
  // The journal (issue 4): a class's journal, absence reasons (R20), history (R31), substitutes' access (R7).
  // /reports (issue 14): figures and documents for staff (R26–R28), the report card and the weekly letter for families.
  deputy: ['journal', 'periodmarks', 'absences', 'history', 'grant', 'announce', 'newyear', 'reports'],
  // The journal from a phone (issue 4): today's lessons, the plan (КТП, R8).
  teacher: ['today', 'periodmarks', 'plan', 'acks', 'write', 'inbox', 'officehours', 'reports'],
  // The diary and notifications (issue 5, R24).
  parent: ['children', 'diary', 'absent', 'notifications', 'write', 'inbox', 'reports'],
  student: ['diary', 'notifications', 'write', 'inbox'],
};

/** Commands for a joined person: theirs by role, then privacy, profile switching and the guest ones. */
export function commandsFor(
  roles: Iterable<string>,
  opts: { classTeacher?: boolean; teachesGroups?: boolean; profiles?: number } = {},
): string[] {
  const set = new Set(roles);
  const out: string[] = ['start'];
  for (const role of ROLES) if (set.has(role)) out.push(...ROLE_COMMANDS[role]);
  // R2: a class teacher invites the families of their class; R20: sets the reasons of its absences;
  // R18: enters the period marks of students arriving mid-year.
  // R21: records PE exemptions of the class's students.
  if (opts.classTeacher) out.push('invite', 'absences', 'arrivals', 'announce', 'pe');
  // A teacher of a group (an English group) announces to its families (issue 6).
  if (opts.teachesGroups && set.has('teacher')) out.push('announce');
  out.push('privacy');
  if ((opts.profiles ?? 1) > 1) out.push('profile');
  out.push('language', 'help');
  return [...new Set(out)];
}

/**
 * The menu's texts. A command whose use depends on who writes is described for them: /write is
 * "write to a teacher" for a family, "write to parents" for a teacher (issue 11), both for both.
 */
export function commandList(t: Translate, names: readonly string[], roles?: ReadonlySet<string>): BotCommand[] {
  const describe = (command: string) => {
    if (command === 'write' && roles?.has('teacher')) {
      return t(roles.has('parent') || roles.has('student') ? 'help.commands.writeBoth' : 'help.commands.writeStaff');
    }
    return t(`help.commands.${command}`);
  };
  return names.map((command) => ({ command, description: describe(command) }));
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

/** The commands of the person acting in this update (guests: the guest menu). */
export function commandsOf(ctx: BotContext): string[] {
  const actor = ctx.actor;
  if (!actor) return [...GUEST_COMMANDS];
  return commandsFor(actor.roles, {
    classTeacher: actor.classTeacherOf.size > 0,
    teachesGroups: actor.teachesGroupIds.size > 0,
    profiles: ctx.profiles.length,
  });
}

/**
 * The chat's own menu (scope chat): set without a language (what the client shows whatever its
 * language) and for the user's language, both in the language the user reads.
 */
export async function setChatCommands(ctx: BotContext): Promise<void> {
  const chatId = ctx.chat?.id ?? ctx.from?.id;
  if (chatId === undefined) return;
  const commands = commandList(ctx.t, commandsOf(ctx), ctx.actor?.roles);
  const scope = { type: 'chat', chat_id: chatId } as const;
  await ctx.api.setMyCommands(commands, { scope });
  await ctx.api.setMyCommands(commands, { scope, language_code: ctx.locale });
}
