/* 数据大屏 client. Keeps the rotation state here, polls /api/screen, and redraws in place:
   text by textContent on elements made once, charts by Plotly.react on the same divs, so a
   refresh neither flashes nor grows the DOM. When the server is away the screen keeps its
   last data, shows 重新连接中… and retries with backoff until it answers again.
   Every word, number and colour comes from the server: texts from the display model
   (metrics/display.py via metrics/screen_view.py), the four charts as Plotly figures built by the
   pages' own chart builders in their wall variant (web/screen_figures.py, colours from
   palette/tokens.toml); this file only places the texts and fits each figure to its panel. */
(function () {
  'use strict';

  var CFG = JSON.parse(document.getElementById('screen-config').textContent);
  var BASE_W = 1920, BASE_H = 1080, TICKER_ROWS = 4, TICKER_STEP_MS = 4000, RANK_SLOTS = 11;
  var FETCH_TIMEOUT_MS = 15000, RETRY_MIN_MS = 1000, RETRY_MAX_MS = 10000;
  var PLOT_CONFIG = { displayModeBar: false, staticPlot: true, responsive: false, locale: 'zh-CN' };

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
  // a map's style object (the server's tile-less style), kept by its JSON: Plotly restyles a map
  // whose style is another object, and MapLibre fails to diff it while the map redraws
  var mapStyles = {};
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

  // a server figure ({data, layout}) fitted to its panel: the panel's size, and a map's zoom (fitted
  // on the server to the figure's own width × height) rescaled to the panel, wider in the wide layout.
  // A copy: the document stays as sent, for the next turn of the rotation and a resize.
  function plot(node, fig) {
    var s = size(node), data = JSON.parse(JSON.stringify(fig.data)), layout = JSON.parse(JSON.stringify(fig.layout));
    if (layout.map && layout.width && layout.height) {
      layout.map.zoom += Math.log(Math.min(s.width / layout.width, s.height / layout.height)) / Math.LN2;
    }
    if (layout.map && typeof layout.map.style === 'object') {  // one style object for every draw (see mapStyles)
      var key = JSON.stringify(layout.map.style);
      layout.map.style = mapStyles[key] || (mapStyles[key] = layout.map.style);
    }
    layout.width = s.width;
    layout.height = s.height;
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
    text($('scr-ranking-title'), doc.titles.ranking);
    Array.prototype.forEach.call(el.rank.children, function (li, i) {
      var r = shown[i];
      li.hidden = !r;
      if (!r) { return; }
      cls(li, r.rag || '');
      text(li.children[0], r.rank_text);
      text(li.children[1], r.name);
      li.children[2].firstChild.style.width = r.bar + '%';  // the bar's length, from the server
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

  function drawSpending(doc) {
    var sp = doc.spending;
    if (!el.spendFigs.children.length) {
      el.spendFigs.innerHTML = '<span><span></span> <b></b></span><span></span>';
    }
    text(el.spendFigs.children[0].firstElementChild, doc.titles.spending_rate);
    text(el.spendFigs.children[0].lastElementChild, sp.rate_text);
    text(el.spendFigs.children[1], sp.gap_text);
    cls(el.spendFigs.children[1], sp.gap_token);  // the RAG token of the gap, decided on the server
  }

  function drawCharts(doc) {
    ['trend', 'funnel', 'map', 'spending'].forEach(function (name) {
      text($('scr-' + name + '-title'), doc.titles[name]);
      plot(el[name], doc.figures[name]);
    });
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
      drawSpending(doc);
    }
    drawCharts(doc);
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
