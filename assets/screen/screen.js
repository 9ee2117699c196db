/* 数据大屏 client. Keeps the rotation state here, polls /api/screen, and redraws in place:
   text by textContent on elements made once, charts by Plotly.react on the same divs, so a
   refresh neither flashes nor grows the DOM. When the server is away the screen keeps its
   last data, shows 重新连接中… and retries with backoff until it answers again.
   Every word, number and colour comes from the server: texts from the display model
   (metrics/display.py via metrics/screen_view.py), colours from doc.palette (palette/tokens.toml);
   this file only places them. */
(function () {
  'use strict';

  var CFG = JSON.parse(document.getElementById('screen-config').textContent);
  var BASE_W = 1920, BASE_H = 1080, TICKER_ROWS = 4, TICKER_STEP_MS = 4000, RANK_SLOTS = 11;
  var FETCH_TIMEOUT_MS = 15000, RETRY_MIN_MS = 1000, RETRY_MAX_MS = 10000;
  var PLOT_CONFIG = { displayModeBar: false, staticPlot: true, responsive: false, locale: 'zh-CN' };
  // a MapLibre style with no tiles, glyphs or sprites: nothing to fetch, the panel shows through
  var MAP_STYLE = { version: 8, sources: {}, layers: [
    { id: 'background', type: 'background', paint: { 'background-color': 'rgba(0,0,0,0)' } }] };

  var $ = function (id) { return document.getElementById(id); };
  var root = $('screen');
  var state = {
    index: 0, paused: false, offline: false, failures: 0, fetches: 0, renders: 0, errors: 0,
    shownKey: null, tickerPos: 0, width: BASE_W, scale: 1, lastOk: null, turns: []
  };
  var cache = new Map();  // playlist index -> {doc, at}: at most one entry per playlist item
  var timers = { dwell: null, retry: null };
  var el = {
    title: $('scr-title'), set: $('scr-set'), asof: $('scr-asof'), period: $('scr-period'), clock: $('scr-clock'),
    paused: $('scr-paused'), offline: $('scr-offline'), late: $('scr-late'), ribbon: $('scr-ribbon'),
    rank: $('scr-rank'),
    ticker: $('scr-ticker'), spendFigs: $('scr-spend-figs'), error: $('scr-error'),
    trend: $('scr-trend-chart'), funnel: $('scr-funnel-chart'), map: $('scr-map-chart'),
    spending: $('scr-spending-chart')
  };
  var current = null;  // the document on screen
  // Plotly.js and its locale are deferred scripts after this one (index.html): the first /api/screen
  // answer is asked for while they download and parse, and drawn once they have run
  // (DOMContentLoaded follows every deferred script; load, should this file run later than that)
  var plotlyReady = window.Plotly ? Promise.resolve() : new Promise(function (resolve) {
    document.addEventListener('DOMContentLoaded', function () { resolve(); });
    window.addEventListener('load', function () { resolve(); });
  });

  // ------------------------------------------------------------------ scaling
  function fit() {
    var vw = window.innerWidth, vh = window.innerHeight;
    var w = CFG.layout === 'wide' ? Math.max(BASE_W, Math.floor(BASE_H * vw / vh)) : BASE_W;
    var s = Math.min(vw / w, vh / BASE_H);
    var left = (vw - w * s) / 2, top = (vh - BASE_H * s) / 2;
    root.style.width = w + 'px';
    root.style.transform = 'translate(' + left + 'px,' + top + 'px) scale(' + s + ')';
    root.dataset.scale = String(s);
    var changed = w !== state.width;
    state.width = w;
    state.scale = s;
    if (changed && current) { draw(current, true); }
  }

  // ------------------------------------------------------------------ helpers
  function text(node, value) { if (node.textContent !== value) { node.textContent = value; } }
  function cls(node, value) { if (node.className !== value) { node.className = value; } }
  function size(node) { return { width: Math.max(node.clientWidth, 50), height: Math.max(node.clientHeight, 50) }; }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function monthDate(ym) { return ym + '-01'; }

  function baseLayout(node, P, extra) {
    var s = size(node);
    var layout = {
      width: s.width, height: s.height, paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)',
      font: { family: P.font, size: 24, color: P.ink }, margin: { l: 80, r: 16, t: 8, b: 40 }, showlegend: false,
      xaxis: { gridcolor: P.grid, linecolor: P.axis, tickfont: { size: 24 }, zeroline: false },
      yaxis: { gridcolor: P.grid, linecolor: P.axis, tickfont: { size: 24 }, zeroline: false }
    };
    Object.keys(extra || {}).forEach(function (k) {
      layout[k] = (layout[k] && typeof layout[k] === 'object' && !Array.isArray(layout[k]))
        ? Object.assign({}, layout[k], extra[k]) : extra[k];
    });
    return layout;
  }

  function react(node, data, layout) {
    // stable trace ids, so a redraw updates the traces (and the map's layers) instead of replacing them
    data.forEach(function (trace, i) { trace.uid = node.id + '-' + i; });
    try { Plotly.react(node, data, layout, PLOT_CONFIG); } catch (e) { state.errors += 1; console.warn(e); }
  }

  // ------------------------------------------------------------------ panels
  function drawCards(cards) {
    if (el.ribbon.children.length !== cards.length) {
      el.ribbon.textContent = '';
      cards.forEach(function () {
        var card = document.createElement('div');
        card.innerHTML = '<div class="scr-card-name"></div><div class="scr-card-value"></div>' +
          '<div class="scr-card-target"></div><div class="scr-card-change"></div><div class="scr-rag"></div>' +
          '<div class="scr-card-late" hidden></div>';
        el.ribbon.appendChild(card);
      });
    }
    cards.forEach(function (c, i) {
      var card = el.ribbon.children[i];
      cls(card, 'scr-card ' + c.rag_token);
      card.dataset.kpi = c.kpi;
      text(card.children[0], c.name);
      text(card.children[1], c.value_text);
      text(card.children[2], c.target_text);
      var change = card.children[3], rag = card.children[4];
      // 同比 (or 环比) is said once, in the header
      text(change, c.change_text);
      cls(change, 'scr-card-change ' + c.change_tone);
      text(rag, c.rag_label);
      cls(rag, 'scr-rag ' + c.rag_token);
      // 数据未按期更新: the words come from the server (metrics/freshness.py)
      text(card.children[5], c.late_text || '');
      card.children[5].hidden = !c.late;
      card.classList.toggle('late', !!c.late);
    });
    // a late mark takes a line of its own: the ribbon grows only while some card needs it
    root.classList.toggle('has-late', cards.some(function (c) { return c.late; }));
  }

  function drawFreshness(doc) {
    var f = doc.freshness || {}, focus = f.focus;
    text(el.asof, focus ? focus.text : doc.titles.as_of);
    cls(el.asof, 'scr-asof' + (focus && focus.late ? ' late' : ''));
    text(el.late, f.late_text || '');
    el.late.hidden = !f.late_text;
  }

  function drawRanking(doc) {
    var rows = doc.ranking.rows;
    if (!el.rank.children.length) {
      for (var i = 0; i < RANK_SLOTS; i += 1) {
        var li = document.createElement('li');
        li.innerHTML = '<span class="scr-rank-no"></span><span class="scr-rank-name"></span>' +
          '<span class="scr-rank-bar"><i></i></span><span class="scr-rank-value"></span>';
        el.rank.appendChild(li);
      }
    }
    // more rows than slots: the top and the bottom of the ranking, which is what gets asked about
    var shown = rows.length <= RANK_SLOTS ? rows
      : rows.slice(0, Math.ceil(RANK_SLOTS / 2)).concat(rows.slice(rows.length - Math.floor(RANK_SLOTS / 2)));
    var values = rows.map(function (r) { return r.value; }).filter(function (v) { return v !== null; });
    var max = Math.max.apply(null, values.concat([0])), min = Math.min.apply(null, values.concat([0]));
    var span = max - Math.min(min, 0) || 1;
    text($('scr-ranking-title'), doc.titles.ranking);
    Array.prototype.forEach.call(el.rank.children, function (li, i) {
      var r = shown[i];
      li.hidden = !r;
      if (!r) { return; }
      cls(li, r.rag || '');
      text(li.children[0], r.rank_text);
      text(li.children[1], r.name);
      li.children[2].firstChild.style.width = (r.value === null ? 0 : Math.max(2, 100 * (r.value - Math.min(min, 0)) / span)) + '%';
      text(li.children[3], r.value_text);
    });
  }

  function drawTicker(doc) {
    if (!el.ticker.children.length) {
      for (var i = 0; i < TICKER_ROWS; i += 1) { el.ticker.appendChild(document.createElement('li')); }
    }
    text($('scr-alerts-title'), doc.titles.alerts);
    var items = doc.alerts.length ? doc.alerts : [{ kind: 'empty', text: doc.titles.alerts_none }];
    if (state.tickerPos >= items.length) { state.tickerPos = 0; }
    Array.prototype.forEach.call(el.ticker.children, function (li, i) {
      var item = items.length > TICKER_ROWS ? items[(state.tickerPos + i) % items.length] : items[i];
      li.hidden = !item;
      if (!item) { return; }
      cls(li, item.kind);
      text(li, item.text);
    });
  }

  function drawTrend(doc) {
    var t = doc.trend, k = doc.kpi, f = t.forecast, P = doc.palette;
    var x = t.months.map(monthDate);
    var fx = f ? [x[x.length - 1]].concat(f.months.map(monthDate)) : [];
    var lastV = t.values[t.values.length - 1];
    var joint = function (arr) { return f ? [lastV].concat(arr) : []; };
    text($('scr-trend-title'), doc.titles.trend);
    var unit = k.unit === '%' ? '%' : '';
    react(el.trend, [
      { x: fx, y: joint(f ? f.lo80 : []), mode: 'lines', line: { width: 0 }, hoverinfo: 'skip', type: 'scatter' },
      { x: fx, y: joint(f ? f.hi80 : []), mode: 'lines', line: { width: 0 }, fill: 'tonexty',
        fillcolor: P.band, name: '预测区间（80%）', type: 'scatter' },
      { x: x, y: t.targets, mode: 'lines', name: '目标', line: { color: P.target, width: 3, dash: 'dash' }, type: 'scatter' },
      { x: x, y: t.values, mode: 'lines', line: { color: P.glow, width: 12 }, hoverinfo: 'skip', type: 'scatter' },
      { x: x, y: t.values, mode: 'lines+markers', name: '实际', line: { color: P.cyan, width: 4 },
        marker: { size: 7, color: P.marker }, type: 'scatter' },
      { x: fx, y: joint(f ? f.mean : []), mode: 'lines', name: '预测', line: { color: P.forecast, width: 4, dash: 'dot' },
        type: 'scatter' }
    ], baseLayout(el.trend, P, {
      margin: { l: 78, r: 14, t: 8, b: 40 },
      xaxis: { type: 'date', tickformat: '%Y.%m', nticks: 4 },
      yaxis: { ticksuffix: unit, nticks: 5 }
    }));
  }

  function drawFunnel(doc) {
    var stages = doc.funnel, P = doc.palette;
    var max = Math.max.apply(null, stages.map(function (s) { return s.count; }).concat([1]));
    text($('scr-funnel-title'), doc.titles.funnel);
    react(el.funnel, [{
      type: 'funnel', y: stages.map(function (s) { return s.label; }), x: stages.map(function (s) { return s.count; }),
      text: stages.map(function (s) { return s.count_text; }), textinfo: 'text', textposition: 'outside',
      textfont: { size: 24, color: P.title }, outsidetextfont: { size: 24, color: P.title }, cliponaxis: false,
      marker: { color: P.funnel, line: { color: P['funnel-line'], width: 1 } },
      connector: { fillcolor: P.connector, line: { width: 0 } }, hoverinfo: 'skip'
    }], baseLayout(el.funnel, P, {
      margin: { l: 118, r: 10, t: 4, b: 4 },
      yaxis: { tickfont: { size: 24, color: P.text }, gridcolor: 'rgba(0,0,0,0)' },
      // room on the right of the widest bar for its label
      xaxis: { visible: false, range: [-0.5 * max, 0.5 * max + 0.42 * max] }, funnelgap: 0.18
    }));
  }

  function drawMap(doc) {
    var m = doc.map, k = doc.kpi, P = doc.palette;
    text($('scr-map-title'), doc.titles.map);
    var s = size(el.map);
    // the server's zoom fits 780×520; scale it to this panel (wider in the wide layout)
    var zoom = m.zoom + Math.log(Math.min(s.width / 780, s.height / 520)) / Math.LN2;
    var stops = k.higher_is_better ? P['map-scale'] : P['map-scale'].slice().reverse();
    var scale = stops.map(function (c, i) { return [i / (stops.length - 1), c]; });
    react(el.map, [{
      type: 'choroplethmap', geojson: m.geojson_url, featureidkey: 'properties.code',
      locations: m.codes, z: m.values, text: m.names, colorscale: scale, hoverinfo: 'skip',
      marker: { line: { color: P['map-line'], width: 1.2 }, opacity: 0.92 },
      colorbar: { thickness: 16, len: 0.7, x: 0.99, tickfont: { size: 24, color: P.ink }, outlinewidth: 0,
                  ticksuffix: k.unit === '%' ? '%' : '', nticks: 4 }
    }], baseLayout(el.map, P, {
      margin: { l: 0, r: 0, t: 0, b: 0 },
      map: { style: MAP_STYLE, center: m.center, zoom: zoom }
    }));
  }

  function drawSpending(doc) {
    var sp = doc.spending, P = doc.palette;
    text($('scr-spending-title'), doc.titles.spending);
    if (!el.spendFigs.children.length) {
      el.spendFigs.innerHTML = '<span>执行率 <b></b></span><span></span>';
    }
    text(el.spendFigs.children[0].firstElementChild, sp.rate_text);
    text(el.spendFigs.children[1], sp.gap_text);
    cls(el.spendFigs.children[1], sp.gap_token);  // the RAG token of the gap, decided on the server
    react(el.spending, [
      { x: sp.progress_months, y: sp.progress, mode: 'lines', name: '序时进度',
        line: { color: P.target, width: 3, dash: 'dash' }, type: 'scatter' },
      { x: sp.months, y: sp.values, mode: 'lines+markers', name: '执行率', fill: 'tozeroy',
        fillcolor: P.fill, line: { color: P.cyan, width: 4 }, marker: { size: 7 }, type: 'scatter' }
    ], baseLayout(el.spending, P, {
      margin: { l: 78, r: 14, t: 16, b: 36 },
      xaxis: { range: [0.6, 12.4], tickvals: [1, 4, 7, 10, 12], ticktext: ['1月', '4月', '7月', '10月', '12月'] },
      yaxis: { range: [0, 105], tickvals: [0, 50, 100], ticksuffix: '%' }
    }));
  }

  function draw(doc, chartsOnly) {
    var item = CFG.playlist[state.index];
    if (!chartsOnly) {
      text(el.title, doc.titles.screen);
      text(el.set, item.set + (CFG.playlist.length > 1 ? ' ' + (state.index + 1) + '/' + CFG.playlist.length : ''));
      drawFreshness(doc);
      text(el.period, doc.titles.cards);
      drawCards(doc.cards);  // before the charts: a late card changes the panels' height
      drawRanking(doc);
      drawTicker(doc);
    }
    drawTrend(doc);
    drawFunnel(doc);
    drawMap(doc);
    drawSpending(doc);
  }

  function render(doc) {
    try {
      current = doc;
      root.dataset.region = doc.region;
      root.dataset.kpi = doc.kpi.id;
      draw(doc, false);
      state.renders += 1;
      el.error.hidden = true;
      root.classList.remove('has-error');
    } catch (e) {
      state.errors += 1;
      console.warn(e);
    }
  }

  // ------------------------------------------------------------------ data
  function setOffline(offline) {
    state.offline = offline;
    el.offline.hidden = !offline;
    root.dataset.offline = offline ? '1' : '0';
  }

  function fetchItem(i) {
    var item = CFG.playlist[i];
    var url = '/api/screen?region=' + encodeURIComponent(item.region) + '&kpi=' + encodeURIComponent(item.kpi);
    var ctrl = new AbortController();
    var timeout = setTimeout(function () { ctrl.abort(); }, FETCH_TIMEOUT_MS);
    state.fetches += 1;
    return fetch(url, { cache: 'no-store', signal: ctrl.signal })
      .then(function (r) {
        return r.json().then(function (doc) {
          if (r.status === 401 || r.status === 403) { unauthorized(doc.message); }
          if (!r.ok || doc.error) { throw new Error(doc.error || ('HTTP ' + r.status)); }
          return doc;
        });
      })
      .then(function (doc) {
        cache.set(i, { doc: doc, at: Date.now() });
        state.failures = 0;
        state.lastOk = Date.now();
        setOffline(false);
        return doc;
      })
      .finally(function () { clearTimeout(timeout); });
  }

  // the device token was revoked (or the session ended): show nothing more, say why, stop asking
  function unauthorized(message) {
    state.unauthorized = true;
    clearTimeout(timers.dwell);
    clearTimeout(timers.retry);
    cache.clear();
    text(el.error, message || '大屏未获授权');
    el.error.hidden = false;
    root.classList.add('has-error');
    throw new Error(message || 'HTTP 401');
  }

  function failed(e) {
    if (state.unauthorized) { return; }
    state.failures += 1;
    setOffline(true);
    console.warn('大屏数据获取失败，稍后重试：', e && e.message);
    if (!current) {  // nothing drawn yet: say so on the screen rather than stay blank
      text(el.error, '正在连接数据服务…');
      el.error.hidden = false;
    }
    clearTimeout(timers.retry);
    var wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * Math.pow(2, state.failures - 1));
    timers.retry = setTimeout(function () { load(true, true); }, wait);
  }

  // show the current item: from the cache at once, and re-queried when older than the refresh interval
  // (while offline only the retry timer asks the server, so the rotation does not reset its backoff)
  function load(force, retry) {
    if (state.unauthorized) { return; }
    var i = state.index, hit = cache.get(i);
    if (hit && state.shownKey !== i) { state.shownKey = i; plotlyReady.then(function () { render(hit.doc); }); }
    if (state.offline && !retry) { return; }
    if (hit && !force && Date.now() - hit.at < CFG.refresh * 1000) { return; }
    fetchItem(i).then(function (doc) {
      return plotlyReady.then(function () { return doc; });
    }).then(function (doc) {
      if (state.index === i) { state.shownKey = i; render(doc); }
    }).catch(failed);
  }

  // ------------------------------------------------------------------ rotation
  function scheduleDwell() {
    clearTimeout(timers.dwell);
    state.dwellMs = null;
    if (!state.paused && CFG.playlist.length > 1) {
      state.dwellMs = CFG.dwell * 1000;  // the turn's timer, as set (tests read it instead of timing turns)
      timers.dwell = setTimeout(function () { go(state.index + 1); }, state.dwellMs);
    }
  }

  function go(i) {
    var n = CFG.playlist.length;
    state.index = ((i % n) + n) % n;
    state.turns = state.turns.concat([state.index]).slice(-50);  // the last turns, in order (tests, soak)
    root.dataset.index = String(state.index);
    state.tickerPos = 0;
    load(false);
    scheduleDwell();
  }

  function togglePause() {
    state.paused = !state.paused;
    el.paused.hidden = !state.paused;
    root.dataset.paused = state.paused ? '1' : '0';
    scheduleDwell();
  }

  function tickClock() {
    var d = new Date(), week = '日一二三四五六';
    text(el.clock, d.getFullYear() + '年' + (d.getMonth() + 1) + '月' + d.getDate() + '日 星期' + week[d.getDay()] +
      ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()));
  }

  function tickTicker() {
    if (current && current.alerts.length > TICKER_ROWS) {
      state.tickerPos = (state.tickerPos + 1) % current.alerts.length;
      drawTicker(current);
    }
  }

  document.addEventListener('keydown', function (e) {
    if (CFG.error) { return; }
    if (e.key === ' ' || e.code === 'Space') { togglePause(); e.preventDefault(); }
    else if (e.key === 'ArrowRight' || e.key === 'PageDown') { go(state.index + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') { go(state.index - 1); e.preventDefault(); }
  });
  window.addEventListener('resize', fit);
  // a stray exception must not end the rotation: count it and carry on
  window.addEventListener('error', function () { state.errors += 1; });
  window.addEventListener('unhandledrejection', function (e) { state.errors += 1; e.preventDefault(); });

  // for tests and the soak benchmark: a copy of the rotation state
  window.screenState = function () {
    return { index: state.index, paused: state.paused, offline: state.offline, fetches: state.fetches,
             renders: state.renders, errors: state.errors, failures: state.failures, scale: state.scale,
             width: state.width, region: current ? current.region : null, kpi: current ? current.kpi.id : null,
             dwellMs: state.dwellMs, turns: state.turns.slice(),
             length: CFG.playlist ? CFG.playlist.length : 0 };
  };

  fit();
  tickClock();
  setInterval(tickClock, 1000);
  if (CFG.error) {
    text(el.error, CFG.error);
    el.error.hidden = false;
    root.classList.add('has-error');
    return;
  }
  setInterval(tickTicker, TICKER_STEP_MS);
  setInterval(function () { if (!state.offline) { load(true); } }, CFG.refresh * 1000);
  go(0);
}());
