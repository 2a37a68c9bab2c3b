// Renders the app on the server (Node, no DOM) into dist/index.html, as an SSR framework
// does for each request or a static-site generator at build time; the browser then hydrates it.
import { readFileSync, writeFileSync } from 'node:fs';
import { render } from './dist-server/entry-server.js';

const page = readFileSync('dist/index.html', 'utf8');
if (!page.includes('<!--app-html-->')) throw new Error('dist/index.html has no <!--app-html--> placeholder');
writeFileSync('dist/index.html', page.replace('<!--app-html-->', await render()));
