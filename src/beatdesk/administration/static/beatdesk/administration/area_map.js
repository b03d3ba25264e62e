// An area's outline on a map without tiles (the desk works offline).
(function () {
  'use strict';
  const el = document.getElementById('area-map');
  const data = JSON.parse(document.getElementById('area-map-data').textContent);
  const map = L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  const bounds = [];
  data.rings.forEach(function (ring) {
    L.polygon(ring, { color: '#10233f', weight: 2, fillOpacity: 0.08 }).addTo(map);
    bounds.push.apply(bounds, ring);
  });
  map.fitBounds(bounds, { padding: [20, 20] });
  el.dataset.rings = String(data.rings.length);
})();
