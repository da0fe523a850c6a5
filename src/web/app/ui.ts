/** Small shared pieces of the Mini App's screens (preact + htm: no JSX step, ~6 KB gzipped). */
import { html } from 'htm/preact';
import { useEffect } from 'preact/hooks';
import { t } from './i18n.js';
import { insideTelegram, setMainButton } from './tg.js';

export { html };

export function Loading() {
  return html`<div class="loading" role="status" aria-live="polite"><span class="spinner"></span>${t('loading')}</div>`;
}

/** "Not allowed / invalid init data" and every other screen-wide failure: the server's localized message. */
export function ErrorScreen(props: { title?: string; message: string; hint?: string }) {
  return html`<section class="screen error-screen" data-screen="error" role="alert">
    <svg class="error-icon" viewBox="0 0 24 24" width="48" height="48" aria-hidden="true">
      <rect x="4.5" y="10.5" width="15" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="1.6" />
      <path d="M8 10.5V7.5a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" stroke-width="1.6" />
    </svg>
    <h1>${props.title ?? t('errors.title')}</h1>
    <p class="error-message">${props.message}</p>
    ${props.hint ? html`<p class="muted">${props.hint}</p>` : null}
  </section>`;
}

export function Notice(props: { kind: 'error' | 'ok'; text: string }) {
  return html`<div class=${`notice notice-${props.kind}`} role=${props.kind === 'error' ? 'alert' : 'status'}>${props.text}</div>`;
}

export interface Option {
  value: string;
  label: string;
}

export function Select(props: { label: string; value: string; options: Option[]; onChange: (value: string) => void; name: string }) {
  return html`<label class="field">
    <span class="field-label">${props.label}</span>
    <select name=${props.name} value=${props.value} onChange=${(e: Event) => props.onChange((e.currentTarget as HTMLSelectElement).value)}>
      ${props.options.map((o) => html`<option value=${o.value} selected=${o.value === props.value}>${o.label}</option>`)}
    </select>
  </label>`;
}

/**
 * Save: Telegram's main button inside Telegram, and a visible button on the page in a plain browser
 * (tests and `webapp-link`). Both call the same `onSave`.
 */
export function SaveButton(props: { text: string; disabled: boolean; busy: boolean; onSave: () => void }) {
  const inside = insideTelegram();
  useEffect(() => {
    if (!inside) return;
    setMainButton(props.disabled ? undefined : { text: props.text, onPress: props.onSave, busy: props.busy });
  }, [inside, props.text, props.disabled, props.busy, props.onSave]);
  useEffect(() => () => setMainButton(undefined), []);
  if (inside) return null;
  return html`<button type="button" class="btn btn-primary btn-block" data-action="save" disabled=${props.disabled || props.busy} onClick=${props.onSave}>
    ${props.busy ? t('saving') : props.text}
  </button>`;
}

export function Tabs<T extends string>(props: { value: T; tabs: Array<{ value: T; label: string }>; onChange: (value: T) => void }) {
  return html`<nav class="tabs" role="tablist">
    ${props.tabs.map(
      (tab) => html`<button type="button" role="tab" aria-selected=${tab.value === props.value} class=${tab.value === props.value ? 'tab active' : 'tab'}
        onClick=${() => props.onChange(tab.value)}>${tab.label}</button>`,
    )}
  </nav>`;
}
