/** The main flows (e2e/cross-browser.ts) in WebKitGTK, Safari's engine (WebKitWebDriver + selenium-webdriver, under Xvfb). */
import { crossBrowserSuite } from './cross-browser';

crossBrowserSuite('webkit');
