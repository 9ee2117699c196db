'use strict';

// The trace types the cockpit draws, and nothing else (issue #13 §5: the full plotly.min.js is ~4.7 MB
// of script to parse and run on every page). Add a trace type here when a page or the wall starts to
// draw one, then `npm run build` (see build.mjs).
//   scatter       lines, bands, sparklines, markers (components/, pages/, the wall) — in core already
//   bar           rankings, spending, projects, the Gantt chart
//   scatterpolar  the ranking radar (components/ranking_views.py)
//   funnel        the wall's project life cycle (components/projects_charts.py, its wall variant)
//   choroplethmap the overview's and the wall's region maps (components/maps.py), with its `map`
//                 subplot and MapLibre GL
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/scatter'),
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/scatterpolar'),
    require('plotly.js/lib/funnel'),
    require('plotly.js/lib/choroplethmap')
]);

window.Plotly = Plotly;
module.exports = Plotly;
