import { createRequire } from 'node:module';

// package.json sits two levels above both cli/*.ts and dist/cli/*.js.
const require = createRequire(import.meta.url);
const pkg = (() => {
  for (const p of ['../package.json', '../../package.json']) {
    try {
      const v = require(p) as { name?: string; version?: string };
      if (v.name === 'tunnelflow') return v;
    } catch {
      // try the next location
    }
  }
  return { version: '0.0.0' };
})();

export const VERSION: string = pkg.version ?? '0.0.0';
