import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';

/** Holds a port as `npm start` (Vite's dev server) and `vite preview` would. */
function occupy(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null)); // already taken by something else: just as good for this test
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const held: (Server | null)[] = [];
afterAll(() => held.forEach((s) => s?.close()));

describe('test servers while the app is running', () => {
  it('Playwright serves the app and the GPU harness on free ports, not on those of a running `npm start`', async () => {
    held.push(await occupy(5173), await occupy(4173));
    delete process.env.E2E_DEV_PORT;
    delete process.env.E2E_PREVIEW_PORT;
    const { default: config } = await import('../../../playwright.config.ts');
    const urls = (config.projects ?? []).map((p) => p.use?.baseURL).filter((u): u is string => typeof u === 'string');
    expect(urls.length).toBeGreaterThan(0);
    const ports = [...new Set(urls.map((u) => Number(new URL(u).port)))];
    expect(ports).toHaveLength(2);
    for (const port of ports) {
      expect([5173, 4173]).not.toContain(port);
      expect(await canListen(port)).toBe(true);
    }
    const servers = Array.isArray(config.webServer) ? config.webServer : [];
    expect(servers.map((w) => w.command).join(' ')).toContain(`--port ${ports[0]}`);
  });
});
