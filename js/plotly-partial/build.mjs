// Builds ../../assets/vendor/plotly-cockpit.min.js: Plotly.js with only the cockpit's trace types (index.js).
//   cd js/plotly-partial && npm ci && npm run build
// plotly.js is pinned (package-lock.json) to the version of the plotly.min.js plotly.py ships to Dash's
// dcc.Graph (4.1.1 with plotly 7.1.0): change both together. Options as plotly.js's own esbuild-config.js.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const version = require('plotly.js/package.json').version;
const outfile = resolve(here, '../../assets/vendor/plotly-cockpit.min.js');

// plotly.js's registry requires MapLibre's stylesheet; inject it as a <style> element when the bundle runs,
// as plotly.js's build does (esbuild-plugin-inline-css)
const inlineCss = {
  name: 'inline-css',
  setup(b) {
    b.onLoad({ filter: /\.css$/ }, (args) => {
      const css = readFileSync(args.path, 'utf8');
      return {
        loader: 'js',
        contents: `(function(){if(typeof document==='undefined')return;var s=document.createElement('style');` +
          `s.textContent=${JSON.stringify(css)};document.head.appendChild(s);})();`,
      };
    });
  },
};

await build({
  entryPoints: [resolve(here, 'index.js')],
  outfile,
  bundle: true,
  format: 'iife',
  minify: true,
  target: 'es2016',
  legalComments: 'eof',
  plugins: [inlineCss],
  define: { global: 'window', 'define.amd': 'false', 'process.env.NODE_DEBUG': 'false' },
  banner: {
    js: `/**\n* plotly.js v${version} (partial bundle: scatter, bar, scatterpolar, funnel, choroplethmap)\n` +
      `* Copyright 2012-2026, Plotly, Inc.\n* All rights reserved.\n* Licensed under the MIT license\n` +
      `* Built by js/plotly-partial (npm run build); licences of bundled packages at the end of this file.\n*/`,
  },
  logLevel: 'info',
});
