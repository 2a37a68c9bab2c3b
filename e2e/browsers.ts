/**
 * One small interface over three browser engines, for the flows that run in
 * every browser (e2e/cross-browser.ts):
 * - Chromium (Debian's, /usr/bin/chromium) through playwright-core, launched as in harness.ts;
 * - Firefox ESR (/usr/bin/firefox-esr) through puppeteer-core over WebDriver BiDi, headless;
 * - WebKitGTK, Safari's engine, through WebKitWebDriver and selenium-webdriver: its
 *   MiniBrowser needs a display (an Xvfb started by xvfb-run) and, as root in a
 *   container, its sandbox off (WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS=1).
 *
 * A context is a fresh browser profile (its own IndexedDB): a playwright context,
 * a BiDi user context, a new WebDriver session (MiniBrowser's automation sessions
 * are ephemeral). Pages of one context share storage (two tabs).
 *
 * Requests: Chromium and Firefox report every request of their pages and workers
 * through the driver. WebDriver classic has no such event, so a WebKit context
 * sends everything through a recording proxy (`--proxy`) that forwards requests
 * for the test's own servers and refuses, and records, anything else: what leaves
 * the origin is seen there, with its URL, method and body size.
 *
 * Page functions given to evaluate() and waitFor() are serialized into the page:
 * they must not call helpers from the test file, and should not declare named inner
 * functions (tsx's name helper is not defined in the page).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { BrowserContext as PwContext, Page as PwPage } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import type { Browser as PpBrowser, BrowserContext as PpContext, Page as PpPage } from 'puppeteer-core';
import { Builder, Key, type WebDriver } from 'selenium-webdriver';
import { BASE_FLAGS, CHROMIUM, WEBGPU_FLAGS } from './harness';

export type BrowserName = 'chromium' | 'firefox' | 'webkit';
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** A request as the driver (or the recording proxy) saw it. */
export interface SeenRequest {
  url: string;
  method: string;
  /** Bytes of request body (0: none). */
  bodyBytes: number;
}

export type KeyName = 'ArrowRight' | 'ArrowLeft' | 'Home' | 'End' | 'Enter' | 'Tab';

export interface TestPage {
  /** Runs `fn(arg)` in the page; resolves with its (awaited, JSON-like) result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  /** Polls `fn(arg)` in the page every 250 ms until it is truthy; fails after `timeoutMs` saying what it waited for. */
  waitFor<A = undefined>(what: string, fn: (arg: A) => unknown, arg?: A, timeoutMs?: number): Promise<void>;
  goto(url: string): Promise<void>;
  /** Reloads and resolves once the page's load event fired. */
  reload(): Promise<void>;
  /** A real click through the driver on the first element matching a CSS selector (light DOM), waiting for it to appear. */
  click(selector: string, timeoutMs?: number): Promise<void>;
  /** Focuses an input, clears it and types `text` key by key (input events fire as for a visitor). */
  fill(selector: string, text: string): Promise<void>;
  /** Presses a key on the focused element. */
  press(key: KeyName): Promise<void>;
  /** Uncaught errors and console warnings/errors the driver reported (empty where it reports none: read the page's probe). */
  readonly console: { type: string; text: string }[];
  close(): Promise<void>;
}

