// The operation board: its volume chart and map, drawn again when the live part refreshes.
(function () {
  'use strict';
  const state = {};
  function draw() {
    const data = JSON.parse(document.getElementById('board-data').textContent);
    beatdeskCharts.volume(document.getElementById('volume-chart'), data.volume);
    beatdeskCharts.map(document.getElementById('board-map'), data.map, state);
  }
  draw();
  document.body.addEventListener('htmx:afterSwap', function (e) { if (e.target.id === 'board-live') draw(); });
})();
