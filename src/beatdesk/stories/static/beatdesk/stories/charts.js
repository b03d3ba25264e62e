// Charts of the rumour register and the operation board, drawn with the vendored uPlot,
// and the board's map drawn with the vendored Leaflet on a blank background (no tiles).
(function () {
  'use strict';
  const COLOURS = ['#1f5fa8', '#b3261e', '#2e7d32', '#8a5300', '#6a1b9a', '#00838f'];

  function width(el) { return Math.max(320, el.clientWidth || 640); }
  // Times on screen are the force's: Europe/London, whatever the browser's zone.
  function london(ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Europe/London'); }

  // Two step series on one time axis: x values are the union of both series' times.
  function merge(a, b) {
    const xs = Array.from(new Set(a.map(p => p[0]).concat(b.map(p => p[0])))).sort((p, q) => p - q);
    function carry(series) {
      let i = 0, last = null;
      return xs.map(x => {
        while (i < series.length && series[i][0] <= x) { last = series[i][1]; i++; }
        return last;
      });
    }
    return [xs, carry(a), carry(b)];
  }

  function spreadVersusReach(el, data) {
    el.innerHTML = '';
    const spread = data.spread || [], reach = data.reach || [];
    if (!spread.length && !reach.length) { el.dataset.drawnPoints = '0'; return null; }
    const series = [{}, { label: 'Posts in the story (cumulative)', stroke: COLOURS[1], width: 2, scale: 'posts', spanGaps: true }];
    const axes = [{}, { scale: 'posts', label: 'posts' }];
    let rows = merge(spread, reach);
    if (reach.length) {
      series.push({ label: 'Rebuttal reach', stroke: COLOURS[0], width: 2, scale: 'reach', spanGaps: true });
      axes.push({ scale: 'reach', side: 1, label: 'reach', grid: { show: false } });
    } else {
      rows = rows.slice(0, 2);
    }
    const plot = new uPlot({ width: width(el), height: 300, tzDate: london, series: series, axes: axes }, rows, el);
    el.dataset.drawnPoints = String(spread.length + reach.length);
    return plot;
  }

  function volume(el, data) {
    el.innerHTML = '';
    if (!data.series.length) { el.dataset.drawnPoints = '0'; return null; }
    const plot = new uPlot({
      width: width(el), height: 240, tzDate: london,
      series: [{}].concat(data.series.map((s, i) => ({ label: s.name, stroke: COLOURS[i % COLOURS.length], width: 2 }))),
      axes: [{}, { label: 'posts per 5 min' }],
    }, [data.x].concat(data.series.map(s => s.y)), el);
    el.dataset.drawnPoints = String(data.x.length * data.series.length);
    return plot;
  }

  function map(el, data, state) {
    if (!state.map) {
      state.map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
      state.layer = L.layerGroup().addTo(state.map);
    }
    state.layer.clearLayers();
    const bounds = [];
    if (data.outline.length > 2) {
      L.polygon(data.outline, { color: '#10233f', weight: 2, fillOpacity: 0.05 }).addTo(state.layer);
      bounds.push(...data.outline);
    }
    data.points.forEach(p => {
      L.circleMarker([p[0], p[1]], { radius: 5, color: '#b3261e', weight: 1, fillOpacity: 0.6 })
        .bindTooltip(p[2]).addTo(state.layer);
      bounds.push([p[0], p[1]]);
    });
    if (bounds.length && !state.fitted) { state.map.fitBounds(bounds, { padding: [20, 20] }); state.fitted = true; }
    if (!bounds.length) state.map.setView([54, -2], 5);
    el.dataset.markers = String(data.points.length);
  }

  window.beatdeskCharts = { spreadVersusReach, volume, map };
})();
