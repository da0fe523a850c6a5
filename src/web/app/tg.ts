/**
 * The thin, typed face of Telegram for the Mini App: the init data, the theme, the main button.
 * Inside Telegram the client talks to us through @telegram-apps/bridge's postEvent/on (it works with or
 * without telegram-web-app.js); window.Telegram.WebApp is used when that script is present. In a plain
 * browser (tests, `npm run cli -- webapp-link`) the init data comes from the URL hash `#tgWebAppData=...`
 * and the main button is replaced by a visible button on the page (see ui.ts SaveBar).
 */
import { on, postEvent } from '@telegram-apps/bridge';

interface TelegramWebAppLike {
  initData?: string;
  ready?: () => void;
  expand?: () => void;
  MainButton?: {
    setText(text: string): void;
    show(): void;
    hide(): void;
    enable(): void;
    disable(): void;
    onClick(cb: () => void): void;
    offClick(cb: () => void): void;
    showProgress?(leaveActive?: boolean): void;
    hideProgress?(): void;
  };
  HapticFeedback?: { notificationOccurred(kind: 'error' | 'success' | 'warning'): void };
  BackButton?: { show(): void; hide(): void; onClick(cb: () => void): void; offClick(cb: () => void): void };
}

const STORAGE_KEY = 'sjb.launch';

function webApp(): TelegramWebAppLike | undefined {
  return (window as unknown as { Telegram?: { WebApp?: TelegramWebAppLike } }).Telegram?.WebApp;
}

function hashParams(): URLSearchParams {
  return new URLSearchParams(window.location.hash.replace(/^#/, ''));
}

/** The launch parameters Telegram put in the hash; kept in sessionStorage so a reload still has them. */
function launchParams(): URLSearchParams {
  const fromHash = hashParams();
  if (fromHash.has('tgWebAppData')) {
    try {
      sessionStorage.setItem(STORAGE_KEY, fromHash.toString());
    } catch {
      // storage may be disabled: the hash is enough for this page's life
    }
    return fromHash;
  }
  try {
    return new URLSearchParams(sessionStorage.getItem(STORAGE_KEY) ?? '');
  } catch {
    return new URLSearchParams();
  }
}

/** The raw init data string exactly as Telegram signed it ('' when there is none). */
export function initData(): string {
  const fromScript = webApp()?.initData;
  if (fromScript) return fromScript;
  return launchParams().get('tgWebAppData') ?? '';
}

/** The language Telegram reports for the user, before the server tells us the person's locale. */
export function userLanguage(): string | undefined {
  try {
    const user = new URLSearchParams(initData()).get('user');
    if (!user) return undefined;
    const parsed = JSON.parse(user) as { language_code?: unknown };
    return typeof parsed.language_code === 'string' ? parsed.language_code : undefined;
  } catch {
    return undefined;
  }
}

/** True inside a Telegram client (a bridge to talk to), false in a plain browser. */
export function insideTelegram(): boolean {
  if (webApp()?.MainButton) return true;
  const w = window as unknown as { TelegramWebviewProxy?: unknown; external?: { notify?: unknown } };
  if (w.TelegramWebviewProxy) return true;
  if (typeof w.external?.notify === 'function') return true;
  // Telegram Web runs the app in an iframe and passes the platform in the launch parameters.
  return window.parent !== window && launchParams().has('tgWebAppPlatform');
}

function safePost(fn: () => void) {
  try {
    fn();
  } catch {
    // an old client without the method: the page's own button still works
  }
}

/** Telegram's theme as CSS variables (--tg-theme-*); the stylesheet has fallbacks for a plain browser. */
export function applyTheme() {
  const raw = launchParams().get('tgWebAppThemeParams');
  if (raw) setThemeVars(raw);
  if (insideTelegram() && !webApp()) {
    safePost(() => on('theme_changed', (payload) => setThemeVars(JSON.stringify(payload.theme_params))));
  }
}

function setThemeVars(json: string) {
  try {
    const theme = JSON.parse(json) as Record<string, unknown>;
    for (const [key, value] of Object.entries(theme)) {
      if (typeof value !== 'string' || !/^#[0-9a-f]{3,8}$/i.test(value)) continue;
      document.documentElement.style.setProperty(`--tg-theme-${key.replace(/_/g, '-')}`, value);
    }
  } catch {
    // a malformed theme: keep the fallbacks
  }
}

/** Tells Telegram the app has drawn and asks for the full height (a grid needs it). */
export function ready() {
  if (!insideTelegram()) return;
  const app = webApp();
  if (app?.ready) {
    app.ready();
    app.expand?.();
    return;
  }
  safePost(() => postEvent('web_app_ready'));
  safePost(() => postEvent('web_app_expand'));
}

let mainButtonHandler: (() => void) | undefined;
let bridgeListening = false;

/** Shows Telegram's main button with `text` calling `onPress`; `undefined` hides it. */
export function setMainButton(button: { text: string; onPress: () => void; busy?: boolean } | undefined) {
  if (!insideTelegram()) return;
  const app = webApp();
  if (app?.MainButton) {
    const mb = app.MainButton;
    if (mainButtonHandler) mb.offClick(mainButtonHandler);
    mainButtonHandler = button?.onPress;
    if (!button) return mb.hide();
    mb.setText(button.text);
    mb.onClick(button.onPress);
    if (button.busy) mb.showProgress?.(false);
    else mb.hideProgress?.();
    mb.show();
    return;
  }
  mainButtonHandler = button?.onPress;
  if (!bridgeListening) {
    bridgeListening = true;
    safePost(() => on('main_button_pressed', () => mainButtonHandler?.()));
  }
  safePost(() =>
    postEvent('web_app_setup_main_button', {
      is_visible: Boolean(button),
      is_active: Boolean(button) && !button?.busy,
      is_progress_visible: Boolean(button?.busy),
      text: button?.text ?? '',
    }),
  );
}

let backHandler: (() => void) | undefined;
let backListening = false;

/** Telegram's back button (top left; Android's back key) calling `onPress`; `undefined` hides it. */
export function setBackButton(onPress: (() => void) | undefined) {
  if (!insideTelegram()) return;
  const back = webApp()?.BackButton;
  if (back) {
    if (backHandler) back.offClick(backHandler);
    backHandler = onPress;
    if (!onPress) return back.hide();
    back.onClick(onPress);
    return back.show();
  }
  backHandler = onPress;
  if (!backListening) {
    backListening = true;
    safePost(() => on('back_button_pressed', () => backHandler?.()));
  }
  safePost(() => postEvent('web_app_setup_back_button', { is_visible: Boolean(onPress) }));
}

/** A short vibration on a phone: success after a save, error when the server refused. */
export function haptic(kind: 'error' | 'success') {
  const app = webApp();
  if (app?.HapticFeedback) return app.HapticFeedback.notificationOccurred(kind);
  if (insideTelegram()) safePost(() => postEvent('web_app_trigger_haptic_feedback', { type: 'notification', notification_type: kind }));
}
