import { createSSRApp } from 'vue';
import { renderToString } from 'vue/server-renderer';
import App from './App.vue';

/** The page's HTML, rendered in Node: the app imports on-device-recs, which starts nothing here. */
export function render(): Promise<string> {
  return renderToString(createSSRApp(App));
}
