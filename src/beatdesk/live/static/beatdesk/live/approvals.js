// Approving live entries: j/k move between entries, a/e/h approve, edit or hold the current
// one, A approves them all.
(function () {
  'use strict';
  const rows = Array.from(document.querySelectorAll('#entries li.entry'));
  if (!rows.length) return;
  let current = 0;
  function focus(i) { current = Math.max(0, Math.min(rows.length - 1, i)); rows[current].focus(); }
  rows.forEach(function (row, i) { row.addEventListener('focus', function () { current = i; }); });
  document.addEventListener('keydown', function (e) {
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j') { e.preventDefault(); focus(current + 1); }
    else if (e.key === 'k') { e.preventDefault(); focus(current - 1); }
    else if (e.key === 'A') { e.preventDefault(); document.getElementById('approve-all').requestSubmit(); }
    else if (['a', 'e', 'h'].includes(e.key)) {
      const target = rows[current].querySelector('[data-key="' + e.key + '"]');
      if (target) { e.preventDefault(); target.click(); }
    }
  });
  const editing = document.querySelector('.edit-form textarea');
  if (editing) { editing.focus(); } else { focus(0); }
})();
