/**
 * The Mini App's shell: reads Telegram's init data, asks the server who this is (/app/api/me), then shows
 * the screens that person has — the teacher's grid, the family's marks — or the error screen.
 * Screens are listed in SCREENS; a new face (the office's) adds an entry there.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, failureOf, fetchMe } from './api.js';
import { FamilyScreen } from './family/family.js';
import { setLocale, t } from './i18n.js';
import { OfficeScreen, showsOffice } from './office/office.js';
import { GridScreen } from './teacher/grid.js';
import { applyTheme, initData, ready, userLanguage } from './tg.js';
import type { Me } from './types.js';
import { ErrorScreen, Loading, Tabs, html } from './ui.js';
import './styles.css';

interface ScreenEntry {
  id: string;
  label: () => string;
  shows: (me: Me) => boolean;
  // biome-ignore lint/suspicious/noExplicitAny: a preact component of any props shape
  view: (props: { me: Me }) => any;
}

export const SCREENS: ScreenEntry[] = [
  { id: 'grid', label: () => t('tabs.grid'), shows: (me) => me.teaching.length > 0, view: GridScreen },
  { id: 'family', label: () => t('tabs.family'), shows: (me) => me.children.length > 0, view: FamilyScreen },
  { id: 'office', label: () => t('tabs.office'), shows: showsOffice, view: OfficeScreen },
];

type State = { kind: 'loading' } | { kind: 'error'; title?: string; message: string; hint?: string } | { kind: 'ready'; me: Me };

function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [tab, setTab] = useState<string>('');
  useEffect(() => {
    if (!initData()) {
      setState({ kind: 'error', message: t('errors.noInitData'), hint: t('errors.openFromBot') });
      ready();
      return;
    }
    fetchMe<Me>()
      .then((me) => {
        setLocale(me.locale);
        setState({ kind: 'ready', me });
      })
      .catch((err: unknown) => {
        const hint = err instanceof ApiError && err.status === 401 ? t('errors.openFromBot') : undefined;
        setState({ kind: 'error', ...failureOf(err), hint });
      })
      .finally(ready);
  }, []);

  if (state.kind === 'loading') return html`<${Loading} />`;
  if (state.kind === 'error') return html`<${ErrorScreen} title=${state.title} message=${state.message} hint=${state.hint} />`;
  const me = state.me;
  const screens = SCREENS.filter((s) => s.shows(me));
  if (screens.length === 0) return html`<${ErrorScreen} title=${me.person.name} message=${t('errors.nothingHere')} />`;
  const active = screens.find((s) => s.id === tab) ?? screens[0]!;
  return html`<div class="app" data-screen=${active.id}>
    ${screens.length > 1 ? html`<${Tabs} value=${active.id} tabs=${screens.map((s) => ({ value: s.id, label: s.label() }))} onChange=${setTab} />` : null}
    <${active.view} me=${me} />
  </div>`;
}

setLocale(userLanguage() ?? navigator.language);
applyTheme();
const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
