/** The `webapp` section of locales/{ru,en}.json, put in by scripts/build-webapp.ts (esbuild `define`). */
declare const __WEBAPP_LOCALES__: Record<'ru' | 'en', Record<string, unknown>>;
