import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TEST_TOKEN } from '../support/bot-info.js';

const load = (env: Record<string, string>) => loadConfig({ BOT_TOKEN: TEST_TOKEN, ...env });

describe('the web server’s settings (issue 15)', () => {
  it('listens on loopback in polling mode and on every interface in webhook mode, port 8080', () => {
    expect(load({}).web).toEqual({ host: '127.0.0.1', port: 8080, appUrl: undefined, initDataMaxAgeSeconds: 86_400 });
    const hook = load({ BOT_MODE: 'webhook', WEBHOOK_URL: 'https://x.example.org/hook', WEBHOOK_SECRET: 'secret-0123456789abc' });
    expect(hook.web.host).toBe('0.0.0.0');
  });

  it('WEB_HOST/WEB_PORT win; the older WEBHOOK_HOST/WEBHOOK_PORT are still read', () => {
    expect(load({ WEBHOOK_HOST: '10.0.0.1', WEBHOOK_PORT: '9000' }).web).toMatchObject({ host: '10.0.0.1', port: 9000 });
    expect(load({ WEB_HOST: '::1', WEB_PORT: '9100', WEBHOOK_PORT: '9000' }).web).toMatchObject({ host: '::1', port: 9100 });
  });

  it('WEBAPP_URL must be https; the init data age is bounded', () => {
    expect(load({ WEBAPP_URL: 'https://j.example.org/app/', WEBAPP_INIT_DATA_MAX_AGE: '3600' }).web).toMatchObject({
      appUrl: 'https://j.example.org/app/',
      initDataMaxAgeSeconds: 3600,
    });
    expect(() => load({ WEBAPP_URL: 'http://j.example.org/app/' })).toThrow(ConfigError);
    expect(() => load({ WEBAPP_INIT_DATA_MAX_AGE: '5' })).toThrow(ConfigError);
  });
});
