/**
 * Model folders as the engine reads them: files through a reader (fetch in the
 * browser, the file system in Node), manifest.json parsed, and every file
 * checked against the manifest's SHA-256 and size before anyone uses it.
 */
import { RecommenderError } from '../errors';
import { parseManifest, verifyModelFile, type ModelManifest } from '../formats/manifest';

/** Reads a file of a model folder: `fetch` in the browser, the file system in Node. */
export type ModelFileReader = (file: string) => Promise<Uint8Array>;

export function fetchReader(baseUrl: string, fetchImpl: typeof fetch = fetch): ModelFileReader {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return async (file) => {
    const url = new URL(file, new URL(base, globalThis.location?.href ?? 'http://localhost/')).href;
    let res: Response;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      throw new RecommenderError(
        'model_load_failed',
        `Could not fetch ${url} (${(e as Error).message}).`,
        'Check that the models folder is served from your site (see modelsUrl).',
      );
    }
    if (!res.ok)
      throw new RecommenderError(
        'model_load_failed',
        `Fetching ${url} answered HTTP ${res.status}.`,
        'Check that the models folder is served from your site and modelsUrl points at it.',
      );
    return new Uint8Array(await res.arrayBuffer());
  };
}

export interface LoadedModelFolder {
  manifest: ModelManifest;
  read(file: string): Promise<Uint8Array>;
}

/** Reads and parses manifest.json; `read` returns files only after their SHA-256 matched. */
export async function openModelFolder(reader: ModelFileReader, where: string): Promise<LoadedModelFolder> {
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(new TextDecoder().decode(await reader('manifest.json')));
  } catch (e) {
    if (e instanceof RecommenderError) throw e;
    throw new RecommenderError(
      'model_load_failed',
      `${where}/manifest.json is not valid JSON.`,
      'Rebuild the model folder with npm run build:models.',
    );
  }
  const manifest = parseManifest(manifestJson, `${where}/manifest.json`);
  return {
    manifest,
    async read(file) {
      const bytes = await reader(file);
      await verifyModelFile(manifest, file, bytes);
      return bytes;
    },
  };
}
