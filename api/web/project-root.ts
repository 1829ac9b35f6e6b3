import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT_NAME = 'tunnelflow';

/**
 * The folder whose package.json names this project, found by walking up from `fromUrl`.
 * The same source runs as `api/web/*.ts` (tsx, vitest) and as `dist/api/web/*.js` (tsc
 * output), and tsc copies no HTML or CSS into `dist/`, so the page's files are found from
 * the project root rather than next to the running module.
 */
export function findProjectRoot(fromUrl: string): string {
  let dir = dirname(fileURLToPath(fromUrl));
  while (true) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readsAsProject(manifest)) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no package.json named "${PROJECT_NAME}" above ${fileURLToPath(fromUrl)}`);
    }
    dir = parent;
  }
}

function readsAsProject(manifest: string): boolean {
  try {
    const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    return (
      typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === PROJECT_NAME
    );
  } catch {
    // A package.json that does not parse is not ours; keep walking up.
    return false;
  }
}
