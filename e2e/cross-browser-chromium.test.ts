/** The main flows (e2e/cross-browser.ts) in Chromium (playwright-core). */
import { crossBrowserSuite } from './cross-browser';

crossBrowserSuite('chromium');
