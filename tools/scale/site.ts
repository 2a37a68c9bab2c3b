/**
 * The served folder for a scale run: the built demo (dist/) with a site's global asset as
 * models/<name>/ and its data (catalog.json) as scale-data/. npm run bench:scale copies dist/
 * (a vite build run meanwhile by another checkout's tests empties it, as in npm run bench);
 * e2e/scale.test.ts links it.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DIST } from '../../e2e/harness';

export const SCALE_GLOBAL_MODEL = 'global-scale';
export const SCALE_DATA = 'scale-data';

export function scaleSiteRoot(root: string, site: { globalDir: string; dataDir: string; copy: boolean }): string {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const entry of readdirSync(DIST)) {
    if (entry === 'models') continue;
    if (site.copy) cpSync(join(DIST, entry), join(root, entry), { recursive: true });
    else symlinkSync(join(DIST, entry), join(root, entry));
  }
  mkdirSync(join(root, 'models'));
  for (const model of readdirSync(join(DIST, 'models'))) {
    if (site.copy) cpSync(join(DIST, 'models', model), join(root, 'models', model), { recursive: true });
    else symlinkSync(join(DIST, 'models', model), join(root, 'models', model));
  }
  symlinkSync(site.globalDir, join(root, 'models', SCALE_GLOBAL_MODEL));
  symlinkSync(site.dataDir, join(root, SCALE_DATA));
  return root;
}
