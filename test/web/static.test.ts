/**
 * /app/ serves the built front end (issue 15): index.html never cached (a new build shows at
 * once), hashed assets cached for good, nothing outside the build directory; without a build, a
 * 503 that says how to make one.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebApp } from '../../src/web/server.js';
import { createTestApp, type TestApp } from '../support/harness.js';

describe('the Mini App’s files', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dir = await mkdtemp(join(tmpdir(), 'webapp-'));
    await mkdir(join(dir, 'built', 'assets'), { recursive: true });
    await writeFile(join(dir, 'built', 'index.html'), '<!doctype html><title>Журнал</title>');
    await writeFile(join(dir, 'built', 'assets', 'main-AB12CD34.js'), 'console.log(1)');
    await writeFile(join(dir, 'built', 'robots.txt'), 'no');
    await writeFile(join(dir, 'secret.txt'), 'outside');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('index.html for /app/ and app routes, not cached; hashed assets immutable', async () => {
    const app = createWebApp(t.app.deps, { webappDir: join(dir, 'built') });
    const index = await app.request('/app/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('Журнал');
    expect((await app.request('/app/grid')).status).toBe(200);
    expect((await app.request('/app')).headers.get('location')).toBe('/app/');
    const js = await app.request('/app/assets/main-AB12CD34.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await app.request('/app/robots.txt')).headers.get('cache-control')).toBe('public, max-age=300');
    expect((await app.request('/app/missing.js')).status).toBe(404);
    expect((await app.request('/app/..%2Fsecret.txt')).status).toBe(404);
    expect((await app.request('/app/%2e%2e/secret.txt')).status).toBe(404);
  });

  it('without a build: 503 "Mini App not built: run npm run build"', async () => {
    const app = createWebApp(t.app.deps, { webappDir: join(dir, 'nothing-here') });
    const res = await app.request('/app/');
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('Mini App not built: run npm run build');
  });
});
