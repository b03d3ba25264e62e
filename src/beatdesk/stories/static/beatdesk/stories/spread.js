// A story's or a rumour's spread over time; a rumour's chart also holds its rebuttals' reach.
(function () {
  'use strict';
  const el = document.getElementById('spread-chart');
  const rumour = document.getElementById('chart-data');
  const data = rumour
    ? JSON.parse(rumour.textContent)
    : { spread: JSON.parse(document.getElementById('spread-data').textContent), reach: [] };
  beatdeskCharts.spreadVersusReach(el, data);
})();
