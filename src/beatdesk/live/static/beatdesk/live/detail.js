// A live event: entries and replies per hour, drawn with the vendored uPlot.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('event-chart-data').textContent);
  const el = document.getElementById('event-chart');
  if (!data.hours.length || typeof uPlot === 'undefined') return;
  new uPlot({
    width: Math.max(320, el.clientWidth), height: 220,
    series: [{}, {label: 'Entries', stroke: '#1f5fa8', width: 2}, {label: 'Replies', stroke: '#b3261e', width: 2}],
    axes: [{}, {}],
  }, [data.hours, data.entries, data.replies], el);
})();
