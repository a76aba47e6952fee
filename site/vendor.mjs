// Copies the browser builds of the pinned libraries (site/package-lock.json) into site/vendor/,
// which the site serves as plain ES modules: no bundler. Run after `npm ci`:
//
//   npm --prefix site ci && node site/vendor.mjs
//
// vendor/ is rebuilt from scratch each time, so nothing stale is ever deployed. The import map
// in index.html resolves oidc-client-ts's bare `jwt-decode` import to vendor/jwt-decode.js.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, 'node_modules');
const vendor = path.join(here, 'vendor');

// [package, file inside the package, name in vendor/]. Source maps go along so devtools
// show the libraries' sources; each package's licence goes along because we redistribute it.
const FILES = [
  ['oidc-client-ts', 'dist/esm/oidc-client-ts.js', 'oidc-client-ts.js'],
  ['oidc-client-ts', 'dist/esm/oidc-client-ts.js.map', 'oidc-client-ts.js.map'],
  ['oidc-client-ts', 'LICENSE', 'oidc-client-ts.LICENSE.txt'],
  ['jwt-decode', 'build/esm/index.js', 'jwt-decode.js'],
  ['jwt-decode', 'LICENSE', 'jwt-decode.LICENSE.txt'],
  ['aws4fetch', 'dist/aws4fetch.esm.js', 'aws4fetch.js'],
  ['aws4fetch', 'LICENSE', 'aws4fetch.LICENSE.txt'],
];

function fail(message) {
  console.error(`vendor: ${message}`);
  process.exit(1);
}

// The installed versions must be the locked ones (a stale node_modules would ship old code).
const lock = JSON.parse(readFileSync(path.join(here, 'package-lock.json'), 'utf8'));
for (const name of new Set(FILES.map(([pkg]) => pkg))) {
  const manifest = path.join(modules, name, 'package.json');
  if (!existsSync(manifest)) fail(`${name} is not installed: run \`npm --prefix site ci\` first`);
  const installed = JSON.parse(readFileSync(manifest, 'utf8')).version;
  const locked = lock.packages[`node_modules/${name}`]?.version;
  if (installed !== locked) {
    fail(`${name} ${installed} is installed but ${locked} is locked: run \`npm --prefix site ci\``);
  }
}

rmSync(vendor, { recursive: true, force: true });
mkdirSync(vendor);
for (const [pkg, file, target] of FILES) {
  const source = path.join(modules, pkg, file);
  if (!existsSync(source)) fail(`${pkg} has no ${file} (did its layout change?)`);
  cpSync(source, path.join(vendor, target));
}
console.log(`vendor: ${FILES.length} files in ${path.relative(process.cwd(), vendor) || '.'}`);
