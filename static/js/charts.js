/*
 * The page glue of the charts: Chart.js (static/vendor/chartjs/, loaded before this file)
 * draws them on a <canvas>, under the CSP (no inline script or style: Chart.js sets the
 * canvas' size through element.style, which the CSP allows). The colours and dashes come
 * from app.css (.series-*, .chart-extension, .chart-bar: read with getComputedStyle), the
 * numbers and moments from Platform (ru-RU numbers, Platform.formatMoment). The numbers of
 * every chart are also in a table next to it (the accessible alternative).
 *
 * - .price-chart[data-history]: the price history of a position or a lot (JSON of
 *   GET /api/v1/tenders/<id>/price-history). A step line per series (best, own, or every
 *   participant), one step per change (the x axis is the order of changes, labelled with
 *   times), the deadline's extensions marked with dotted lines. With data-live="1" it follows
 *   the tender's live pushes: it fetches data-src again (at most once per two seconds) and
 *   updates the chart and its table (#price-history-table). After drawing, the box carries
 *   data-extensions (the extensions marked) and, after a live update, data-updated.
 * - .bar-chart[data-chart][data-key]: horizontal bars (the dashboard), data-key naming the
 *   list in the JSON ({label, value}), data-kind "money" or "count".
 */
(function () {
  "use strict";

  const P = window.Platform;
  const Chart = window.Chart;
  const t = P.t;
  const locale = P.lang === "en" ? "en-US" : "ru-RU";
  const numberFormat = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const countFormat = new Intl.NumberFormat(locale);

  function money(value) {
    return value === null || value === undefined ? "—" : numberFormat.format(Number(value));
  }

  function html(name, cls, text) {
    const node = document.createElement(name);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The look of a class of app.css: its color, and its --chart-dash ("6 3") as a dash list.
  function look(cls) {
    const probe = html("span", "chart-probe " + cls);
    document.body.appendChild(probe);
    const style = window.getComputedStyle(probe);
    const dash = style.getPropertyValue("--chart-dash").trim();
    const width = parseFloat(style.getPropertyValue("--chart-width")) || 2;
    const out = { color: style.color, dash: dash ? dash.split(/[\s,]+/).map(Number) : [], width };
    probe.remove();
    return out;
  }

  function baseOptions() {
    const muted = look("chart-tick").color;
    const grid = look("chart-grid").color;
    return {
      responsive: true, maintainAspectRatio: false, animation: false, locale,
      plugins: { legend: { display: false } },
      color: muted, borderColor: grid,
    };
  }

  // -- the price history ------------------------------------------------------------------

  // Every moment at which a line moved or the deadline was extended, in order.
  function moments(data) {
    const seen = new Set();
    data.series.forEach((s) => s.points.forEach((p) => seen.add(p.at)));
    data.extensions.forEach((e) => seen.add(e.at));
    return Array.from(seen).sort((a, b) => new Date(a) - new Date(b));
  }

  // A series' value at each moment (steps: a value holds until the next point).
  function valuesAt(series, times) {
    const out = [];
    let i = 0;
    let current = null;
    times.forEach((at) => {
      while (i < series.points.length && new Date(series.points[i].at) <= new Date(at)) {
        current = series.points[i].value;
        i += 1;
      }
      out.push(current === null || current === undefined ? null : Number(current));
    });
    return out;
  }

  function seriesClass(s, index) {
    if (s.role === "best") return "series-best";
    if (s.role === "own") return "series-own";
    return "series-p" + (index % 6);
  }

  // The axis' labels from Platform.formatMoment's "06.12.2026 14:30:05 МСК": "14:30:05" when
  // every change fell on one day, else "06.12 14:30" (the tooltip and the table give the
  // whole moment).
  function axisMoments(times, zone) {
    const parts = times.map((at) => P.formatMoment(at, zone).split(" "));
    const oneDay = parts.every((p) => p[0] === parts[0][0]);
    return parts.map((p) => (p.length < 2 ? p[0] : oneDay ? p[1] : p[0].slice(0, 5) + " " + p[1].slice(0, 5)));
  }

  // A tick's text: without decimals when every tick is whole.
  function tickText(v, ticks) {
    const whole = ticks.every((x) => Math.abs(x.value - Math.round(x.value)) < 1e-9);
    return whole ? countFormat.format(Math.round(v)) : money(v);
  }

  function ariaLabel(data, count) {
    const best = data.series.find((s) => s.role === "best");
    const last = best && best.points.length ? best.points[best.points.length - 1].value : null;
    if (!count) return t("Price history: no offers to show.");
    return t("Price history: best price now {price}; the numbers are in the table below.", { price: money(last) });
  }

  // The datasets of the history: one point per moment (x = its order) and one at the end,
  // so the last value holds to the right edge as the earlier ones hold until the next change.
  function historyModel(data) {
    const times = moments(data);
    const datasets = data.series.map((s, index) => {
      const values = valuesAt(s, times);
      const l = look(seriesClass(s, index));
      const points = values.map((v, i) => ({ x: i, y: v }));
      if (values.length) points.push({ x: values.length, y: values[values.length - 1] });
      return {
        label: s.label, data: points, stepped: true, spanGaps: false, borderColor: l.color,
        backgroundColor: l.color, borderDash: l.dash, borderWidth: l.width, pointRadius: 0,
        pointHitRadius: 8, pointHoverRadius: 3,
        order: -index, // drawn in the series' order: the best price under the others
      };
    });
    const count = datasets.reduce((n, d) => n + d.data.filter((p) => p.y !== null).length, 0);
    const marks = data.extensions.map((e) => times.indexOf(e.at)).filter((i) => i >= 0);
    return { times, datasets, count, marks };
  }

  // The deadline's extensions (dotted lines) and the empty chart's words, on the canvas.
  const historyMarks = {
    id: "historyMarks",
    afterDatasetsDraw(chart, args, options) {
      const { ctx, chartArea } = chart;
      const x = chart.scales.x;
      ctx.save();
      ctx.strokeStyle = options.extension.color;
      ctx.lineWidth = options.extension.width;
      ctx.setLineDash(options.extension.dash);
      ctx.fillStyle = options.extension.color;
      ctx.font = "10px sans-serif";
      const step = options.times.length ? chartArea.width / options.times.length : chartArea.width;
      options.marks.forEach((i) => {
        const at = Math.round(x.getPixelForValue(i)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(at, chartArea.top);
        ctx.lineTo(at, chartArea.bottom);
        ctx.stroke();
        if (step >= 70) ctx.fillText(options.extensionWord, at + 3, chartArea.top + 11);
      });
      if (!options.count) {
        ctx.setLineDash([]);
        ctx.fillStyle = options.emptyColor;
        ctx.font = "13px sans-serif";
        ctx.textAlign = "center";
        ctx.fillText(options.empty, (chartArea.left + chartArea.right) / 2, (chartArea.top + chartArea.bottom) / 2);
      }
      ctx.restore();
    },
  };

  function historyOptions(data, model) {
    const base = baseOptions();
    const zone = data.timezone;
    const ext = look("chart-extension");
    const last = Math.max(1, model.times.length);
    const labels = axisMoments(model.times, zone);
    return Object.assign(base, {
      interaction: { mode: "index", intersect: false },
      scales: {
        x: {
          type: "linear", min: 0, max: last,
          grid: { color: look("chart-grid").color },
          ticks: {
            display: model.count > 0, // an empty chart: a frame and its words, no scale
            stepSize: 1, autoSkip: true, autoSkipPadding: 16, maxRotation: 0, color: base.color,
            callback: (v) => (Number.isInteger(v) && v < model.times.length ? labels[v] : ""),
          },
        },
        y: {
          grace: "5%", grid: { color: look("chart-grid").color },
          ticks: {
            display: model.count > 0, color: base.color, maxTicksLimit: 6,
            callback: (v, i, ticks) => tickText(v, ticks),
          },
        },
      },
      plugins: {
        legend: { display: false },
        tooltip: {
          filter: (item) => item.parsed.x < model.times.length && item.parsed.y !== null,
          itemSort: (a, b) => a.datasetIndex - b.datasetIndex,
          callbacks: {
            title: (items) => (items.length ? P.formatMoment(model.times[items[0].parsed.x], zone) : ""),
            label: (item) => item.dataset.label + ": " + money(item.parsed.y),
          },
        },
        historyMarks: {
          marks: model.marks, times: model.times, count: model.count,
          extension: ext, extensionWord: t("extension"),
          empty: data.level === "none" ? t("No offers to show.") : t("No offers yet."),
          emptyColor: look("chart-empty").color,
        },
      },
    });
  }

  function legend(data) {
    const list = html("ul", "chart-legend");
    data.series.forEach((s, index) => {
      const item = html("li");
      const swatch = html("span", "chart-swatch " + seriesClass(s, index));
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, document.createTextNode(" " + s.label));
      list.appendChild(item);
    });
    if (data.extensions.length) {
      const item = html("li", "extension");
      const swatch = html("span", "chart-swatch chart-extension");
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, document.createTextNode(" " + t("{n} extensions of the deadline", { n: data.extensions.length })));
      list.appendChild(item);
    }
    return list;
  }

  // The table beside the chart, rebuilt after a live change.
  function fillTable(table, data) {
    const body = table.tBodies[0];
    const head = table.tHead.rows[0];
    const times = moments(data);
    const lines = data.series.map((s) => valuesAt(s, times));
    head.replaceChildren(html("th", "", t("Time")));
    data.series.forEach((s) => head.appendChild(html("th", "num", s.label)));
    const rows = [];
    times.forEach((at, i) => {
      const moved = data.series.some((s) => s.points.some((p) => p.at === at));
      if (moved) {
        const tr = html("tr");
        tr.appendChild(html("td", "", P.formatMoment(at, data.timezone)));
        lines.forEach((values) => tr.appendChild(html("td", "num", money(values[i]))));
        rows.push(tr);
      }
      data.extensions.filter((e) => e.at === at).forEach((e) => {
        const tr = html("tr", "extension");
        tr.appendChild(html("td", "", P.formatMoment(e.at, data.timezone)));
        const cell = html("td", "", t("Deadline extended from {previous} to {deadline}.", {
          previous: P.formatMoment(e.previous, data.timezone), deadline: P.formatMoment(e.deadline, data.timezone),
        }));
        cell.colSpan = Math.max(1, data.series.length);
        tr.appendChild(cell);
        rows.push(tr);
      });
    });
    if (!rows.length) {
      const tr = html("tr");
      const cell = html("td", "muted", t("No offers yet."));
      cell.colSpan = data.series.length + 1;
      tr.appendChild(cell);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function startHistory(box) {
    let data;
    try {
      data = JSON.parse(box.dataset.history);
    } catch (e) {
      return;
    }
    const wrap = html("div", "chart-canvas history");
    const canvas = html("canvas");
    canvas.setAttribute("role", "img");
    wrap.appendChild(canvas);
    box.replaceChildren(wrap); // Chart.js sizes the canvas to its (attached) box
    let model = historyModel(data);
    const chart = new Chart(canvas, {
      type: "line", data: { datasets: model.datasets }, options: historyOptions(data, model), plugins: [historyMarks],
    });
    const legendBox = html("div", "chart-legend-box");
    function show() {
      wrap.classList.toggle("empty", !model.count);
      canvas.setAttribute("aria-label", ariaLabel(data, model.count));
      canvas.textContent = ariaLabel(data, model.count); // the fallback content
      legendBox.replaceChildren(legend(data));
      box.dataset.extensions = String(model.marks.length);
    }
    box.appendChild(legendBox);
    show();
    if (box.dataset.live !== "1" || !window.Live || !box.dataset.src) return;
    const tenderId = Number(box.dataset.tender);
    let timer = null;
    let last = 0;
    function refetch() {
      if (timer) return;
      timer = window.setTimeout(async () => {
        timer = null;
        last = Date.now();
        try {
          const resp = await fetch(box.dataset.src, { credentials: "same-origin" });
          if (!resp.ok) return;
          data = await resp.json();
          model = historyModel(data);
          chart.data.datasets = model.datasets;
          chart.options = historyOptions(data, model);
          chart.update("none");
          show();
          const table = document.getElementById("price-history-table");
          if (table) fillTable(table, data);
          box.dataset.updated = String(Date.now()); // tests wait for it
        } catch (e) {
          /* the next push or a reload brings it */
        }
      }, Math.max(0, last + 2000 - Date.now()));
    }
    ["offers_changed", "best_prices", "bid_activity", "deadline_extended", "tender_closed"].forEach((name) =>
      window.Live.on(name, (event) => {
        if (event && event.tender_id === tenderId) refetch();
      }));
    window.Live.on("connect", refetch); // a reconnect may have missed pushes
  }

  // -- bars (the dashboard) ---------------------------------------------------------------

  // A label cut to the room the axis has (the tooltip and the table have it whole).
  function cut(text, room) {
    return text.length > room ? text.slice(0, Math.max(3, room - 1)) + "…" : text;
  }

  // Each bar's number at its end, as the table writes it.
  const barValues = {
    id: "barValues",
    afterDatasetsDraw(chart, args, options) {
      const { ctx, chartArea } = chart;
      ctx.save();
      ctx.fillStyle = options.color;
      ctx.font = "11px sans-serif";
      ctx.textBaseline = "middle";
      chart.getDatasetMeta(0).data.forEach((element, i) => {
        const text = options.format(chart.data.datasets[0].data[i]);
        const width = ctx.measureText(text).width;
        const right = Math.max(element.x, element.base);
        const inside = right + 4 + width > chartArea.right;
        ctx.fillStyle = inside ? options.inside : options.color;
        ctx.textAlign = inside ? "right" : "left";
        ctx.fillText(text, inside ? right - 4 : right + 4, element.y);
      });
      ctx.restore();
    },
  };

  function startBars(box) {
    let chart;
    try {
      chart = JSON.parse(box.dataset.chart);
    } catch (e) {
      return;
    }
    const items = chart[box.dataset.key] || [];
    const kind = box.dataset.kind || "count";
    const format = (v) => (kind === "money" ? money(v) : countFormat.format(Number(v) || 0));
    const bar = look("chart-bar");
    const negative = look("chart-bar negative");
    const values = items.map((i) => Number(i.value) || 0);
    const wrap = html("div", "chart-canvas bars");
    wrap.style.height = Math.max(1, items.length) * 28 + 40 + "px"; // CSSOM, allowed by the CSP
    const canvas = html("canvas");
    canvas.setAttribute("aria-hidden", "true"); // the table beside it holds the numbers
    wrap.appendChild(canvas);
    box.replaceChildren(wrap);
    const base = baseOptions();
    const grid = look("chart-grid").color;
    const room = () => (box.clientWidth < 520 ? 16 : 34);
    new Chart(canvas, {
      type: "bar",
      plugins: [barValues],
      data: {
        labels: items.map((i) => i.label),
        datasets: [{
          data: values, backgroundColor: values.map((v) => (v < 0 ? negative.color : bar.color)),
          barPercentage: 0.8, categoryPercentage: 0.9,
        }],
      },
      options: Object.assign(base, {
        indexAxis: "y",
        scales: {
          x: { beginAtZero: true, grid: { color: grid }, ticks: {
              color: base.color, maxTicksLimit: 5, precision: kind === "money" ? undefined : 0,
              callback: (v, i, ticks) => (kind === "money" ? tickText(v, ticks) : format(v)),
            },
          },
          y: { grid: { display: false }, ticks: { color: base.color, autoSkip: false, callback: (v, i) => cut(items[i].label, room()) } },
        },
        layout: { padding: { right: 8 } },
        plugins: {
          legend: { display: false },
          barValues: { format, color: base.color, inside: look("chart-bar-inside").color },
          tooltip: {
            callbacks: {
              title: (list) => (list.length ? items[list[0].dataIndex].label : ""),
              label: (item) => format(item.parsed.x),
            },
          },
        },
      }),
    });
  }

  function start() {
    if (!Chart) return; // the tables hold the numbers
    document.querySelectorAll(".price-chart[data-history]").forEach(startHistory);
    document.querySelectorAll(".bar-chart[data-chart]").forEach(startBars);
  }

  P.ready.then(() => {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  });
})();