export interface TestContext {
  /** Opens a new tab (a window under WebDriver) at `url`. */
  open(url: string): Promise<TestPage>;
  /** Every request of the context's pages and workers. */
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

export interface TestBrowser {
  readonly name: BrowserName;
  readonly version: string;
  /** Who observes requests: the driver itself, or the recording proxy. */
  readonly requestSource: 'driver' | 'proxy';
  newContext(): Promise<TestContext>;
  /** Closes the contexts still open (a failed test's): a WebKitWebDriver serves one session at a time. */
  closeContexts(): Promise<void>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** Chromium only: the SwiftShader WebGPU flags (default true). Firefox ESR and WebKitGTK have no WebGPU here. */
  webgpu?: boolean;
  /** Origins the WebKit proxy forwards (the test's servers); everything else is refused and recorded. */
  origins?: string[];
}

const POLL_MS = 250;

/** The waitFor every driver shares: evaluate until truthy. */
async function poll(page: Pick<TestPage, 'evaluate'>, what: string, fn: (arg: never) => unknown, arg: unknown, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await page.evaluate(fn as (a: unknown) => unknown, arg)) return;
    } catch (e) {
      last = e; // a navigation in progress destroys the execution context: try again
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

type Driver = Omit<TestBrowser, 'closeContexts'>;

export async function launchBrowser(name: BrowserName, options: LaunchOptions = {}): Promise<TestBrowser> {
  const driver: Driver =
    name === 'chromium'
      ? await launchChromium(options.webgpu ?? true)
      : name === 'firefox'
        ? await launchFirefox()
        : await launchWebKit(options.origins ?? []);
  const open = new Set<TestContext>();
  const closeContexts = async (): Promise<void> => void (await Promise.all([...open].map((c) => c.close().catch(() => undefined))));
  return {
    name: driver.name,
    get version() {
      return driver.version;
    },
    requestSource: driver.requestSource,
    async newContext() {
      const context = await driver.newContext();
      const tracked: TestContext = {
        requests: context.requests,
        open: (url) => context.open(url),
        close: async () => {
          open.delete(tracked);
          await context.close();
        },
      };
      open.add(tracked);
      return tracked;
    },
    closeContexts,
    async close() {
      await closeContexts();
      await driver.close();
    },
  };
}

// ------------------------------------------------------------------ Chromium

async function launchChromium(webgpu: boolean): Promise<Driver> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])],
  });
  return {
    name: 'chromium',
    version: `Chromium ${browser.version()}`,
    requestSource: 'driver',
    async newContext() {
      const context: PwContext = await browser.newContext();
      const requests: SeenRequest[] = [];
      context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), bodyBytes: r.postDataBuffer()?.length ?? 0 }));
      return {
        requests,
        async open(url) {
          const page = await context.newPage();
          const console: TestPage['console'] = [];
          page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && console.push({ type: m.type(), text: m.text() }));
          page.on('pageerror', (e) => console.push({ type: 'pageerror', text: e.message }));
          await page.goto(url);
          return playwrightPage(page, console);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

function playwrightPage(page: PwPage, console: TestPage['console']): TestPage {
  const self: TestPage = {
    console,
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    waitFor: (what, fn, arg, timeoutMs = 60_000) => poll(self, what, fn as never, arg, timeoutMs),
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    click: (selector, timeoutMs = 60_000) => page.locator(selector).first().click({ timeout: timeoutMs }),
    fill: async (selector, text) => {
      await page.locator(selector).fill('');
      await page.locator(selector).pressSequentially(text);
    },
    press: (key) => page.keyboard.press(key),
    close: () => page.close(),
  };
  return self;
}

// ------------------------------------------------------------------ Firefox

async function launchFirefox(): Promise<Driver> {
  const browser: PpBrowser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  const version = await browser.version();
  return {
    name: 'firefox',
    version: version.replace(/^firefox\//i, 'Firefox '),
    requestSource: 'driver',
    async newContext() {
      const context: PpContext = await browser.createBrowserContext();
      const requests: SeenRequest[] = [];
      return {
        requests,
        async open(url) {
          const page = await context.newPage();
          const console: TestPage['console'] = [];
          page.on('request', (r) => {
            // BiDi has no synchronous postData(): a body is flagged at once, its size read afterwards
            const entry: SeenRequest = { url: r.url(), method: r.method(), bodyBytes: r.hasPostData() ? 1 : 0 };
            requests.push(entry);
            if (entry.bodyBytes)
              void r.fetchPostData().then(
                (d) => (entry.bodyBytes = Math.max(1, d?.length ?? 0)),
                () => undefined,
              );
          });
          page.on('console', (m) => (m.type() === 'error' || m.type() === 'warn') && console.push({ type: m.type(), text: m.text() }));
          page.on('pageerror', (e) => console.push({ type: 'pageerror', text: String((e as Error).message ?? e) }));
          await page.goto(url);
          return puppeteerPage(page, console);
        },
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

function puppeteerPage(page: PpPage, console: TestPage['console']): TestPage {
  const self: TestPage = {
    console,
    evaluate: (fn, arg) => page.evaluate(fn as never, arg as never) as never,
    waitFor: (what, fn, arg, timeoutMs = 60_000) => poll(self, what, fn as never, arg, timeoutMs),
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    click: async (selector, timeoutMs = 60_000) => {
      await page.waitForSelector(selector, { timeout: timeoutMs, visible: true });
      await page.click(selector);
    },
    fill: async (selector, text) => {
      await page.$eval(selector, (el) => ((el as HTMLInputElement).value = ''));
      await page.focus(selector);
      await page.keyboard.type(text);
    },
    press: (key) => page.keyboard.press(key),
    close: () => page.close(),
  };
  return self;
}

// ------------------------------------------------------------------ WebKit

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** An HTTP proxy that forwards requests for `origins` and refuses everything else; it records every request. */
export async function recordingProxy(origins: string[]): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const allowed = new Set(origins.map((o) => new URL(o).origin));
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    const entry: SeenRequest = { url, method: req.method ?? 'GET', bodyBytes: 0 };
    seen.push(entry);
    req.on('data', (c: Buffer) => (entry.bodyBytes += c.length));
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!allowed.has(target.origin)) {
      req.resume();
      res.writeHead(502, { 'Content-Type': 'text/plain' }).end('refused by the test proxy');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = request(
      { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    seen.push({ url: `https://${req.url ?? ''}`, method: 'CONNECT', bodyBytes: 0 });
    socket.end('HTTP/1.1 502 Refused\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function launchWebKit(origins: string[]): Promise<Driver> {
  const port = await freePort();
  const driverProcess: ChildProcess = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', 'WebKitWebDriver', `--port=${port}`], {
    env: { ...process.env, WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: '1' },
    stdio: 'ignore',
    detached: true, // its own process group: xvfb-run, Xvfb, the driver and MiniBrowser end together
  });
  const stop = (): void => {
    try {
      if (driverProcess.pid) process.kill(-driverProcess.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', stop);
  const server = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${server}/status`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (i > 300 || driverProcess.exitCode !== null) {
      stop();
      throw new Error(`WebKitWebDriver did not start on port ${port} (is webkit2gtk-driver and xvfb installed? .ci/run installs them)`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let version = 'WebKitGTK';
  return {
    name: 'webkit',
    get version() {
      return version;
    },
    requestSource: 'proxy',
    async newContext() {
      const proxy = await recordingProxy(origins);
      const driver: WebDriver = await new Builder()
        .usingServer(server)
        .withCapabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation', `--proxy=${proxy.url}`] },
        })
        .build();
      await driver.manage().setTimeouts({ script: 600_000, pageLoad: 300_000 });
      const caps = await driver.getCapabilities();
      version = `WebKitGTK ${String(caps.get('browserVersion') ?? '')}`.trim();
      // WebDriver drives one window at a time: every command switches to its page's window first, one after another
      let queue: Promise<unknown> = Promise.resolve();
      let current = await driver.getWindowHandle();
      let unused: string | null = current; // the session's first window, not yet handed to a page
      const serial = <T>(handle: string | null, job: () => Promise<T>): Promise<T> => {
        const next = queue.then(async () => {
          if (handle && handle !== current) {
            await driver.switchTo().window(handle);
            current = handle;
          }
          return job();
        });
        queue = next.catch(() => undefined);
        return next;
      };
      return {
        requests: proxy.seen,
        async open(url) {
          const handle = await serial(null, async () => {
            if (unused) {
              const h = unused;
              unused = null;
              await driver.switchTo().window(h);
              current = h;
              return h;
            }
            await driver.switchTo().newWindow('window');
            current = await driver.getWindowHandle();
            return current;
          });
          const page = webDriverPage(driver, handle, serial);
          await page.goto(url);
          return page;
        },
        async close() {
          await queue;
          await driver.quit().catch(() => undefined);
          await proxy.close();
        },
      };
    },
    async close() {
      stop();
      process.removeListener('exit', stop);
    },
  };
}

const WD_KEYS: Record<KeyName, string> = {
  ArrowRight: Key.ARROW_RIGHT,
  ArrowLeft: Key.ARROW_LEFT,
  Home: Key.HOME,
  End: Key.END,
  Enter: Key.ENTER,
  Tab: Key.TAB,
};

function webDriverPage(driver: WebDriver, handle: string, serial: <T>(handle: string | null, job: () => Promise<T>) => Promise<T>): TestPage {
  const self: TestPage = {
    console: [],
    // W3C Execute Script awaits a returned promise
    evaluate: (fn, arg) => serial(handle, () => driver.executeScript(`return (${fn.toString()})(arguments[0]);`, arg ?? null)) as never,
    waitFor: (what, fn, arg, timeoutMs = 60_000) => poll(self, what, fn as never, arg, timeoutMs),
    goto: (url) => serial(handle, () => driver.get(url)),
    reload: () => serial(handle, () => driver.navigate().refresh()),
    click: async (selector, timeoutMs = 60_000) => {
      await poll(self, `${selector} to appear`, (s: string) => document.querySelector(s) !== null, selector, timeoutMs);
      await serial(handle, async () => driver.findElement({ css: selector }).click());
    },
    fill: (selector, text) =>
      serial(handle, async () => {
        const input = driver.findElement({ css: selector });
        await input.clear();
        await input.sendKeys(text);
      }),
    press: (key) => serial(handle, () => driver.actions().sendKeys(WD_KEYS[key]).perform()),
    close: () => serial(handle, () => driver.close()),
  };
  return self;
}
