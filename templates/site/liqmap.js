/* The Liquidation Map pages' charts (reportgen): Vega-Lite specs built from the symbol's
   JSON (liquidation/<symbol>.json, written by `reportgen publish`), drawn by the site's own
   copy of Vega. Each chart replaces the static image in its figure once it has drawn, so a
   reader without JavaScript (or with the scripts blocked) keeps the image. */
(function () {
  "use strict";
  var figures = document.querySelectorAll("[data-liqmap]");
  if (!figures.length || !window.vegaEmbed || !window.fetch) return;

  var TIERS_CEX = ["#cae11f", "#44bf70", "#228b8d", "#38588c", "#481769"];
  var TIERS_HL = ["#bddf26", "#22a884", "#32648e", "#481769"];
  var DARK_LAST = "#a77fd6"; // the darkest tier, lifted off a dark page
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  window.liqmap = { views: {} };

  function usd(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return "$" + (v / 1e9).toFixed(2) + " B";
    if (a >= 1e6) return "$" + (v / 1e6).toFixed(1) + " M";
    if (a >= 1e3) return "$" + (v / 1e3).toFixed(1) + " K";
    return "$" + v.toFixed(0);
  }
  function price(v, size) {
    var d = size >= 1 ? 0 : Math.min(8, Math.max(0, -Math.floor(Math.log10(size))));
    return "$" + v.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  function sum(a) { return a.reduce(function (s, v) { return s + v; }, 0); }
  function amount(l, s) {
    if (l > 0 && s > 0) return usd(l) + " long · " + usd(s) + " short";
    return usd(l + s);
  }

  function theme() {
    var isDark = dark && dark.matches;
    return {
      dark: isDark,
      text: isDark ? "#e6e9ee" : "#1b2430",
      muted: isDark ? "#aab3bf" : "#4d5562",
      grid: isDark ? "#2a323c" : "#e6e9ee",
      rule: isDark ? "#e6e9ee" : "#333333",
      config: {
        background: null,
        font: "-apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
        axis: { labelColor: isDark ? "#cfd5dc" : "#333333", titleColor: isDark ? "#e6e9ee" : "#1b2430",
                gridColor: isDark ? "#2a323c" : "#e6e9ee", domainColor: isDark ? "#6b7482" : "#8a94a3",
                tickColor: isDark ? "#6b7482" : "#8a94a3", labelFontSize: 11, titleFontSize: 11 },
        legend: { labelColor: isDark ? "#cfd5dc" : "#333333", titleColor: isDark ? "#e6e9ee" : "#1b2430",
                  labelFontSize: 11, titleFontSize: 11 },
        title: { color: isDark ? "#e6e9ee" : "#1b2430", subtitleColor: isDark ? "#aab3bf" : "#4d5562",
                 anchor: "start", fontSize: 13, subtitleFontSize: 11 },
        view: { stroke: null }
      }
    };
  }

  function palette(layer, t) {
    var base = (layer.key === "cex" ? TIERS_CEX : TIERS_HL).slice(0, layer.tiers.length);
    if (t.dark) base[base.length - 1] = DARK_LAST;
    return base;
  }

  /* One row per (layer, bucket, side, tier) with notional, each carrying the bucket's
     whole breakdown (every layer, every tier) for the tooltip. */
  function mapRows(day) {
    var size = day.bucket_size;
    var byPrice = {};
    day.layers.forEach(function (layer) {
      layer.buckets.forEach(function (b) {
        (byPrice[b.price_low] = byPrice[b.price_low] || {})[layer.key] = b;
      });
    });
    var tips = {};
    Object.keys(byPrice).forEach(function (low) {
      var lo = Number(low);
      var tip = { tip_price: price(lo, size) + " – " + price(lo + size, size),
                  tip_side: lo + size <= day.mark_price ? "longs (liquidated if the price falls)"
                    : lo > day.mark_price ? "shorts (liquidated if the price rises)" : "at the mark" };
      day.layers.forEach(function (layer, li) {
        var b = byPrice[low][layer.key];
        var l = b ? sum(b.long_by_tier) : 0, s = b ? sum(b.short_by_tier) : 0;
        tip["tip_" + li] = amount(l, s);
        layer.tiers.forEach(function (tier, ti) {
          var bl = b ? b.long_by_tier[ti] : 0, bs = b ? b.short_by_tier[ti] : 0;
          tip["tip_" + li + "_" + ti] = amount(bl, bs);
        });
      });
      tips[low] = tip;
    });
    var rows = [], hover = [];
    day.layers.forEach(function (layer) {
      Object.keys(byPrice).forEach(function (low) {
        var lo = Number(low);
        hover.push(Object.assign({ layer: layer.key, lo: lo, hi: lo + size }, tips[low]));
      });
      layer.buckets.forEach(function (b) {
        layer.tiers.forEach(function (tier, ti) {
          [["long", b.long_by_tier[ti]], ["short", b.short_by_tier[ti]]].forEach(function (p) {
            if (p[1] > 0) {
              rows.push(Object.assign({ layer: layer.key, lo: b.price_low, hi: b.price_high,
                                        tier: tier, order: ti, side: p[0], usd: p[1] },
                                      tips[b.price_low]));
            }
          });
        });
      });
    });
    return { rows: rows, hover: hover };
  }

  function tooltip(day) {
    var fields = [{ field: "tip_price", title: "Price" }, { field: "tip_side", title: "Side" }];
    day.layers.forEach(function (layer, li) {
      var short = layer.key === "cex" ? "CEX estimate" : "Hyperliquid";
      fields.push({ field: "tip_" + li, title: short + " (all)" });
      layer.tiers.forEach(function (tier, ti) {
        fields.push({ field: "tip_" + li + "_" + ti, title: short + " " + tier });
      });
    });
    return fields;
  }

  function mapSpec(data, width, t) {
    var day = data.latest;
    var built = mapRows(day);
    var size = day.bucket_size;
    var tips = tooltip(day);
    var domain = [day.range_low, day.range_high];
    var panels = day.layers.map(function (layer, li) {
      var sub = ["longs " + usd(layer.total_long_usd) + ", shorts " + usd(layer.total_short_usd),
                 layer.coverage].filter(Boolean);
      var bars = {
        data: { values: built.rows.filter(function (r) { return r.layer === layer.key; }) },
        mark: { type: "rect", tooltip: true },
        encoding: {
          x: { field: "lo", type: "quantitative", scale: { domain: domain, nice: false, zero: false },
               axis: li === day.layers.length - 1 ? { title: "Liquidation price (US$)", format: "$,.0f",
                                                     labelOverlap: true, tickCount: 5 }
                                                  : { title: null, labels: false, ticks: false } },
          x2: { field: "hi" },
          y: { aggregate: "sum", field: "usd", type: "quantitative", stack: "zero",
               axis: { title: null, format: "$~s", tickCount: 4 } },
          color: { field: "tier", type: "nominal", sort: layer.tiers,
                   scale: { domain: layer.tiers, range: palette(layer, t) },
                   legend: { title: layer.key === "cex" ? "Leverage tier" : "Leverage band",
                             orient: "top", direction: "horizontal", symbolType: "square",
                             labelLimit: 60 } },
          order: { field: "order", type: "quantitative" },
          tooltip: tips
        }
      };
      var hover = {
        data: { values: built.hover.filter(function (r) { return r.layer === layer.key; }) },
        mark: { type: "rect", fill: t.dark ? "#ffffff" : "#000000", fillOpacity: 0, tooltip: true },
        name: "hover_" + layer.key,
        encoding: { x: { field: "lo", type: "quantitative" }, x2: { field: "hi" },
                    y: { datum: 0, type: "quantitative" }, y2: { value: 0 },
                    fillOpacity: { value: 0 }, tooltip: tips }
      };
      var mark = {
        data: { values: [{ mark: day.mark_price, label: "mark " + price(day.mark_price, size) }] },
        layer: [
          { mark: { type: "rule", strokeDash: [4, 3], color: t.rule, strokeWidth: 1.2 },
            encoding: { x: { field: "mark", type: "quantitative" } } },
          { mark: { type: "text", align: "left", dx: 4, dy: 2, baseline: "top", fontSize: 11,
                    color: t.text },
            encoding: { x: { field: "mark", type: "quantitative" }, y: { value: 0 },
                        text: { field: "label" } } }
        ]
      };
      return {
        title: { text: layer.title, subtitle: sub },
        width: width, height: layer.key === "cex" ? 200 : 140,
        layer: [hover, bars, mark],
        resolve: { scale: { color: "independent" } }
      };
    });
    return {
      config: t.config,
      // One zoom for the shared price axis, from either panel (two params bound to one
      // shared scale would leave only the last one driving it).
      params: [{ name: "zoom", select: { type: "interval", encodings: ["x"] }, bind: "scales",
                 views: day.layers.map(function (layer) { return "hover_" + layer.key; }) }],
      vconcat: panels,
      spacing: 18,
      resolve: { scale: { x: "shared", color: "independent" }, legend: { color: "independent" } }
    };
  }

  function heatSpec(data, width, t) {
    var heat = data.heat, size = heat.bucket_size, rows = [], line = [];
    var times = heat.times.map(function (s) { return Date.parse(s); });
    var span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
    var step = times.length > 1 ? span / (times.length - 1) : 3600e3;
    heat.usd.forEach(function (row, i) {
      row.forEach(function (v, j) {
        if (v > 0) {
          var lo = heat.price_low + j * size;
          // A cell spans from the snapshot before (the hour the levels stood) to its own,
          // overlapping its neighbours by a hair so the canvas shows no seams between cells.
          var t0 = i > 0 ? times[i - 1] : times[i] - step;
          // (no tooltip strings per cell: thousands of them cost more than the drawing)
          rows.push({ t0: t0 - step * 0.03, t1: times[i], lo: lo, hi: lo + size * 1.03, usd: v });
        }
      });
      if (heat.mark[i] === heat.mark[i]) line.push({ t: times[i], mark: heat.mark[i] });
    });
    return {
      // An empty cell is no notional: the colour scale's zero, not the page showing through.
      config: Object.assign({}, t.config, { view: { stroke: null, fill: "#440154" } }),
      // the whole chart (axes and legend included) fits the page's width
      width: width, height: 260, autosize: { type: "fit-x", contains: "padding" },
      title: { text: data.symbol + " estimated liquidation levels over time",
               subtitle: data.heat_days.length + " day" + (data.heat_days.length === 1 ? "" : "s") +
                         " · " + (step <= 1.1 * 3600e3 ? "hourly" : "every " + Math.round(step / 3600e3) + " h") +
                         " · CEX estimate (US$ per " + price(size, size) + " bucket)" },
      layer: [
        { data: { values: rows }, mark: { type: "rect", tooltip: true },
          params: [{ name: "heatzoom", select: { type: "interval" }, bind: "scales" }],
          encoding: {
            x: { field: "t0", type: "temporal", axis: { title: null, format: span <= 2 * 86400e3 ? "%H:%M" : "%b %d",
                                                       labelOverlap: true, tickCount: 5, grid: false } },
            x2: { field: "t1" },
            y: { field: "lo", type: "quantitative", scale: { zero: false, nice: false },
                 axis: { title: "Price (US$)", format: "$,.0f", tickCount: 6, grid: false } },
            y2: { field: "hi" },
            color: { field: "usd", type: "quantitative",
                     scale: { type: "sqrt", scheme: "viridis" },
                     legend: { title: "US$", format: "$~s", orient: "top", direction: "horizontal",
                               labelOverlap: "greedy", tickCount: 3,
                               gradientLength: Math.min(220, width - 130) } },
            tooltip: [{ field: "t1", type: "temporal", timeUnit: "utcyearmonthdatehoursminutes",
                        title: "Time (UTC)" },
                      { field: "lo", type: "quantitative", format: "$,.0f", title: "Bucket from" },
                      { field: "usd", type: "quantitative", format: "$,.3~s",
                        title: "Estimated notional" }]
          } },
        { data: { values: line }, mark: { type: "line", color: t.dark ? "#ffffff" : "#111111", strokeWidth: 1.4 },
          encoding: { x: { field: "t", type: "temporal" }, y: { field: "mark", type: "quantitative" } } }
      ]
    };
  }

  function draw(figure, data) {
    var holder = figure.querySelector(".liq-chart");
    var kind = figure.getAttribute("data-liqmap");
    if (kind === "heat" && !data.heat) return Promise.resolve();
    var t = theme();
    var full = Math.max(300, Math.floor(holder.clientWidth));
    // the map's panels: the plot's width, its axes beside it; the heatmap fits as a whole
    var spec = kind === "heat" ? heatSpec(data, full, t) : mapSpec(data, full - 70, t);
    var target = document.createElement("div");
    target.className = "liq-vega";
    return window.vegaEmbed(target, spec, { mode: "vega-lite", actions: false, renderer: "canvas",
                                     tooltip: { theme: t.dark ? "dark" : "light" } })
      .then(function (result) {
        // the picture's description stays with the chart that replaces it (and its redraws)
        var image = holder.querySelector("img");
        if (!figure.hasAttribute("data-label")) {
          figure.setAttribute("data-label", image ? image.getAttribute("alt")
            : data.symbol + " estimated liquidation levels over time (heatmap)");
        }
        target.setAttribute("role", "img");
        target.setAttribute("aria-label", figure.getAttribute("data-label"));
        holder.replaceChildren(target);
        figure.classList.add("liq-live");
        window.liqmap.views[kind] = result.view;
        // when the chart was on screen, for real-user timing and bench/bench_liqpages.py
        if (window.performance && performance.mark) performance.mark("liqmap-drawn-" + kind);
      })
      .catch(function (err) { figure.setAttribute("data-liqmap-error", String(err)); });
  }

  var source = figures[0].getAttribute("data-src");
  window.fetch(source).then(function (r) {
    if (!r.ok) throw new Error(source + ": HTTP " + r.status);
    return r.json();
  }).then(function (data) {
    if (window.performance && performance.mark) performance.mark("liqmap-data");
    window.liqmap.data = data;
    // One chart after the other, the map first: drawn together, the heatmap's thousands of
    // cells held the map back by a second or more.
    var redraw = function () {
      return Array.prototype.reduce.call(figures, function (done, f) {
        return done.then(function () { return draw(f, data); });
      }, Promise.resolve());
    };
    redraw();
    var wide = window.innerWidth, timer = null;
    window.addEventListener("resize", function () {
      if (window.innerWidth === wide) return;
      wide = window.innerWidth;
      clearTimeout(timer);
      timer = setTimeout(redraw, 200);
    });
    if (dark && dark.addEventListener) dark.addEventListener("change", redraw);
  }).catch(function (err) {
    figures.forEach(function (f) { f.setAttribute("data-liqmap-error", String(err)); });
  });
})();
