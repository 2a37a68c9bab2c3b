/** The main flows (e2e/cross-browser.ts) in Firefox ESR (puppeteer-core over WebDriver BiDi). */
import { crossBrowserSuite } from './cross-browser';

crossBrowserSuite('firefox');
