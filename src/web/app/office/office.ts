/**
 * The school office's tab (issue 15): the report figures with charts (class teacher: their class;
 * deputy, admin: the school and any class), and for the office (admin, deputy, secretary) the screens
 * that were CLI or files: the rules, the calendar, substitutions and a substitute's access, moving a
 * student, the kinds of work. What may be changed comes from the server (`can`); the server checks again.
 */
import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import type { Me } from '../types.js';
import { html } from '../ui.js';
import { CalendarView } from './calendar.js';
import { ReportsView } from './reports.js';
import { SettingsView } from './settings.js';
import { StudentsView } from './students.js';
import { SubstitutionsView } from './substitutions.js';
import { useOffice } from './use-office.js';
import './office.css';

type Section = 'reports' | 'settings' | 'calendar' | 'subs' | 'students';

/** The tab is there for the office and for a class teacher (R26). */
export const showsOffice = (me: Me) => me.isOffice || me.classTeacherOf.length > 0;

export function OfficeScreen(props: { me: Me }) {
  const { me } = props;
  const leads = me.roles.includes('admin') || me.roles.includes('deputy');
  const sections: Array<{ value: Section; label: string }> = [];
  if (leads || me.classTeacherOf.length > 0) sections.push({ value: 'reports', label: t('office.sections.reports') });
  if (me.isOffice) {
    sections.push({ value: 'students', label: t('office.sections.students') });
    // R7: substitutions and access are the deputy's (and the admin's); the rules and the calendar everyone in the office reads.
    if (leads) sections.push({ value: 'subs', label: t('office.sections.subs') });
    sections.push({ value: 'calendar', label: t('office.sections.calendar') }, { value: 'settings', label: t('office.sections.settings') });
  }
  const [section, setSection] = useState<Section>(sections[0]?.value ?? 'reports');
  const office = useOffice(me.isOffice);
  return html`<main class="screen office-screen" data-screen="office">
    ${sections.length > 1
      ? html`<nav class="office-nav" role="tablist">
          ${sections.map(
            (s) => html`<button type="button" role="tab" data-section=${s.value} aria-selected=${s.value === section}
              class=${s.value === section ? 'pill active' : 'pill'} onClick=${() => setSection(s.value)}>${s.label}</button>`,
          )}
        </nav>`
      : null}
    ${section === 'reports' ? html`<${ReportsView} />` : null}
    ${section === 'settings' ? html`<${SettingsView} office=${office} />` : null}
    ${section === 'calendar' ? html`<${CalendarView} office=${office} />` : null}
    ${section === 'subs' ? html`<${SubstitutionsView} office=${office} />` : null}
    ${section === 'students' ? html`<${StudentsView} office=${office} />` : null}
  </main>`;
}
