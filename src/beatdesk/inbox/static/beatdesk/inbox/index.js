// The inbox list: j/k move a cursor over the rows, Enter opens one, / searches; and the
// rows chosen for a bulk action survive the live list's refreshes.
(function () {
  'use strict';
  let cursor = -1;
  function rows() { return Array.from(document.querySelectorAll('#inbox-live tbody tr[data-href]')); }
  function mark() { rows().forEach(function (r, i) { r.classList.toggle('cursor', i === cursor); }); }
  document.addEventListener('keydown', function (e) {
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName)) return;
    const list = rows();
    if (e.key === 'j') { cursor = Math.min(cursor + 1, list.length - 1); mark(); }
    else if (e.key === 'k') { cursor = Math.max(cursor - 1, 0); mark(); }
    else if (e.key === 'Enter' && list[cursor]) { window.location = list[cursor].dataset.href; }
    else if (e.key === '/') { e.preventDefault(); document.getElementById('id_q').focus(); }
  });
  const chosen = new Set();
  function restore() {
    document.querySelectorAll('#inbox-live input[name=message]').forEach(function (box) { box.checked = chosen.has(box.value); });
    const label = document.getElementById('selected-count');
    if (label) label.textContent = chosen.size ? chosen.size + ' selected' : 'None selected';
  }
  document.addEventListener('change', function (e) {
    if (e.target.name !== 'message') return;
    if (e.target.checked) chosen.add(e.target.value); else chosen.delete(e.target.value);
    restore();
  });
  document.getElementById('selection').addEventListener('submit', function (e) {
    // Selected rows may have scrolled out of the live list: send every chosen id.
    const form = e.target;
    form.querySelectorAll('input[data-chosen]').forEach(function (i) { i.remove(); });
    chosen.forEach(function (id) {
      if (!document.querySelector('#inbox-live input[name=message][value="' + id + '"]')) {
        const i = document.createElement('input'); i.type = 'hidden'; i.name = 'message'; i.value = id; i.dataset.chosen = '1'; form.appendChild(i);
      }
    });
  });
  document.body.addEventListener('htmx:afterSwap', function () { mark(); restore(); });
})();
